//! A TSA key on a SoftHSM2 token (PKCS#11): a P-256 key generated on the token, a TSA
//! certificate issued over its public key by the development CA, tokens verified with
//! `openssl ts -verify`; the token removed under the running TSA gives systemFailure, and
//! putting it back resumes issuing without a restart.
//!
//! Each test runs in a child process with its own `SOFTHSM2_CONF` (`inkan_test_support::softhsm::isolate`).

use inkan_hsm::devpki::{self, CertProfile, DevPki, KeyAlg, Validity};
use inkan_hsm::name::DistinguishedName;
use inkan_hsm::{KeyRef, Policy};
use inkan_profiles::clock::{Clock, SystemClock};

use crate::common::*;

fn verify(d: &std::path::Path, tsr: &[u8], cert_req: bool) {
    write(d, "v.tsr", tsr);
    let mut args = vec![
        "ts",
        "-verify",
        "-in",
        "v.tsr",
        "-queryfile",
        "q.tsq",
        "-CAfile",
        "root.pem",
    ];
    if !cert_req {
        args.extend_from_slice(&["-untrusted", "tsa.pem"]);
    }
    let out = openssl(d, &args);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Verification: OK"),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn softhsm_p256_tokens_verify_and_token_removal_is_system_failure() {
    let Some(hsm) = inkan_test_support::softhsm::isolate() else {
        return;
    };
    let uri = hsm.keygen("tsa-p256", "EC:prime256v1");
    let now = SystemClock.now().unwrap();
    let spki = {
        let key = inkan_hsm::load(&KeyRef::parse(&uri).unwrap(), &Policy::cryptrec(), now).unwrap();
        key.public_key_der().to_vec()
    };
    let pki = DevPki::generate(now, KeyAlg::P256).unwrap();
    let cn = const_oid::ObjectIdentifier::new_unwrap("2.5.4.3");
    let cert = pki
        .issuer
        .issue(
            CertProfile::TimeStamping,
            &DistinguishedName::new(&[(cn, "inkan test TSA on SoftHSM2 - NOT FOR PRODUCTION")]),
            &spki,
            Validity::around(now, 3600, 30 * 86_400),
        )
        .unwrap();
    let dir = tmp();
    let d = dir.path();
    write(d, "tsa.pem", devpki::cert_pem(&cert).as_bytes());
    write(d, "root.pem", pki.root_pem().as_bytes());
    write(
        d,
        "chain.pem",
        format!("{}{}", devpki::cert_pem(&cert), pki.root_pem()).as_bytes(),
    );
    let data = tmp();
    let toml = format!(
        "listen = \"127.0.0.1:0\"\nkey = \"{uri}\"\ncert_chain = \"{}\"\npolicy = \"1.2.3.4.1\"\ndata_dir = \"{}\"\n",
        d.join("chain.pem").display(),
        data.path().display()
    );
    let s = inkan_tsa::config::resolve(
        inkan_tsa::config::FileConfig::parse(&toml).unwrap(),
        &Default::default(),
    )
    .unwrap();
    let rt = runtime();
    let tsa = rt.block_on(start(s));
    write(d, "data.txt", b"stamped by a key on a token\n");
    for (digest, cert_req) in [("-sha256", true), ("-sha384", false), ("-sha512", true)] {
        let mut args = vec!["ts", "-query", "-data", "data.txt", digest, "-out", "q.tsq"];
        if cert_req {
            args.push("-cert");
        }
        openssl_ok(d, &args);
        let tsr = post_tsq(tsa.addr, &std::fs::read(d.join("q.tsq")).unwrap());
        verify(d, &tsr, cert_req);
    }

    // Remove the token under the running TSA: systemFailure, counted as an HSM error.
    let from = hsm.token_dir(inkan_test_support::softhsm::TOKEN_LABEL);
    let moved = hsm.dir().join("removed-token");
    std::fs::rename(&from, &moved).unwrap();
    let mut c = Conn::open(tsa.addr).unwrap();
    let (status, body) = c.post(&request(1)).unwrap();
    assert_eq!(status, 200);
    let f = failure_of(&body).expect("a rejection while the token is gone");
    assert_eq!(f.names(), ["systemFailure"]);
    let m = String::from_utf8(http(tsa.addr, "GET", "/metrics", None, b"").2).unwrap();
    assert!(m.contains("reason=\"systemFailure\"} 1"), "{m}");
    assert!(!m.contains("inkan_tsa_hsm_errors_total 0"), "{m}");

    // Put it back: the next request signs again, no restart.
    std::fs::rename(&moved, &from).unwrap();
    let (_, body) = c.post(&request(2)).unwrap();
    assert!(
        failure_of(&body).is_none(),
        "issuing resumes once the token is back"
    );
    rt.block_on(tsa.shutdown());
    let r = inkan_tsa::records::Reader::open(data.path()).unwrap();
    assert_eq!(r.serials().unwrap().len(), 4);
    assert!(
        r.rejections()
            .unwrap()
            .contains(&("systemFailure".to_owned(), 1))
    );
}
