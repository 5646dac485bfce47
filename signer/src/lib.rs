//! # inkan-signer
//!
//! The library behind `inkan-sign`: CAdES baseline signatures (ETSI EN 319 122-1 B-B, B-T,
//! B-LT, B-LTA) made with a key from `inkan-hsm`, extension of existing signatures (ours or
//! another signer's) by splicing raw bytes, an RFC 3161 client, and batch signing of many files.
//!
//! Command-line additions beyond INTERFACE.md (documented in [`cli`]): `--no-fetch` (B-LT from
//! the given `--crl`/`--ocsp` files only, no network), `extend --cert-chain PEM` (extra
//! certificates for the signature being extended), the `--tsa-*` access flags and
//! `--proxy URL|none` (the HTTP proxy for every request; see [`proxy`]).
//!
//! Batch output is atomic per file and durable per group (see [`output`]): after a crash each
//! `.p7s` is either in its previous state or complete, never partial.
//!
//! Batch throughput (see [`sign::sign_files`] and [`output`]): each worker reads, hashes and
//! signs its next input through one of the key's pooled sessions and writes the signature to
//! an unnamed temporary file (`O_TMPFILE`); a full group of them goes to the committer thread
//! in one hand-off (no per-file hand-off), which makes it durable with one `syncfs(2)` (joining
//! any other group that waits), links (`linkat(2)`) each file under its final name and syncs
//! the directory, so no worker waits for the disk. [`sign::set_commit_thread`] lets the
//! workers commit their own groups instead (the benchmark compares both).
//! [`sign::Summary::stages`] tells where the time went; `benches/batch.rs` prints it.
//!
//! Dependencies beyond the house set: `rustix` (Linux only; already in the tree through
//! `tempfile`) for the safe `syncfs(2)` that makes a group of outputs durable in one call, and
//! the safe `openat(O_TMPFILE)` and `linkat(2)` of unnamed temporary files.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod alg_protection;
pub mod ats;
pub mod cades;
pub mod certs;
pub mod cli;
pub mod cms_raw;
pub mod crypto;
pub mod der_raw;
pub mod digest;
pub mod https;
pub mod output;
pub mod proxy;
pub mod revocation;
pub mod sign;
pub mod tsa_client;
pub mod tst;
