//! Library of the tsa crate (under construction).
#![forbid(unsafe_code)]
