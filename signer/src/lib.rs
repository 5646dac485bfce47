//! # inkan-signer
//!
//! The library behind `inkan-sign`: CAdES baseline signatures (ETSI EN 319 122-1 B-B, B-T,
//! B-LT, B-LTA) made with a key from `inkan-hsm`, extension of existing signatures (ours or
//! another signer's) by splicing raw bytes, an RFC 3161 client, and batch signing of many files.
//! PDF inputs are signed inside themselves as PAdES baseline (ETSI EN 319 142-1, [`pades`]:
//! incremental updates, DSS, document time-stamps; `extend` on PDFs), and `inkan-sign
//! timestamp` time-stamps files without a key ([`timestamp`]). A PDF is read by ranges and
//! hashed from disk, never held whole ([`pades::PdfFile`]); `--seal-image` draws the
//! organisation's seal in the signature's field ([`seal`], with its own small PNG decoder:
//! no image crate is added).
//!
//! Command-line additions beyond the common contract (documented in [`cli`]): `--no-fetch` (B-LT from
//! the given `--crl`/`--ocsp` files only, no network), `extend --cert-chain PEM` (extra
//! certificates for the signature being extended), the `--tsa-*` access flags and
//! `--proxy URL|none` (the HTTP proxy for every request; see [`proxy`]).
//!
//! A batch is planned before anything is signed (see [`plan`]): the same file named twice is
//! signed once, two inputs that would write the same output refuse the batch, an output that
//! exists is refused unless `--force` or `--skip-existing`, and signature files met in a batch
//! are skipped.
//!
//! Batch output is atomic per file and durable per group (see [`output`]): after a crash each
//! `.p7s` is either in its previous state or complete, never partial.
//!
//! Batch throughput (see [`sign::sign_files`] and [`output`]): each worker takes a burst of
//! inputs, reads and hashes them, signs them through one of the key's pooled sessions and
//! writes the signatures to unnamed temporary files (`O_TMPFILE`); a full group of them goes
//! to the committer thread in one hand-off (no per-file hand-off), which makes it durable with
//! one `syncfs(2)` (joining any other group that waits), links (`linkat(2)`) each file under
//! its final name and syncs the directory, so no worker waits for the disk.
//! [`sign::set_commit_thread`] lets the workers commit their own groups instead (the benchmark
//! compares both). [`sign::Summary::stages`] tells where the time went; `benches/batch.rs`
//! prints it.
//!
//! # Performance
//!
//! Measured by `cargo bench -p inkan-signer --bench batch` (CAdES batches) and `--bench pdf`
//! (PAdES against pyHanko); the method, the figures and what was tried are in
//! `docs/performance.md` of the repository.
//!
//! # Dependencies
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
pub mod chain;
pub mod cli;
pub mod commitment;
pub mod crypto;
pub mod digest;
pub mod error;
pub mod https;
pub mod output;
pub mod pades;
pub mod plan;
pub mod proxy;
pub mod report;
pub mod revocation;
pub mod seal;
pub mod setup;
pub mod sign;
pub mod timestamp;
pub mod tsa_client;
pub mod tst;
