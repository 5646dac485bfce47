//! The CRYPTREC policy as data: may this algorithm and key be used to create, or to validate, at
//! time T? (`../shared/spec/standards.md` sections 1.1–1.2.)
//!
//! CONTRACT (shared by every crate; extend, do not rename): [`Use`], [`Policy`],
//! [`Refusal`] and the `check_*` methods.

/// What a key or algorithm is about to be used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Use {
    /// Making a new signature, time stamp or certificate at time T.
    Create,
    /// Validating an existing one whose existence is proven at time T (its best proof of
    /// existence).
    Validate,
}

use crate::alg::{Curve, PublicKeyKind};

/// Key size to security strength (`standards.md` §1.2, the NIST SP 800-57 mapping that the
/// CRYPTREC strength table uses). Rows: (minimum RSA/DH modulus bits, strength in bits).
pub const RSA_STRENGTH_TABLE: [(u32, u32); 6] = [
    (15_360, 256),
    (7_680, 192),
    (3_072, 128),
    (2_048, 112),
    (1_024, 80),
    (0, 0),
];

/// Security strength of a named curve (`standards.md` §1.2 and §1.4).
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
