//! # inkan-profiles
//!
//! The pure foundation of inkan: the CRYPTREC algorithm catalogue and date-aware strength
//! policy, the ASN.1 types that upstream RustCrypto does not yet carry on the `der` 0.8 stack
//! (RFC 3161, ESS/CAdES attributes, OCSP), signature verification for every algorithm the policy
//! knows, and the one clock module of the workspace.
//!
//! No I/O, no key material, no async. The only place that reads the system clock is
//! [`clock::SystemClock`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod alg;
pub mod asn1;
pub mod clock;
pub mod oid;
pub mod policy;
pub mod time;
pub mod verify;
