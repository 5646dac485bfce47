//! The software backend: an unencrypted PKCS#8 private key held in memory.
//!
//! | key | library | signature algorithms |
//! |---|---|---|
//! | RSA 2048–8192 | ring | PKCS#1 v1.5 and PSS (salt = hash length, MGF1 with the same hash), SHA-256/384/512 |
//! | RSA-PSS (id-RSASSA-PSS) 2048–8192 | ring | PSS only, within the key's restrictions |
//! | P-256 | ring | ECDSA with SHA-256 |
//! | P-384 | RustCrypto `p384` | ECDSA with SHA-384 (also SHA-256, SHA-512) |
//! | P-521 | RustCrypto `p521` | ECDSA with SHA-512 (also SHA-256, SHA-384) |
//! | Ed25519 | ring | PureEdDSA |
//!
//! **RSA-PSS key files.** `openssl genpkey -algorithm RSA-PSS` writes a PKCS#8 whose algorithm is
//! id-RSASSA-PSS (RFC 4055 §1.2), optionally with `RSASSA-PSS-params` restricting the key to one
//! hash, one MGF1 hash and a minimum salt length. ring reads only rsaEncryption PKCS#8, so the
//! inner `RSAPrivateKey` is re-wrapped as rsaEncryption in a zeroized buffer for ring; the key
//! keeps its identity as a PSS key: [`SigningKey::kind`] is `PublicKeyKind::RsaPss`, its
//! `public_key_der` is the id-RSASSA-PSS SPKI with the same parameters (so certificates issued
//! over it carry the PSS SPKI), and `choose` offers only PSS algorithms within the restrictions
//! (same hash, same MGF1 hash, salt = hash length and at least the restricted minimum).
//!
//! ECDSA signatures come out DER encoded. RustCrypto ECDSA is deterministic (RFC 6979); ring
//! ECDSA and PSS draw from the operating system's generator.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use der::asn1::{BitString, ObjectIdentifier, UintRef};
use der::{Decode, Encode};
use inkan_profiles::alg::{Curve, DigestAlgorithm, PssParams, PublicKeyKind, SignatureAlgorithm};
use inkan_profiles::time::UnixTime;
use ring::rand::SystemRandom;
use ring::signature::{self as rsig, KeyPair};
use signature::hazmat::PrehashSigner;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use zeroize::Zeroizing;

use crate::policy_glue::{Policy, check_key_create};
use crate::{Error, Signer, SigningKey, digest};

pub(crate) const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
pub(crate) const OID_RSA_PSS: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
pub(crate) const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
pub(crate) const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
pub(crate) const OID_P224: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.33");
pub(crate) const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
pub(crate) const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
pub(crate) const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

/// Largest key file read: a PKCS#8 RSA-8192 PEM is about 6.5 KiB.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// The OID naming a curve in `ECParameters`.
pub(crate) fn curve_oid(c: Curve) -> Option<ObjectIdentifier> {
    Some(match c {
        Curve::P224 => OID_P224,
        Curve::P256 => OID_P256,
        Curve::P384 => OID_P384,
        Curve::P521 => OID_P521,
        _ => return None,
    })
}

/// The curve named by an OID.
pub(crate) fn curve_from_oid(oid: &ObjectIdentifier) -> Option<Curve> {
    Some(match *oid {
        OID_P224 => Curve::P224,
        OID_P256 => Curve::P256,
        OID_P384 => Curve::P384,
        OID_P521 => Curve::P521,
        _ => return None,
    })
}

/// Bit length of a big-endian unsigned integer.
pub(crate) fn bit_len(be: &[u8]) -> u32 {
    let be = match be.iter().position(|&b| b != 0) {
        Some(i) => &be[i..],
        None => return 0,
    };
    // A modulus is at most a few KiB; the cast cannot truncate for any accepted key.
    (be.len() as u32 - 1) * 8 + (8 - be[0].leading_zeros())
}

/// Builds a DER `SubjectPublicKeyInfo`.
pub(crate) fn spki_der(
    alg: ObjectIdentifier,
    params: Option<der::Any>,
    key: &[u8],
) -> Result<Vec<u8>, Error> {
    let spki = SubjectPublicKeyInfoOwned {
        algorithm: AlgorithmIdentifierOwned {
            oid: alg,
            parameters: params,
        },
        subject_public_key: BitString::from_bytes(key)?,
    };
    Ok(spki.to_der()?)
}

/// SPKI for an RSA key from its `RSAPublicKey` DER.
pub(crate) fn rsa_spki(rsa_public_key_der: &[u8]) -> Result<Vec<u8>, Error> {
    spki_der(OID_RSA, Some(der::asn1::Null.into()), rsa_public_key_der)
}

/// SPKI for an EC key from its uncompressed point.
pub(crate) fn ec_spki(curve: Curve, point: &[u8]) -> Result<Vec<u8>, Error> {
    let oid = curve_oid(curve).ok_or_else(|| Error::UnsupportedKey("unknown curve".into()))?;
    spki_der(OID_EC, Some(der::Any::from(oid)), point)
}

/// The signature algorithms a key of `kind` can make with this crate's backends.
pub(crate) fn supports(kind: &PublicKeyKind, alg: &SignatureAlgorithm) -> bool {
    use DigestAlgorithm::{Sha256, Sha384, Sha512};
    match (kind, alg) {
        (PublicKeyKind::Rsa { .. }, SignatureAlgorithm::RsaPkcs1(d)) => {
            matches!(d, Sha256 | Sha384 | Sha512)
        }
        (PublicKeyKind::Rsa { .. }, SignatureAlgorithm::RsaPss(p)) => {
            matches!(p.hash, Sha256 | Sha384 | Sha512)
                && p.mgf1_hash == p.hash
                && digest::len(p.hash) == Some(p.salt_len as usize)
        }
        (PublicKeyKind::RsaPss { params, .. }, SignatureAlgorithm::RsaPss(p)) => {
            matches!(p.hash, Sha256 | Sha384 | Sha512)
                && p.mgf1_hash == p.hash
                && digest::len(p.hash) == Some(p.salt_len as usize)
                && params.is_none_or(|r| {
                    r.hash == p.hash && r.mgf1_hash == p.mgf1_hash && p.salt_len >= r.salt_len
                })
        }
        (PublicKeyKind::Ec(Curve::P256), SignatureAlgorithm::Ecdsa(d)) => *d == Sha256,
        (PublicKeyKind::Ec(Curve::P384 | Curve::P521), SignatureAlgorithm::Ecdsa(d)) => {
            matches!(d, Sha256 | Sha384 | Sha512)
        }
        (PublicKeyKind::Ed25519, SignatureAlgorithm::Ed25519) => true,
        _ => false,
    }
}

/// The usual algorithms for a key, best first (used when no policy preference is given).
pub fn default_algorithms(kind: &PublicKeyKind) -> Vec<SignatureAlgorithm> {
    use DigestAlgorithm::{Sha256, Sha384, Sha512};
    let pss = |h: DigestAlgorithm, n: u32| {
        SignatureAlgorithm::RsaPss(PssParams {
            hash: h,
            mgf1_hash: h,
            salt_len: n,
        })
    };
    match kind {
        PublicKeyKind::Rsa { .. } => vec![
            SignatureAlgorithm::RsaPkcs1(Sha256),
            SignatureAlgorithm::RsaPkcs1(Sha384),
            SignatureAlgorithm::RsaPkcs1(Sha512),
            pss(Sha256, 32),
            pss(Sha384, 48),
            pss(Sha512, 64),
        ],
        PublicKeyKind::RsaPss { .. } => [pss(Sha256, 32), pss(Sha384, 48), pss(Sha512, 64)]
            .into_iter()
            .filter(|a| supports(kind, a))
            .collect(),
        PublicKeyKind::Ec(Curve::P256) => vec![SignatureAlgorithm::Ecdsa(Sha256)],
        PublicKeyKind::Ec(Curve::P384) => vec![
            SignatureAlgorithm::Ecdsa(Sha384),
            SignatureAlgorithm::Ecdsa(Sha512),
            SignatureAlgorithm::Ecdsa(Sha256),
        ],
        PublicKeyKind::Ec(Curve::P521) => vec![
            SignatureAlgorithm::Ecdsa(Sha512),
            SignatureAlgorithm::Ecdsa(Sha384),
            SignatureAlgorithm::Ecdsa(Sha256),
        ],
        PublicKeyKind::Ed25519 => vec![SignatureAlgorithm::Ed25519],
        _ => Vec::new(),
    }
}

/// `RSAPrivateKey` (RFC 8017 appendix A.1.2), read only to learn the modulus size before the key
/// is handed to ring.
#[derive(der::Sequence)]
struct RsaPrivateKeyHead<'a> {
    version: UintRef<'a>,
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
    private_exponent: UintRef<'a>,
    prime1: UintRef<'a>,
    prime2: UintRef<'a>,
    exponent1: UintRef<'a>,
    exponent2: UintRef<'a>,
    coefficient: UintRef<'a>,
}

enum Inner {
    Rsa(rsig::RsaKeyPair),
    P256(rsig::EcdsaKeyPair),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
    Ed25519(rsig::Ed25519KeyPair),
}

/// A software signing key loaded from PKCS#8.
pub struct SoftKey {
    label: String,
    kind: PublicKeyKind,
    spki: Vec<u8>,
    inner: Arc<Inner>,
}

impl fmt::Debug for SoftKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftKey")
            .field("label", &self.label)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// Reads the kind of key a PKCS#8 `PrivateKeyInfo` holds, without loading it.
pub fn pkcs8_kind(der: &[u8]) -> Result<PublicKeyKind, String> {
    let info = pkcs8::PrivateKeyInfoRef::from_der(der)
        .map_err(|e| format!("not a PKCS#8 PrivateKeyInfo: {e}"))?;
    let oid = info.algorithm.oid;
    if oid == OID_RSA || oid == OID_RSA_PSS {
        let head = RsaPrivateKeyHead::from_der(info.private_key.as_bytes())
            .map_err(|e| format!("bad RSAPrivateKey: {e}"))?;
        let _ = (
            &head.version,
            &head.public_exponent,
            &head.private_exponent,
            &head.prime1,
            &head.prime2,
            &head.exponent1,
            &head.exponent2,
            &head.coefficient,
        );
        let modulus_bits = bit_len(head.modulus.as_bytes());
        if oid == OID_RSA {
            return Ok(PublicKeyKind::Rsa { modulus_bits });
        }
        // RFC 4055 §3.1: parameters absent (no restriction) or RSASSA-PSS-params.
        let params = match info.algorithm.parameters {
            None => None,
            Some(any) => {
                let der = any
                    .to_der()
                    .map_err(|e| format!("bad PSS parameters: {e}"))?;
                Some(
                    PssParams::from_der(&der)
                        .map_err(|e| format!("bad RSASSA-PSS-params in the key: {e}"))?,
                )
            }
        };
        Ok(PublicKeyKind::RsaPss {
            modulus_bits,
            params,
        })
    } else if oid == OID_EC {
        let curve_oid: ObjectIdentifier = info
            .algorithm
            .parameters
            .ok_or("EC key without curve parameters")?
            .decode_as()
            .map_err(|_| "EC key on explicit curve parameters (only named curves)".to_string())?;
        let curve =
            curve_from_oid(&curve_oid).ok_or_else(|| format!("unsupported curve {curve_oid}"))?;
        Ok(PublicKeyKind::Ec(curve))
    } else if oid == OID_ED25519 {
        Ok(PublicKeyKind::Ed25519)
    } else if oid == ObjectIdentifier::new_unwrap("1.3.101.113") {
        Ok(PublicKeyKind::Ed448)
    } else {
        Err(format!("unsupported key algorithm {oid}"))
    }
}

/// The same `RSAPrivateKey` wrapped as an rsaEncryption PKCS#8 (version 0, NULL parameters,
/// no attributes), the only RSA form ring reads, and the id-RSASSA-PSS parameters of the file.
/// The buffer is zeroized when dropped.
fn rewrap_rsa_pss(der: &[u8]) -> Result<(Zeroizing<Vec<u8>>, Option<der::Any>), String> {
    let info = pkcs8::PrivateKeyInfoRef::from_der(der)
        .map_err(|e| format!("not a PKCS#8 PrivateKeyInfo: {e}"))?;
    let inner = pkcs8::PrivateKeyInfoRef::new(
        spki::AlgorithmIdentifier {
            oid: OID_RSA,
            parameters: Some(der::asn1::AnyRef::NULL),
        },
        info.private_key,
    );
    let len = inner
        .encoded_len()
        .and_then(usize::try_from)
        .map_err(|e| format!("cannot re-encode the RSA key: {e}"))?;
    // Sized up front so that no copy of the key is left behind by a growing Vec.
    let mut out = Zeroizing::new(vec![0u8; len]);
    let written = inner
        .encode_to_slice(&mut out)
        .map_err(|e| format!("cannot re-encode the RSA key: {e}"))?
        .len();
    out.truncate(written);
    Ok((out, info.algorithm.parameters.map(der::Any::from)))
}

impl SoftKey {
    /// Loads a PKCS#8 DER private key, checking it against the policy first.
    pub fn from_pkcs8_der(
        der: &[u8],
        label: &str,
        policy: &Policy,
        at: UnixTime,
    ) -> Result<Self, Error> {
        let bad = |reason: String| Error::BadKeyFile {
            path: label.to_owned(),
            reason,
        };
        let kind = pkcs8_kind(der).map_err(bad)?;
        check_key_create(policy, &kind, at).map_err(Error::PolicyRefused)?;
        let rejected = |e: ring::error::KeyRejected| bad(format!("key rejected: {e}"));
        let (inner, spki) = match kind {
            PublicKeyKind::Rsa { .. } => {
                let k = rsig::RsaKeyPair::from_pkcs8(der).map_err(rejected)?;
                let spki = rsa_spki(k.public().as_ref())?;
                (Inner::Rsa(k), spki)
            }
            PublicKeyKind::RsaPss { .. } => {
                let (rewrapped, params) = rewrap_rsa_pss(der).map_err(bad)?;
                let k = rsig::RsaKeyPair::from_pkcs8(&rewrapped).map_err(rejected)?;
                // The key file's own parameters, byte for byte.
                let spki = spki_der(OID_RSA_PSS, params, k.public().as_ref())?;
                (Inner::Rsa(k), spki)
            }
            PublicKeyKind::Ec(Curve::P256) => {
                let k = rsig::EcdsaKeyPair::from_pkcs8(
                    &rsig::ECDSA_P256_SHA256_ASN1_SIGNING,
                    der,
                    &SystemRandom::new(),
                )
                .map_err(rejected)?;
                let spki = ec_spki(Curve::P256, k.public_key().as_ref())?;
                (Inner::P256(k), spki)
            }
            PublicKeyKind::Ec(Curve::P384) => {
                use pkcs8::DecodePrivateKey;
                let sk = p384::SecretKey::from_pkcs8_der(der)
                    .map_err(|e| bad(format!("bad P-384 key: {e}")))?;
                let point = sk.public_key().to_sec1_bytes();
                (Inner::P384(sk.into()), ec_spki(Curve::P384, &point)?)
            }
            PublicKeyKind::Ec(Curve::P521) => {
                use pkcs8::DecodePrivateKey;
                let sk = p521::SecretKey::from_pkcs8_der(der)
                    .map_err(|e| bad(format!("bad P-521 key: {e}")))?;
                let point = sk.public_key().to_sec1_bytes();
                (Inner::P521(sk.into()), ec_spki(Curve::P521, &point)?)
            }
            PublicKeyKind::Ed25519 => {
                let k = rsig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(rejected)?;
                let spki = spki_der(OID_ED25519, None, k.public_key().as_ref())?;
                (Inner::Ed25519(k), spki)
            }
            other => {
                return Err(Error::UnsupportedKey(format!(
                    "{other:?} keys cannot sign in software"
                )));
            }
        };
        Ok(Self {
            label: label.to_owned(),
            kind,
            spki,
            inner: Arc::new(inner),
        })
    }

    /// Loads a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) from memory.
    pub fn from_pkcs8_pem(
        pem: &[u8],
        label: &str,
        policy: &Policy,
        at: UnixTime,
    ) -> Result<Self, Error> {
        let bad = |reason: String| Error::BadKeyFile {
            path: label.to_owned(),
            reason,
        };
        let (tag, der) = der::pem::decode_vec(pem).map_err(|e| bad(format!("not PEM: {e}")))?;
        let der = Zeroizing::new(der);
        match tag {
            "PRIVATE KEY" => Self::from_pkcs8_der(&der, label, policy, at),
            "ENCRYPTED PRIVATE KEY" => Err(bad(
                "encrypted PKCS#8 is not supported; keep the key on a token instead".into(),
            )),
            "RSA PRIVATE KEY" | "EC PRIVATE KEY" => Err(bad(format!(
                "{tag} is not PKCS#8; convert it with `openssl pkcs8 -topk8 -nocrypt`"
            ))),
            other => Err(bad(format!(
                "PEM label {other:?} is not PRIVATE KEY (PKCS#8)"
            ))),
        }
    }

    /// Loads a PKCS#8 PEM file.
    pub fn from_file(path: &Path, policy: &Policy, at: UnixTime) -> Result<Self, Error> {
        use std::io::Read;
        let label = path.display().to_string();
        let bad = |reason: String| Error::BadKeyFile {
            path: label.clone(),
            reason,
        };
        let f = std::fs::File::open(path).map_err(|e| bad(format!("cannot open: {e}")))?;
        let mut buf = Zeroizing::new(Vec::new());
        f.take(MAX_KEY_FILE + 1)
            .read_to_end(&mut buf)
            .map_err(|e| bad(format!("cannot read: {e}")))?;
        if buf.len() as u64 > MAX_KEY_FILE {
            return Err(bad(format!("larger than {MAX_KEY_FILE} bytes: not a key")));
        }
        Self::from_pkcs8_pem(&buf, &label, policy, at)
    }
}

impl SigningKey for SoftKey {
    fn public_key_der(&self) -> &[u8] {
        &self.spki
    }
    fn kind(&self) -> PublicKeyKind {
        self.kind
    }
    fn label(&self) -> &str {
        &self.label
    }
    fn choose(&self, allowed: &[SignatureAlgorithm]) -> Option<Arc<dyn Signer>> {
        let alg = allowed.iter().find(|a| supports(&self.kind, a))?;
        Some(Arc::new(SoftSigner {
            inner: Arc::clone(&self.inner),
            alg: *alg,
            rng: SystemRandom::new(),
        }))
    }
}

/// A software key bound to one algorithm.
struct SoftSigner {
    inner: Arc<Inner>,
    alg: SignatureAlgorithm,
    rng: SystemRandom,
}

impl fmt::Debug for SoftSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftSigner")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

fn sw(e: impl fmt::Display) -> Error {
    Error::Software(e.to_string())
}

impl Signer for SoftSigner {
    fn algorithm(&self) -> SignatureAlgorithm {
        self.alg
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        use DigestAlgorithm::{Sha256, Sha384, Sha512};
        match (&*self.inner, self.alg) {
            (Inner::Rsa(k), alg) => {
                let pad: &'static dyn rsig::RsaEncoding = match alg {
                    SignatureAlgorithm::RsaPkcs1(Sha256) => &rsig::RSA_PKCS1_SHA256,
                    SignatureAlgorithm::RsaPkcs1(Sha384) => &rsig::RSA_PKCS1_SHA384,
                    SignatureAlgorithm::RsaPkcs1(Sha512) => &rsig::RSA_PKCS1_SHA512,
                    SignatureAlgorithm::RsaPss(p) if p.hash == Sha256 => &rsig::RSA_PSS_SHA256,
                    SignatureAlgorithm::RsaPss(p) if p.hash == Sha384 => &rsig::RSA_PSS_SHA384,
                    SignatureAlgorithm::RsaPss(p) if p.hash == Sha512 => &rsig::RSA_PSS_SHA512,
                    other => return Err(Error::AlgorithmMismatch(format!("{other:?} on RSA"))),
                };
                let mut sig = vec![0; k.public().modulus_len()];
                k.sign(pad, &self.rng, message, &mut sig).map_err(sw)?;
                Ok(sig)
            }
            (Inner::P256(k), _) => Ok(k.sign(&self.rng, message).map_err(sw)?.as_ref().to_vec()),
            (Inner::P384(k), SignatureAlgorithm::Ecdsa(d)) => {
                let h = digest::digest(d, message)?;
                let sig: p384::ecdsa::DerSignature = k.sign_prehash(h.as_ref()).map_err(sw)?;
                Ok(sig.as_bytes().to_vec())
            }
            (Inner::P521(k), SignatureAlgorithm::Ecdsa(d)) => {
                let h = digest::digest(d, message)?;
                let sig: p521::ecdsa::DerSignature = k.sign_prehash(h.as_ref()).map_err(sw)?;
                Ok(sig.as_bytes().to_vec())
            }
            (Inner::Ed25519(k), _) => Ok(k.sign(message).as_ref().to_vec()),
            (_, other) => Err(Error::AlgorithmMismatch(format!("{other:?}"))),
        }
    }
}

/// Loads a key file through the software backend.
pub(crate) fn load(
    path: &Path,
    policy: &Policy,
    at: UnixTime,
) -> Result<Arc<dyn SigningKey>, Error> {
    Ok(Arc::new(SoftKey::from_file(path, policy, at)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn openssl_key(args: &[&str]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("k.pem");
        let st = std::process::Command::new("openssl")
            .arg("genpkey")
            .args(args)
            .arg("-out")
            .arg(&out)
            .status()
            .unwrap();
        assert!(st.success());
        std::fs::read(out).unwrap()
    }

    const AT: UnixTime = UnixTime::from_secs(1_790_000_000);

    #[test]
    fn refuses_weak_keys() {
        for args in [
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"][..],
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-224"][..],
        ] {
            let pem = openssl_key(args);
            let e = SoftKey::from_pkcs8_pem(&pem, "k.pem", &Policy::cryptrec(), AT).unwrap_err();
            assert!(matches!(e, Error::PolicyRefused(_)), "{e}");
        }
    }

    #[test]
    fn loads_and_signs_each_kind() {
        for (args, kind) in [
            (
                &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"][..],
                PublicKeyKind::Ec(Curve::P256),
            ),
            (
                &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"][..],
                PublicKeyKind::Ec(Curve::P384),
            ),
            (
                &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"][..],
                PublicKeyKind::Ec(Curve::P521),
            ),
            (&["-algorithm", "ED25519"][..], PublicKeyKind::Ed25519),
            (
                &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"][..],
                PublicKeyKind::Rsa { modulus_bits: 2048 },
            ),
        ] {
            let pem = openssl_key(args);
            let k = SoftKey::from_pkcs8_pem(&pem, "k.pem", &Policy::cryptrec(), AT).unwrap();
            assert_eq!(k.kind(), kind);
            for alg in default_algorithms(&kind) {
                let s = k.choose(&[alg]).unwrap();
                assert!(!s.sign(b"hello").unwrap().is_empty());
            }
            assert!(!format!("{k:?}").contains("PRIVATE"));
        }
    }

    #[test]
    fn rsa_pss_key_files_keep_their_restrictions() {
        let restricted = inkan_test_support::genpkey_args("rsapss2048r384");
        let pem = openssl_key(&restricted);
        let k = SoftKey::from_pkcs8_pem(&pem, "k.pem", &Policy::cryptrec(), AT).unwrap();
        let want = PssParams {
            hash: DigestAlgorithm::Sha384,
            mgf1_hash: DigestAlgorithm::Sha384,
            salt_len: 48,
        };
        assert_eq!(
            k.kind(),
            PublicKeyKind::RsaPss {
                modulus_bits: 2048,
                params: Some(want)
            }
        );
        // Only PSS with the restricted hash and salt = hash length is offered.
        let ok = SignatureAlgorithm::RsaPss(PssParams::for_hash(DigestAlgorithm::Sha384));
        assert_eq!(default_algorithms(&k.kind()), [ok]);
        for other in [
            SignatureAlgorithm::RsaPkcs1(DigestAlgorithm::Sha384),
            SignatureAlgorithm::RsaPss(PssParams::for_hash(DigestAlgorithm::Sha256)),
        ] {
            assert!(k.choose(&[other]).is_none(), "{other:?}");
        }
        assert!(!k.choose(&[ok]).unwrap().sign(b"m").unwrap().is_empty());
        // (The CRYPTREC policy refuses key files whose minimum salt differs from the hash
        // length.) A smaller minimum is met by salt = hash length; a larger one by nothing.
        let with_min = |salt_len| PublicKeyKind::RsaPss {
            modulus_bits: 2048,
            params: Some(PssParams { salt_len, ..want }),
        };
        assert!(supports(&with_min(20), &ok));
        assert!(!supports(&with_min(60), &ok));
        assert!(default_algorithms(&with_min(60)).is_empty());
    }
}
