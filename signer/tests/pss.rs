//! RSA-3072 PSS e-seals (issue 5) from an id-RSASSA-PSS PKCS#8 key file made by
//! `openssl genpkey -algorithm RSA-PSS`: B-B and B-T (a real `inkan-tsa` on 127.0.0.1:0) through
//! the signer library and the `inkan-sign` binary, judged by `openssl cms -verify` and the
//! `inkan-verifier` library (TOTAL-PASSED); the SignerInfo carries id-RSASSA-PSS with explicit
//! parameters. (Written by the inkan-hsm engineer; kept apart from `tests.rs`.)

use std::path::Path;
use std::process::Command;

use der::Decode;
use inkan_profiles::alg::{DigestAlgorithm, PssParams, PublicKeyKind, SignatureAlgorithm};
use inkan_profiles::asn1::cms::RawSignedData;
use inkan_profiles::clock::{Clock, SystemClock};
use inkan_signer::cades::Level;
use inkan_signer::sign::{self, Options};

mod common;

const ID_RSASSA_PSS: &str = "1.2.840.113549.1.1.10";
const SIG_TST: &str = "1.2.840.113549.1.9.16.2.14";

use common::Env;

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    out
}

impl Env {
    /// A PSS key file (`restricted`: SHA-256/MGF1-SHA-256/salt 32 in the key), a development
    /// PKI whose e-seal certificate certifies it, and an `inkan-tsa` with a P-256 key.
    fn new(restricted: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let key = d.join("eseal-pss.key");
        let mut cmd = Command::new("openssl");
        cmd.args([
            "genpkey",
            "-algorithm",
            "RSA-PSS",
            "-pkeyopt",
            "rsa_keygen_bits:3072",
        ]);
        if restricted {
            cmd.args([
                "-pkeyopt",
                "rsa_pss_keygen_md:sha256",
                "-pkeyopt",
                "rsa_pss_keygen_mgf1_md:sha256",
                "-pkeyopt",
                "rsa_pss_keygen_saltlen:32",
            ]);
        }
        run(cmd.arg("-out").arg(&key));
        let keyref = key.display().to_string();
        let now = SystemClock.now().unwrap();
        let eseal = inkan_hsm::load(
            &inkan_hsm::KeyRef::parse(&keyref).unwrap(),
            &inkan_hsm::Policy::cryptrec(),
            now,
        )
        .unwrap();
        assert!(
            matches!(
                eseal.kind(),
                PublicKeyKind::RsaPss {
                    modulus_bits: 3072,
                    ..
                }
            ),
            "{:?}",
            eseal.kind()
        );
        Self::with_eseal(dir, &*eseal, keyref)
    }

    fn openssl_verify(&self, sig: &Path, content: &Path) {
        run(Command::new("openssl")
            .current_dir(self.dir.path())
            .args(["cms", "-verify", "-binary", "-inform", "DER", "-in"])
            .arg(sig)
            .args([
                "-CAfile",
                "root.pem",
                "-purpose",
                "any",
                "-out",
                "/dev/null",
            ])
            .arg("-content")
            .arg(content));
    }

    /// Both judges, then the SignerInfo's algorithm: id-RSASSA-PSS with explicit parameters
    /// (SHA-256, MGF1-SHA-256, salt 32), and a signature time-stamp exactly at B-T.
    fn check(&self, sig: &Path, content: &Path, level: Level) {
        self.openssl_verify(sig, content);
        self.inkan_verify(sig, Some(content), false);
        let der = std::fs::read(sig).unwrap();
        let sd = RawSignedData::parse(&der).unwrap();
        let si = &sd.signer_infos[0];
        let ai = spki::AlgorithmIdentifierOwned::from_der(&si.signature_algorithm).unwrap();
        assert_eq!(ai.oid.to_string(), ID_RSASSA_PSS);
        assert!(ai.parameters.is_some(), "PSS parameters are explicit");
        assert_eq!(
            SignatureAlgorithm::from_algorithm_identifier(&ai).unwrap(),
            SignatureAlgorithm::RsaPss(PssParams::for_hash(DigestAlgorithm::Sha256))
        );
        assert_eq!(si.signature.len(), 384, "RSA-3072");
        let has_tst = si
            .unsigned_attrs
            .iter()
            .any(|a| a.oid.to_string() == SIG_TST);
        assert_eq!(has_tst, level >= Level::BT, "{level}");
    }
}

fn library(env: &Env) {
    for level in [Level::BB, Level::BT] {
        let name = format!("lib-{level}.txt");
        let input = env.p(&name);
        std::fs::write(&input, format!("PSS e-seal, {level}\n")).unwrap();
        let mut o = Options::new(&env.keyref, &env.p("eseal-chain.pem"));
        o.level = level;
        o.progress = false;
        o.fetch = false;
        if level >= Level::BT {
            o.tsa = Some(env.tsa_url.clone());
        }
        let s = sign::sign_files(&o, std::slice::from_ref(&input), &SystemClock).unwrap();
        assert_eq!(s.failed(), 0, "{:?}", s.files);
        env.check(&env.p(&format!("{name}.p7s")), &input, level);
    }
}

fn binary(env: &Env) {
    for (level, flag) in [(Level::BB, "B-B"), (Level::BT, "B-T")] {
        let input = env.p(&format!("bin-{flag}.txt"));
        std::fs::write(&input, format!("PSS e-seal by inkan-sign, {flag}\n")).unwrap();
        let out = env.p(&format!("bin-{flag}.p7s"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_inkan-sign"));
        cmd.arg("--key")
            .arg(&env.keyref)
            .arg("--cert-chain")
            .arg(env.p("eseal-chain.pem"))
            .args(["--level", flag])
            .arg("--out")
            .arg(&out);
        if level >= Level::BT {
            cmd.args(["--tsa", &env.tsa_url]);
        }
        run(cmd.arg(&input));
        env.check(&out, &input, level);
    }
}

#[test]
fn rsa3072_pss_key_file_b_b_and_b_t() {
    let env = Env::new(false);
    library(&env);
    binary(&env);
}

#[test]
fn rsa3072_pss_restricted_key_file_b_b_and_b_t() {
    let env = Env::new(true);
    library(&env);
}
