//! Strangers' bytes, in every CI run: deterministic mutations of real signatures, tokens and
//! time-stamp requests go through the same entry points as the `cargo fuzz` targets in
//! `fuzz/`, and every call must return (no panic) in bounded time.
//!
//! `cargo fuzz` explores far more, but it needs the nightly toolchain and minutes per target,
//! so it is not part of `test.sh`. This test keeps the parsers honest between fuzzing rounds:
//! it starts from inputs that reach deep into the code (the real-world vectors beside the
//! repository, read in place from `../shared`, never copied, and requests built here), where
//! random bytes would be refused at the first tag.
//!
//! Entry points:
//! * `inkan_verifier::verify` with the case's own anchors, detached data and validation time
//!   (so mutations reach path building, revocation and the long-term validation);
//! * `inkan_verifier::verify_bytes` (no anchors);
//! * `inkan_profiles::asn1::cms::RawSignedData::parse` (what `inkan-sign extend` reads);
//! * `inkan_signer::certs::dn_string` (names of untrusted certificates in messages);
//! * `inkan_tsa::handler::parse_request` (the TSA's strict request reader);
//! * `TimeStampReq`, `TimeStampResp`, `TstInfo` (tolerant and DER) from `inkan_profiles::asn1::tsp`.
//!
//! The mutations are the ones that find bugs in DER readers: bit flips, bytes set to tag and
//! length values (`0x80` indefinite, `0x84` four length octets, `0xff`), truncation, a slice
//! deleted or repeated, and a header claiming 2 GiB inserted anywhere.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use inkan_profiles::asn1::tsp::{TimeStampReq, TimeStampResp, TstInfo};
use inkan_profiles::time::UnixTime;
use inkan_verifier::report::Sub;
use inkan_verifier::{Data, Input, Options};

/// Mutations per real-world case through the full verification.
const PER_CASE: usize = 60;
/// Mutations per seed through the parsers alone (cheap).
const PER_SEED_PARSE: usize = 400;
/// No single call may take longer than this (debug build): a quadratic path on a 15 KiB
/// input would.
const BOUND: Duration = Duration::from_secs(10);

/// xorshift64*: deterministic, so a failure names a reproducible (case, round).
struct Rng(u64);

impl Rng {
    fn new(seed: &str, round: usize) -> Self {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ round as u64;
        for b in seed.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Self(h | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(input: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = input.to_vec();
    if b.is_empty() {
        return vec![0x30, 0x80];
    }
    let rounds = 1 + rng.below(3);
    for _ in 0..rounds {
        let len = b.len().max(1);
        let at = rng.below(len).min(b.len().saturating_sub(1));
        match rng.below(7) {
            0 => b[at] ^= 1 << rng.below(8),
            1 => b[at] = [0x00, 0x80, 0x81, 0x84, 0xff, 0x30, 0xa0, 0x05][rng.below(8)],
            2 => b.truncate(rng.below(len)),
            3 => {
                let end = (at + 1 + rng.below(64)).min(b.len());
                b.drain(at..end);
            }
            4 => {
                let end = (at + 1 + rng.below(256)).min(b.len());
                let slice = b[at..end].to_vec();
                b.splice(at..at, slice);
            }
            5 => {
                b.splice(at..at, [0x30, 0x84, 0x7f, 0xff, 0xff, 0xff]);
            }
            _ => {
                // A long-form length with two octets: make it claim something else.
                if let Some(p) = b.iter().skip(at).position(|&x| x == 0x82) {
                    let p = at + p;
                    if p + 2 < b.len() {
                        b[p + 1] = rng.next() as u8;
                        b[p + 2] = rng.next() as u8;
                    }
                }
            }
        }
        if b.is_empty() {
            break;
        }
    }
    b
}

/// Runs `f` and fails the test if it takes longer than [`BOUND`].
fn bounded<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    let took = t.elapsed();
    assert!(took < BOUND, "{what}: took {took:?}");
    r
}

fn parsers(what: &str, b: &[u8]) {
    bounded(what, || {
        let _ = inkan_profiles::asn1::cms::RawSignedData::parse(b);
        let _ = inkan_signer::certs::dn_string(b);
        let _ = inkan_tsa::handler::parse_request(b);
        let _ = TimeStampReq::parse(b);
        let _ = TimeStampResp::parse(b);
        let _ = TstInfo::parse(b);
        let _ = TstInfo::parse_der(b);
    });
}

fn cases_dir() -> PathBuf {
    inkan_tests::shared_dir().join("vectors/realworld/cases")
}

/// One real-world case: its signature bytes and the options its `case.json` asks for.
struct Case {
    name: String,
    signature: Vec<u8>,
    options: Options,
    at: UnixTime,
}

fn load_case(dir: &Path) -> Case {
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("case.json")).expect("case.json"))
            .expect("case.json is JSON");
    let args: Vec<String> = j["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("string arg").to_owned())
        .collect();
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    let mut signature = None;
    let mut options = Options::default();
    // The vectors' own default validation time is "now"; a fixed one keeps the run stable.
    let mut at = UnixTime::from_secs(1_800_000_000);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--trust" => options.trust.push(read(it.next().expect("--trust FILE"))),
            "--data" => options.data = Data::Bytes(read(it.next().expect("--data FILE"))),
            "--revocation" => {
                options.revocation_required = it.next().map(String::as_str) == Some("required");
            }
            "--at" => {
                let s = it.next().expect("--at TIME");
                let secs = inkan_verifier::cli::parse_rfc3339(s).expect("RFC 3339 --at");
                at = UnixTime::from_secs(u64::try_from(secs).expect("after 1970"));
            }
            "--format" => {
                it.next();
            }
            f if !f.starts_with("--") && signature.is_none() => signature = Some(read(f)),
            other => panic!("{}: unexpected argument {other}", dir.display()),
        }
    }
    Case {
        name: dir.file_name().unwrap().to_string_lossy().into_owned(),
        signature: signature.expect("a signature file"),
        options,
        at,
    }
}

/// A DER `TimeStampReq` (RFC 3161 §2.4.1) with a SHA-256 imprint, a policy, a nonce, certReq
/// and an extension: every optional field, so mutations reach each branch of the reader.
fn request_seed() -> Vec<u8> {
    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        assert!(body.len() < 0x80);
        v.push(body.len() as u8);
        v.extend_from_slice(body);
        v
    }
    let sha256 = [
        0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01,
    ];
    let alg = tlv(0x30, &[&sha256[..], &[0x05, 0x00]].concat());
    let imprint = tlv(0x30, &[alg, tlv(0x04, &[0xab; 32])].concat());
    let policy = tlv(0x06, &[0x2a, 0x03, 0x04, 0x05]);
    let nonce = tlv(0x02, &[0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]);
    let cert_req = tlv(0x01, &[0xff]);
    let ext = tlv(
        0x30,
        &[
            tlv(0x06, &[0x2b, 0x06, 0x01, 0x05]),
            tlv(0x04, &[0x05, 0x00]),
        ]
        .concat(),
    );
    // extensions [0] IMPLICIT Extensions: the SEQUENCE OF tag is replaced by [0].
    let exts = tlv(0xa0, &ext);
    tlv(
        0x30,
        &[tlv(0x02, &[0x01]), imprint, policy, nonce, cert_req, exts].concat(),
    )
}

#[test]
fn mutated_requests_never_panic() {
    let seed = request_seed();
    assert!(
        TimeStampReq::parse(&seed).is_ok(),
        "the seed itself is a valid request"
    );
    for round in 0..PER_SEED_PARSE * 10 {
        let m = mutate(&seed, &mut Rng::new("request", round));
        parsers(&format!("request round {round}"), &m);
    }
}

#[test]
fn mutated_real_world_signatures_never_panic() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (../shared must sit beside the repository)",
                cases_dir().display()
            )
        })
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.join("case.json").is_file())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 50,
        "expected the real-world cases, found {}",
        dirs.len()
    );
    let mut calls = 0usize;
    // Verifications that got past the format check: the mutations reach the deep code.
    let mut parsed = 0usize;
    let mut verified = 0usize;
    let mut slowest = (Duration::ZERO, String::new());
    for dir in &dirs {
        let case = load_case(dir);
        for round in 0..PER_SEED_PARSE {
            let m = mutate(&case.signature, &mut Rng::new(&case.name, round));
            parsers(&format!("{} round {round}", case.name), &m);
            calls += 1;
        }
        for round in 0..PER_CASE {
            let mut rng = Rng::new(&case.name, 1_000_000 + round);
            // Half the rounds flip one bit only: the structure mostly survives, so the
            // mutation lands in certificates, attributes, revocation data and signatures.
            let m = if round % 2 == 0 {
                let mut m = case.signature.clone();
                let at = rng.below(m.len());
                m[at] ^= 1 << rng.below(8);
                m
            } else {
                mutate(&case.signature, &mut rng)
            };
            let what = format!("{} verify round {round}", case.name);
            let t = Instant::now();
            let report = bounded(&what, || {
                inkan_verifier::verify(&Input { bytes: m.clone() }, &case.options, case.at)
            });
            let took = t.elapsed();
            if took > slowest.0 {
                slowest = (took, what.clone());
            }
            // A verdict (or an input error) always; the text must render.
            if let Ok(r) = report {
                assert!(!format!("{r:?}").is_empty(), "{what}");
                if r.sub_indication != Some(Sub::FormatFailure) {
                    parsed += 1;
                }
            }
            if round % 4 == 0 {
                bounded(&what, || inkan_verifier::verify_bytes(&m));
            }
            calls += 1;
            verified += 1;
        }
    }
    eprintln!(
        "mutations: {calls} inputs over {} cases; {parsed} of {verified} mutated signatures \
         got past the format check; slowest verification {:?} ({})",
        dirs.len(),
        slowest.0,
        slowest.1
    );
    assert!(
        parsed * 3 >= verified,
        "too few mutations reach past the format check ({parsed} of {verified})"
    );
}

/// What `inkan-sign` reads from the network (a TSA's `TimeStampResp` and token, a CRL from a
/// distribution point, an OCSP response from authorityInfoAccess), each mutated from a real
/// seed: every real-world RFC 3161 token and response, a development CRL, and an OCSP
/// response that `openssl ocsp` signs here.
#[test]
fn mutated_network_answers_never_panic() {
    use inkan_hsm::devpki::{self, DevPki, DevPkiOptions, KeyAlg};
    use inkan_signer::certs::Cert;
    use inkan_signer::{revocation, tsa_client, tst};

    let now = UnixTime::from_secs(1_800_000_000);
    let pki = DevPki::generate_with(&DevPkiOptions::new(now, KeyAlg::P256)).expect("dev PKI");
    let root = Cert::from_der(&pki.root_cert_der).expect("root");
    let eseal = Cert::from_der(&pki.eseal_cert_der).expect("e-seal certificate");
    let issuer = match &pki.intermediate_cert_der {
        Some(i) => Cert::from_der(i).expect("intermediate"),
        None => root.clone(),
    };

    // An OCSP response signed by the e-seal certificate's issuer ("unknown": an empty index).
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let issuer_pem = devpki::cert_pem(&issuer.der);
    let issuer_key = pki
        .intermediate_key_pem
        .as_ref()
        .map_or(pki.root_key_pem.as_str(), |k| k.as_str());
    std::fs::write(dir.join("issuer.pem"), issuer_pem).unwrap();
    std::fs::write(dir.join("issuer.key"), issuer_key).unwrap();
    std::fs::write(dir.join("eseal.pem"), devpki::cert_pem(&pki.eseal_cert_der)).unwrap();
    std::fs::write(dir.join("index.txt"), "").unwrap();
    for args in [
        &[
            "ocsp",
            "-issuer",
            "issuer.pem",
            "-cert",
            "eseal.pem",
            "-no_nonce",
            "-reqout",
            "req.der",
        ][..],
        &[
            "ocsp",
            "-index",
            "index.txt",
            "-rsigner",
            "issuer.pem",
            "-rkey",
            "issuer.key",
            "-CA",
            "issuer.pem",
            "-reqin",
            "req.der",
            "-respout",
            "resp.der",
        ][..],
    ] {
        inkan_tests::openssl_ok(dir, args);
    }
    let ocsp = std::fs::read(dir.join("resp.der")).expect("OCSP response");
    // The seed itself reads as a signed OCSP response for the certificate.
    let ocsp_seed = revocation::check_ocsp(&ocsp, &eseal, &issuer, now);
    assert!(
        !matches!(&ocsp_seed, Err(e) if e.to_string().contains("OCSP response: ")),
        "the OCSP seed parses: {ocsp_seed:?}"
    );

    // RFC 3161 seeds: every real-world token, wrapped as a granted TimeStampResp, and every
    // real-world response as it is.
    let mut responses = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("cases")
        .map(|e| e.expect("dir entry").path())
        .collect();
    dirs.sort();
    for dir in &dirs {
        let Ok(j) = std::fs::read(dir.join("case.json")) else {
            continue;
        };
        let j: serde_json::Value = serde_json::from_slice(&j).expect("case.json");
        let case = load_case(dir);
        match j["kind"].as_str() {
            Some("rfc3161-token") => {
                let status = [0x30, 0x03, 0x02, 0x01, 0x00];
                let mut body = status.to_vec();
                body.extend_from_slice(&case.signature);
                let mut resp = vec![0x30];
                inkan_profiles::asn1::tlv::push_len(&mut resp, body.len());
                resp.extend_from_slice(&body);
                responses.push((case.name, resp));
            }
            Some("rfc3161-response") => responses.push((case.name, case.signature)),
            _ => {}
        }
    }
    assert!(
        responses.len() >= 5,
        "real-world RFC 3161 seeds: {}",
        responses.len()
    );

    // Each seed is checked against its own imprint, so that the check goes on past the
    // imprint comparison to the token's signature and certificate.
    let own_imprint = |resp: &[u8]| {
        let token = tsa_client::token_from_response(resp).ok()?;
        let sd = inkan_verifier::cms::SignedData::parse_content_info(&token).ok()?;
        TstInfo::parse(sd.econtent.as_deref()?).ok()
    };
    let mut calls = 0usize;
    let mut deep = 0usize;
    for (name, seed) in &responses {
        let info = own_imprint(seed).unwrap_or_else(|| panic!("{name}: no TSTInfo"));
        let expect = tst::Expect {
            alg: info.imprint_alg_oid().expect("imprint algorithm"),
            imprint: &info.imprint,
            nonce: None,
        };
        if tsa_client::token_from_response(seed)
            .map(|t| tst::check(&t, &expect))
            .is_ok_and(|r| r.is_ok())
        {
            deep += 1;
        }
        for round in 0..PER_SEED_PARSE / 2 {
            let m = mutate(seed, &mut Rng::new(name, round));
            bounded(&format!("{name} response round {round}"), || {
                if let Ok(token) = tsa_client::token_from_response(&m) {
                    let _ = tst::check(&token, &expect);
                }
                let _ = tst::check(&m, &expect);
                let _ = TstInfo::parse(&m);
            });
            calls += 1;
        }
    }
    for round in 0..PER_SEED_PARSE {
        let m = mutate(&pki.crl_der, &mut Rng::new("crl", round));
        bounded(&format!("CRL round {round}"), || {
            if let Ok(der) = revocation::read_crl_bytes(&m) {
                let _ = revocation::check_crl(&der, &eseal, &issuer, now);
            }
        });
        let m = mutate(&ocsp, &mut Rng::new("ocsp", round));
        bounded(&format!("OCSP round {round}"), || {
            let _ = revocation::check_ocsp(&m, &eseal, &issuer, now);
        });
        calls += 2;
    }
    eprintln!(
        "network answers: {calls} mutated inputs from {} RFC 3161 seeds ({deep} of them pass \
         the signer's token check unmutated), a CRL and an OCSP response",
        responses.len()
    );
    assert!(
        deep * 2 >= responses.len(),
        "too few seeds reach the token's signature"
    );
}
