//! End-to-end tests of inkan-tsa over real HTTP on 127.0.0.1 with OpenSSL as the peer.

mod common;
// --dev as a real process.
mod dev;
// openssl ts -query -> POST -> openssl ts -verify, failure codes, HTTP errors.
mod interop;
// 500 concurrent requests, restarts.
mod serials;
// Real SNTP responders: good, skewed, silent, good; three servers, majority rule.
mod clock;
// kill -9 of the real binary under load.
mod crash;
// A key on a SoftHSM2 token; token removal gives systemFailure.
mod softhsm;
// Log output to a pipe (no colour codes) and bad log settings.
mod logs;
// Connection deadlines, request timeouts and the signing queue bound.
mod connections;
// Serials across separate, restored and copied stores; records, chain and events via the CLI.
mod audit;
// Certificate and key checks at start-up and for every token (expiry, CRYPTREC period).
mod identity;
// Tokens: the configured chain, cms-algorithm-protection, protocol edges.
mod tokens;
// Two and more instances sharing a real PostgreSQL server the test starts itself.
mod cluster;
// SIGHUP: key and certificate rollover, refused pairs, readiness datagrams for systemd.
mod reload;
// check beside a running TSA, the start-up line, SNTP diagnosis and metrics, backup and restore.
mod operations;
// docs/operations.md: its commands parse, its unit is the one described.
mod docs;
