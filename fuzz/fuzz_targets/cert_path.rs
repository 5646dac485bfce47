//! RFC 5280 path building and the name-constraint and policy checks on arbitrary certificates.
//!
//! The input is a run of DER certificates: the first is the leaf, the last the trust anchor.
//! `verify_bytes` never reaches these checks (it has no trust anchors), so they get their own
//! target: the constraint checks run on the certificates in input order whether or not their
//! signatures chain, and path building runs over the same material. No panic, bounded work.
#![no_main]

use inkan_verifier::constraints::check_path;
use inkan_verifier::engine::{Material, Path, build_path};
use inkan_verifier::tlv;
use inkan_verifier::x509::Certificate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut certs = Vec::new();
    let mut rest = data;
    while !rest.is_empty() && certs.len() < 16 {
        let Ok((_, tail)) = tlv::parse_one(rest, 0) else {
            break;
        };
        let len = rest.len() - tail.len();
        if let Ok(c) = Certificate::parse(&rest[..len]) {
            certs.push(c);
        }
        rest = tail;
    }
    if certs.len() < 2 {
        return;
    }
    let _ = check_path(
        &Path {
            certs: certs.clone(),
            algs: Vec::new(),
        },
        &[],
    );
    let (anchor, others) = certs.split_last().expect("at least two certificates");
    let m = Material {
        anchors: vec![anchor.clone()],
        certs: others.to_vec(),
        ..Material::default()
    };
    if let Some(p) = build_path(&others[0], &m) {
        let _ = check_path(&p, &[]);
        // A required policy (1.2.3.4.5): the user-initial-policy-set branch.
        let _ = check_path(&p, &[vec![0x2a, 0x03, 0x04, 0x05]]);
    }
});
