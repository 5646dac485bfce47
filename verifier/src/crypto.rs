//! Algorithm identification and signature verification over raw encodings.
//!
//! Everything algorithmic comes from `inkan-profiles`: the catalogue enums
//! ([`DigestAlgorithm`], [`SignatureAlgorithm`], [`PublicKeyKind`]), their OID mappings
//! (`from_oid`, `from_algorithm_identifier`, `from_signer_info`, `from_spki_der`), digests
//! (`DigestAlgorithm::digest`/`hasher`) and [`inkan_profiles::verify::verify_signature`].
//! This module only adapts the tolerant TLV reader to them and remembers results:
//!
//! - signatures go through [`inkan_profiles::verify::verify_signature_lenient`] (ring fast
//!   path, RustCrypto for the rest, and the RSA PKCS#1 v1.5 `DigestInfo` without NULL
//!   parameters that RFC 8017 §9.2 note 1 says verifiers should accept; real-world signers and
//!   TSAs emit it; DSS and BouncyCastle accept it);
//! - every result is remembered by the [`Call`] it was computed in (one verification; passed
//!   down explicitly with the validation material), so the same certificate, CRL or OCSP
//!   signature is verified once however many paths and time-stamps meet it; and, when the call
//!   belongs to a [`crate::Validator`], results about validation material ([`Scope::Material`]:
//!   certificate, CRL and OCSP signatures) are remembered across calls in its bounded
//!   [`SigCache`]. A cached result is a fact about bytes (this key, this signature, these
//!   signed bytes), true at any time; every judgement about time, revocation and policy is
//!   still made on every call.
//!
//! Tolerated when reading AlgorithmIdentifiers: NULL parameters where RFC 5758/8410 want them
//! absent (ECDSA, EdDSA, DSA), which some Java signers write; digest parameters are ignored.

use const_oid::ObjectIdentifier;
use der::{Any, Decode};
use inkan_profiles::alg::{AlgError, DigestAlgorithm, PublicKeyKind, SignatureAlgorithm};
use spki::AlgorithmIdentifierOwned;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

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
    ObjectIdentifier::from_bytes(content).map_err(|_| tlv::TlvError::new("unsupported OID"))
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

/// Most key classifications remembered (see [`Call::key_kind`]).
const KINDS_CAP: usize = 8;

/// SubjectPublicKeyInfo encodings and what they hold.
type Kinds = Vec<(Box<[u8]>, Option<PublicKeyKind>)>;

/// Looks `spki` up in `kinds`, or classifies it and remembers it (the oldest dropped).
fn kind_in(kinds: &mut Kinds, spki: &[u8]) -> Option<PublicKeyKind> {
    if let Some((_, k)) = kinds.iter().find(|(b, _)| **b == *spki) {
        return *k;
    }
    let k = PublicKeyKind::from_spki_der(spki).ok();
    if kinds.len() >= KINDS_CAP {
        kinds.remove(0);
    }
    kinds.push((spki.into(), k));
    k
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

/// Most results kept by the per-call cache.
const CALL_CACHE_CAP: usize = 256;

/// A cache key: SHA-256 over (key, signature, message), each length-prefixed, and the
/// algorithm.
pub type CacheKey = ([u8; 32], SignatureAlgorithm);

/// What a signature belongs to, which decides how long its result may be remembered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The document's own signatures (signer, time-stamp tokens): remembered for one call.
    Document,
    /// Validation material (certificates, CRLs, OCSP responses), shared by many documents:
    /// remembered across calls by a [`crate::Validator`].
    Material,
}

/// A bounded, approximately least-recently-used map of signature results, in two
/// generations: lookups hit the current generation, or promote from the previous one; when the
/// current one holds half the capacity it becomes the previous one (dropping the older). Every
/// operation is O(1); at most `capacity` entries are held.
#[derive(Debug)]
pub struct SigCache {
    cap: usize,
    current: HashMap<CacheKey, Result<(), VerifyError>>,
    previous: HashMap<CacheKey, Result<(), VerifyError>>,
    hits: u64,
    misses: u64,
    /// Recent key classifications: a warm validator meets the same CA keys on every call.
    kinds: Kinds,
}

impl SigCache {
    /// An empty cache holding at most `capacity` results (at least 2).
    pub fn new(capacity: usize) -> Self {
        Self {
            cap: capacity.max(2),
            current: HashMap::new(),
            previous: HashMap::new(),
            hits: 0,
            misses: 0,
            kinds: Vec::new(),
        }
    }

    /// The remembered result for `k`, if any.
    pub fn get(&mut self, k: &CacheKey) -> Option<Result<(), VerifyError>> {
        if let Some(r) = self.current.get(k) {
            self.hits += 1;
            return Some(r.clone());
        }
        if let Some(r) = self.previous.remove(k) {
            self.hits += 1;
            self.insert(*k, r.clone());
            return Some(r);
        }
        self.misses += 1;
        None
    }

    /// Remembers a result.
    pub fn insert(&mut self, k: CacheKey, r: Result<(), VerifyError>) {
        if self.current.len() >= self.cap / 2 {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(k, r);
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// (hits, misses) since creation.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }
}

/// One call (one verification): the signature results it has computed, the validator's
/// cache when one is in use, and its work budget. It is passed down explicitly with the
/// validation material (`engine::Material::call`); every signature of the call is verified
/// through [`Call::verify_signature`].
#[derive(Debug, Default)]
pub struct Call {
    /// This call's results (both scopes).
    local: Mutex<HashMap<CacheKey, Result<(), VerifyError>>>,
    /// The validator's cache, for [`Scope::Material`] results.
    shared: Option<Arc<Mutex<SigCache>>>,
    /// Key classifications of a cold call (a warm one keeps them in the validator's cache).
    kinds: Mutex<Kinds>,
    /// Signatures computed (not found in a cache).
    computed: AtomicU32,
    /// Bytes given to [`Call::verify_signature`].
    bytes: AtomicU64,
    /// Whether the call ran out of its budget.
    exceeded: AtomicBool,
}

/// Most signatures computed in one call. A real signature needs a few dozen (its own, its
/// time-stamps', the certificates, CRLs and OCSP responses of their paths); past this the
/// input is refused as unbounded work (see [`Call::budget_exceeded`]), so that every input is
/// answered in bounded time. It is above `limits::MAX_CERTIFICATES` (in the crate root) on
/// purpose: unsigned junk within the limits (thousands of certificates named like the issuing
/// CA, placed before it) must not turn a valid signature into a failure, and finding the real
/// issuer among them costs one verification each. At well under a millisecond per P-256 or
/// RSA verification this is a few seconds on one core.
pub const MAX_COMPUTED_PER_CALL: u32 = 6000;

/// Most bytes given to [`Call::verify_signature`] in one call, cached or not (each is hashed
/// for the cache key): a large CRL met by every path of every signer would otherwise be
/// hashed again and again.
pub const MAX_BYTES_PER_CALL: u64 = 1 << 30;

impl Call {
    /// A call that uses `shared` (a validator's cache) for [`Scope::Material`] results, or,
    /// without one, keeps nothing from earlier calls.
    pub fn new(shared: Option<Arc<Mutex<SigCache>>>) -> Self {
        Self {
            shared,
            ..Self::default()
        }
    }

    /// How many signatures this call computed (rather than found in a cache): benchmarks
    /// and tests use it to show nothing is verified twice.
    pub fn computed(&self) -> u32 {
        self.computed.load(Ordering::Relaxed)
    }

    /// Whether the call ran past [`MAX_COMPUTED_PER_CALL`] or [`MAX_BYTES_PER_CALL`]; from
    /// then on every signature verification of the call failed without being computed (and
    /// nothing was remembered), so its result must not be trusted.
    pub fn budget_exceeded(&self) -> bool {
        self.exceeded.load(Ordering::Relaxed)
    }

    /// What kind of key a SubjectPublicKeyInfo holds (remembered: a path's keys are
    /// classified several times per call, and a warm validator meets the same CA keys on
    /// every call; a fact about bytes).
    pub fn key_kind(&self, spki: &[u8]) -> Option<PublicKeyKind> {
        match &self.shared {
            Some(s) => kind_in(&mut lock(s).kinds, spki),
            None => kind_in(
                &mut self.kinds.lock().unwrap_or_else(|e| e.into_inner()),
                spki,
            ),
        }
    }

    /// Verifies `sig` over `message` (unhashed) with the key in `spki`: once per call, and
    /// for [`Scope::Material`] once per validator.
    pub fn verify_signature(
        &self,
        scope: Scope,
        spki: &[u8],
        alg: &SignatureAlgorithm,
        message: &[u8],
        sig: &[u8],
    ) -> Result<(), VerifyError> {
        if self.budget_exceeded() {
            return Err(VerifyError::Invalid);
        }
        let n = (spki.len() + message.len() + sig.len()) as u64;
        let bytes = self.bytes.load(Ordering::Relaxed).saturating_add(n);
        self.bytes.store(bytes, Ordering::Relaxed);
        if bytes > MAX_BYTES_PER_CALL {
            self.exceeded.store(true, Ordering::Relaxed);
            return Err(VerifyError::Invalid);
        }
        let key = cache_key(spki, alg, message, sig);
        if let Some(r) = self.local().get(&key) {
            return r.clone();
        }
        let shared = self.shared.as_ref().filter(|_| scope == Scope::Material);
        if let Some(s) = shared
            && let Some(r) = lock(s).get(&key)
        {
            return r;
        }
        if self.computed() >= MAX_COMPUTED_PER_CALL {
            // Not remembered: this is no fact about the bytes.
            self.exceeded.store(true, Ordering::Relaxed);
            return Err(VerifyError::Invalid);
        }
        self.computed.fetch_add(1, Ordering::Relaxed);
        let r = verify_uncached(spki, alg, message, sig);
        if let Some(s) = shared {
            lock(s).insert(key, r.clone());
        }
        let mut local = self.local();
        if local.len() < CALL_CACHE_CAP {
            local.insert(key, r.clone());
        }
        r
    }

    fn local(&self) -> std::sync::MutexGuard<'_, HashMap<CacheKey, Result<(), VerifyError>>> {
        // A poisoned map still holds only complete entries.
        self.local.lock().unwrap_or_else(|e| e.into_inner())
    }
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

fn lock(m: &Mutex<SigCache>) -> std::sync::MutexGuard<'_, SigCache> {
    // A poisoned cache still holds only complete entries (insert cannot panic halfway).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn verify_uncached(
    spki: &[u8],
    alg: &SignatureAlgorithm,
    message: &[u8],
    sig: &[u8],
) -> Result<(), VerifyError> {
    use inkan_profiles::verify::VerifyError as E;
    match inkan_profiles::verify::verify_signature_lenient(spki, alg, message, sig) {
        Ok(()) => Ok(()),
        Err(E::Unsupported(_)) => Err(VerifyError::Unsupported),
        Err(E::InvalidSignature | E::MalformedSignature) => Err(VerifyError::Invalid),
        Err(_) => Err(VerifyError::KeyMismatch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkan_profiles::oid;

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
    fn the_call_budget_stops_verification_and_remembers_nothing() {
        let cache = Arc::new(Mutex::new(SigCache::new(4096)));
        let call = Call::new(Some(cache.clone()));
        let alg = SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha256);
        // A key that cannot be read: computed (and failing) at once.
        for i in 0..MAX_COMPUTED_PER_CALL {
            assert!(!call.budget_exceeded());
            let r =
                call.verify_signature(Scope::Material, b"no key", &alg, &i.to_be_bytes(), b"sig");
            assert_eq!(r, Err(VerifyError::KeyMismatch));
        }
        let held = lock(&cache).len();
        let r = call.verify_signature(Scope::Material, b"no key", &alg, b"one more", b"sig");
        assert_eq!(r, Err(VerifyError::Invalid));
        assert!(call.budget_exceeded());
        assert_eq!(call.computed(), MAX_COMPUTED_PER_CALL);
        assert_eq!(lock(&cache).len(), held, "a refusal is not remembered");
        // The next call starts afresh.
        let call = Call::new(Some(cache));
        assert!(!call.budget_exceeded());
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
