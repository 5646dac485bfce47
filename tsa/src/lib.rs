//! # inkan-tsa: an RFC 3161 / RFC 5816 time-stamp authority
//!
//! ## Design
//! A request flows: [`server`] (hyper 1.x, HTTP/1.1 keep-alive + HTTP/2, limits) →
//! [`ntp::TimeGuard::now_for_issuing`] (may this instant be stamped?) → [`handler::handle`] on a
//! blocking thread (a pure function of request bytes, [`handler::Context`] and the allowed time:
//! strict DER parse with re-encoding check, CRYPTREC imprint check, policy, TSTInfo DER,
//! signature through `inkan_hsm::cms` in [`token`]) → [`records::Recorder::commit`] (group
//! commit; the response is held until the record is durable) → response. Every rejection maps
//! to its `PKIFailureInfo` in one place, [`handler::Failure`].
//!
//! ## Store choice
//! redb (pure Rust, copy-on-write B-trees, durable on `commit()`, crash-safe, single-writer /
//! many-reader across processes so `inkan-tsa records` runs beside the server); see
//! [`records`] for the full justification and the group-commit scheme.
//!
//! ## Serial numbers
//! `instance_id(16) | epoch(32) | counter(64)`, the epoch durably reserved per start-up as
//! `max(previous + 1, unix_seconds)`: unique forever across restarts, crashes and instances,
//! at most 112 bits; see [`serial`].
//!
//! ## Time discipline
//! The host clock stamps; SNTP checks it against a majority of servers with
//! `|offset| + delay/2 + root distance <= accuracy` within a freshness window, else
//! `timeNotAvailable` and `/readyz` 503 until it recovers; leap-second window policy; see
//! [`ntp`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod app;
pub mod cli;
pub mod config;
pub mod dev;
pub mod handler;
pub mod metrics;
pub mod ntp;
pub mod pool;
pub mod records;
pub mod serial;
pub mod server;
pub mod startup;
pub mod timefmt;
pub mod token;
