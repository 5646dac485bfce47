//! Library of the signer crate (under construction).
#![forbid(unsafe_code)]
