//! Long-term validation end to end: B-LTA signatures made by `inkan-sign` through two real
//! `inkan-tsa` processes, verified by `inkan-verify` long after the signer's and the
//! signature time-stamp TSA's certificates expired (archive-time-stamp-v3 as proof of
//! existence, EN 319 122-1 §5.5.3 / EN 319 102-1 §5.6).

use std::path::Path;

use inkan_hsm::devpki::{self, DevPki, DevPkiOptions, KeyAlg, Validity};
use inkan_hsm::name::DistinguishedName;
use inkan_profiles::clock::{Clock, SystemClock};
use inkan_profiles::time::UnixTime;
use inkan_tests::tsa::TsaProcess;
use inkan_tests::{rfc3339, run, verify_json};

const DAY: u64 = 86_400;

fn sign(dir: &Path, args: &[&str]) {
    let out = run("inkan-sign", args, dir);
    assert!(
        out.status.success(),
        "inkan-sign {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A development PKI made now: an e-seal certificate of one hour, a signature-time-stamp TSA
/// whose certificate lives one day, an archive TSA whose certificate lives ten years, and a
/// CRL from their common root.
struct World {
    dir: tempfile::TempDir,
    now: UnixTime,
}

impl World {
    fn new() -> Self {
        let now = SystemClock.now().expect("clock");
        let mut opts = DevPkiOptions::new(now, KeyAlg::P256);
        opts.leaf_validity_secs = 3600;
        let pki = DevPki::generate_with(&opts).expect("dev PKI");
        let dir = tempfile::tempdir().expect("tempdir");
        let w = |name: &str, data: &[u8]| inkan_tests::write_file(&dir.path().join(name), data);
        for (name, cn, life) in [
            ("tsa-short", "short-lived signature TSA", DAY),
            ("tsa-long", "archive TSA", 3650 * DAY),
        ] {
            let (key_pem, key) = devpki::generate_key(KeyAlg::P256).expect("TSA key");
            let cert = pki
                .issuer
                .issue(
                    devpki::CertProfile::TimeStamping,
                    &DistinguishedName::parse(&format!(
                        "/C=JP/O=inkan lta (NOT FOR PRODUCTION)/CN={cn}"
                    ))
                    .expect("DN"),
                    key.public_key_der(),
                    Validity::around(now, 3600, life),
                )
                .expect("TSA certificate");
            w(&format!("{name}.key"), key_pem.as_bytes());
            let chain = devpki::cert_pem(&cert) + &pki.root_pem();
            w(&format!("{name}-chain.pem"), chain.as_bytes());
        }
        w("root.pem", pki.root_pem().as_bytes());
        w("eseal.key", pki.eseal_key_pem.as_bytes());
        w("eseal-chain.pem", pki.eseal_chain_pem().as_bytes());
        w("crl.pem", devpki::crl_pem(&pki.crl_der).as_bytes());
        w(
            "doc.txt",
            "長期署名: a record kept for ten years\n".as_bytes(),
        );
        Self { dir, now }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn tsa(&self, name: &str) -> TsaProcess {
        let p = |f: String| self.path().join(f).to_str().unwrap().to_owned();
        TsaProcess::start(
            &[
                "--key",
                &p(format!("{name}.key")),
                "--cert-chain",
                &p(format!("{name}-chain.pem")),
                "--policy",
                "1.3.6.1.4.1.99999.3161.1",
            ],
            &self.path().join(format!("{name}-data")),
        )
    }

    /// B-LT through the short-lived TSA (`doc.txt.p7s`), then `extend --level B-LTA` through
    /// the archive TSA into `out`.
    fn b_lt_then_lta(&self, short: &TsaProcess, long: &TsaProcess, out: &str) {
        let d = self.path();
        sign(
            d,
            &[
                "--key",
                "eseal.key",
                "--cert-chain",
                "eseal-chain.pem",
                "--level",
                "B-LT",
                "--tsa",
                &short.url(),
                "--crl",
                "crl.pem",
                "doc.txt",
            ],
        );
        self.extend(long, "doc.txt.p7s", out);
    }

    fn extend(&self, long: &TsaProcess, input: &str, out: &str) {
        sign(
            self.path(),
            &[
                "extend",
                "--level",
                "B-LTA",
                "--tsa",
                &long.url(),
                "--crl",
                "crl.pem",
                "--data",
                "doc.txt",
                "--out",
                out,
                input,
            ],
        );
    }

    /// Verifies `file` at `days` after now (the clock read at this call, so that no
    /// time-stamp made since the world was set up is dated after the validation time, which
    /// would make it no proof of existence, EN 319 102-1 §5.4).
    fn verify_at(&self, file: &str, days: u64) -> (i32, serde_json::Value) {
        let now = SystemClock.now().expect("clock").max(self.now);
        let at = rfc3339(UnixTime::from_secs(now.secs() + days * DAY));
        verify_json(
            self.path(),
            &[
                file, "--data", "doc.txt", "--trust", "root.pem", "--at", &at,
            ],
        )
    }
}

fn stamps(json: &serde_json::Value, kind: &str) -> Vec<serde_json::Value> {
    json["time_stamps"]
        .as_array()
        .expect("time_stamps")
        .iter()
        .filter(|t| t["kind"] == kind)
        .cloned()
        .collect()
}

#[test]
fn archive_time_stamp_is_proof_of_existence_for_an_expired_signature_tsa() {
    let world = World::new();
    let short = world.tsa("tsa-short");
    let long = world.tsa("tsa-long");
    world.b_lt_then_lta(&short, &long, "lta.p7s");

    // Today both pass.
    let (code, json) = world.verify_at("lta.p7s", 0);
    assert_eq!(json["indication"], "TOTAL-PASSED", "{json:#}");
    assert_eq!(code, 0);

    // Two days later the e-seal certificate and the signature TSA's certificate have expired.
    // Without the archive time-stamp nothing proves the signature time-stamp existed while its
    // TSA certificate was valid (the embedded CRL says the e-seal was not revoked).
    let (code, json) = world.verify_at("doc.txt.p7s", 2);
    assert_eq!(json["indication"], "INDETERMINATE", "B-LT: {json:#}");
    assert_eq!(
        json["sub_indication"], "OUT_OF_BOUNDS_NOT_REVOKED",
        "B-LT: {json:#}"
    );
    assert_eq!(code, 2);

    // The archive time-stamp (its TSA certificate still valid) proves it did.
    let (code, json) = world.verify_at("lta.p7s", 2);
    assert_eq!(json["indication"], "TOTAL-PASSED", "B-LTA: {json:#}");
    assert_eq!(code, 0);
    let archive = stamps(&json, "archive");
    assert_eq!(archive.len(), 1, "{json:#}");
    assert_eq!(archive[0]["indication"], "TOTAL-PASSED", "{json:#}");
    assert_eq!(stamps(&json, "signature")[0]["indication"], "TOTAL-PASSED");

    // Eleven years later the archive TSA's certificate has expired too, and nothing newer
    // covers it.
    let (_, json) = world.verify_at("lta.p7s", 11 * 365);
    assert_ne!(json["indication"], "TOTAL-PASSED", "{json:#}");
}

fn has_finding(json: &serde_json::Value, code: &str) -> bool {
    json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .any(|f| f["code"] == code)
}

/// An archive time-stamp whose hash index no longer matches is not used as proof of existence
/// (EN 319 102-1 §5.6.3.4 step 5 d), DSS's default policy): it is unsigned, so anyone could
/// have added or altered it, and the signature is judged exactly as without it.
#[test]
fn tampered_archive_time_stamp_is_not_used_as_proof_of_existence() {
    let world = World::new();
    let short = world.tsa("tsa-short");
    let long = world.tsa("tsa-long");
    world.b_lt_then_lta(&short, &long, "lta.p7s");
    let d = world.path();
    let mut bytes = std::fs::read(d.join("lta.p7s")).unwrap();
    // id-aa-ATSHashIndex-v3 (0.4.0.19122.1.5), then the first SHA-256 entry of the index.
    let oid = [0x06, 0x07, 0x04, 0x00, 0x81, 0x95, 0x32, 0x01, 0x05];
    let at = bytes
        .windows(oid.len())
        .position(|w| w == oid)
        .expect("ats-hash-index-v3 present");
    let entry = at
        + bytes[at..]
            .windows(2)
            .position(|w| w == [0x04, 0x20])
            .expect("a hash entry");
    bytes[entry + 2] ^= 0x01;
    std::fs::write(d.join("tampered.p7s"), &bytes).unwrap();
    // Today the B-LT signature is valid by itself.
    let (code, json) = world.verify_at("tampered.p7s", 0);
    assert_eq!(json["indication"], "TOTAL-PASSED", "{json:#}");
    assert_eq!(code, 0);
    assert!(
        has_finding(&json, "ARCHIVE_TST_HASH_INDEX_MISMATCH"),
        "{json:#}"
    );
    // Two days later nothing proves the signature time-stamp existed while its TSA
    // certificate was valid: the result of the same signature without the archive
    // time-stamp.
    let (code, json) = world.verify_at("tampered.p7s", 2);
    let (b_lt_code, b_lt) = world.verify_at("doc.txt.p7s", 2);
    assert_eq!(json["indication"], "INDETERMINATE", "{json:#}");
    assert_eq!(json["indication"], b_lt["indication"], "{json:#}");
    assert_eq!(json["sub_indication"], b_lt["sub_indication"], "{json:#}");
    assert_eq!(code, b_lt_code);

    // A byte of the signed content changed after the archive time-stamp: the signature itself
    // fails on the message digest.
    std::fs::write(d.join("doc.txt"), b"altered").unwrap();
    let (code, json) = world.verify_at("lta.p7s", 2);
    assert_eq!(json["indication"], "TOTAL-FAILED", "{json:#}");
    assert_eq!(json["sub_indication"], "HASH_FAILURE", "{json:#}");
    assert_eq!(code, 1);
}

#[test]
fn b_lta_extended_twice_evaluates_both_archive_time_stamps() {
    let world = World::new();
    let short = world.tsa("tsa-short");
    let long = world.tsa("tsa-long");
    world.b_lt_then_lta(&short, &long, "lta1.p7s");
    world.extend(&long, "lta1.p7s", "lta2.p7s");
    for days in [0, 2] {
        let (code, json) = world.verify_at("lta2.p7s", days);
        assert_eq!(json["indication"], "TOTAL-PASSED", "+{days} days: {json:#}");
        assert_eq!(code, 0);
        let archive = stamps(&json, "archive");
        assert_eq!(archive.len(), 2, "{json:#}");
        for a in &archive {
            assert_eq!(a["indication"], "TOTAL-PASSED", "{json:#}");
        }
        // Newest first.
        assert!(archive[0]["gen_time"].as_str() >= archive[1]["gen_time"].as_str());
    }
}
