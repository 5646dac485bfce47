//! Algorithm identification and signature verification over raw encodings.
//!
//! Everything algorithmic comes from `inkan-profiles`: the catalogue enums
//! ([`DigestAlgorithm`], [`SignatureAlgorithm`], [`PublicKeyKind`]), their OID mappings
//! (`from_oid`, `from_algorithm_identifier`, `from_signer_info`, `from_spki_der`), digests
//! (`DigestAlgorithm::digest`/`hasher`) and [`inkan_profiles::verify::verify_signature`].
//! This module only adapts the tolerant TLV reader to them and adds two things:
//!
//! - a `ring` fast path for the common algorithms (RSA PKCS#1/PSS with SHA-2, ECDSA P-256/P-384,
//!   Ed25519). Only a success is taken from it; anything else goes to profiles, which decides.
//! - one documented tolerance profiles does not have: an RSA PKCS#1 v1.5 `DigestInfo` whose
//!   AlgorithmIdentifier omits the NULL parameters (RFC 8017 §9.2 note 1 says verifiers
//!   should accept it; real-world signers and TSAs emit it; DSS and BouncyCastle accept it).
//!   [`verify_signature`] retries that encoding, and only that one, when profiles says
//!   "invalid" for RSASSA-PKCS1-v1_5.
//!
//! Tolerated when reading AlgorithmIdentifiers: NULL parameters where RFC 5758/8410 want them
//! absent (ECDSA, EdDSA, DSA), which some Java signers write; digest parameters are ignored.

use const_oid::ObjectIdentifier;
use der::{Any, Decode};
use inkan_profiles::alg::{AlgError, DigestAlgorithm, PublicKeyKind, SignatureAlgorithm};
use inkan_profiles::oid;
use spki::AlgorithmIdentifierOwned;

use crate::tlv::{self, Tlv, tag};

/// An AlgorithmIdentifier read raw: the OID and the parameters element, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlgId<'a> {
    /// The OID.
    pub oid: ObjectIdentifier,
    /// The parameters, absent or present (NULL included).
    pub params: Option<Tlv<'a>>,
}

impl<'a> AlgId<'a> {
    /// Reads an AlgorithmIdentifier SEQUENCE.
    pub fn parse(t: &Tlv<'a>) -> tlv::Result<Self> {
        let mut r = t.children();
        let oid = oid_of(r.expect(tag::OID)?.value)?;
        let params = if r.is_empty() {
            None
        } else {
            Some(r.next_tlv()?)
        };
        Ok(Self { oid, params })
    }

    /// The owned `spki` form profiles reads (parameters re-tagged from the raw element).
    fn owned(&self, drop_null: bool) -> Result<AlgorithmIdentifierOwned, AlgError> {
        let parameters = match &self.params {
            None => None,
            Some(p) if drop_null && p.tag == tag::NULL => None,
            Some(p) => Some(Any::from_der(p.raw).map_err(|_| AlgError::BadParameters(self.oid))?),
        };
        Ok(AlgorithmIdentifierOwned {
            oid: self.oid,
            parameters,
        })
    }
}

/// Reads OID content octets.
pub fn oid_of(content: &[u8]) -> tlv::Result<ObjectIdentifier> {
    ObjectIdentifier::from_bytes(content).map_err(|_| tlv::TlvError("unsupported OID"))
}

/// Whether OID content octets `raw` are `o`.
pub fn is(raw: &[u8], o: &ObjectIdentifier) -> bool {
    raw == o.as_bytes()
}

/// A digest AlgorithmIdentifier (parameters ignored, as DSS does).
pub fn digest_alg(a: &AlgId<'_>) -> Result<DigestAlgorithm, AlgError> {
    DigestAlgorithm::from_oid(&a.oid)
}

/// Maps a signature AlgorithmIdentifier through profiles. `digest_hint` is the SignerInfo
/// digestAlgorithm (RFC 3370 §3.2 lets a SignerInfo name only the key type).
pub fn signature_alg(
    a: &AlgId<'_>,
    digest_hint: Option<DigestAlgorithm>,
) -> Result<SignatureAlgorithm, AlgError> {
    let map = |ai: &AlgorithmIdentifierOwned| match digest_hint {
        Some(d) => SignatureAlgorithm::from_signer_info(ai, &d.to_algorithm_identifier()),
        None => SignatureAlgorithm::from_algorithm_identifier(ai),
    };
    match map(&a.owned(false)?) {
        Err(AlgError::BadParameters(_))
            if a.params.as_ref().is_some_and(|p| p.tag == tag::NULL) =>
        {
            map(&a.owned(true)?)
        }
        r => r,
    }
}

/// What kind of key a SubjectPublicKeyInfo holds.
pub fn key_kind(spki: &[u8]) -> Option<PublicKeyKind> {
    PublicKeyKind::from_spki_der(spki).ok()
}

/// Why a signature did not verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifyError {
    /// The signature is wrong for this key and message.
    Invalid,
    /// Key and algorithm do not fit together, or the key cannot be read.
    KeyMismatch,
    /// An algorithm the verifier cannot compute.
    Unsupported,
}

/// The key algorithm OID, its parameters and the key bits of a SubjectPublicKeyInfo.
fn parse_spki(spki: &[u8]) -> Option<(AlgId<'_>, &[u8])> {
    let t = tlv::parse_exact(spki).ok()?;
    let mut r = t.children();
    let alg = AlgId::parse(&r.expect(tag::SEQUENCE).ok()?).ok()?;
    let key = r.expect(tag::BIT_STRING).ok()?.bit_string_bytes().ok()?;
    Some((alg, key))
}

/// Most results kept by the per-validation cache.
const CACHE_CAP: usize = 256;

type CacheKey = ([u8; 32], SignatureAlgorithm);

std::thread_local! {
    /// Signature results of the current validation (see [`clear_cache`]): the same
    /// certificate, CRL or OCSP signature is verified once per call, however many paths and
    /// time-stamps meet it. Keyed by SHA-256 over (key, signature, message), all length-prefixed.
    static CACHE: std::cell::RefCell<Vec<(CacheKey, Result<(), VerifyError>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Forgets the cached signature results; [`crate::verify`] calls it at its start, so the cache
/// never outlives one validation.
pub fn clear_cache() {
    CACHE.with(|c| c.borrow_mut().clear());
}

fn cache_key(spki: &[u8], alg: &SignatureAlgorithm, message: &[u8], sig: &[u8]) -> CacheKey {
    let mut h = DigestAlgorithm::Sha256.hasher();
    for part in [spki, sig, message] {
        h.update(&(part.len() as u64).to_be_bytes());
        h.update(part);
    }
    let mut k = [0u8; 32];
    k.copy_from_slice(&h.finalize());
    (k, *alg)
}

/// Verifies `sig` over `message` (unhashed) with the key in `spki`, once per validation.
pub fn verify_signature(
    spki: &[u8],
    alg: &SignatureAlgorithm,
    message: &[u8],
    sig: &[u8],
) -> Result<(), VerifyError> {
    let key = cache_key(spki, alg, message, sig);
    if let Some(r) = CACHE.with(|c| {
        c.borrow()
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, r)| r.clone())
    }) {
        return r;
    }
    let r = verify_uncached(spki, alg, message, sig);
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if c.len() < CACHE_CAP {
            c.push((key, r.clone()));
        }
    });
    r
}

fn verify_uncached(
    spki: &[u8],
    alg: &SignatureAlgorithm,
    message: &[u8],
    sig: &[u8],
) -> Result<(), VerifyError> {
    use inkan_profiles::verify::VerifyError as E;
    let parsed = parse_spki(spki);
    if let Some((a, key)) = &parsed
        && ring_fast_path(a, key, alg, message, sig)
    {
        return Ok(());
    }
    match inkan_profiles::verify::verify_signature(spki, alg, message, sig) {
        Ok(()) => Ok(()),
        Err(E::Unsupported(_)) => Err(VerifyError::Unsupported),
        Err(E::InvalidSignature | E::MalformedSignature) => match (alg, &parsed) {
            (SignatureAlgorithm::RsaPkcs1(d), Some((a, key))) if a.oid == oid::RSA_ENCRYPTION => {
                if pkcs1_without_null(key, *d, message, sig) {
                    Ok(())
                } else {
                    Err(VerifyError::Invalid)
                }
            }
            _ => Err(VerifyError::Invalid),
        },
        Err(_) => Err(VerifyError::KeyMismatch),
    }
}

fn unsigned(b: &[u8]) -> &[u8] {
    let skip = b.iter().take_while(|&&x| x == 0).count();
    &b[skip..]
}

/// RSASSA-PKCS1-v1_5 with `DigestInfo.digestAlgorithm` parameters absent (the one tolerance
/// profiles does not have; see the module docs).
fn pkcs1_without_null(key: &[u8], d: DigestAlgorithm, message: &[u8], sig: &[u8]) -> bool {
    let Some(em) = rsa_open(key, sig) else {
        return false;
    };
    let oid = d.oid();
    let h = d.digest(message);
    let (Ok(ol), Ok(hl)) = (u8::try_from(oid.as_bytes().len()), u8::try_from(h.len())) else {
        return false;
    };
    // SEQUENCE { SEQUENCE { OID }, OCTET STRING h }: every length is below 128 (an OID of at
    // most 39 bytes, a hash of at most 64), so all are short-form.
    let mut t = vec![0x30, 2 + (2 + ol) + 2 + hl, 0x30, 2 + ol, tag::OID, ol];
    t.extend_from_slice(oid.as_bytes());
    t.extend_from_slice(&[tag::OCTET_STRING, hl]);
    t.extend_from_slice(&h);
    if em.len() < t.len() + 11 {
        return false;
    }
    let ps = em.len() - t.len() - 3;
    em[0] == 0
        && em[1] == 1
        && em[2..2 + ps].iter().all(|&b| b == 0xff)
        && em[2 + ps] == 0
        && em[3 + ps..] == t[..]
}

/// The RSA public operation: `sig^e mod n`, left-padded to the modulus length.
fn rsa_open(key: &[u8], sig: &[u8]) -> Option<Vec<u8>> {
    let t = tlv::parse_exact(key).ok()?;
    let mut r = t.children();
    let n = unsigned(r.expect(tag::INTEGER).ok()?.value);
    let e = unsigned(r.expect(tag::INTEGER).ok()?.value);
    let max = inkan_profiles::alg::MAX_MODULUS_BITS as usize;
    if n.len() * 8 > max || n.len() < 64 || e.is_empty() || e.len() > 8 {
        return None;
    }
    let k = n.len();
    let sig = unsigned(sig);
    if sig.len() > k {
        return None;
    }
    let pk = rsa::PublicKey::new_with_size_limits(
        rsa::BoxedUint::from_be_slice_vartime(n),
        rsa::BoxedUint::from_be_slice_vartime(e),
        512..=max,
    )
    .ok()?;
    let prec = (k as u32 * 8).div_ceil(64) * 64;
    let s = rsa::BoxedUint::from_be_slice(sig, prec).ok()?;
    if s >= rsa::BoxedUint::from_be_slice(n, prec).ok()? {
        return None;
    }
    let m = rsa::hazmat::rsa_encrypt(&pk, &s).ok()?;
    let bytes = m.to_be_bytes();
    let bytes = unsigned(&bytes);
    let mut em = vec![0u8; k.saturating_sub(bytes.len())];
    em.extend_from_slice(bytes);
    Some(em)
}

/// The common algorithms through `ring` (several times faster). Only a success is taken from
/// here; any failure falls through to profiles, which decides.
fn ring_fast_path(
    a: &AlgId<'_>,
    key: &[u8],
    alg: &SignatureAlgorithm,
    message: &[u8],
    sig: &[u8],
) -> bool {
    use DigestAlgorithm::*;
    use ring::signature as rs;
    let params: &dyn rs::VerificationAlgorithm = if a.oid == oid::RSA_ENCRYPTION {
        match alg {
            SignatureAlgorithm::RsaPkcs1(Sha256) => &rs::RSA_PKCS1_2048_8192_SHA256,
            SignatureAlgorithm::RsaPkcs1(Sha384) => &rs::RSA_PKCS1_2048_8192_SHA384,
            SignatureAlgorithm::RsaPkcs1(Sha512) => &rs::RSA_PKCS1_2048_8192_SHA512,
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
    } else if a.oid == oid::EC_PUBLIC_KEY {
        let curve = match &a.params {
            Some(p) if p.tag == tag::OID => p.value,
            _ => return false,
        };
        let p256 = is(curve, &oid::SECP256R1);
        let p384 = is(curve, &oid::SECP384R1);
        match alg {
            SignatureAlgorithm::Ecdsa(Sha256) if p256 => &rs::ECDSA_P256_SHA256_ASN1,
            SignatureAlgorithm::Ecdsa(Sha384) if p256 => &rs::ECDSA_P256_SHA384_ASN1,
            SignatureAlgorithm::Ecdsa(Sha256) if p384 => &rs::ECDSA_P384_SHA256_ASN1,
            SignatureAlgorithm::Ecdsa(Sha384) if p384 => &rs::ECDSA_P384_SHA384_ASN1,
            _ => return false,
        }
    } else if a.oid == oid::ED25519 && *alg == SignatureAlgorithm::Ed25519 {
        &rs::ED25519
    } else {
        return false;
    };
    rs::UnparsedPublicKey::new(params, key)
        .verify(message, sig)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_parameters_tolerated_for_ecdsa() {
        // ecdsa-with-SHA256 with NULL parameters.
        let mut c = tlv::encode(tag::OID, oid::ECDSA_WITH_SHA256.as_bytes());
        c.extend_from_slice(&[0x05, 0x00]);
        let raw = tlv::encode(tag::SEQUENCE, &c);
        let t = tlv::parse_exact(&raw).unwrap();
        let a = AlgId::parse(&t).unwrap();
        assert_eq!(
            signature_alg(&a, None),
            Ok(SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256))
        );
    }

    #[test]
    fn rsa_encryption_in_signer_info() {
        let mut c = tlv::encode(tag::OID, oid::RSA_ENCRYPTION.as_bytes());
        c.extend_from_slice(&[0x05, 0x00]);
        let raw = tlv::encode(tag::SEQUENCE, &c);
        let t = tlv::parse_exact(&raw).unwrap();
        let a = AlgId::parse(&t).unwrap();
        assert_eq!(
            signature_alg(&a, Some(DigestAlgorithm::Sha384)),
            Ok(SignatureAlgorithm::RsaPkcs1(DigestAlgorithm::Sha384))
        );
    }
}
