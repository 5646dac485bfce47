//! Bridge to the CRYPTREC policy of `inkan-profiles`: a key is checked for `Use::Create` when
//! it is loaded.

use inkan_profiles::alg::PublicKeyKind;
use inkan_profiles::policy::Use;
pub use inkan_profiles::policy::{Policy, Refusal};
use inkan_profiles::time::UnixTime;

/// Checks that `kind` may make new signatures at `at`.
pub(crate) fn check_key_create(
    policy: &Policy,
    kind: &PublicKeyKind,
    at: UnixTime,
) -> Result<(), Refusal> {
    policy.check_key(kind, Use::Create, at)
}
