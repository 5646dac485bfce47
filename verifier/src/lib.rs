//! Library of the verifier crate (under construction).
#![forbid(unsafe_code)]
