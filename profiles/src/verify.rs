//! Signature verification for every algorithm in the catalogue, over the unhashed message.
//!
//! Two engines, one answer:
//!
//! - `ring` first, for the combinations it implements and that dominate real traffic:
//!   RSASSA-PKCS1-v1_5 with SHA-1/256/384/512 and RSASSA-PSS with SHA-256/384/512 (MGF1 with the
//!   same hash, salt length equal to the hash length) on `rsaEncryption` keys of 2048 to 8192
//!   bits, and ECDSA on P-256 and P-384 with SHA-256 or SHA-384 (uncompressed points). ring is
//!   several times faster than the RustCrypto arithmetic here (on P-256 about 4x, on RSA-3072
//!   about 3x; see the verifier's benchmark, which prints both rates in one run).
//! - RustCrypto for everything else: `rsa` (public-key operations only: RUSTSEC-2023-0071
//!   concerns private-key timing, which verification never does), `p256`/`p384`/`p521` through
//!   `ecdsa`, `ed25519-dalek`, `dsa`. Ed448 has no verifier on this dependency set and is
//!   reported as [`VerifyError::Unsupported`].
//!
//! **Only a ring success is final.** ring refuses what it does not implement with the same
//! opaque error as a wrong signature (RSA moduli under 2048 or over 8192 bits, exponents it
//! does not take, non-minimal integer encodings, compressed EC points), so every ring failure
//! is re-checked by RustCrypto, which then gives the precise error. This costs time only for
//! signatures that fail, and means the fast path can never reject what the slow path accepts.
//! A ring success is never weaker than RustCrypto: both check the same equations, the same
//! DER DigestInfo (with NULL parameters) for PKCS#1 v1.5, the same PSS encoding.
//!
//! Ed25519 stays on `ed25519-dalek`: its `verify_strict` rejects small-order keys and `R`
//! values that ring's verification accepts, and the answer must not depend on which engine ran.
//! id-RSASSA-PSS keys also stay on RustCrypto (their parameter restriction is checked first).
//!
//! ## Lenient PKCS#1 v1.5
//!
//! [`verify_signature`] accepts only the DER DigestInfo of RFC 8017 §9.2 (digest
//! AlgorithmIdentifier with NULL parameters). [`verify_signature_lenient`] additionally
//! accepts, for RSASSA-PKCS1-v1_5 only, the DigestInfo whose AlgorithmIdentifier has *absent*
//! parameters: RFC 8017 §9.2 note 1 says implementations should accept both; RFC 4055 §2.1 and
//! RFC 5754 §2 allow absent parameters for SHA-2. Real-world cases that need it: time-stamp
//! tokens and CAdES signatures from Java stacks (older BouncyCastle/JCE providers and some
//! HSM firmware emit the short form), and several of the EU plugtest files among the
//! verifier's real-world vectors. EU DSS (through BouncyCastle) and OpenSSL accept both. The
//! tolerance is one extra, exactly specified encoding; nothing else (no BER, no trailing data)
//! is relaxed. Signers never need it.
//!
//! This module answers "is the signature mathematically valid for this key"; whether the
//! algorithm and key are acceptable at a given time is [`crate::policy`]'s question.

use der::Decode;
use signature::hazmat::PrehashVerifier;
use spki::SubjectPublicKeyInfoRef;

use crate::alg::{AlgError, Curve, DigestAlgorithm, PssParams, PublicKeyKind, SignatureAlgorithm};

/// Why a signature did not verify.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyError {
    /// The public key could not be read (malformed SPKI, explicit curve, unknown algorithm).
    BadKey(AlgError),
    /// The signature algorithm does not fit the key type (e.g. ECDSA with an RSA key).
    KeyAlgorithmMismatch,
    /// An id-RSASSA-PSS key whose parameters forbid this signature (RFC 4055 §3.3 /
    /// RFC 4056 §3), or a PKCS#1 v1.5 signature by such a key.
    KeyRestriction,
    /// The combination is not implemented (Ed448, PSS with a different MGF1 hash, SHAKE).
    Unsupported(&'static str),
    /// The signature bytes are not a well-formed signature for the algorithm.
    MalformedSignature,
    /// The signature does not verify.
    InvalidSignature,
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifyError::BadKey(e) => write!(f, "unusable public key: {e}"),
            VerifyError::KeyAlgorithmMismatch => {
                f.write_str("signature algorithm does not match the key type")
            }
            VerifyError::KeyRestriction => {
                f.write_str("RSASSA-PSS parameters do not satisfy the key's restriction")
            }
            VerifyError::Unsupported(what) => write!(f, "unsupported: {what}"),
            VerifyError::MalformedSignature => f.write_str("malformed signature value"),
            VerifyError::InvalidSignature => f.write_str("signature does not verify"),
        }
    }
}

impl std::error::Error for VerifyError {}

impl From<AlgError> for VerifyError {
    fn from(e: AlgError) -> Self {
        VerifyError::BadKey(e)
    }
}

/// Verify `signature` over `message` (not hashed) with the key in the DER
/// `SubjectPublicKeyInfo` `spki_der`, under `alg`.
///
/// Checks that `alg` fits the key, including the restriction carried by an id-RSASSA-PSS key
/// (same hash, same MGF1 hash, salt at least the key's, RFC 4055 §3.3). ECDSA signatures are
/// DER `Ecdsa-Sig-Value`; hashes longer than the curve order are truncated to its leftmost bits
/// and shorter ones taken as integers (X9.62), so P-256 with SHA-384 and P-521 with SHA-256 both
/// verify. Ed25519 is strict RFC 8032 verification (canonical S, no small-order keys).
/// RSASSA-PKCS1-v1_5 requires the DER DigestInfo with NULL parameters (see
/// [`verify_signature_lenient`] for the other encoding).
pub fn verify_signature(
    spki_der: &[u8],
    alg: &SignatureAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    if ring_verify(spki_der, alg, message, signature) {
        return Ok(());
    }
    verify_rustcrypto(spki_der, alg, message, signature)
}

/// [`verify_signature`], and for RSASSA-PKCS1-v1_5 on an `rsaEncryption` key also the
/// DigestInfo whose digest AlgorithmIdentifier omits the NULL parameters (RFC 8017 §9.2
/// note 1; see the module docs for who emits it). Every other algorithm is exactly as strict.
pub fn verify_signature_lenient(
    spki_der: &[u8],
    alg: &SignatureAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    let strict = verify_signature(spki_der, alg, message, signature);
    match (&strict, alg) {
        (Err(VerifyError::InvalidSignature), SignatureAlgorithm::RsaPkcs1(d)) => {
            let kind = PublicKeyKind::from_spki_der(spki_der)?;
            if !matches!(kind, PublicKeyKind::Rsa { .. }) {
                return strict;
            }
            let spki = SubjectPublicKeyInfoRef::from_der(spki_der).map_err(|_| AlgError::BadKey)?;
            let key_bits = spki.subject_public_key.as_bytes().ok_or(AlgError::BadKey)?;
            let key = rsa_key(key_bits)?;
            let scheme = rsa::Pkcs1v15Sign {
                hash_len: Some(d.output_len()),
                prefix: digest_info_prefix_absent_params(*d)?.into_boxed_slice(),
            };
            key.verify(scheme, &d.digest(message), signature)
                .map_err(|_| VerifyError::InvalidSignature)
        }
        _ => strict,
    }
}

/// The ring fast path (see the module docs): `true` only when ring verified the signature.
fn ring_verify(spki_der: &[u8], alg: &SignatureAlgorithm, message: &[u8], sig: &[u8]) -> bool {
    use DigestAlgorithm::*;
    use ring::signature as rs;
    let Ok(spki) = SubjectPublicKeyInfoRef::from_der(spki_der) else {
        return false;
    };
    let Some(key) = spki.subject_public_key.as_bytes() else {
        return false;
    };
    let a = &spki.algorithm;
    let params: &dyn rs::VerificationAlgorithm = if a.oid == crate::oid::RSA_ENCRYPTION {
        match alg {
            SignatureAlgorithm::RsaPkcs1(Sha256) => &rs::RSA_PKCS1_2048_8192_SHA256,
            SignatureAlgorithm::RsaPkcs1(Sha384) => &rs::RSA_PKCS1_2048_8192_SHA384,
            SignatureAlgorithm::RsaPkcs1(Sha512) => &rs::RSA_PKCS1_2048_8192_SHA512,
            SignatureAlgorithm::RsaPkcs1(Sha1) => &rs::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            SignatureAlgorithm::RsaPss(p)
                if p.hash == p.mgf1_hash && p.salt_len as usize == p.hash.output_len() =>
            {
                match p.hash {
                    Sha256 => &rs::RSA_PSS_2048_8192_SHA256,
                    Sha384 => &rs::RSA_PSS_2048_8192_SHA384,
                    Sha512 => &rs::RSA_PSS_2048_8192_SHA512,
                    _ => return false,
                }
            }
            _ => return false,
        }
    } else if a.oid == crate::oid::EC_PUBLIC_KEY {
        let Some(curve) = a
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<const_oid::ObjectIdentifier>().ok())
        else {
            return false;
        };
        let p256 = curve == crate::oid::SECP256R1;
        let p384 = curve == crate::oid::SECP384R1;
        match alg {
            SignatureAlgorithm::Ecdsa(Sha256) if p256 => &rs::ECDSA_P256_SHA256_ASN1,
            SignatureAlgorithm::Ecdsa(Sha384) if p256 => &rs::ECDSA_P256_SHA384_ASN1,
            SignatureAlgorithm::Ecdsa(Sha256) if p384 => &rs::ECDSA_P384_SHA256_ASN1,
            SignatureAlgorithm::Ecdsa(Sha384) if p384 => &rs::ECDSA_P384_SHA384_ASN1,
            _ => return false,
        }
    } else {
        return false;
    };
    rs::UnparsedPublicKey::new(params, key)
        .verify(message, sig)
        .is_ok()
}

/// The RustCrypto path: every algorithm, precise errors.
fn verify_rustcrypto(
    spki_der: &[u8],
    alg: &SignatureAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    let kind = PublicKeyKind::from_spki_der(spki_der)?;
    let spki = SubjectPublicKeyInfoRef::from_der(spki_der).map_err(|_| AlgError::BadKey)?;
    let key_bits = spki.subject_public_key.as_bytes().ok_or(AlgError::BadKey)?;

    match (alg, kind) {
        (SignatureAlgorithm::RsaPkcs1(d), PublicKeyKind::Rsa { .. }) => {
            let key = rsa_key(key_bits)?;
            let scheme = rsa::Pkcs1v15Sign {
                hash_len: Some(d.output_len()),
                prefix: digest_info_prefix(*d)?.into_boxed_slice(),
            };
            key.verify(scheme, &d.digest(message), signature)
                .map_err(|_| VerifyError::InvalidSignature)
        }
        (SignatureAlgorithm::RsaPkcs1(_), PublicKeyKind::RsaPss { .. }) => {
            Err(VerifyError::KeyRestriction)
        }
        (SignatureAlgorithm::RsaPss(p), PublicKeyKind::Rsa { .. }) => {
            verify_pss(key_bits, p, message, signature)
        }
        (SignatureAlgorithm::RsaPss(p), PublicKeyKind::RsaPss { params, .. }) => {
            if let Some(kp) = params
                && (p.hash != kp.hash || p.mgf1_hash != kp.mgf1_hash || p.salt_len < kp.salt_len)
            {
                return Err(VerifyError::KeyRestriction);
            }
            verify_pss(key_bits, p, message, signature)
        }
        (SignatureAlgorithm::Ecdsa(d), PublicKeyKind::Ec(curve)) => {
            verify_ecdsa(curve, key_bits, &d.digest(message), signature)
        }
        (SignatureAlgorithm::Ed25519, PublicKeyKind::Ed25519) => {
            let pk: [u8; 32] = key_bits.try_into().map_err(|_| AlgError::BadKey)?;
            let vk = ed25519_dalek::VerifyingKey::from_bytes(&pk).map_err(|_| AlgError::BadKey)?;
            let sig = ed25519_dalek::Signature::from_slice(signature)
                .map_err(|_| VerifyError::MalformedSignature)?;
            vk.verify_strict(message, &sig)
                .map_err(|_| VerifyError::InvalidSignature)
        }
        (SignatureAlgorithm::Ed448, PublicKeyKind::Ed448) => {
            Err(VerifyError::Unsupported("Ed448 verification"))
        }
        (SignatureAlgorithm::Dsa(d), PublicKeyKind::Dsa { .. }) => {
            let vk = dsa::VerifyingKey::try_from(spki).map_err(|_| AlgError::BadKey)?;
            let sig =
                dsa::Signature::from_der(signature).map_err(|_| VerifyError::MalformedSignature)?;
            vk.verify_prehash(&d.digest(message), &sig)
                .map_err(|_| VerifyError::InvalidSignature)
        }
        _ => Err(VerifyError::KeyAlgorithmMismatch),
    }
}

/// RSAPublicKey (RFC 8017 A.1.1).
#[derive(der::Sequence)]
struct RsaPublicKeyRef<'a> {
    modulus: der::asn1::UintRef<'a>,
    public_exponent: der::asn1::UintRef<'a>,
}

fn rsa_key(key_bits: &[u8]) -> Result<rsa::PublicKey, VerifyError> {
    let k = RsaPublicKeyRef::from_der(key_bits).map_err(|_| AlgError::BadKey)?;
    let n = rsa::BoxedUint::from_be_slice_vartime(k.modulus.as_bytes());
    let e = rsa::BoxedUint::from_be_slice_vartime(k.public_exponent.as_bytes());
    // Sizes were bounded by PublicKeyKind::from_spki (at most 16384 bits). Small keys are
    // verified too; refusing them is the policy's job.
    rsa::PublicKey::new_with_size_limits(n, e, 512..=crate::alg::MAX_MODULUS_BITS as usize)
        .map_err(|_| VerifyError::BadKey(AlgError::BadKey))
}

/// The DER DigestInfo prefix (RFC 8017 §9.2 step 2): `SEQUENCE { AlgorithmIdentifier { oid,
/// NULL }, OCTET STRING (len) }` without the hash bytes.
fn digest_info_prefix(d: DigestAlgorithm) -> Result<Vec<u8>, VerifyError> {
    if d == DigestAlgorithm::Shake256_512 {
        return Err(VerifyError::Unsupported("SHAKE256 with RSA"));
    }
    let oid = d.oid();
    let oid_bytes = oid.as_bytes();
    let n = d.output_len();
    // Lengths are all below 128 here (OIDs of at most 11 bytes, hashes of at most 64).
    let alg_content = 2 + oid_bytes.len() + 2;
    let content = 2 + alg_content + 2 + n;
    let byte = |x: usize| u8::try_from(x).map_err(|_| VerifyError::Unsupported("digest"));
    let mut v = Vec::with_capacity(2 + content - n);
    v.extend_from_slice(&[0x30, byte(content)?, 0x30, byte(alg_content)?]);
    v.extend_from_slice(&[0x06, byte(oid_bytes.len())?]);
    v.extend_from_slice(oid_bytes);
    v.extend_from_slice(&[0x05, 0x00, 0x04, byte(n)?]);
    Ok(v)
}

/// The DigestInfo prefix with the digest AlgorithmIdentifier's parameters absent (the
/// encoding [`verify_signature_lenient`] also accepts).
fn digest_info_prefix_absent_params(d: DigestAlgorithm) -> Result<Vec<u8>, VerifyError> {
    let mut v = digest_info_prefix(d)?;
    // Remove the NULL (05 00) before the OCTET STRING header, and shorten both SEQUENCEs.
    let n = v.len();
    v.drain(n - 4..n - 2);
    v[1] -= 2;
    v[3] -= 2;
    Ok(v)
}

fn verify_pss(
    key_bits: &[u8],
    p: &PssParams,
    message: &[u8],
    signature: &[u8],
) -> Result<(), VerifyError> {
    if p.hash != p.mgf1_hash {
        return Err(VerifyError::Unsupported(
            "RSASSA-PSS with an MGF1 hash other than the message hash",
        ));
    }
    let key = rsa_key(key_bits)?;
    let salt = usize::try_from(p.salt_len).map_err(|_| VerifyError::MalformedSignature)?;
    let hashed = p.hash.digest(message);
    let r = match p.hash {
        DigestAlgorithm::Sha1 => pss_verify::<sha1::Sha1>(&key, salt, &hashed, signature),
        DigestAlgorithm::Sha224 => pss_verify::<sha2::Sha224>(&key, salt, &hashed, signature),
        DigestAlgorithm::Sha256 => pss_verify::<sha2::Sha256>(&key, salt, &hashed, signature),
        DigestAlgorithm::Sha384 => pss_verify::<sha2::Sha384>(&key, salt, &hashed, signature),
        DigestAlgorithm::Sha512 => pss_verify::<sha2::Sha512>(&key, salt, &hashed, signature),
        DigestAlgorithm::Sha3_256 => pss_verify::<sha3::Sha3_256>(&key, salt, &hashed, signature),
        DigestAlgorithm::Sha3_384 => pss_verify::<sha3::Sha3_384>(&key, salt, &hashed, signature),
        DigestAlgorithm::Sha3_512 => pss_verify::<sha3::Sha3_512>(&key, salt, &hashed, signature),
        DigestAlgorithm::Md5 | DigestAlgorithm::Shake256_512 => {
            return Err(VerifyError::Unsupported("RSASSA-PSS with this hash"));
        }
    };
    r.map_err(|_| VerifyError::InvalidSignature)
}

/// RSASSA-PSS verification (RFC 8017 §8.1.2) of an already hashed message with hash `D`
/// (also the MGF1 hash) and the given salt length.
fn pss_verify<D>(key: &rsa::PublicKey, salt: usize, hashed: &[u8], sig: &[u8]) -> rsa::Result<()>
where
    D: sha2::Digest + sha2::digest::FixedOutputReset,
{
    key.verify(rsa::pss::Pss::<D>::new_with_salt(salt), hashed, sig)
}

/// The hash as the curve's field-sized integer input (X9.62 / SEC 1 §4.1.4 step 5): leftmost
/// bits when longer, left-padded with zeros when shorter (the same integer). For the curves
/// here a hash longer than the field is only possible on byte-aligned fields (P-256, P-384).
fn field_sized(hash: &[u8], field_bytes: usize) -> Vec<u8> {
    if hash.len() >= field_bytes {
        hash[..field_bytes].to_vec()
    } else {
        let mut v = vec![0u8; field_bytes - hash.len()];
        v.extend_from_slice(hash);
        v
    }
}

fn verify_ecdsa(curve: Curve, point: &[u8], hash: &[u8], sig: &[u8]) -> Result<(), VerifyError> {
    let z = field_sized(hash, curve.field_bytes());
    macro_rules! ecdsa_verify {
        ($c:ident) => {{
            let vk = $c::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .map_err(|_| VerifyError::BadKey(AlgError::BadKey))?;
            let s =
                $c::ecdsa::Signature::from_der(sig).map_err(|_| VerifyError::MalformedSignature)?;
            vk.verify_prehash(&z, &s)
                .map_err(|_| VerifyError::InvalidSignature)
        }};
    }
    match curve {
        Curve::P256 => ecdsa_verify!(p256),
        Curve::P384 => ecdsa_verify!(p384),
        Curve::P521 => ecdsa_verify!(p521),
        Curve::P224 => Err(VerifyError::Unsupported("ECDSA on P-224")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asn1::ocsp::tests::{ocsp_fixture, openssl};
    use DigestAlgorithm as D;
    use der::Encode;
    use std::path::{Path, PathBuf};

    struct Dir(PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            std::fs::remove_dir_all(&self.0).ok();
        }
    }

    fn tmp(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("inkan-verify-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("msg"), b"inkan: the message to be signed").unwrap();
        Dir(d)
    }

    /// Makes the key `k.pem` of the test key type `kind` in `dir`.
    fn genpkey(dir: &Path, kind: &str) {
        let mut args = vec!["genpkey"];
        args.extend(inkan_test_support::genpkey_args(kind));
        args.extend(["-out", "k.pem"]);
        openssl(dir, &args);
    }

    fn spki(dir: &Path, key: &str) -> Vec<u8> {
        openssl(dir, &["pkey", "-in", key, "-pubout", "-outform", "DER"])
    }

    fn dgst_sign(dir: &Path, key: &str, md: &str, extra: &[&str]) -> Vec<u8> {
        let mut a = vec!["dgst", md, "-sign", key];
        a.extend_from_slice(extra);
        a.extend(["-out", "sig", "msg"]);
        openssl(dir, &a);
        std::fs::read(dir.join("sig")).unwrap()
    }

    const MSG: &[u8] = b"inkan: the message to be signed";

    fn check(spki: &[u8], alg: &SignatureAlgorithm, sig: &[u8]) {
        assert_eq!(verify_signature(spki, alg, MSG, sig), Ok(()), "{alg}");
        assert_eq!(
            verify_signature(spki, alg, b"inkan: the message to be signed!", sig),
            Err(VerifyError::InvalidSignature),
            "{alg} tampered message"
        );
        let mut bad = sig.to_vec();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(
            verify_signature(spki, alg, MSG, &bad).is_err(),
            "{alg} tampered signature"
        );
    }

    #[test]
    fn rsa_pkcs1_and_pss() {
        let t = tmp("rsa");
        let d = t.0.as_path();
        genpkey(d, "rsa2048");
        let pk = spki(d, "k.pem");
        for (md, h) in [
            ("-sha256", D::Sha256),
            ("-sha384", D::Sha384),
            ("-sha512", D::Sha512),
            ("-sha3-256", D::Sha3_256),
            ("-sha3-512", D::Sha3_512),
            ("-sha1", D::Sha1),
        ] {
            let sig = dgst_sign(d, "k.pem", md, &[]);
            check(&pk, &SignatureAlgorithm::RsaPkcs1(h), &sig);
            // Wrong hash in the algorithm: fails.
            let other = if h == D::Sha256 { D::Sha384 } else { D::Sha256 };
            assert_eq!(
                verify_signature(&pk, &SignatureAlgorithm::RsaPkcs1(other), MSG, &sig),
                Err(VerifyError::InvalidSignature)
            );
        }
        for (md, h, salt) in [
            ("-sha256", D::Sha256, "32"),
            ("-sha384", D::Sha384, "48"),
            ("-sha512", D::Sha512, "20"),
            ("-sha256", D::Sha256, "0"),
        ] {
            let sig = dgst_sign(
                d,
                "k.pem",
                md,
                &[
                    "-sigopt",
                    "rsa_padding_mode:pss",
                    "-sigopt",
                    &format!("rsa_pss_saltlen:{salt}"),
                ],
            );
            let p = PssParams {
                hash: h,
                mgf1_hash: h,
                salt_len: salt.parse().unwrap(),
            };
            check(&pk, &SignatureAlgorithm::RsaPss(p), &sig);
            // A different salt length does not verify.
            let wrong = PssParams {
                salt_len: p.salt_len + 1,
                ..p
            };
            assert!(verify_signature(&pk, &SignatureAlgorithm::RsaPss(wrong), MSG, &sig).is_err());
        }
        // ECDSA algorithm with an RSA key.
        assert_eq!(
            verify_signature(&pk, &SignatureAlgorithm::Ecdsa(D::Sha256), MSG, &[0x30, 0]),
            Err(VerifyError::KeyAlgorithmMismatch)
        );
    }

    #[test]
    fn rsa_pss_key_restrictions() {
        let t = tmp("pss");
        let d = t.0.as_path();
        genpkey(d, "rsapss2048r");
        let pk = spki(d, "k.pem");
        let sig = dgst_sign(d, "k.pem", "-sha256", &["-sigopt", "rsa_pss_saltlen:32"]);
        let good = PssParams::for_hash(D::Sha256);
        check(&pk, &SignatureAlgorithm::RsaPss(good), &sig);
        // Salt shorter than the key's minimum, another hash, PKCS#1: refused before any math.
        let short = PssParams {
            salt_len: 20,
            ..good
        };
        assert_eq!(
            verify_signature(&pk, &SignatureAlgorithm::RsaPss(short), MSG, &sig),
            Err(VerifyError::KeyRestriction)
        );
        assert_eq!(
            verify_signature(
                &pk,
                &SignatureAlgorithm::RsaPss(PssParams::for_hash(D::Sha384)),
                MSG,
                &sig
            ),
            Err(VerifyError::KeyRestriction)
        );
        assert_eq!(
            verify_signature(&pk, &SignatureAlgorithm::RsaPkcs1(D::Sha256), MSG, &sig),
            Err(VerifyError::KeyRestriction)
        );
    }

    #[test]
    fn ecdsa_all_curves_and_truncation() {
        let t = tmp("ec");
        let d = t.0.as_path();
        for curve in ["P-256", "P-384", "P-521"] {
            openssl(
                d,
                &[
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    &format!("ec_paramgen_curve:{curve}"),
                    "-out",
                    "k.pem",
                ],
            );
            let pk = spki(d, "k.pem");
            // Every hash with every curve: matching, longer (truncated), shorter (padded).
            for (md, h) in [
                ("-sha256", D::Sha256),
                ("-sha384", D::Sha384),
                ("-sha512", D::Sha512),
                ("-sha3-256", D::Sha3_256),
                ("-sha1", D::Sha1),
            ] {
                let sig = dgst_sign(d, "k.pem", md, &[]);
                check(&pk, &SignatureAlgorithm::Ecdsa(h), &sig);
            }
        }
        // Raw r||s instead of DER: malformed.
        assert_eq!(
            verify_signature(
                &spki(d, "k.pem"),
                &SignatureAlgorithm::Ecdsa(D::Sha512),
                MSG,
                &[1; 132]
            ),
            Err(VerifyError::MalformedSignature)
        );
    }

    #[test]
    fn ed25519() {
        let t = tmp("ed");
        let d = t.0.as_path();
        openssl(d, &["genpkey", "-algorithm", "ED25519", "-out", "k.pem"]);
        let pk = spki(d, "k.pem");
        openssl(
            d,
            &[
                "pkeyutl", "-sign", "-inkey", "k.pem", "-rawin", "-in", "msg", "-out", "sig",
            ],
        );
        let sig = std::fs::read(d.join("sig")).unwrap();
        check(&pk, &SignatureAlgorithm::Ed25519, &sig);
        assert_eq!(
            verify_signature(&pk, &SignatureAlgorithm::Ed25519, MSG, &sig[..63]),
            Err(VerifyError::MalformedSignature)
        );
        openssl(d, &["genpkey", "-algorithm", "ED448", "-out", "k448.pem"]);
        let pk448 = spki(d, "k448.pem");
        assert!(matches!(
            verify_signature(&pk448, &SignatureAlgorithm::Ed448, MSG, &[0; 114]),
            Err(VerifyError::Unsupported(_))
        ));
    }

    #[test]
    fn dsa() {
        let t = tmp("dsa");
        let d = t.0.as_path();
        openssl(
            d,
            &[
                "genpkey",
                "-genparam",
                "-algorithm",
                "DSA",
                "-pkeyopt",
                "dsa_paramgen_bits:2048",
                "-pkeyopt",
                "dsa_paramgen_q_bits:256",
                "-out",
                "p.pem",
            ],
        );
        openssl(d, &["genpkey", "-paramfile", "p.pem", "-out", "k.pem"]);
        let pk = spki(d, "k.pem");
        let sig = dgst_sign(d, "k.pem", "-sha256", &[]);
        check(&pk, &SignatureAlgorithm::Dsa(D::Sha256), &sig);
    }

    #[test]
    fn ocsp_response_signature_from_openssl() {
        use crate::asn1::ocsp::OcspResponse;
        let f = ocsp_fixture("verify");
        let basic = OcspResponse::parse(&f.resp).unwrap().basic().unwrap();
        let ca = <x509_cert::Certificate as Decode>::from_der(&f.ca_der).unwrap();
        let ca_spki = ca
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .unwrap();
        let alg =
            SignatureAlgorithm::from_algorithm_identifier(&basic.signature_algorithm).unwrap();
        assert_eq!(alg, SignatureAlgorithm::Ecdsa(D::Sha256));
        let sig = basic.signature.as_bytes().unwrap();
        assert_eq!(
            verify_signature(&ca_spki, &alg, &basic.tbs_response_data_der, sig),
            Ok(())
        );
        // A re-encoding of the decoded data is the same here (DER in, DER out).
        assert_eq!(
            basic.tbs_response_data.to_der().unwrap(),
            basic.tbs_response_data_der
        );
    }

    #[test]
    fn garbage_keys() {
        for k in [&b""[..], &[0x30, 0x00], &[0x30, 0x03, 0x02, 0x01, 0x00]] {
            assert!(matches!(
                verify_signature(k, &SignatureAlgorithm::Ed25519, MSG, &[0; 64]),
                Err(VerifyError::BadKey(_))
            ));
        }
    }

    #[test]
    fn lenient_pkcs1_digest_info_without_null() {
        let t = tmp("lenient");
        let d = t.0.as_path();
        genpkey(d, "rsa2048");
        let pk = spki(d, "k.pem");
        // OpenSSL signs raw input of at most 64 bytes: SHA-1 and SHA-256 DigestInfos fit.
        for h in [D::Sha256, D::Sha1] {
            // DigestInfo with the parameters absent, signed raw (PKCS#1 type 1 padding only).
            let mut di = digest_info_prefix_absent_params(h).unwrap();
            di.extend_from_slice(&h.digest(MSG));
            std::fs::write(d.join("di"), &di).unwrap();
            openssl(
                d,
                &[
                    "pkeyutl",
                    "-sign",
                    "-inkey",
                    "k.pem",
                    "-pkeyopt",
                    "rsa_padding_mode:pkcs1",
                    "-in",
                    "di",
                    "-out",
                    "sig",
                ],
            );
            let sig = std::fs::read(d.join("sig")).unwrap();
            let alg = SignatureAlgorithm::RsaPkcs1(h);
            assert_eq!(
                verify_signature(&pk, &alg, MSG, &sig),
                Err(VerifyError::InvalidSignature),
                "strict refuses {h:?}"
            );
            assert_eq!(verify_signature_lenient(&pk, &alg, MSG, &sig), Ok(()));
            assert_eq!(
                verify_signature_lenient(&pk, &alg, b"other", &sig),
                Err(VerifyError::InvalidSignature)
            );
            // The normal encoding stays accepted by both.
            let good = dgst_sign(
                d,
                "k.pem",
                &format!("-{}", h.to_string().to_lowercase().replace('-', "")),
                &[],
            );
            assert_eq!(verify_signature(&pk, &alg, MSG, &good), Ok(()));
            assert_eq!(verify_signature_lenient(&pk, &alg, MSG, &good), Ok(()));
        }
    }

    #[test]
    fn ring_and_rustcrypto_agree() {
        let t = tmp("agree");
        let d = t.0.as_path();
        let mut cases = Vec::new();
        openssl(
            d,
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:3072",
                "-out",
                "r.pem",
            ],
        );
        cases.push((
            spki(d, "r.pem"),
            SignatureAlgorithm::RsaPkcs1(D::Sha256),
            dgst_sign(d, "r.pem", "-sha256", &[]),
        ));
        cases.push((
            spki(d, "r.pem"),
            SignatureAlgorithm::RsaPss(PssParams::for_hash(D::Sha384)),
            dgst_sign(
                d,
                "r.pem",
                "-sha384",
                &[
                    "-sigopt",
                    "rsa_padding_mode:pss",
                    "-sigopt",
                    "rsa_pss_saltlen:48",
                ],
            ),
        ));
        for c in ["P-256", "P-384"] {
            openssl(
                d,
                &[
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    &format!("ec_paramgen_curve:{c}"),
                    "-out",
                    "e.pem",
                ],
            );
            for (md, h) in [("-sha256", D::Sha256), ("-sha384", D::Sha384)] {
                cases.push((
                    spki(d, "e.pem"),
                    SignatureAlgorithm::Ecdsa(h),
                    dgst_sign(d, "e.pem", md, &[]),
                ));
            }
        }
        for (pk, alg, sig) in &cases {
            assert!(ring_verify(pk, alg, MSG, sig), "ring takes {alg}");
            assert_eq!(verify_rustcrypto(pk, alg, MSG, sig), Ok(()), "{alg}");
            assert!(!ring_verify(pk, alg, b"x", sig));
            assert_eq!(
                verify_signature(pk, alg, b"x", sig),
                Err(VerifyError::InvalidSignature)
            );
        }
    }

    #[test]
    fn digest_info_prefixes() {
        // RFC 8017 §9.2 note 1: the SHA-256 prefix.
        assert_eq!(
            digest_info_prefix(D::Sha256).unwrap(),
            [
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20
            ]
        );
    }
}
