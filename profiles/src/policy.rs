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
