//! Shared helpers for inkan's end-to-end tests.
#![forbid(unsafe_code)]
