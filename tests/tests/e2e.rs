//! End-to-end tests across the binaries: a real `inkan-tsa` process on 127.0.0.1:0, the
//! `inkan-sign` and `inkan-verify` commands, and OpenSSL as the interop peer.

use std::path::Path;

use inkan_hsm::devpki::{self, DevPki, DevPkiOptions, KeyAlg, Validity};
use inkan_hsm::name::DistinguishedName;
use inkan_profiles::clock::{Clock, SystemClock};
use inkan_profiles::time::UnixTime;
use inkan_test_support::openssl_cades_sign;
use inkan_tests::tsa::TsaProcess;
use inkan_tests::{bin, openssl_cms_verify, openssl_ok, rfc3339, run, verify_json};

const DAY: u64 = 86_400;

/// A development PKI made now: an e-seal certificate that lives one hour, a TSA certificate
/// that lives ten years, and a CRL from their common root.
struct Pki {
    dir: tempfile::TempDir,
    now: UnixTime,
}

impl Pki {
    fn new() -> Self {
        let now = SystemClock.now().expect("clock");
        let mut opts = DevPkiOptions::new(now, KeyAlg::P256);
        opts.leaf_validity_secs = 3600;
        let pki = DevPki::generate_with(&opts).expect("dev PKI");
        let (tsa_key_pem, tsa_key) = devpki::generate_key(KeyAlg::P256).expect("TSA key");
        let tsa_cert = pki
            .issuer
            .issue(
                devpki::CertProfile::TimeStamping,
                &DistinguishedName::parse("/C=JP/O=inkan e2e (NOT FOR PRODUCTION)/CN=e2e TSA")
                    .expect("DN"),
                tsa_key.public_key_der(),
                Validity::around(now, 3600, 3650 * DAY),
            )
            .expect("TSA certificate");
        let dir = tempfile::tempdir().expect("tempdir");
        let w = |name: &str, data: &[u8]| inkan_tests::write_file(&dir.path().join(name), data);
        w("root.pem", pki.root_pem().as_bytes());
        w("eseal.key", pki.eseal_key_pem.as_bytes());
        w("eseal-chain.pem", pki.eseal_chain_pem().as_bytes());
        w(
            "eseal.pem",
            devpki::cert_pem(&pki.eseal_cert_der).as_bytes(),
        );
        w("tsa.key", tsa_key_pem.as_bytes());
        let chain = devpki::cert_pem(&tsa_cert) + &pki.root_pem();
        w("tsa-chain.pem", chain.as_bytes());
        w("crl.pem", devpki::crl_pem(&pki.crl_der).as_bytes());
        w(
            "doc.txt",
            "申請書: the document an agency seals\n".as_bytes(),
        );
        Self { dir, now }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn start_tsa(&self) -> TsaProcess {
        let data = self.path().join("tsa-data");
        TsaProcess::start(
            &[
                "--key",
                self.path().join("tsa.key").to_str().unwrap(),
                "--cert-chain",
                self.path().join("tsa-chain.pem").to_str().unwrap(),
                "--policy",
                "1.3.6.1.4.1.99999.3161.1",
            ],
            &data,
        )
    }
}

/// `inkan-verify SIG --data DATA --trust root.pem EXTRA --format json` in `d` gives
/// `indication` and exits with `code`.
fn assert_verdict(d: &Path, sig: &str, data: &str, extra: &[&str], indication: &str, code: i32) {
    let mut args = vec![sig, "--data", data, "--trust", "root.pem"];
    args.extend(extra);
    let (got, json) = verify_json(d, &args);
    assert_eq!(json["indication"], indication, "{args:?}: {json:#}");
    assert_eq!(got, code, "{args:?}");
}

#[test]
fn tsa_token_is_accepted_by_openssl_and_inkan_verify() {
    let pki = Pki::new();
    let tsa = pki.start_tsa();
    let d = pki.path();
    for alg in ["-sha256", "-sha384", "-sha512"] {
        openssl_ok(
            d,
            &[
                "ts", "-query", "-data", "doc.txt", alg, "-cert", "-out", "req.tsq",
            ],
        );
        let (status, body) = tsa.post(&std::fs::read(d.join("req.tsq")).unwrap());
        assert_eq!(status, 200);
        std::fs::write(d.join("resp.tsr"), &body).unwrap();
        openssl_ok(
            d,
            &[
                "ts",
                "-verify",
                "-in",
                "resp.tsr",
                "-queryfile",
                "req.tsq",
                "-CAfile",
                "root.pem",
            ],
        );
        assert_verdict(
            d,
            "resp.tsr",
            "doc.txt",
            &["--crl", "crl.pem"],
            "TOTAL-PASSED",
            0,
        );
    }
    // The same token over other data is not a proof for it.
    std::fs::write(d.join("other.txt"), b"another document").unwrap();
    assert_verdict(
        d,
        "resp.tsr",
        "other.txt",
        &["--crl", "crl.pem"],
        "TOTAL-FAILED",
        1,
    );
}

#[test]
fn b_lta_through_inkan_tsa_verifies_after_the_signer_certificate_expired() {
    let pki = Pki::new();
    let tsa = pki.start_tsa();
    let d = pki.path();
    let url = tsa.url();
    let out = run(
        "inkan-sign",
        &[
            "--key",
            "eseal.key",
            "--cert-chain",
            "eseal-chain.pem",
            "--level",
            "B-LTA",
            "--tsa",
            &url,
            "--crl",
            "crl.pem",
            "doc.txt",
        ],
        d,
    );
    assert!(
        out.status.success(),
        "inkan-sign: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(d.join("doc.txt.p7s").exists());

    // OpenSSL accepts the CMS structure and signature today.
    openssl_cms_verify(d, "doc.txt.p7s", "doc.txt", "root.pem");

    // Today: passes.
    assert_verdict(d, "doc.txt.p7s", "doc.txt", &[], "TOTAL-PASSED", 0);

    // Two days later the e-seal certificate (one hour) has expired; the time stamps prove the
    // signature existed while it was valid, so it still passes.
    let later = rfc3339(UnixTime::from_secs(pki.now.secs() + 2 * DAY));
    assert_verdict(
        d,
        "doc.txt.p7s",
        "doc.txt",
        &["--at", &later],
        "TOTAL-PASSED",
        0,
    );

    // Tampered content still fails, at any time.
    std::fs::write(d.join("doc.txt"), b"altered").unwrap();
    assert_verdict(
        d,
        "doc.txt.p7s",
        "doc.txt",
        &["--at", &later],
        "TOTAL-FAILED",
        1,
    );
}

#[test]
fn openssl_cades_signature_extended_to_b_lta_verifies() {
    let pki = Pki::new();
    let tsa = pki.start_tsa();
    let d = pki.path();
    openssl_cades_sign(d, "doc.txt", "eseal.pem", "eseal.key", "doc.p7s", &[]);
    let original = std::fs::read(d.join("doc.p7s")).unwrap();
    let url = tsa.url();
    let out = run(
        "inkan-sign",
        &[
            "extend",
            "--level",
            "B-LTA",
            "--tsa",
            &url,
            "--crl",
            "crl.pem",
            "--cert-chain",
            "root.pem",
            "--data",
            "doc.txt",
            "--out",
            "doc-lta.p7s",
            "doc.p7s",
        ],
        d,
    );
    assert!(
        out.status.success(),
        "inkan-sign extend: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The input was left alone.
    assert_eq!(std::fs::read(d.join("doc.p7s")).unwrap(), original);
    openssl_cms_verify(d, "doc-lta.p7s", "doc.txt", "root.pem");
    let later = rfc3339(UnixTime::from_secs(pki.now.secs() + 2 * DAY));
    assert_verdict(
        d,
        "doc-lta.p7s",
        "doc.txt",
        &["--at", &later],
        "TOTAL-PASSED",
        0,
    );
}

#[test]
fn dev_tsa_starts_on_an_embedded_default_and_its_tokens_verify() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let data = d.join("data");
    let tsa = TsaProcess::start(&["--dev"], &data);
    assert!(
        data.join("dev-root.pem").exists(),
        "--dev writes DATA_DIR/dev-root.pem"
    );
    std::fs::write(d.join("hello.txt"), b"hello\n").unwrap();
    openssl_ok(
        d,
        &[
            "ts",
            "-query",
            "-data",
            "hello.txt",
            "-sha256",
            "-cert",
            "-out",
            "q.tsq",
        ],
    );
    let (status, body) = tsa.post(&std::fs::read(d.join("q.tsq")).unwrap());
    assert_eq!(status, 200);
    std::fs::write(d.join("r.tsr"), body).unwrap();
    let root = data.join("dev-root.pem");
    openssl_ok(
        d,
        &[
            "ts",
            "-verify",
            "-data",
            "hello.txt",
            "-in",
            "r.tsr",
            "-CAfile",
            root.to_str().unwrap(),
        ],
    );
    let (_, json) = verify_json(
        d,
        &[
            "r.tsr",
            "--data",
            "hello.txt",
            "--trust",
            root.to_str().unwrap(),
            "--revocation",
            "optional",
        ],
    );
    assert_eq!(json["indication"], "TOTAL-PASSED", "{json:#}");
}

#[test]
fn every_binary_answers_help_and_version() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["inkan-tsa", "inkan-sign", "inkan-verify", "inkan-hsm"] {
        for flag in ["--help", "--version"] {
            let out = run(name, &[flag], dir.path());
            assert!(out.status.success(), "{name} {flag}");
            assert!(!out.stdout.is_empty(), "{name} {flag} prints to stdout");
        }
        let _ = bin(name);
    }
}
