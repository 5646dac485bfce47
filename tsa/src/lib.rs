//! # inkan-tsa: an RFC 3161 / RFC 5816 time-stamp authority
//!
//! ## Design
//! A request flows: [`server`] (hyper 1.x, HTTP/1.1 keep-alive with pipelining + HTTP/2,
//! limits) → [`ntp::TimeGuard::now_for_issuing`] (may a token be stamped now? a refusal is
//! final) → the [`pool::SigningPool`] queue → a signing thread runs [`handler::handle`]
//! (request bytes and [`handler::Context`]; genTime is asked of the guard again right before
//! the signature, so queue wait never eats into the declared accuracy: strict DER parse with
//! `inkan_profiles::asn1::tsp::TimeStampReq` and a re-encoding check, imprint length, the
//! CRYPTREC policy through `Policy::check_digest(d, Use::Create, t)`, the reqPolicy, a
//! hand-written TSTInfo DER encoder (tested against `TstInfo::parse_der`), the signature through
//! `inkan_hsm::cms::CmsSignerTemplate` in [`token`], a binary record) → the records writer
//! ([`records`], group commit; the response is released only once its record is durable) →
//! response. Every rejection maps to its `PKIFailureInfo` in one place, [`handler::Failure`].
//!
//! ## Throughput
//! Measured with the generator in the repo (`src/bin/inkan-tsa-load.rs`), TSA and generator on
//! the same 2-core machine, durable records. Profiling (`perf record -g` on the running
//! generator) showed that the costs per token that mattered were thread hand-offs and
//! wake-ups, redb pages written per commit, loopback TCP and the generator's own HTTP client,
//! not the DER work. Hence: a fixed signing pool ([`pool`]) that takes queued requests in
//! batches and wakes a thread only when one is idle; batches handed to the writer in one
//! message; group commits that grow with the load; binary records and only time-ordered keys
//! on the hot path (a random imprint index cost ~75 page writes per commit: see [`records`]);
//! an allocation-free genTime; a generator on one thread with raw TCP and precomputed
//! requests. With a software P-256 key: 24,000–27,000 tokens/s, about 70–75 µs of CPU per
//! token for server and generator together over HTTP/1.1 (the raw ring signature is about 20
//! µs of it), about 50 µs over HTTP/2. RSA-3072 runs at the raw signing rate. Signing on
//! dedicated HSM threads (the pool queuing only `C_Sign`) was tried and measured slower
//! (7,300/s against 9,700/s), so PKCS#11 keys sign on the pool threads, each checking a session
//! out of `inkan_hsm`'s pool.
//!
//! The measurements behind these choices, round by round, with the commands and what was
//! tried and not kept, are in `docs/performance.md` of the repository.
//!
//! ## Development mode
//! `inkan-tsa serve --dev` makes a development CA, TSA certificate and P-256 key once under the
//! data directory through `inkan_hsm::devpki` (every subject says NOT FOR PRODUCTION, and a
//! `DEV-NOT-FOR-PRODUCTION.txt` sits beside them), writes `DATA_DIR/dev-root.pem`, reuses them
//! on later starts, and prints how to try it with `openssl ts` and `curl`; see [`dev`].
//!
//! ## Store choice
//! redb (pure Rust, copy-on-write B-trees, durable on `commit()`, crash-safe, single-writer /
//! many-reader across processes so `inkan-tsa records` runs beside the server); see
//! [`records`] for the full justification and the group-commit scheme.
//!
//! Several instances behind a load balancer share one PostgreSQL database instead
//! (`--store postgresql://...`, [`pgstore`]): the same group commit and record format behind
//! the [`records::Store`] boundary, an instance number per instance by a renewed lease, one hash
//! chain per instance number; the deployment guide is `docs/deployment.md`.
//!
//! ## Serial numbers
//! `prefix(64) | epoch(32) | counter(32, carrying up)`: a 64-bit random prefix drawn at every
//! start and never reused by the store, and the epoch durably reserved per start-up as
//! `max(previous + 1, unix_seconds)`: one store's serials cannot repeat by construction, and
//! independent stores, restored backups and copied data directories are kept apart by the
//! random prefix without any setting; at most 128 bits; see [`serial`].
//!
//! ## Connections and load
//! Every connection must show its protocol and first request within `header_read_timeout` and
//! is closed after `idle_timeout` without a request (HTTP/2: GOAWAY, and keep-alive PINGs), so
//! that silent or idle clients cannot hold the connection slots; the signing queue is bounded
//! (`max_queue`) and a request past it, or one that runs out of `request_timeout`, gets a
//! systemFailure `TimeStampResp` at once; see [`server`] and [`pool`].
//!
//! Measured on the shared 2-core test machine with the release build and `inkan-tsa-load
//! --url`: a flood of 64 HTTP/2 connections × 256 streams (16,384 requests in flight, four
//! times `max_queue`) got every answer as a `TimeStampResp` (90,000 of 250,000 systemFailure
//! "queue full" rejections in 12 s, the rest granted); resident memory rose to about 93 MB
//! with the streams in flight and stayed between 93 and 108 MB with `store_cache_mb = 8`.
//!
//! ## Memory
//! The records store's page cache is bounded (`store_cache_mb`, default 64 MiB; redb's own
//! default of 1 GiB let resident memory grow by hundreds of MB under sustained load). Measured
//! with 256 HTTP/1.1 connections for 60 s (about 8,600 tokens/s on the shared machine): 37, 57,
//! 75, 87, 87, 87 MB at 10 s intervals, flat once the cache is full.
//!
//! ## Audit trail
//! Records keep genTime exactly as the token carries it (microseconds), optionally the token
//! itself (`keep_tokens`), and a hash chain across restarts that `inkan-tsa records
//! --verify-chain` walks; service events (start, stop, clock, certificate and key warnings,
//! store outages, rejection counts, periodic clock measurements) are written through
//! [`records::Recorder::record`] and exported by `inkan-tsa events`; see [`records`].
//!
//! ## Time discipline
//! The host clock stamps; SNTP checks it against a majority of servers with
//! `|offset| + delay/2 + root distance <= accuracy` within a freshness window, else
//! `timeNotAvailable` and `/readyz` 503 until it recovers. Every token also compares the wall
//! clock with the monotonic clock since those measurements, so a step between polls stops
//! issuing at once and issuing resumes on fresh measurements; without servers steps are
//! events and metrics, and steps beyond the accuracy stop issuing until a restart. Leap
//! seconds at the end of June 30 / December 31; SNTP with random transmit timestamps and
//! kiss-o'-death handling; see [`ntp`].
//!
//! ## The signing identity
//! Start-up checks the key, the certificate and the chain ([`startup`]); the instants at which
//! the certificate's validity and the key's CRYPTREC period end are checked for every token
//! (systemFailure, `/readyz` 503, events, a warning 30 days ahead), see
//! [`ntp::IdentityWindow`]. Tokens carry the cms-algorithm-protection attribute (RFC 6211)
//! and, with certReq, the configured chain ([`token`]).
//!
//! ## Operations
//! SIGHUP reloads the key and certificate chain the configuration names through the same
//! start-up checks, or keeps the live pair ([`app::Reloader`]; tokens being made finish with
//! the pair they started with, serials go on); with `NOTIFY_SOCKET` set the TSA tells systemd
//! `READY=1`, `RELOADING=1` and `STOPPING=1` ([`notify`]); `inkan-tsa check` runs the
//! start-up checks beside a running TSA ([`check`]); `inkan-tsa backup` copies the store in
//! one read transaction ([`records::Reader::backup`]). The operator's guide is
//! `docs/operations.md`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod app;
pub mod check;
pub mod cli;
pub mod config;
pub mod dev;
pub mod group;
pub mod handler;
pub mod metrics;
pub mod notify;
pub mod ntp;
pub mod pgstore;
pub mod pool;
pub mod record;
pub mod records;
pub mod serial;
pub mod server;
pub mod startup;
pub mod timefmt;
pub mod token;
