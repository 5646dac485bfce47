//! The operator's whole path on a real SoftHSM2 token, through the binaries only: keys made in
//! the token with `inkan-hsm keygen`, certificate requests with `inkan-hsm csr` certified by a
//! CA (OpenSSL), `inkan-tsa` and `inkan-sign` signing with `pkcs11:` URIs, and the result
//! checked by `inkan-verify` and `openssl cms -verify`.

use std::path::Path;
use std::process::{Command, Output};

use inkan_hsm::devpki::{DevPki, KeyAlg};
use inkan_profiles::clock::{Clock, SystemClock};
use inkan_test_support::softhsm;
use inkan_tests::tsa::TsaProcess;
use inkan_tests::{bin, openssl_cms_verify, openssl_ok};

const PIN_VAR: &str = "INKAN_E2E_PIN";

struct Token {
    dir: tempfile::TempDir,
    conf: String,
}

impl Token {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        softhsm::init_dir(dir.path(), &["inkan"]);
        let conf = dir
            .path()
            .join("softhsm2.conf")
            .to_str()
            .unwrap()
            .to_owned();
        Self { dir, conf }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn env(&self) -> [(&str, &str); 2] {
        [
            ("SOFTHSM2_CONF", self.conf.as_str()),
            (PIN_VAR, softhsm::USER_PIN),
        ]
    }

    fn uri(&self, object: &str) -> String {
        format!(
            "pkcs11:token=inkan;object={object}?module-path={}&pin-source=env:{PIN_VAR}",
            softhsm::module_path().display()
        )
    }

    /// Runs a workspace binary with the token's environment; asserts success.
    fn run(&self, name: &str, args: &[&str]) -> Output {
        let out = Command::new(bin(name))
            .args(args)
            .envs(self.env())
            .current_dir(self.path())
            .output()
            .expect("spawn");
        assert!(
            out.status.success(),
            "{name} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

#[test]
fn keys_made_in_the_token_seal_and_time_stamp_a_document() {
    let t = Token::new();
    let d = t.path();
    let now = SystemClock.now().unwrap();
    let ca = DevPki::generate(now, KeyAlg::P256).unwrap();
    std::fs::write(d.join("root.pem"), ca.root_pem()).unwrap();
    std::fs::write(d.join("root.key"), ca.root_key_pem.as_bytes()).unwrap();
    std::fs::write(d.join("crl.pem"), inkan_hsm::devpki::crl_pem(&ca.crl_der)).unwrap();
    std::fs::write(d.join("doc.txt"), "電子公印の対象文書\n").unwrap();

    let tsa_uri = t.uri("tsa-2026");
    let seal_uri = t.uri("seal-2026");
    t.run(
        "inkan-hsm",
        &["keygen", "--key", &tsa_uri, "--algorithm", "p256"],
    );
    t.run(
        "inkan-hsm",
        &["keygen", "--key", &seal_uri, "--algorithm", "p384"],
    );
    t.run(
        "inkan-hsm",
        &[
            "csr",
            "--key",
            &tsa_uri,
            "--subject",
            "/C=JP/O=inkan e2e/CN=e2e TSA",
            "--eku",
            "time-stamping",
            "--out",
            "tsa.csr",
        ],
    );
    t.run(
        "inkan-hsm",
        &[
            "csr",
            "--key",
            &seal_uri,
            "--subject",
            "/C=JP/O=inkan e2e/CN=e2e seal",
            "--out",
            "seal.csr",
        ],
    );
    openssl_ok(d, &["req", "-verify", "-noout", "-in", "tsa.csr"]);
    std::fs::write(
        d.join("tsa.ext"),
        "extendedKeyUsage=critical,timeStamping\nkeyUsage=critical,digitalSignature\n",
    )
    .unwrap();
    std::fs::write(
        d.join("seal.ext"),
        "keyUsage=critical,digitalSignature,nonRepudiation\n",
    )
    .unwrap();
    for (csr, ext, out, serial) in [
        ("tsa.csr", "tsa.ext", "tsa.pem", "7001"),
        ("seal.csr", "seal.ext", "seal.pem", "7002"),
    ] {
        openssl_ok(
            d,
            &[
                "x509",
                "-req",
                "-in",
                csr,
                "-CA",
                "root.pem",
                "-CAkey",
                "root.key",
                "-days",
                "30",
                "-set_serial",
                serial,
                "-extfile",
                ext,
                "-out",
                out,
            ],
        );
    }
    let cat = |a: &str, b: &str, out: &str| {
        let s = std::fs::read_to_string(d.join(a)).unwrap()
            + &std::fs::read_to_string(d.join(b)).unwrap();
        std::fs::write(d.join(out), s).unwrap();
    };
    cat("tsa.pem", "root.pem", "tsa-chain.pem");
    cat("seal.pem", "root.pem", "seal-chain.pem");

    let chain = d.join("tsa-chain.pem");
    let tsa = TsaProcess::start_with_env(
        &[
            "--key",
            &tsa_uri,
            "--cert-chain",
            chain.to_str().unwrap(),
            "--policy",
            "1.3.6.1.4.1.99999.3161.1",
        ],
        &d.join("tsa-data"),
        &t.env(),
    );
    let url = tsa.url();
    t.run(
        "inkan-sign",
        &[
            "--key",
            &seal_uri,
            "--cert-chain",
            "seal-chain.pem",
            "--level",
            "B-LT",
            "--tsa",
            &url,
            "--crl",
            "crl.pem",
            "doc.txt",
        ],
    );
    openssl_cms_verify(d, "doc.txt.p7s", "doc.txt", "root.pem");
    let out = Command::new(bin("inkan-verify"))
        .args([
            "doc.txt.p7s",
            "--data",
            "doc.txt",
            "--trust",
            "root.pem",
            "--format",
            "json",
        ])
        .current_dir(d)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(json["indication"], "TOTAL-PASSED", "{json:#}");
    assert_eq!(out.status.code(), Some(0));

    // A wrong PIN is a clear refusal and nothing is written.
    std::fs::write(d.join("other.txt"), b"other").unwrap();
    let out = Command::new(bin("inkan-sign"))
        .args([
            "--key",
            &seal_uri,
            "--cert-chain",
            "seal-chain.pem",
            "other.txt",
        ])
        .env("SOFTHSM2_CONF", &t.conf)
        .env(PIN_VAR, "0000")
        .current_dir(d)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(err.contains("pin"), "message names the PIN problem: {err}");
    assert!(!err.contains("0000"), "the PIN never appears: {err}");
    assert!(!d.join("other.txt.p7s").exists());
}
