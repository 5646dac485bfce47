//! The same suite against the software backend and a SoftHSM2 token.

use std::path::{Path, PathBuf};
use std::process::Command;

use inkan_hsm::{Error, KeyRef, Policy, SigningKey};
use inkan_profiles::alg::SignatureAlgorithm;

use crate::util::{AT, openssl_key, run};

/// Key kinds as the suite names them. `rsapss2048` is a PSS-only key (an id-RSASSA-PSS key
/// file; a token key whose CKA_ALLOWED_MECHANISMS lists only PSS mechanisms); `rsapss2048r` is
/// one restricted to SHA-256 (RSASSA-PSS-params in the file; only CKM_SHA256_RSA_PKCS_PSS on
/// the token).
pub const KINDS: [&str; 7] = [
    "p256",
    "p384",
    "p521",
    "ed25519",
    "rsa2048",
    "rsapss2048",
    "rsapss2048r",
];

/// What a backend provides to the suite.
pub trait Backend {
    /// A fresh key of `kind` named `name`.
    fn key(&self, name: &str, kind: &str) -> KeyRef;
    /// A reference to a key that does not exist.
    fn missing(&self) -> KeyRef;
    /// A reference to `name` with a wrong credential (wrong PIN), when the backend has one.
    fn wrong_pin(&self, name: &str) -> Option<KeyRef>;
    /// Makes the key's store disappear, then come back.
    fn remove(&self, name: &str) -> PathBuf;
    /// Undoes [`Backend::remove`].
    fn restore(&self, name: &str, moved: &Path);
    /// Whether signing must fail while removed (a token) or continue (a key in memory).
    fn fails_while_removed(&self) -> bool;
    /// A scratch directory.
    fn dir(&self) -> &Path;
}

/// The software backend: openssl-made PKCS#8 files.
pub struct Soft(tempfile::TempDir);

pub fn soft() -> Option<Soft> {
    Some(Soft(tempfile::tempdir().unwrap()))
}

impl Backend for Soft {
    fn key(&self, name: &str, kind: &str) -> KeyRef {
        KeyRef::File(openssl_key(self.0.path(), name, kind))
    }
    fn missing(&self) -> KeyRef {
        KeyRef::File(self.0.path().join("no-such-key.pem"))
    }
    fn wrong_pin(&self, _name: &str) -> Option<KeyRef> {
        None
    }
    fn remove(&self, name: &str) -> PathBuf {
        let from = self.0.path().join(format!("{name}.key"));
        let to = self.0.path().join(format!("{name}.moved"));
        std::fs::rename(&from, &to).unwrap();
        to
    }
    fn restore(&self, name: &str, moved: &Path) {
        std::fs::rename(moved, self.0.path().join(format!("{name}.key"))).unwrap();
    }
    fn fails_while_removed(&self) -> bool {
        false
    }
    fn dir(&self) -> &Path {
        self.0.path()
    }
}

/// The PKCS#11 backend on a private SoftHSM2 token (the test runs in a child process).
pub struct Hsm(inkan_test_support::softhsm::SoftHsm, tempfile::TempDir);

pub fn softhsm() -> Option<Hsm> {
    inkan_test_support::softhsm::isolate().map(|h| Hsm(h, tempfile::tempdir().unwrap()))
}

fn tool_type(kind: &str) -> &'static str {
    match kind {
        "p256" => "EC:prime256v1",
        "p384" => "EC:secp384r1",
        "p521" => "EC:secp521r1",
        "p224" => "EC:secp224r1",
        "ed25519" => "EC:edwards25519",
        "rsa2048" => "rsa:2048",
        "rsa1024" => "rsa:1024",
        other => panic!("unknown kind {other}"),
    }
}

impl Backend for Hsm {
    fn key(&self, name: &str, kind: &str) -> KeyRef {
        let uri = match kind {
            "rsapss2048" => self.0.keygen_with(
                name,
                "rsa:2048",
                &[
                    "--allowed-mechanisms",
                    "RSA-PKCS-PSS,SHA256-RSA-PKCS-PSS,SHA384-RSA-PKCS-PSS,SHA512-RSA-PKCS-PSS",
                ],
            ),
            "rsapss2048r" => self.0.keygen_with(
                name,
                "rsa:2048",
                &["--allowed-mechanisms", "SHA256-RSA-PKCS-PSS"],
            ),
            _ => self.0.keygen(name, tool_type(kind)),
        };
        KeyRef::parse(&uri).unwrap()
    }
    fn missing(&self) -> KeyRef {
        KeyRef::parse(&self.0.uri("no-such-key")).unwrap()
    }
    fn wrong_pin(&self, name: &str) -> Option<KeyRef> {
        let uri = format!(
            "pkcs11:token={};object={name}?module-path={}&pin-value=9999-wrong",
            inkan_test_support::softhsm::TOKEN_LABEL,
            self.0.module().display()
        );
        Some(KeyRef::parse(&uri).unwrap())
    }
    fn remove(&self, _name: &str) -> PathBuf {
        let from = self.0.token_dir(inkan_test_support::softhsm::TOKEN_LABEL);
        let to = self.0.dir().join("removed-token");
        std::fs::rename(&from, &to).unwrap();
        std::fs::write(self.0.dir().join("removed-from"), from.to_str().unwrap()).unwrap();
        to
    }
    fn restore(&self, _name: &str, moved: &Path) {
        let from = std::fs::read_to_string(self.0.dir().join("removed-from")).unwrap();
        std::fs::rename(moved, from).unwrap();
    }
    fn fails_while_removed(&self) -> bool {
        true
    }
    fn dir(&self) -> &Path {
        self.1.path()
    }
}

fn load(k: &KeyRef) -> std::sync::Arc<dyn SigningKey> {
    inkan_hsm::load(k, &Policy::cryptrec(), AT).unwrap_or_else(|e| panic!("load {k}: {e}"))
}

/// Verifies with OpenSSL: `dgst -verify` (RSA, ECDSA), `pkeyutl -verify -rawin` (Ed25519).
pub fn openssl_verify(
    dir: &Path,
    spki_der: &[u8],
    alg: &SignatureAlgorithm,
    msg: &[u8],
    sig: &[u8],
) {
    use inkan_profiles::alg::DigestAlgorithm as D;
    let pubp = dir.join("pub.pem");
    std::fs::write(
        &pubp,
        der::pem::encode_string("PUBLIC KEY", der::pem::LineEnding::LF, spki_der).unwrap(),
    )
    .unwrap();
    let msgp = dir.join("msg.bin");
    let sigp = dir.join("sig.bin");
    std::fs::write(&msgp, msg).unwrap();
    std::fs::write(&sigp, sig).unwrap();
    let md = |d: &D| match d {
        D::Sha256 => "-sha256",
        D::Sha384 => "-sha384",
        D::Sha512 => "-sha512",
        other => panic!("{other:?}"),
    };
    let mut cmd = Command::new("openssl");
    match alg {
        SignatureAlgorithm::Ed25519 => {
            cmd.args(["pkeyutl", "-verify", "-pubin", "-rawin", "-inkey"])
                .arg(&pubp)
                .arg("-in")
                .arg(&msgp)
                .arg("-sigfile")
                .arg(&sigp);
        }
        SignatureAlgorithm::RsaPkcs1(d) | SignatureAlgorithm::Ecdsa(d) => {
            cmd.args(["dgst", md(d), "-verify"])
                .arg(&pubp)
                .arg("-signature")
                .arg(&sigp)
                .arg(&msgp);
        }
        SignatureAlgorithm::RsaPss(p) => {
            cmd.args(["dgst", md(&p.hash), "-sigopt", "rsa_padding_mode:pss"])
                .args(["-sigopt", &format!("rsa_pss_saltlen:{}", p.salt_len)])
                .arg("-verify")
                .arg(&pubp)
                .arg("-signature")
                .arg(&sigp)
                .arg(&msgp);
        }
        other => panic!("{other:?}"),
    }
    run(&mut cmd);
}

pub fn sign_verify_all(b: &dyn Backend) {
    use inkan_profiles::alg::{DigestAlgorithm as D, PssParams, PublicKeyKind};
    for kind in KINDS {
        let key = load(&b.key(kind, kind));
        // The SPKI says what the key is.
        assert_eq!(
            PublicKeyKind::from_spki_der(key.public_key_der()).unwrap(),
            key.kind(),
            "{kind}"
        );
        let pss_only = kind.starts_with("rsapss");
        assert_eq!(
            matches!(key.kind(), PublicKeyKind::RsaPss { .. }),
            pss_only,
            "{kind}"
        );
        let mut signed = Vec::new();
        for alg in inkan_hsm::default_algorithms(&key.kind()) {
            let Some(signer) = key.choose(&[alg]) else {
                // Only the SHA-256-restricted token key refuses some of its kind's algorithms.
                assert_eq!(kind, "rsapss2048r", "{alg:?}");
                continue;
            };
            signed.push(alg);
            let msg = format!("message for {kind} {alg:?}").into_bytes();
            let sig = signer
                .sign(&msg)
                .unwrap_or_else(|e| panic!("{kind} {alg:?}: {e}"));
            openssl_verify(b.dir(), key.public_key_der(), &alg, &msg, &sig);
        }
        if kind == "rsapss2048r" {
            assert_eq!(
                signed,
                [SignatureAlgorithm::RsaPss(PssParams::for_hash(D::Sha256))]
            );
        }
        if pss_only {
            // A PSS key never makes PKCS#1 v1.5, nor PSS outside its restriction.
            assert!(
                key.choose(&[SignatureAlgorithm::RsaPkcs1(D::Sha256)])
                    .is_none()
            );
            let long_salt = SignatureAlgorithm::RsaPss(PssParams {
                salt_len: 64,
                ..PssParams::for_hash(D::Sha256)
            });
            assert!(key.choose(&[long_salt]).is_none());
            // The policy's preferences for the kind are PSS and the key can use the first.
            let prefs = Policy::cryptrec().signing_preferences(&key.kind(), AT);
            assert!(!prefs.is_empty());
            assert!(
                prefs
                    .iter()
                    .all(|a| matches!(a, SignatureAlgorithm::RsaPss(_)))
            );
            let s = key.choose(&prefs).unwrap();
            let sig = s.sign(b"policy").unwrap();
            openssl_verify(
                b.dir(),
                key.public_key_der(),
                &s.algorithm(),
                b"policy",
                &sig,
            );
        }
        // A key never signs with an algorithm of another key type (no C_Sign is even tried).
        let wrong = if kind.starts_with("rsa") {
            SignatureAlgorithm::Ed25519
        } else {
            SignatureAlgorithm::RsaPss(PssParams {
                hash: inkan_profiles::alg::DigestAlgorithm::Sha256,
                mgf1_hash: inkan_profiles::alg::DigestAlgorithm::Sha256,
                salt_len: 32,
            })
        };
        assert!(key.choose(&[wrong]).is_none());
    }
}

pub fn refuses_weak_keys(b: &dyn Backend) {
    for kind in ["rsa1024", "p224"] {
        let r = b.key(kind, kind);
        match inkan_hsm::load(&r, &Policy::cryptrec(), AT) {
            Err(Error::PolicyRefused(refusal)) => {
                assert!(!refusal.to_string().is_empty());
            }
            other => panic!("{kind}: {other:?}"),
        }
    }
}

pub fn missing_object(b: &dyn Backend) {
    let e = inkan_hsm::load(&b.missing(), &Policy::cryptrec(), AT).unwrap_err();
    assert!(
        matches!(e, Error::ObjectNotFound(_) | Error::BadKeyFile { .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("no-such-key"), "{e}");
}

pub fn wrong_pin(b: &dyn Backend) {
    let _ = b.key("pinned", "p256");
    if let Some(r) = b.wrong_pin("pinned") {
        let e = inkan_hsm::load(&r, &Policy::cryptrec(), AT).unwrap_err();
        assert_eq!(e, Error::WrongPin);
        for text in [
            e.to_string(),
            format!("{e:?}"),
            format!("{r:?}"),
            r.to_string(),
        ] {
            assert!(!text.contains("9999-wrong"), "{text}");
        }
    }
}

pub fn no_pin_in_debug(b: &dyn Backend) {
    let r = b.key("dbg", "p256");
    let key = load(&r);
    let signer = key
        .choose(&inkan_hsm::default_algorithms(&key.kind()))
        .unwrap();
    for text in [
        format!("{r:?}"),
        r.to_string(),
        format!("{key:?}"),
        format!("{signer:?}"),
        key.label().to_owned(),
    ] {
        assert!(
            !text.contains(inkan_test_support::softhsm::USER_PIN),
            "{text}"
        );
        assert!(!text.contains("PRIVATE KEY"), "{text}");
    }
}

pub fn removed_and_restored(b: &dyn Backend) {
    let key = load(&b.key("gone", "p256"));
    let signer = key
        .choose(&inkan_hsm::default_algorithms(&key.kind()))
        .unwrap();
    signer.sign(b"before").unwrap();
    let moved = b.remove("gone");
    let r = signer.sign(b"while removed");
    if b.fails_while_removed() {
        let e = r.unwrap_err();
        assert!(
            !e.to_string()
                .contains(inkan_test_support::softhsm::USER_PIN)
        );
    } else {
        r.unwrap();
    }
    b.restore("gone", &moved);
    // The next request re-opens: no restart needed.
    let sig = signer.sign(b"after").unwrap();
    openssl_verify(
        b.dir(),
        key.public_key_der(),
        &signer.algorithm(),
        b"after",
        &sig,
    );
}

pub fn parallel_signing(b: &dyn Backend) {
    let key = load(&b.key("par", "p256"));
    let signer = key
        .choose(&inkan_hsm::default_algorithms(&key.kind()))
        .unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let signer = &signer;
            s.spawn(move || {
                for i in 0..200 {
                    signer.sign(format!("{t}-{i}").as_bytes()).unwrap();
                }
            });
        }
    });
}

/// The same checks, one test each, for every backend that `$make` gives.
macro_rules! backend_tests {
    ($name:ident, $make:path) => {
        backend_tests!($name, $make, [
            sign_and_verify_every_algorithm => sign_verify_all,
            refuses_rsa1024_and_p224 => refuses_weak_keys,
            missing_object_is_a_clear_error => missing_object,
            wrong_pin_is_a_clear_error => wrong_pin,
            no_pin_in_debug_or_errors => no_pin_in_debug,
            store_removed_and_restored => removed_and_restored,
            threads_sign_in_parallel => parallel_signing,
        ]);
    };
    ($name:ident, $make:path, [$($test:ident => $check:ident),* $(,)?]) => {
        mod $name {
            use super::*;
            $(
                #[test]
                fn $test() {
                    let Some(b) = $make() else { return };
                    $check(&b);
                }
            )*
        }
    };
}

backend_tests!(software, soft);
backend_tests!(pkcs11_softhsm, softhsm);

/// CKA_ALLOWED_MECHANISMS decides: PSS-only lists make a PSS key; a list with any non-PSS
/// mechanism (or none) leaves an rsaEncryption key that also signs PKCS#1 v1.5.
#[test]
fn pkcs11_allowed_mechanisms_rule() {
    use inkan_profiles::alg::{DigestAlgorithm as D, PssParams, PublicKeyKind};
    let Some(h) = softhsm() else { return };
    let mixed = h.0.keygen_with(
        "mixed",
        "rsa:2048",
        &["--allowed-mechanisms", "RSA-PKCS-PSS,SHA256-RSA-PKCS"],
    );
    let key = load(&KeyRef::parse(&mixed).unwrap());
    assert_eq!(key.kind(), PublicKeyKind::Rsa { modulus_bits: 2048 });
    assert!(
        key.choose(&[SignatureAlgorithm::RsaPkcs1(D::Sha256)])
            .is_some()
    );
    // Only the hash-specific PSS mechanism for SHA-384: the token hashes, SHA-384 only.
    let only384 = h.0.keygen_with(
        "only384",
        "rsa:2048",
        &["--allowed-mechanisms", "SHA384-RSA-PKCS-PSS"],
    );
    let key = load(&KeyRef::parse(&only384).unwrap());
    assert!(matches!(
        key.kind(),
        PublicKeyKind::RsaPss { params: None, .. }
    ));
    let pss = |d| SignatureAlgorithm::RsaPss(PssParams::for_hash(d));
    assert!(key.choose(&[pss(D::Sha256)]).is_none());
    let s = key.choose(&[pss(D::Sha256), pss(D::Sha384)]).unwrap();
    assert_eq!(s.algorithm(), pss(D::Sha384));
    let sig = s.sign(b"only384").unwrap();
    openssl_verify(
        h.dir(),
        key.public_key_der(),
        &s.algorithm(),
        b"only384",
        &sig,
    );
}
