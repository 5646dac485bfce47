//! The algorithm catalogue: digests, signature algorithms and public-key kinds as typed enums,
//! mapped to and from their OIDs (`../shared/spec/standards.md` section 1.4).
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
