//! Cryptographic constraints applied when validating: the CRYPTREC LS-0001-2022 rules for
//! `Use::Validate` at the time the object is proven to exist (standards.md §1.2).
//!
//! This is the verifier's bridge to the policy. Until `inkan_profiles::policy::Policy` carries
//! its `check_*` methods, the same table is applied here: MD5, SHA-1 and SHA-224 are refused
//! for signatures; RSA and DSA below 2048 bits and curves below 256 bits are refused; 112-bit
//! material (RSA-2048, DSA-2048) is accepted for objects proven to exist before 2031-01-01.

use inkan_profiles::alg::{Curve, DigestAlgorithm, PublicKeyKind, SignatureAlgorithm};

use crate::crypto;

/// First instant at which 112-bit security is no longer acceptable (2031-01-01T00:00:00Z).
pub const END_OF_112_BIT: i64 = 1_924_992_000;

/// A refusal: stable rule code and explanation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Stable rule code.
    pub code: &'static str,
    /// Human text.
    pub text: String,
}

/// Checks a digest used in a signature, message digest or imprint.
pub fn check_digest(d: DigestAlgorithm, _at: i64) -> Result<(), Refusal> {
    match d {
        DigestAlgorithm::Md5 | DigestAlgorithm::Sha1 | DigestAlgorithm::Sha224 => Err(Refusal {
            code: "CRYPTREC-DIGEST",
            text: format!(
                "{} is not on the CRYPTREC e-Government Recommended Ciphers List",
                crypto::digest_name(d)
            ),
        }),
        _ => Ok(()),
    }
}

/// Checks a public key at the time the object is proven to exist.
pub fn check_key(k: &PublicKeyKind, at: i64) -> Result<(), Refusal> {
    let refuse = |why: &str| {
        Err(Refusal {
            code: "CRYPTREC-KEY",
            text: format!("{}: {why}", crypto::key_name(k)),
        })
    };
    match k {
        PublicKeyKind::Rsa { modulus_bits } | PublicKeyKind::RsaPss { modulus_bits, .. } => {
            if *modulus_bits < 2000 {
                refuse("key shorter than 2048 bits")
            } else if *modulus_bits < 3000 && at >= END_OF_112_BIT {
                refuse("112-bit security is not accepted after 2030")
            } else {
                Ok(())
            }
        }
        PublicKeyKind::Dsa { p_bits, .. } => {
            if *p_bits < 2000 {
                refuse("key shorter than 2048 bits")
            } else if *p_bits < 3000 && at >= END_OF_112_BIT {
                refuse("112-bit security is not accepted after 2030")
            } else {
                Ok(())
            }
        }
        PublicKeyKind::Ec(Curve::P224) => refuse("curve below 128-bit security"),
        PublicKeyKind::Ec(_) | PublicKeyKind::Ed25519 | PublicKeyKind::Ed448 => Ok(()),
        _ => refuse("unknown key type"),
    }
}

/// Checks a signature algorithm together with its key.
pub fn check_signature(a: &SignatureAlgorithm, k: &PublicKeyKind, at: i64) -> Result<(), Refusal> {
    if let Some(d) = crypto::sig_digest(a) {
        check_digest(d, at)?;
    }
    if let SignatureAlgorithm::RsaPss(p) = a {
        check_digest(p.mgf1_hash, at)?;
    }
    check_key(k, at)
}
