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
//! * `inkan_signer::cms_raw::RawSignedData::parse` (what `inkan-sign extend` reads);
//! * `inkan_tsa::handler::parse_request` (the TSA's strict request reader);
//! * `TimeStampReq`, `TimeStampResp` and `TstInfo` from `inkan_profiles::asn1::tsp`.
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
        let _ = inkan_signer::cms_raw::RawSignedData::parse(b);
        let _ = inkan_tsa::handler::parse_request(b);
        let _ = TimeStampReq::parse(b);
        let _ = TimeStampResp::parse(b);
        let _ = TstInfo::parse(b);
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
