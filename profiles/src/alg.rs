//! The algorithm catalogue: digests, signature algorithms and public-key kinds as typed enums,
//! mapped to and from their OIDs (RFC 5754, RFC 4055, RFC 5758, RFC 8410, RFC 3279; the list is CRYPTREC LS-0001-2022).
//!
//! CONTRACT (shared by every crate; extend, do not rename): the enums and method signatures below.

use const_oid::ObjectIdentifier;

/// A digest algorithm, known whether or not the policy allows it, so that a refusal can name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DigestAlgorithm {
    /// MD5 (RFC 1321); never passes.
    Md5,
    /// SHA-1; CRYPTREC monitored list; never passes for new use.
    Sha1,
    /// SHA-224; not on the CRYPTREC list.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
    /// SHA3-256 (recommended since LS-0001-2022).
    Sha3_256,
    /// SHA3-384.
    Sha3_384,
    /// SHA3-512.
    Sha3_512,
    /// SHAKE256 with 512 bits of output (`id-shake256-len` with parameter 512): the digest
    /// algorithm CMS uses with Ed448 (RFC 8419 §3.1). Not used for anything else.
    Shake256_512,
}

/// A named elliptic curve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Curve {
    /// secp224r1, 112-bit strength; refused.
    P224,
    /// secp256r1 / prime256v1.
    P256,
    /// secp384r1.
    P384,
    /// secp521r1.
    P521,
}

/// RSASSA-PSS parameters (RFC 4055 section 3.1), with every default made explicit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PssParams {
    /// The message hash.
    pub hash: DigestAlgorithm,
    /// The hash inside MGF1.
    pub mgf1_hash: DigestAlgorithm,
    /// Salt length in bytes.
    pub salt_len: u32,
}

/// What a public key is, as far as the policy cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PublicKeyKind {
    /// rsaEncryption, with the modulus size in bits.
    Rsa {
        /// Modulus length in bits.
        modulus_bits: u32,
    },
    /// id-RSASSA-PSS key, optionally restricted to parameters.
    RsaPss {
        /// Modulus length in bits.
        modulus_bits: u32,
        /// The restriction carried in the SPKI, if any.
        params: Option<PssParams>,
    },
    /// id-ecPublicKey on a named curve.
    Ec(Curve),
    /// Ed25519.
    Ed25519,
    /// Ed448.
    Ed448,
    /// DSA with the sizes of p and q in bits (verify only).
    Dsa {
        /// Size of p.
        p_bits: u32,
        /// Size of q.
        q_bits: u32,
    },
}

/// A signature algorithm as it appears in an `AlgorithmIdentifier`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 with the given hash.
    RsaPkcs1(DigestAlgorithm),
    /// RSASSA-PSS with explicit parameters.
    RsaPss(PssParams),
    /// ECDSA with the given hash.
    Ecdsa(DigestAlgorithm),
    /// PureEdDSA on edwards25519 (RFC 8419).
    Ed25519,
    /// PureEdDSA on edwards448 (RFC 8419).
    Ed448,
    /// DSA with the given hash (verify only).
    Dsa(DigestAlgorithm),
}

/// Why an algorithm identifier or key could not be understood.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AlgError {
    /// The OID is not in the catalogue at all.
    UnknownOid(ObjectIdentifier),
    /// The parameters are not what the algorithm's RFC allows.
    BadParameters(ObjectIdentifier),
    /// The key encoding could not be read.
    BadKey,
    /// An elliptic-curve key on explicit parameters or an unknown curve.
    UnsupportedCurve,
}

// =============================================================================================
// Methods (profiles engineer). Parameter rules: RFC 5754 §2–3, RFC 4055 §2–3, RFC 8410, RFC 8419.

use der::asn1::{AnyRef, Null, ObjectIdentifier as DerOid, UintRef};
use der::{Any, Decode, Encode, Sequence, Tag, Tagged};
use sha2::Digest as _;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::oid;

/// Upper bound on an RSA or DSA modulus we agree to look at, in bits. Larger keys are refused as
/// [`AlgError::BadKey`] so that an attacker cannot make the verifier do enormous arithmetic.
pub const MAX_MODULUS_BITS: u32 = 16_384;

impl DigestAlgorithm {
    /// Every digest in the catalogue.
    pub const ALL: [DigestAlgorithm; 10] = [
        DigestAlgorithm::Md5,
        DigestAlgorithm::Sha1,
        DigestAlgorithm::Sha224,
        DigestAlgorithm::Sha256,
        DigestAlgorithm::Sha384,
        DigestAlgorithm::Sha512,
        DigestAlgorithm::Sha3_256,
        DigestAlgorithm::Sha3_384,
        DigestAlgorithm::Sha3_512,
        DigestAlgorithm::Shake256_512,
    ];

    /// The algorithm's OID.
    pub const fn oid(self) -> ObjectIdentifier {
        match self {
            DigestAlgorithm::Md5 => oid::MD5,
            DigestAlgorithm::Sha1 => oid::SHA1,
            DigestAlgorithm::Sha224 => oid::SHA224,
            DigestAlgorithm::Sha256 => oid::SHA256,
            DigestAlgorithm::Sha384 => oid::SHA384,
            DigestAlgorithm::Sha512 => oid::SHA512,
            DigestAlgorithm::Sha3_256 => oid::SHA3_256,
            DigestAlgorithm::Sha3_384 => oid::SHA3_384,
            DigestAlgorithm::Sha3_512 => oid::SHA3_512,
            DigestAlgorithm::Shake256_512 => oid::SHAKE256_LEN,
        }
    }

    /// The digest named by `oid`, ignoring parameters (see [`Self::from_algorithm_identifier`]
    /// for the parameter rules).
    pub fn from_oid(oid: &ObjectIdentifier) -> Result<Self, AlgError> {
        Self::ALL
            .into_iter()
            .find(|d| d.oid() == *oid)
            .ok_or(AlgError::UnknownOid(*oid))
    }

    /// Output length in bytes.
    pub const fn output_len(self) -> usize {
        match self {
            DigestAlgorithm::Md5 => 16,
            DigestAlgorithm::Sha1 => 20,
            DigestAlgorithm::Sha224 => 28,
            DigestAlgorithm::Sha256 | DigestAlgorithm::Sha3_256 => 32,
            DigestAlgorithm::Sha384 | DigestAlgorithm::Sha3_384 => 48,
            DigestAlgorithm::Sha512 | DigestAlgorithm::Sha3_512 | DigestAlgorithm::Shake256_512 => {
                64
            }
        }
    }

    /// The usual short name ("SHA-256", "SHA3-384", ...).
    pub const fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Md5 => "MD5",
            DigestAlgorithm::Sha1 => "SHA-1",
            DigestAlgorithm::Sha224 => "SHA-224",
            DigestAlgorithm::Sha256 => "SHA-256",
            DigestAlgorithm::Sha384 => "SHA-384",
            DigestAlgorithm::Sha512 => "SHA-512",
            DigestAlgorithm::Sha3_256 => "SHA3-256",
            DigestAlgorithm::Sha3_384 => "SHA3-384",
            DigestAlgorithm::Sha3_512 => "SHA3-512",
            DigestAlgorithm::Shake256_512 => "SHAKE256-512",
        }
    }

    /// The digest of `data`, in one call.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let mut h = self.hasher();
        h.update(data);
        h.finalize()
    }

    /// A streaming hasher: feed it with [`Hasher::update`], read it with [`Hasher::finalize`].
    pub fn hasher(self) -> Hasher {
        let state = match self {
            DigestAlgorithm::Md5 => HasherState::Md5(md5::Md5::new()),
            DigestAlgorithm::Sha1 => HasherState::Sha1(sha1::Sha1::new()),
            DigestAlgorithm::Sha224 => HasherState::Sha224(sha2::Sha224::new()),
            // SHA-256/384/512 through ring (already here for verification): its SHA-extension
            // and AVX2 code hashes about twice as fast as the sha2 crate on x86-64.
            DigestAlgorithm::Sha256 => {
                HasherState::Ring(ring::digest::Context::new(&ring::digest::SHA256))
            }
            DigestAlgorithm::Sha384 => {
                HasherState::Ring(ring::digest::Context::new(&ring::digest::SHA384))
            }
            DigestAlgorithm::Sha512 => {
                HasherState::Ring(ring::digest::Context::new(&ring::digest::SHA512))
            }
            DigestAlgorithm::Sha3_256 => HasherState::Sha3_256(sha3::Sha3_256::new()),
            DigestAlgorithm::Sha3_384 => HasherState::Sha3_384(sha3::Sha3_384::new()),
            DigestAlgorithm::Sha3_512 => HasherState::Sha3_512(sha3::Sha3_512::new()),
            DigestAlgorithm::Shake256_512 => HasherState::Shake256(sha3::Shake256::default()),
        };
        Hasher { alg: self, state }
    }

    /// The `AlgorithmIdentifier` to emit: parameters absent (RFC 5754 §2), except
    /// `id-shake256-len`, whose parameter is the INTEGER 512 (RFC 8419 §2.3).
    pub fn to_algorithm_identifier(self) -> AlgorithmIdentifierOwned {
        let parameters = match self {
            // The INTEGER 512 is `02 02 02 00`.
            DigestAlgorithm::Shake256_512 => Any::new(Tag::Integer, [0x02u8, 0x00].as_slice()).ok(),
            _ => None,
        };
        AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters,
        }
    }

    /// Read a digest `AlgorithmIdentifier`: parameters absent or NULL (RFC 5754 §2 says accept
    /// both), `id-shake256-len` only with the INTEGER 512.
    pub fn from_algorithm_identifier(ai: &AlgorithmIdentifierOwned) -> Result<Self, AlgError> {
        let d = Self::from_oid(&ai.oid)?;
        let ok = match (d, &ai.parameters) {
            (DigestAlgorithm::Shake256_512, Some(p)) => {
                p.tag() == Tag::Integer && p.value() == [0x02, 0x00]
            }
            (DigestAlgorithm::Shake256_512, None) => false,
            (_, None) => true,
            (_, Some(p)) => p.is_null(),
        };
        if ok {
            Ok(d)
        } else {
            Err(AlgError::BadParameters(ai.oid))
        }
    }
}

impl std::fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A running digest computation (memory does not grow with the input).
#[derive(Clone)]
pub struct Hasher {
    alg: DigestAlgorithm,
    state: HasherState,
}

#[derive(Clone)]
enum HasherState {
    Md5(md5::Md5),
    Sha1(sha1::Sha1),
    Sha224(sha2::Sha224),
    /// SHA-256, SHA-384 or SHA-512.
    Ring(ring::digest::Context),
    Sha3_256(sha3::Sha3_256),
    Sha3_384(sha3::Sha3_384),
    Sha3_512(sha3::Sha3_512),
    Shake256(sha3::Shake256),
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl Hasher {
    /// The algorithm this hasher computes.
    pub fn algorithm(&self) -> DigestAlgorithm {
        self.alg
    }

    /// Feed more input.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.state {
            HasherState::Md5(h) => h.update(data),
            HasherState::Sha1(h) => h.update(data),
            HasherState::Sha224(h) => h.update(data),
            HasherState::Ring(h) => h.update(data),
            HasherState::Sha3_256(h) => h.update(data),
            HasherState::Sha3_384(h) => h.update(data),
            HasherState::Sha3_512(h) => h.update(data),
            HasherState::Shake256(h) => sha3::digest::Update::update(h, data),
        }
    }

    /// The digest of everything fed so far.
    pub fn finalize(self) -> Vec<u8> {
        match self.state {
            HasherState::Md5(h) => h.finalize().to_vec(),
            HasherState::Sha1(h) => h.finalize().to_vec(),
            HasherState::Sha224(h) => h.finalize().to_vec(),
            // ring's `finish` panics only past 2^61 bytes of input, SHA-2's own length limit
            // (more than any file or memory can hold).
            HasherState::Ring(h) => h.finish().as_ref().to_vec(),
            HasherState::Sha3_256(h) => h.finalize().to_vec(),
            HasherState::Sha3_384(h) => h.finalize().to_vec(),
            HasherState::Sha3_512(h) => h.finalize().to_vec(),
            HasherState::Shake256(h) => {
                let mut out = vec![0u8; 64];
                sha3::digest::ExtendableOutput::finalize_xof_into(h, &mut out);
                out
            }
        }
    }
}

impl std::io::Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Curve {
    /// Every curve in the catalogue.
    pub const ALL: [Curve; 4] = [Curve::P224, Curve::P256, Curve::P384, Curve::P521];

    /// The curve's namedCurve OID (RFC 5480 §2.1.1.1).
    pub const fn oid(self) -> ObjectIdentifier {
        match self {
            Curve::P224 => oid::SECP224R1,
            Curve::P256 => oid::SECP256R1,
            Curve::P384 => oid::SECP384R1,
            Curve::P521 => oid::SECP521R1,
        }
    }

    /// The curve named by `oid`; anything else is [`AlgError::UnsupportedCurve`].
    pub fn from_oid(oid: &ObjectIdentifier) -> Result<Self, AlgError> {
        Self::ALL
            .into_iter()
            .find(|c| c.oid() == *oid)
            .ok_or(AlgError::UnsupportedCurve)
    }

    /// Size of the group order in bits (which is also the field size for these curves).
    pub const fn order_bits(self) -> u32 {
        match self {
            Curve::P224 => 224,
            Curve::P256 => 256,
            Curve::P384 => 384,
            Curve::P521 => 521,
        }
    }

    /// Length in bytes of a field element (coordinates, scalars).
    pub const fn field_bytes(self) -> usize {
        (self.order_bits() as usize).div_ceil(8)
    }

    /// The NIST name ("P-256").
    pub const fn name(self) -> &'static str {
        match self {
            Curve::P224 => "P-224",
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }

    /// The digest whose strength matches the curve (SHA-256 for P-256, SHA-384 for P-384,
    /// SHA-512 for P-521); what a signer uses unless told otherwise.
    pub const fn matching_digest(self) -> DigestAlgorithm {
        match self {
            Curve::P224 => DigestAlgorithm::Sha224,
            Curve::P256 => DigestAlgorithm::Sha256,
            Curve::P384 => DigestAlgorithm::Sha384,
            Curve::P521 => DigestAlgorithm::Sha512,
        }
    }
}

/// `RSASSA-PSS-params` as it is on the wire (RFC 4055 §3.1):
///
/// ```text
/// RSASSA-PSS-params  ::=  SEQUENCE  {
///     hashAlgorithm      [0] HashAlgorithm DEFAULT sha1Identifier,
///     maskGenAlgorithm   [1] MaskGenAlgorithm DEFAULT mgf1SHA1Identifier,
///     saltLength         [2] INTEGER DEFAULT 20,
///     trailerField       [3] INTEGER DEFAULT 1  }
/// ```
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct RawPssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mgf: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer: Option<u32>,
}

/// The hash AlgorithmIdentifier inside PSS parameters, with NULL parameters as in RFC 4055's
/// own examples (`sha256Identifier ::= { id-sha256, NULL }`) and as OpenSSL writes it.
fn pss_hash_identifier(d: DigestAlgorithm) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: d.oid(),
        parameters: Some(Any::from(Null)),
    }
}

impl PssParams {
    /// The usual parameters for `hash`: MGF1 with the same hash, salt as long as the hash.
    pub const fn for_hash(hash: DigestAlgorithm) -> Self {
        PssParams {
            hash,
            mgf1_hash: hash,
            salt_len: hash.output_len() as u32,
        }
    }

    /// Parse DER `RSASSA-PSS-params`. Omitted fields take their ASN.1 defaults (SHA-1, MGF1
    /// with SHA-1, salt 20), so that a policy can refuse them by name; a trailer field other than
    /// 1, a mask generation function other than MGF1, or an unknown hash is an error.
    pub fn from_der(der: &[u8]) -> Result<Self, AlgError> {
        let bad = AlgError::BadParameters(oid::RSASSA_PSS);
        let raw = RawPssParams::from_der(der).map_err(|_| bad.clone())?;
        Self::from_raw(&raw).ok_or(bad)
    }

    fn from_raw(raw: &RawPssParams) -> Option<Self> {
        let hash = match &raw.hash {
            None => DigestAlgorithm::Sha1,
            Some(ai) => DigestAlgorithm::from_algorithm_identifier(ai).ok()?,
        };
        let mgf1_hash = match &raw.mgf {
            None => DigestAlgorithm::Sha1,
            Some(mgf) => {
                if mgf.oid != oid::MGF1 {
                    return None;
                }
                let inner: AlgorithmIdentifierOwned = mgf.parameters.as_ref()?.decode_as().ok()?;
                DigestAlgorithm::from_algorithm_identifier(&inner).ok()?
            }
        };
        if matches!(hash, DigestAlgorithm::Shake256_512 | DigestAlgorithm::Md5)
            || matches!(
                mgf1_hash,
                DigestAlgorithm::Shake256_512 | DigestAlgorithm::Md5
            )
        {
            return None;
        }
        if raw.trailer.unwrap_or(1) != 1 {
            return None;
        }
        Some(PssParams {
            hash,
            mgf1_hash,
            salt_len: raw.salt.unwrap_or(20),
        })
    }

    fn to_raw(self) -> RawPssParams {
        let mgf_inner = pss_hash_identifier(self.mgf1_hash);
        RawPssParams {
            // DER leaves out fields equal to their DEFAULT.
            hash: (self.hash != DigestAlgorithm::Sha1).then(|| pss_hash_identifier(self.hash)),
            mgf: (self.mgf1_hash != DigestAlgorithm::Sha1).then(|| AlgorithmIdentifierOwned {
                oid: oid::MGF1,
                parameters: Any::encode_from(&mgf_inner).ok(),
            }),
            salt: (self.salt_len != 20).then_some(self.salt_len),
            trailer: None,
        }
    }

    /// DER `RSASSA-PSS-params` with the hash and MGF1 written out (defaults omitted as DER
    /// requires; a SHA-256/384/512 hash is never a default).
    pub fn to_der(self) -> Vec<u8> {
        // Encoding a few small, well-formed values cannot fail: the only failure modes of
        // `to_der` are lengths beyond 4 GiB.
        self.to_raw().to_der().unwrap_or_default()
    }

    fn to_any(self) -> Option<Any> {
        Any::encode_from(&self.to_raw()).ok()
    }
}

impl SignatureAlgorithm {
    /// The signature algorithm OID.
    pub fn oid(&self) -> ObjectIdentifier {
        use DigestAlgorithm as D;
        match *self {
            SignatureAlgorithm::RsaPkcs1(d) => match d {
                D::Md5 => oid::MD5_WITH_RSA,
                D::Sha1 => oid::SHA1_WITH_RSA,
                D::Sha224 => oid::SHA224_WITH_RSA,
                D::Sha256 => oid::SHA256_WITH_RSA,
                D::Sha384 => oid::SHA384_WITH_RSA,
                D::Sha512 => oid::SHA512_WITH_RSA,
                D::Sha3_256 => oid::SHA3_256_WITH_RSA,
                D::Sha3_384 => oid::SHA3_384_WITH_RSA,
                D::Sha3_512 | D::Shake256_512 => oid::SHA3_512_WITH_RSA,
            },
            SignatureAlgorithm::RsaPss(_) => oid::RSASSA_PSS,
            SignatureAlgorithm::Ecdsa(d) => match d {
                D::Md5 | D::Sha1 => oid::ECDSA_WITH_SHA1,
                D::Sha224 => oid::ECDSA_WITH_SHA224,
                D::Sha256 => oid::ECDSA_WITH_SHA256,
                D::Sha384 => oid::ECDSA_WITH_SHA384,
                D::Sha512 => oid::ECDSA_WITH_SHA512,
                D::Sha3_256 => oid::ECDSA_WITH_SHA3_256,
                D::Sha3_384 => oid::ECDSA_WITH_SHA3_384,
                D::Sha3_512 | D::Shake256_512 => oid::ECDSA_WITH_SHA3_512,
            },
            SignatureAlgorithm::Ed25519 => oid::ED25519,
            SignatureAlgorithm::Ed448 => oid::ED448,
            SignatureAlgorithm::Dsa(d) => match d {
                D::Md5 | D::Sha1 => oid::DSA_WITH_SHA1,
                D::Sha224 => oid::DSA_WITH_SHA224,
                D::Sha256 | D::Sha3_256 => oid::DSA_WITH_SHA256,
                D::Sha384 | D::Sha3_384 => oid::DSA_WITH_SHA384,
                D::Sha512 | D::Sha3_512 | D::Shake256_512 => oid::DSA_WITH_SHA512,
            },
        }
    }

    /// Whether this value has an OID of its own (a few combinations, such as ECDSA with MD5,
    /// exist as enum values but not on the wire; [`Self::to_algorithm_identifier`] would
    /// misname them).
    pub fn is_encodable(&self) -> bool {
        Self::from_algorithm_identifier(&self.to_algorithm_identifier()).as_ref() == Ok(self)
    }

    /// The `AlgorithmIdentifier` to emit: NULL parameters for PKCS#1 v1.5 (RFC 4055 §5),
    /// explicit `RSASSA-PSS-params` for PSS (RFC 4055 §3.1), absent for ECDSA, DSA and EdDSA
    /// (RFC 5754 §3.1/§3.3, RFC 8410 §3).
    pub fn to_algorithm_identifier(&self) -> AlgorithmIdentifierOwned {
        let parameters = match self {
            SignatureAlgorithm::RsaPkcs1(_) => Some(Any::from(Null)),
            SignatureAlgorithm::RsaPss(p) => p.to_any(),
            _ => None,
        };
        AlgorithmIdentifierOwned {
            oid: self.oid(),
            parameters,
        }
    }

    /// Read a signature `AlgorithmIdentifier`, enforcing the parameter rules of section 1.4:
    /// PKCS#1 v1.5 NULL or absent; PSS parameters required; ECDSA, DSA, EdDSA absent.
    pub fn from_algorithm_identifier(ai: &AlgorithmIdentifierOwned) -> Result<Self, AlgError> {
        use DigestAlgorithm as D;
        let o = ai.oid;
        let bad = || AlgError::BadParameters(o);
        let params_absent = ai.parameters.is_none();
        let params_null_or_absent = ai.parameters.as_ref().is_none_or(Any::is_null);

        let rsa = [
            (oid::MD5_WITH_RSA, D::Md5),
            (oid::SHA1_WITH_RSA, D::Sha1),
            (oid::SHA224_WITH_RSA, D::Sha224),
            (oid::SHA256_WITH_RSA, D::Sha256),
            (oid::SHA384_WITH_RSA, D::Sha384),
            (oid::SHA512_WITH_RSA, D::Sha512),
            (oid::SHA3_256_WITH_RSA, D::Sha3_256),
            (oid::SHA3_384_WITH_RSA, D::Sha3_384),
            (oid::SHA3_512_WITH_RSA, D::Sha3_512),
        ];
        if let Some((_, d)) = rsa.iter().find(|(x, _)| *x == o) {
            return if params_null_or_absent {
                Ok(SignatureAlgorithm::RsaPkcs1(*d))
            } else {
                Err(bad())
            };
        }
        if o == oid::RSASSA_PSS {
            let p = ai.parameters.as_ref().ok_or_else(bad)?;
            let raw: RawPssParams = p.decode_as().map_err(|_| bad())?;
            return PssParams::from_raw(&raw)
                .map(SignatureAlgorithm::RsaPss)
                .ok_or_else(bad);
        }
        let absent_only = [
            (oid::ECDSA_WITH_SHA1, SignatureAlgorithm::Ecdsa(D::Sha1)),
            (oid::ECDSA_WITH_SHA224, SignatureAlgorithm::Ecdsa(D::Sha224)),
            (oid::ECDSA_WITH_SHA256, SignatureAlgorithm::Ecdsa(D::Sha256)),
            (oid::ECDSA_WITH_SHA384, SignatureAlgorithm::Ecdsa(D::Sha384)),
            (oid::ECDSA_WITH_SHA512, SignatureAlgorithm::Ecdsa(D::Sha512)),
            (
                oid::ECDSA_WITH_SHA3_256,
                SignatureAlgorithm::Ecdsa(D::Sha3_256),
            ),
            (
                oid::ECDSA_WITH_SHA3_384,
                SignatureAlgorithm::Ecdsa(D::Sha3_384),
            ),
            (
                oid::ECDSA_WITH_SHA3_512,
                SignatureAlgorithm::Ecdsa(D::Sha3_512),
            ),
            (oid::DSA_WITH_SHA1, SignatureAlgorithm::Dsa(D::Sha1)),
            (oid::DSA_WITH_SHA224, SignatureAlgorithm::Dsa(D::Sha224)),
            (oid::DSA_WITH_SHA256, SignatureAlgorithm::Dsa(D::Sha256)),
            (oid::DSA_WITH_SHA384, SignatureAlgorithm::Dsa(D::Sha384)),
            (oid::DSA_WITH_SHA512, SignatureAlgorithm::Dsa(D::Sha512)),
            (oid::ED25519, SignatureAlgorithm::Ed25519),
            (oid::ED448, SignatureAlgorithm::Ed448),
        ];
        if let Some((_, s)) = absent_only.iter().find(|(x, _)| *x == o) {
            return if params_absent { Ok(*s) } else { Err(bad()) };
        }
        Err(AlgError::UnknownOid(o))
    }

    /// Read the algorithm of a CMS `SignerInfo`, where RFC 3370 §3.2 also allows the key OID
    /// `rsaEncryption` as `signatureAlgorithm` (the hash then comes from `digestAlgorithm`);
    /// many CAdES signers and TSAs write it. `id-ecPublicKey` is tolerated the same way for
    /// ECDSA (some Java signers write it). Everything else is
    /// [`Self::from_algorithm_identifier`].
    pub fn from_signer_info(
        signature_algorithm: &AlgorithmIdentifierOwned,
        digest_algorithm: &AlgorithmIdentifierOwned,
    ) -> Result<Self, AlgError> {
        let o = signature_algorithm.oid;
        let params = signature_algorithm.parameters.as_ref();
        if o == oid::RSA_ENCRYPTION {
            if !params.is_none_or(Any::is_null) {
                return Err(AlgError::BadParameters(o));
            }
            return Ok(SignatureAlgorithm::RsaPkcs1(
                DigestAlgorithm::from_algorithm_identifier(digest_algorithm)?,
            ));
        }
        if o == oid::EC_PUBLIC_KEY {
            return Ok(SignatureAlgorithm::Ecdsa(
                DigestAlgorithm::from_algorithm_identifier(digest_algorithm)?,
            ));
        }
        Self::from_algorithm_identifier(signature_algorithm)
    }

    /// Parse a DER-encoded signature `AlgorithmIdentifier`.
    pub fn from_der(der: &[u8]) -> Result<Self, AlgError> {
        let ai = AlgorithmIdentifierOwned::from_der(der).map_err(|_| AlgError::BadKey)?;
        Self::from_algorithm_identifier(&ai)
    }

    /// The hash applied to the message before the signature primitive, or `None` for PureEdDSA
    /// (which hashes internally).
    pub const fn digest(&self) -> Option<DigestAlgorithm> {
        match *self {
            SignatureAlgorithm::RsaPkcs1(d)
            | SignatureAlgorithm::Ecdsa(d)
            | SignatureAlgorithm::Dsa(d) => Some(d),
            SignatureAlgorithm::RsaPss(p) => Some(p.hash),
            SignatureAlgorithm::Ed25519 | SignatureAlgorithm::Ed448 => None,
        }
    }

    /// The `SignerInfo.digestAlgorithm` CMS uses with this algorithm: the signature's own hash,
    /// SHA-512 for Ed25519 and SHAKE256/512 for Ed448 (RFC 8419 §3.1).
    pub const fn cms_digest(&self) -> DigestAlgorithm {
        match self.digest() {
            Some(d) => d,
            None => match self {
                SignatureAlgorithm::Ed448 => DigestAlgorithm::Shake256_512,
                _ => DigestAlgorithm::Sha512,
            },
        }
    }

    /// A short human name ("ECDSA with SHA-256", "RSASSA-PSS (SHA-384, MGF1 SHA-384, salt 48)").
    pub fn name(&self) -> String {
        match self {
            SignatureAlgorithm::RsaPkcs1(d) => format!("RSASSA-PKCS1-v1_5 with {d}"),
            SignatureAlgorithm::RsaPss(p) => format!(
                "RSASSA-PSS ({}, MGF1 {}, salt {})",
                p.hash, p.mgf1_hash, p.salt_len
            ),
            SignatureAlgorithm::Ecdsa(d) => format!("ECDSA with {d}"),
            SignatureAlgorithm::Ed25519 => "Ed25519".to_owned(),
            SignatureAlgorithm::Ed448 => "Ed448".to_owned(),
            SignatureAlgorithm::Dsa(d) => format!("DSA with {d}"),
        }
    }
}

impl std::fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

/// RSAPublicKey (RFC 8017 A.1.1): `SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
#[derive(Sequence)]
struct RsaPublicKeyRef<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
}

/// Dss-Parms (RFC 3279 §2.3.2): `SEQUENCE { p INTEGER, q INTEGER, g INTEGER }`.
#[derive(Sequence)]
struct DssParmsRef<'a> {
    p: UintRef<'a>,
    q: UintRef<'a>,
    g: UintRef<'a>,
}

/// Bit length of a big-endian unsigned integer (leading zero bytes ignored).
fn bit_len(bytes: &[u8]) -> u32 {
    let first = bytes.iter().position(|b| *b != 0);
    match first {
        None => 0,
        Some(i) => {
            let rest = bytes.len() - i - 1;
            // Callers bound the length first; saturate rather than overflow anyway.
            let rest_bits = u32::try_from(rest)
                .unwrap_or(u32::MAX / 16)
                .saturating_mul(8);
            rest_bits.saturating_add(8 - bytes[i].leading_zeros())
        }
    }
}

fn bounded_bits(bytes: &[u8]) -> Result<u32, AlgError> {
    if bytes.len() > (MAX_MODULUS_BITS as usize) / 8 + 1 {
        return Err(AlgError::BadKey);
    }
    let bits = bit_len(bytes);
    if bits == 0 || bits > MAX_MODULUS_BITS {
        return Err(AlgError::BadKey);
    }
    Ok(bits)
}

impl PublicKeyKind {
    /// Read a DER `SubjectPublicKeyInfo`.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, AlgError> {
        // Borrowed: nothing is copied (validators classify every key of every path).
        let spki = spki::SubjectPublicKeyInfoRef::from_der(der).map_err(|_| AlgError::BadKey)?;
        let key = spki.subject_public_key.as_bytes().ok_or(AlgError::BadKey)?;
        Self::classify(spki.algorithm.oid, spki.algorithm.parameters, key)
    }

    /// Classify a `SubjectPublicKeyInfo`: RSA modulus size, EC named curve (explicit
    /// parameters refused, RFC 5480 §2.1.1), DSA p and q sizes, EdDSA (parameters absent,
    /// RFC 8410 §3). The key bytes are checked for shape (lengths, point format), not for
    /// mathematical validity; [`crate::verify`] does that.
    pub fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, AlgError> {
        let key = spki.subject_public_key.as_bytes().ok_or(AlgError::BadKey)?;
        let params = spki.algorithm.parameters.as_ref().map(AnyRef::from);
        Self::classify(spki.algorithm.oid, params, key)
    }

    /// [`Self::from_spki`] on the parts of a SubjectPublicKeyInfo.
    fn classify(
        o: ObjectIdentifier,
        params: Option<AnyRef<'_>>,
        key: &[u8],
    ) -> Result<Self, AlgError> {
        if o == oid::RSA_ENCRYPTION || o == oid::RSASSA_PSS {
            let rsa = RsaPublicKeyRef::from_der(key).map_err(|_| AlgError::BadKey)?;
            let modulus_bits = bounded_bits(rsa.modulus.as_bytes())?;
            if bit_len(rsa.public_exponent.as_bytes()) < 2 {
                return Err(AlgError::BadKey);
            }
            if o == oid::RSA_ENCRYPTION {
                // RFC 4055 §1.2 / RFC 3279 §2.3.1: parameters NULL (absent tolerated).
                if !params.is_none_or(|p| p.is_null()) {
                    return Err(AlgError::BadParameters(o));
                }
                return Ok(PublicKeyKind::Rsa { modulus_bits });
            }
            // RFC 4055 §3.1: parameters absent (no restriction) or RSASSA-PSS-params.
            let params = match params {
                None => None,
                Some(p) => {
                    let raw: RawPssParams =
                        p.decode_as().map_err(|_| AlgError::BadParameters(o))?;
                    Some(PssParams::from_raw(&raw).ok_or(AlgError::BadParameters(o))?)
                }
            };
            return Ok(PublicKeyKind::RsaPss {
                modulus_bits,
                params,
            });
        }
        if o == oid::EC_PUBLIC_KEY {
            let p = params.ok_or(AlgError::UnsupportedCurve)?;
            if p.tag() != Tag::ObjectIdentifier {
                // ECParameters (explicit) or implicitlyCA.
                return Err(AlgError::UnsupportedCurve);
            }
            let curve_oid: DerOid = p.decode_as().map_err(|_| AlgError::BadKey)?;
            let curve = Curve::from_oid(&curve_oid)?;
            let n = curve.field_bytes();
            let shape_ok = match key.first() {
                Some(0x04) => key.len() == 1 + 2 * n,
                Some(0x02 | 0x03) => key.len() == 1 + n,
                _ => false,
            };
            if !shape_ok {
                return Err(AlgError::BadKey);
            }
            return Ok(PublicKeyKind::Ec(curve));
        }
        if o == oid::ED25519 || o == oid::ED448 {
            if params.is_some() {
                return Err(AlgError::BadParameters(o));
            }
            let (len, kind) = if o == oid::ED25519 {
                (32, PublicKeyKind::Ed25519)
            } else {
                (57, PublicKeyKind::Ed448)
            };
            return if key.len() == len {
                Ok(kind)
            } else {
                Err(AlgError::BadKey)
            };
        }
        if o == oid::DSA {
            // Inherited parameters (absent) cannot be sized here: refuse them.
            let p = params.ok_or(AlgError::BadParameters(o))?;
            let dss: DssParmsRef<'_> = p.decode_as().map_err(|_| AlgError::BadParameters(o))?;
            let p_bits = bounded_bits(dss.p.as_bytes())?;
            let q_bits = bounded_bits(dss.q.as_bytes())?;
            if bit_len(dss.g.as_bytes()) == 0 || q_bits >= p_bits {
                return Err(AlgError::BadParameters(o));
            }
            // The key itself is an INTEGER.
            let y = UintRef::from_der(key).map_err(|_| AlgError::BadKey)?;
            bounded_bits(y.as_bytes())?;
            return Ok(PublicKeyKind::Dsa { p_bits, q_bits });
        }
        Err(AlgError::UnknownOid(o))
    }

    /// Security strength in bits ([`key_strength_bits`]).
    pub fn security_bits(&self) -> u32 {
        key_strength_bits(self)
    }

    /// A short human description ("RSA-3072", "EC P-256", "Ed25519", "DSA-2048/256").
    pub fn name(&self) -> String {
        match self {
            PublicKeyKind::Rsa { modulus_bits } => format!("RSA-{modulus_bits}"),
            PublicKeyKind::RsaPss { modulus_bits, .. } => format!("RSA-PSS-{modulus_bits}"),
            PublicKeyKind::Ec(c) => format!("EC {}", c.name()),
            PublicKeyKind::Ed25519 => "Ed25519".to_owned(),
            PublicKeyKind::Ed448 => "Ed448".to_owned(),
            PublicKeyKind::Dsa { p_bits, q_bits } => format!("DSA-{p_bits}/{q_bits}"),
        }
    }
}

impl std::fmt::Display for PublicKeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}

impl std::fmt::Display for AlgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AlgError::UnknownOid(o) => write!(f, "unknown algorithm OID {o}"),
            AlgError::BadParameters(o) => write!(f, "parameters not allowed for algorithm {o}"),
            AlgError::BadKey => f.write_str("malformed public key"),
            AlgError::UnsupportedCurve => {
                f.write_str("elliptic curve not supported (explicit parameters or unknown curve)")
            }
        }
    }
}

impl std::error::Error for AlgError {}

// =============================================================================================
// Security strength (what the policy's strength periods are measured in).

/// Key size to security strength (NIST SP 800-57 Part 1 Rev. 5 Table 2, the mapping
/// CRYPTREC LS-0001-2022's strength table uses). Rows: (minimum RSA/DH modulus bits, strength in bits),
/// strongest first.
pub const RSA_STRENGTH_TABLE: [(u32, u32); 6] = [
    (15_360, 256),
    (7_680, 192),
    (3_072, 128),
    (2_048, 112),
    (1_024, 80),
    (0, 0),
];

/// Security strength of a named curve (NIST SP 800-57 Part 1 Rev. 5 Table 2; SEC 2).
pub const fn curve_strength_bits(c: Curve) -> u32 {
    match c {
        Curve::P224 => 112,
        Curve::P256 => 128,
        Curve::P384 => 192,
        Curve::P521 => 256,
    }
}

fn modulus_strength(bits: u32) -> u32 {
    RSA_STRENGTH_TABLE
        .iter()
        .find(|(min, _)| bits >= *min)
        .map_or(0, |(_, s)| *s)
}

/// Security strength of a public key in bits, from the tables above. Ed25519 counts as 128,
/// Ed448 as 224 (RFC 8032 §1); DSA as the weaker of its p (finite-field table) and q/2.
pub fn key_strength_bits(k: &PublicKeyKind) -> u32 {
    match *k {
        PublicKeyKind::Rsa { modulus_bits } | PublicKeyKind::RsaPss { modulus_bits, .. } => {
            modulus_strength(modulus_bits)
        }
        PublicKeyKind::Ec(c) => curve_strength_bits(c),
        PublicKeyKind::Ed25519 => 128,
        PublicKeyKind::Ed448 => 224,
        PublicKeyKind::Dsa { p_bits, q_bits } => modulus_strength(p_bits).min(q_bits / 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn digest_oids_round_trip() {
        for d in DigestAlgorithm::ALL {
            assert_eq!(DigestAlgorithm::from_oid(&d.oid()), Ok(d));
            let ai = d.to_algorithm_identifier();
            assert_eq!(DigestAlgorithm::from_algorithm_identifier(&ai), Ok(d));
            assert_eq!(d.digest(b"abc").len(), d.output_len());
        }
    }

    #[test]
    fn digest_params_null_accepted_other_refused() {
        let mut ai = DigestAlgorithm::Sha256.to_algorithm_identifier();
        ai.parameters = Some(Any::from(Null));
        assert_eq!(
            DigestAlgorithm::from_algorithm_identifier(&ai),
            Ok(DigestAlgorithm::Sha256)
        );
        ai.parameters = Some(Any::encode_from(&5u8).unwrap());
        assert!(DigestAlgorithm::from_algorithm_identifier(&ai).is_err());
        let shake = AlgorithmIdentifierOwned {
            oid: oid::SHAKE256_LEN,
            parameters: None,
        };
        assert!(DigestAlgorithm::from_algorithm_identifier(&shake).is_err());
    }

    #[test]
    fn known_answers() {
        // FIPS 180-2 / FIPS 202 "abc" vectors.
        assert_eq!(
            DigestAlgorithm::Sha256.digest(b"abc"),
            hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(
            DigestAlgorithm::Sha3_256.digest(b"abc"),
            hex("3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532")
        );
        assert_eq!(
            DigestAlgorithm::Sha1.digest(b"abc"),
            hex("a9993e364706816aba3e25717850c26c9cd0d89d")
        );
        assert_eq!(
            DigestAlgorithm::Md5.digest(b"abc"),
            hex("900150983cd24fb0d6963f7d28e17f72")
        );
        // Streaming equals one-shot.
        let mut h = DigestAlgorithm::Sha384.hasher();
        h.update(b"a");
        h.update(b"bc");
        assert_eq!(h.finalize(), DigestAlgorithm::Sha384.digest(b"abc"));
    }

    #[test]
    fn signature_oids_round_trip() {
        use DigestAlgorithm as D;
        let all = [
            SignatureAlgorithm::RsaPkcs1(D::Sha1),
            SignatureAlgorithm::RsaPkcs1(D::Md5),
            SignatureAlgorithm::RsaPkcs1(D::Sha224),
            SignatureAlgorithm::RsaPkcs1(D::Sha256),
            SignatureAlgorithm::RsaPkcs1(D::Sha384),
            SignatureAlgorithm::RsaPkcs1(D::Sha512),
            SignatureAlgorithm::RsaPkcs1(D::Sha3_256),
            SignatureAlgorithm::RsaPkcs1(D::Sha3_384),
            SignatureAlgorithm::RsaPkcs1(D::Sha3_512),
            SignatureAlgorithm::RsaPss(PssParams::for_hash(D::Sha256)),
            SignatureAlgorithm::RsaPss(PssParams::for_hash(D::Sha384)),
            SignatureAlgorithm::RsaPss(PssParams::for_hash(D::Sha512)),
            SignatureAlgorithm::RsaPss(PssParams {
                hash: D::Sha1,
                mgf1_hash: D::Sha1,
                salt_len: 20,
            }),
            SignatureAlgorithm::Ecdsa(D::Sha1),
            SignatureAlgorithm::Ecdsa(D::Sha224),
            SignatureAlgorithm::Ecdsa(D::Sha256),
            SignatureAlgorithm::Ecdsa(D::Sha384),
            SignatureAlgorithm::Ecdsa(D::Sha512),
            SignatureAlgorithm::Ecdsa(D::Sha3_256),
            SignatureAlgorithm::Ecdsa(D::Sha3_384),
            SignatureAlgorithm::Ecdsa(D::Sha3_512),
            SignatureAlgorithm::Dsa(D::Sha1),
            SignatureAlgorithm::Dsa(D::Sha224),
            SignatureAlgorithm::Dsa(D::Sha256),
            SignatureAlgorithm::Dsa(D::Sha384),
            SignatureAlgorithm::Dsa(D::Sha512),
            SignatureAlgorithm::Ed25519,
            SignatureAlgorithm::Ed448,
        ];
        for s in all {
            let ai = s.to_algorithm_identifier();
            assert_eq!(
                SignatureAlgorithm::from_algorithm_identifier(&ai),
                Ok(s),
                "{s}"
            );
            assert!(s.is_encodable());
            let der = ai.to_der().unwrap();
            assert_eq!(SignatureAlgorithm::from_der(&der), Ok(s));
        }
        assert!(!SignatureAlgorithm::Ecdsa(D::Md5).is_encodable());
    }

    #[test]
    fn signer_info_rsa_encryption() {
        let rsa = AlgorithmIdentifierOwned {
            oid: oid::RSA_ENCRYPTION,
            parameters: Some(Any::from(Null)),
        };
        let d = DigestAlgorithm::Sha384.to_algorithm_identifier();
        assert_eq!(
            SignatureAlgorithm::from_signer_info(&rsa, &d),
            Ok(SignatureAlgorithm::RsaPkcs1(DigestAlgorithm::Sha384))
        );
        assert_eq!(
            SignatureAlgorithm::from_algorithm_identifier(&rsa),
            Err(AlgError::UnknownOid(oid::RSA_ENCRYPTION))
        );
        let ec = AlgorithmIdentifierOwned {
            oid: oid::EC_PUBLIC_KEY,
            parameters: None,
        };
        assert_eq!(
            SignatureAlgorithm::from_signer_info(&ec, &d),
            Ok(SignatureAlgorithm::Ecdsa(DigestAlgorithm::Sha384))
        );
        let pss = SignatureAlgorithm::RsaPss(PssParams::for_hash(DigestAlgorithm::Sha256));
        assert_eq!(
            SignatureAlgorithm::from_signer_info(&pss.to_algorithm_identifier(), &d),
            Ok(pss)
        );
    }

    #[test]
    fn signature_parameter_rules() {
        // sha256WithRSAEncryption with absent parameters: accepted (RFC 5754 §3.2).
        let ai = AlgorithmIdentifierOwned {
            oid: oid::SHA256_WITH_RSA,
            parameters: None,
        };
        assert!(SignatureAlgorithm::from_algorithm_identifier(&ai).is_ok());
        // ecdsa-with-SHA256 with NULL: refused (RFC 5754 §3.3).
        let ai = AlgorithmIdentifierOwned {
            oid: oid::ECDSA_WITH_SHA256,
            parameters: Some(Any::from(Null)),
        };
        assert_eq!(
            SignatureAlgorithm::from_algorithm_identifier(&ai),
            Err(AlgError::BadParameters(oid::ECDSA_WITH_SHA256))
        );
        // PSS without parameters: refused (RFC 4056 §2.2).
        let ai = AlgorithmIdentifierOwned {
            oid: oid::RSASSA_PSS,
            parameters: None,
        };
        assert!(SignatureAlgorithm::from_algorithm_identifier(&ai).is_err());
        // Unknown OID.
        let ai = AlgorithmIdentifierOwned {
            oid: oid::ID_DATA,
            parameters: None,
        };
        assert_eq!(
            SignatureAlgorithm::from_algorithm_identifier(&ai),
            Err(AlgError::UnknownOid(oid::ID_DATA))
        );
    }

    #[test]
    fn pss_params_encoding_matches_openssl() {
        // What `openssl req -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sha256`
        // writes as the PSS parameters (hash and MGF1 SHA-256 with NULL, salt 32).
        let expected = hex(concat!(
            "3034a00f300d06096086480165030402010500",
            "a11c301a06092a864886f70d010108300d06096086480165030402010500",
            "a203020120"
        ));
        let p = PssParams::for_hash(DigestAlgorithm::Sha256);
        assert_eq!(p.to_der(), expected);
        assert_eq!(PssParams::from_der(&expected), Ok(p));
        // Empty SEQUENCE: all defaults (SHA-1, MGF1-SHA-1, 20).
        assert_eq!(
            PssParams::from_der(&[0x30, 0x00]),
            Ok(PssParams {
                hash: DigestAlgorithm::Sha1,
                mgf1_hash: DigestAlgorithm::Sha1,
                salt_len: 20
            })
        );
        // trailerField 2: refused.
        assert!(PssParams::from_der(&hex("3005a303020102")).is_err());
        // Hash without NULL parameters accepted too.
        let no_null = hex(concat!(
            "3030a00d300b0609608648016503040202",
            "a11a301806092a864886f70d010108300b0609608648016503040202",
            "a203020130"
        ));
        assert_eq!(
            PssParams::from_der(&no_null),
            Ok(PssParams::for_hash(DigestAlgorithm::Sha384))
        );
    }

    fn spki_of(pem_cmd: &[&str]) -> Vec<u8> {
        let dir = std::env::temp_dir().join(format!(
            "inkan-alg-{}-{}",
            std::process::id(),
            pem_cmd.join("_").replace([':', '/', ' '], "")
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let key = dir.join("k.pem");
        let mut args: Vec<&str> = pem_cmd.to_vec();
        let key_s = key.to_str().unwrap();
        args.extend(["-out", key_s]);
        let st = std::process::Command::new("openssl")
            .args(&args)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
        let out = std::process::Command::new("openssl")
            .args(["pkey", "-in", key_s, "-pubout", "-outform", "DER"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::remove_dir_all(&dir).ok();
        out.stdout
    }

    /// A DSA SPKI made by OpenSSL (parameters first, then the key).
    pub(crate) fn dsa_spki_der(l: u32, n: u32) -> Vec<u8> {
        let dir = std::env::temp_dir().join(format!("inkan-dsa-{}-{l}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let params = dir.join("p.pem");
        let key = dir.join("k.pem");
        let run = |args: &[&str]| {
            let o = std::process::Command::new("openssl")
                .args(args)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            o.stdout
        };
        let (lb, nb) = (
            format!("dsa_paramgen_bits:{l}"),
            format!("dsa_paramgen_q_bits:{n}"),
        );
        run(&[
            "genpkey",
            "-genparam",
            "-algorithm",
            "DSA",
            "-pkeyopt",
            &lb,
            "-pkeyopt",
            &nb,
            "-out",
            params.to_str().unwrap(),
        ]);
        run(&[
            "genpkey",
            "-paramfile",
            params.to_str().unwrap(),
            "-out",
            key.to_str().unwrap(),
        ]);
        let der = run(&[
            "pkey",
            "-in",
            key.to_str().unwrap(),
            "-pubout",
            "-outform",
            "DER",
        ]);
        std::fs::remove_dir_all(&dir).ok();
        der
    }

    #[test]
    fn spki_kinds_from_openssl_keys() {
        let rsa = spki_of(&[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ]);
        assert_eq!(
            PublicKeyKind::from_spki_der(&rsa),
            Ok(PublicKeyKind::Rsa { modulus_bits: 2048 })
        );
        let mut pss_cmd = vec!["genpkey"];
        pss_cmd.extend(inkan_test_support::genpkey_args("rsapss2048r384"));
        let pss = spki_of(&pss_cmd);
        assert_eq!(
            PublicKeyKind::from_spki_der(&pss),
            Ok(PublicKeyKind::RsaPss {
                modulus_bits: 2048,
                params: Some(PssParams::for_hash(DigestAlgorithm::Sha384))
            })
        );
        let pss_free = spki_of(&[
            "genpkey",
            "-algorithm",
            "RSA-PSS",
            "-pkeyopt",
            "rsa_keygen_bits:1024",
        ]);
        assert_eq!(
            PublicKeyKind::from_spki_der(&pss_free),
            Ok(PublicKeyKind::RsaPss {
                modulus_bits: 1024,
                params: None
            })
        );
        for (name, c) in [
            ("P-224", Curve::P224),
            ("P-256", Curve::P256),
            ("P-384", Curve::P384),
            ("P-521", Curve::P521),
        ] {
            let opt = format!("ec_paramgen_curve:{name}");
            let ec = spki_of(&["genpkey", "-algorithm", "EC", "-pkeyopt", &opt]);
            assert_eq!(PublicKeyKind::from_spki_der(&ec), Ok(PublicKeyKind::Ec(c)));
        }
        let k1 = spki_of(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:secp256k1",
        ]);
        assert_eq!(
            PublicKeyKind::from_spki_der(&k1),
            Err(AlgError::UnsupportedCurve)
        );
        let explicit = spki_of(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-pkeyopt",
            "ec_param_enc:explicit",
        ]);
        assert_eq!(
            PublicKeyKind::from_spki_der(&explicit),
            Err(AlgError::UnsupportedCurve)
        );
        let ed = spki_of(&["genpkey", "-algorithm", "ED25519"]);
        assert_eq!(
            PublicKeyKind::from_spki_der(&ed),
            Ok(PublicKeyKind::Ed25519)
        );
        let ed448 = spki_of(&["genpkey", "-algorithm", "ED448"]);
        assert_eq!(
            PublicKeyKind::from_spki_der(&ed448),
            Ok(PublicKeyKind::Ed448)
        );
        let dsa = dsa_spki_der(2048, 256);
        assert_eq!(
            PublicKeyKind::from_spki_der(&dsa),
            Ok(PublicKeyKind::Dsa {
                p_bits: 2048,
                q_bits: 256
            })
        );
    }

    #[test]
    fn spki_garbage_is_an_error() {
        assert_eq!(PublicKeyKind::from_spki_der(b""), Err(AlgError::BadKey));
        assert_eq!(
            PublicKeyKind::from_spki_der(&[0x30, 0x80]),
            Err(AlgError::BadKey)
        );
        assert_eq!(bit_len(&[0, 0, 1]), 1);
        assert_eq!(bit_len(&[0x80, 0]), 16);
    }

    #[test]
    fn strength() {
        assert_eq!(
            PublicKeyKind::Rsa { modulus_bits: 2048 }.security_bits(),
            112
        );
        assert_eq!(
            PublicKeyKind::Rsa { modulus_bits: 3072 }.security_bits(),
            128
        );
        assert_eq!(
            PublicKeyKind::Rsa { modulus_bits: 1024 }.security_bits(),
            80
        );
        assert_eq!(PublicKeyKind::Ec(Curve::P384).security_bits(), 192);
        assert_eq!(
            PublicKeyKind::Dsa {
                p_bits: 2048,
                q_bits: 224
            }
            .security_bits(),
            112
        );
    }
}
