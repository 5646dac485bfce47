//! Signature verification for every algorithm in the catalogue, over the unhashed message.
//!
//! RustCrypto crates do the arithmetic: `rsa` (public-key operations only: RUSTSEC-2023-0071
//! concerns private-key timing, which verification never does), `p256`/`p384`/`p521` through
//! `ecdsa`, `ed25519-dalek`, `dsa`. Ed448 has no verifier on this dependency set and is reported
//! as [`VerifyError::Unsupported`].
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
pub fn verify_signature(
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
        DigestAlgorithm::Sha1 => key.verify(
            rsa::pss::Pss::<sha1::Sha1>::new_with_salt(salt),
            &hashed,
            signature,
        ),
        DigestAlgorithm::Sha224 => key.verify(
            rsa::pss::Pss::<sha2::Sha224>::new_with_salt(salt),
            &hashed,
            signature,
        ),
        DigestAlgorithm::Sha256 => key.verify(
            rsa::pss::Pss::<sha2::Sha256>::new_with_salt(salt),
            &hashed,
            signature,
        ),
        DigestAlgorithm::Sha384 => key.verify(
            rsa::pss::Pss::<sha2::Sha384>::new_with_salt(salt),
            &hashed,
            signature,
        ),
        DigestAlgorithm::Sha512 => key.verify(
            rsa::pss::Pss::<sha2::Sha512>::new_with_salt(salt),
            &hashed,
            signature,
        ),
        DigestAlgorithm::Sha3_256 => key.verify(
            rsa::pss::Pss::<sha3::Sha3_256>::new_with_salt(salt),
            &hashed,
            signature,
        ),
        DigestAlgorithm::Sha3_384 => key.verify(
            rsa::pss::Pss::<sha3::Sha3_384>::new_with_salt(salt),
            &hashed,
            signature,
        ),
        DigestAlgorithm::Sha3_512 => key.verify(
            rsa::pss::Pss::<sha3::Sha3_512>::new_with_salt(salt),
            &hashed,
            signature,
        ),
        DigestAlgorithm::Md5 | DigestAlgorithm::Shake256_512 => {
            return Err(VerifyError::Unsupported("RSASSA-PSS with this hash"));
        }
    };
    r.map_err(|_| VerifyError::InvalidSignature)
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
        openssl(
            d,
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "k.pem",
            ],
        );
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
        openssl(
            d,
            &[
                "genpkey",
                "-algorithm",
                "RSA-PSS",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-pkeyopt",
                "rsa_pss_keygen_md:sha256",
                "-pkeyopt",
                "rsa_pss_keygen_mgf1_md:sha256",
                "-pkeyopt",
                "rsa_pss_keygen_saltlen:32",
                "-out",
                "k.pem",
            ],
        );
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
