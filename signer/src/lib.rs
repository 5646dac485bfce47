//! # inkan-signer
//!
//! The library behind `inkan-sign`: CAdES baseline signatures (ETSI EN 319 122-1 B-B, B-T,
//! B-LT, B-LTA) made with a key from `inkan-hsm`, extension of existing signatures (ours or
//! another signer's) by splicing raw bytes, an RFC 3161 client, and batch signing of many files.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod ats;
pub mod cades;
pub mod certs;
pub mod cli;
pub mod cms_raw;
pub mod crypto;
pub mod der_raw;
pub mod digest;
pub mod output;
pub mod revocation;
pub mod sign;
pub mod tsa_client;
pub mod tst;
