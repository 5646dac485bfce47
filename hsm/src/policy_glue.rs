//! Bridge to the CRYPTREC policy of `inkan-profiles`.
//!
//! TEMPORARY: until `profiles::policy::{Policy, Refusal}` land, this module carries a minimal
//! stand-in with the same shape (RSA < 2048 and P-224 refused), so the backends can be built
//! and tested. It is replaced by re-exports when the contract types exist.

use std::fmt;

use inkan_profiles::alg::{Curve, PublicKeyKind};
use inkan_profiles::time::UnixTime;

/// Stand-in for `inkan_profiles::policy::Policy`.
#[derive(Clone, Debug, Default)]
pub struct Policy;

impl Policy {
    /// The CRYPTREC LS-0001-2022 policy.
    pub fn cryptrec() -> Self {
        Self
    }
}

/// Stand-in for `inkan_profiles::policy::Refusal`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Stable rule code.
    pub rule: &'static str,
    /// Human text.
    pub text: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (CRYPTREC LS-0001-2022): {}", self.rule, self.text)
    }
}

/// Checks that `kind` may make new signatures at `at`.
pub(crate) fn check_key_create(
    _policy: &Policy,
    kind: &PublicKeyKind,
    _at: UnixTime,
) -> Result<(), Refusal> {
    match kind {
        PublicKeyKind::Rsa { modulus_bits } | PublicKeyKind::RsaPss { modulus_bits, .. }
            if *modulus_bits < 2048 =>
        {
            Err(Refusal {
                rule: "key-strength",
                text: format!("RSA-{modulus_bits} is below 112-bit strength"),
            })
        }
        PublicKeyKind::Ec(Curve::P224) => Err(Refusal {
            rule: "key-strength",
            text: "P-224 is below the required strength".into(),
        }),
        _ => Ok(()),
    }
}
