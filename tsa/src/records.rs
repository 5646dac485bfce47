//! The records store: every issued token, rejection counters, key/certificate/clock events, and
//! the serial-number epochs, in one embedded [redb](https://docs.rs/redb) file
//! `DATA_DIR/records.redb`.
//!
//! # Why redb (and not SQLite)
//!
//! * Pure Rust, no C library and no build script: it builds wherever the TSA builds, and the
//!   store cannot be the one part that needs a system package on an HSM host.
//! * Copy-on-write B-trees with a checksummed, two-slot commit header: a commit is durable when
//!   `commit()` returns ([`Durability::Immediate`], one `fsync`), and after a `kill -9` or power
//!   loss the file opens at the last committed transaction, with no journal to replay by hand.
//! * `ConcurrencyMode::SingleWriter` lets `inkan-tsa records` open the file read-only *while the
//!   server runs* and follow its commits: an auditor's query needs no downtime.
//! * The workload is a single writer with append-mostly keys, which is what redb is good at;
//!   SQLite's strengths (ad-hoc SQL, many writers) buy nothing here, and `rusqlite` 0.42 does not
//!   even resolve from this machine's registry mirror (`../shared/spec/field-notes.md`).
//!
//! # Group commit, sized to load
//!
//! One writer thread owns the write transactions. The signing threads hand it their granted
//! tokens in batches ([`Recorder::commit_batch`], one channel message per batch of requests
//! they signed together); the writer takes everything queued (up to `max_batch` tokens),
//! writes it in one transaction, commits it durably (one `fsync`), and only then releases
//! every response of the batch. While one `fsync` runs the next batch gathers, so the batch
//! size follows the load by itself: one token per commit when idle (lowest latency), hundreds
//! under load (the `fsync` shared by all of them).
//!
//! The writer commits as soon as the previous commit has returned and something waits
//! (classic group commit); it never waits because a timer says so. It holds a group open only
//! while that raises throughput (`decide`): while more requests wait in the signing pool's
//! queue than the group holds ([`Recorder::set_backlog`]), the signing threads are saturated
//! and have work for longer than a commit takes, so holding the group for up to one commit's
//! measured duration costs them nothing, and a commit's fixed cost (copy-on-write of the
//! B-tree spines, two `fdatasync`s, file locks: about 0.5-0.8 ms of CPU on the test VM, CPU
//! the signing threads need on a small machine) is shared by more tokens. A client with few
//! requests in flight leaves the queue empty and is never held: with a fixed interval, 16
//! connections got at most 16 tokens per interval while the CPU idled (Little's law).
//! `commit_interval_ms` (default 0) still lets an operator impose a least time between two
//! commits under load. The same writer loop and the same decision serve the shared PostgreSQL
//! store (`GroupSink`, [`crate::pgstore`]): there a commit's fixed cost is the round trip
//! and the database's WAL flush, measured the same way. The HTTP response carrying a token is sent
//! only after its record's commit has returned: a client can never hold a token the store does
//! not know, even after `kill -9`.
//!
//! # Tables
//!
//! | table | key | value |
//! |---|---|---|
//! | `token_records` | serial (u128) | the record, binary: format 2 ([`encode_record`] then the chain link and the kept token, see [`Chain`]); format 1 from 0.1 |
//! | `idx_time` | (genTime in ns since 1970, as the token carries it, serial) | () |
//! | `events` | sequence number | JSON `{seq, time, kind, detail, data}` ([`Event`]) |
//! | `rejections` | failure reason | count |
//! | `meta` | name | u64 (`epoch`) |
//! | `serial_prefixes` | every serial prefix this store took ([`crate::serial`]) | its epoch |
//! | `chain` | `head` | next sequence number (u64 BE) and the chain hash of the last record |
//!
//! Token records are binary (about 150 bytes with the chain link, no text formatting on the
//! hot path) and become
//! JSON lines ([`TokenRecord`]) only when `inkan-tsa records` prints them. The time index is a
//! plain table with a composite key (cheaper to insert into than a multimap).
//!
//! Every key written on the hot path grows with time (serials within a start-up, genTime), so
//! a commit appends to a few B-tree leaves instead of dirtying one random page per token. An
//! imprint index would do exactly that (imprints are random): measured, it made a 100-token
//! commit write about 75 pages, and group commits took 12 ms instead of about 4. So there is
//! none: `records --imprint` reads the records in one pass (about a second per million
//! tokens), which suits an auditor's occasional question.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use inkan_profiles::clock::Clock;
use inkan_profiles::time::UnixTime;
use redb::{
    ConcurrencyMode, Database, Durability, ReadableDatabase, ReadableTable, TableDefinition,
};
use serde::{Deserialize, Serialize};

use crate::serial::{self, Serial};
use crate::timefmt;

const TOKENS: TableDefinition<'_, u128, &[u8]> = TableDefinition::new("token_records");
const BY_TIME: TableDefinition<'_, (u64, u128), ()> = TableDefinition::new("idx_time");
const EVENTS: TableDefinition<'_, u64, &str> = TableDefinition::new("events");
const REJECTIONS: TableDefinition<'_, &str, u64> = TableDefinition::new("rejections");
const META: TableDefinition<'_, &str, u64> = TableDefinition::new("meta");
const PREFIXES: TableDefinition<'_, u64, u64> = TableDefinition::new("serial_prefixes");
const CHAIN: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("chain");

/// The file name inside the data directory.
pub const FILE_NAME: &str = "records.redb";

/// One issued token, as stored and as printed by `inkan-tsa records` (one JSON line).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Serial number, lower-case hex without leading zeros.
    pub serial: String,
    /// genTime, RFC 3339 UTC.
    pub gen_time: String,
    /// Policy OID.
    pub policy: String,
    /// Imprint hash algorithm name (`sha256`, ...).
    pub imprint_alg: String,
    /// Imprint octets, hex.
    pub imprint: String,
    /// SHA-256 of the DER TSA certificate that signed, hex.
    pub cert_sha256: String,
    /// The request nonce as hex of its DER INTEGER content octets, if any.
    pub nonce: Option<String>,
    /// The issued token (DER `ContentInfo`, hex), when the TSA keeps tokens (`keep_tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// A token record ready for the store: the binary keys the indexes need and the encoded
/// record ([`encode_record`]).
#[derive(Clone, Debug)]
pub struct Issued {
    /// Serial.
    pub serial: Serial,
    /// genTime.
    pub gen_time: UnixTime,
    /// Imprint octets.
    pub imprint: Vec<u8>,
    /// The binary record.
    pub record: Vec<u8>,
}

/// Format byte of [`encode_record`].
const RECORD_FORMAT: u8 = 1;
/// Format byte of a stored, chained record: format 1 followed by the chain link (see
/// [`Chain`]) and the optional token.
const CHAINED_FORMAT: u8 = 2;

/// Digits of the genTime fraction every token carries (microseconds; RFC 3161 §2.4.2 lets
/// the TSA choose, and records must say exactly what the token says).
pub const GEN_TIME_DIGITS: u32 = 6;

/// `t` cut to the precision of a token's genTime ([`GEN_TIME_DIGITS`]): what the token says.
pub fn token_time(t: UnixTime) -> UnixTime {
    const STEP: u32 = 10u32.pow(9 - GEN_TIME_DIGITS);
    UnixTime::new(t.secs(), t.subsec_nanos() / STEP * STEP)
}
/// Nonce length marking "no nonce".
const NO_NONCE: u16 = u16::MAX;

/// Encodes a token record (format 1): format byte, genTime seconds (u64 BE) and nanoseconds
/// (u32 BE; cut to the token's own precision, [`token_time`], so that a token is found by the
/// genTime it carries), then length-prefixed (u8) imprint algorithm name, policy OID (DER content
/// octets) and imprint octets, the 32-byte SHA-256 of the TSA certificate, and the nonce's
/// DER INTEGER content octets with a u16 BE length (`0xffff`: no nonce).
pub fn encode_record(
    out: &mut Vec<u8>,
    gen_time: UnixTime,
    imprint_alg: &str,
    policy_der: &[u8],
    imprint: &[u8],
    cert_sha256: &[u8; 32],
    nonce: Option<&[u8]>,
) {
    let short = |b: &[u8]| u8::try_from(b.len()).unwrap_or(u8::MAX);
    let gen_time = token_time(gen_time);
    out.push(RECORD_FORMAT);
    out.extend_from_slice(&gen_time.secs().to_be_bytes());
    out.extend_from_slice(&gen_time.subsec_nanos().to_be_bytes());
    for field in [imprint_alg.as_bytes(), policy_der, imprint] {
        // Each is at most 64 bytes in practice (names, OIDs, digests); cut at 255 regardless.
        let n = short(field);
        out.push(n);
        out.extend_from_slice(&field[..usize::from(n)]);
    }
    out.extend_from_slice(cert_sha256);
    match nonce {
        Some(n) => {
            let len = u16::try_from(n.len())
                .unwrap_or(NO_NONCE - 1)
                .min(NO_NONCE - 1);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&n[..usize::from(len)]);
        }
        None => out.extend_from_slice(&NO_NONCE.to_be_bytes()),
    }
}

/// The imprint octets of a record written by [`encode_record`], without decoding the rest.
fn record_imprint(b: &[u8]) -> Option<&[u8]> {
    if !matches!(b.first(), Some(&RECORD_FORMAT | &CHAINED_FORMAT)) {
        return None;
    }
    let mut at = 13;
    for _ in 0..2 {
        at += 1 + usize::from(*b.get(at)?);
    }
    let n = usize::from(*b.get(at)?);
    b.get(at + 1..at + 1 + n)
}

impl TokenRecord {
    /// Decodes a record written by [`encode_record`] (or stored with its chain link) for
    /// `serial`; `None` if it is not one.
    pub fn decode(serial: Serial, b: &[u8]) -> Option<Self> {
        Some(parse_stored(b)?.to_record(serial))
    }

    /// The JSON line `inkan-tsa records` prints.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The chain link (sequence number, hash of the previous record) of a stored record.
pub(crate) fn stored_link(b: &[u8]) -> Option<(u64, [u8; 32])> {
    let (seq, prev) = parse_stored(b)?.link?;
    Some((seq, prev.try_into().ok()?))
}

/// A stored record taken apart (format 1, or format 2 with its chain link).
struct Stored<'a> {
    secs: u64,
    nanos: u32,
    alg: &'a str,
    policy: const_oid::ObjectIdentifier,
    imprint: &'a [u8],
    cert: &'a [u8],
    nonce: Option<&'a [u8]>,
    /// Format 2: (sequence number, hash of the previous record).
    link: Option<(u64, &'a [u8])>,
    token: Option<&'a [u8]>,
}

fn parse_stored(b: &[u8]) -> Option<Stored<'_>> {
    let (&format, mut rest) = b.split_first()?;
    if format != RECORD_FORMAT && format != CHAINED_FORMAT {
        return None;
    }
    let mut take = |n: usize| -> Option<&[u8]> {
        let (head, tail) = rest.split_at_checked(n)?;
        rest = tail;
        Some(head)
    };
    let secs = u64::from_be_bytes(take(8)?.try_into().ok()?);
    let nanos = u32::from_be_bytes(take(4)?.try_into().ok()?);
    let mut short = || -> Option<&[u8]> {
        let n = usize::from(*take(1)?.first()?);
        take(n)
    };
    let alg = std::str::from_utf8(short()?).ok()?;
    let policy = const_oid::ObjectIdentifier::from_bytes(short()?).ok()?;
    let imprint = short()?;
    let cert = take(32)?;
    let nlen = u16::from_be_bytes(take(2)?.try_into().ok()?);
    let nonce = if nlen == NO_NONCE {
        None
    } else {
        Some(take(usize::from(nlen))?)
    };
    let (link, token) = if format == CHAINED_FORMAT {
        let seq = u64::from_be_bytes(take(8)?.try_into().ok()?);
        let prev = take(32)?;
        let tlen = u32::from_be_bytes(take(4)?.try_into().ok()?);
        let token = take(usize::try_from(tlen).ok()?)?;
        (Some((seq, prev)), (!token.is_empty()).then_some(token))
    } else {
        (None, None)
    };
    if nanos >= 1_000_000_000 || !rest.is_empty() {
        return None;
    }
    Some(Stored {
        secs,
        nanos,
        alg,
        policy,
        imprint,
        cert,
        nonce,
        link,
        token,
    })
}

impl Stored<'_> {
    fn to_record(&self, serial: Serial) -> TokenRecord {
        TokenRecord {
            serial: serial::to_hex(serial),
            gen_time: timefmt::rfc3339(UnixTime::new(self.secs, self.nanos)),
            policy: self.policy.to_string(),
            imprint_alg: self.alg.to_owned(),
            imprint: hex(self.imprint),
            cert_sha256: hex(self.cert),
            nonce: self.nonce.map(hex),
            token: self.token.map(hex),
        }
    }
}

/// A store failure (I/O, corruption, lock).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "records store: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

fn se(e: impl Into<redb::Error>) -> StoreError {
    StoreError(e.into().to_string())
}

/// Lower-case hex.
pub fn hex(b: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for &x in b {
        s.push(char::from(H[usize::from(x >> 4)]));
        s.push(char::from(H[usize::from(x & 15)]));
    }
    s
}

/// Parses hex (either case, even length).
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

pub(crate) fn time_key(t: UnixTime) -> u64 {
    let t = token_time(t);
    t.secs()
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::from(t.subsec_nanos()))
}

/// Called by the writer once a token's record is committed (`Ok`) or could not be (`Err`).
pub type Notify = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// A granted token waiting for its record to be committed.
pub struct Pending {
    /// The record.
    pub issued: Issued,
    /// What to do after the commit (release the response).
    pub notify: Notify,
    /// The issued token (DER `ContentInfo`), kept with the record when the store keeps
    /// tokens ([`Recorder::keeps_tokens`]).
    pub token: Option<Vec<u8>>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("serial", &self.issued.serial)
            .finish_non_exhaustive()
    }
}

/// Names of the service events (the `kind` of an `inkan-tsa events` line).
pub mod kind {
    /// The service started (key, certificate, serial prefix, chain head).
    pub const START: &str = "start";
    /// The service stopped gracefully (serials issued, chain head).
    pub const STOP: &str = "stop";
    /// `--dev`: the development PKI was made or reused.
    pub const DEV_PKI: &str = "dev_pki";
    /// No SNTP servers: the host clock is trusted.
    pub const CLOCK_TRUST_HOST: &str = "clock_trust_host";
    /// A majority of servers confirmed the clock within accuracy; issuing (again).
    pub const CLOCK_SYNCHRONISED: &str = "clock_synchronised";
    /// Issuing stopped: the clock is not (or no longer) confirmed within accuracy.
    pub const CLOCK_LOST: &str = "clock_lost";
    /// A wall-clock step (or drift) out of the accuracy budget was detected.
    pub const CLOCK_STEP: &str = "clock_step";
    /// A leap second was announced.
    pub const LEAP_ANNOUNCED: &str = "leap_announced";
    /// A periodic clock measurement (EN 319 421 OVR-7.12: records of clock synchronisation).
    pub const CLOCK_MEASUREMENT: &str = "clock_measurement";
    /// The TSA certificate nears or passed its end, or fails a check.
    pub const CERTIFICATE_WARNING: &str = "certificate_warning";
    /// The key nears or passed the end of its policy period, or fails a check.
    pub const KEY_WARNING: &str = "key_warning";
    /// The records store could not be written for a while (from, to, failed commits).
    pub const STORE_OUTAGE: &str = "store_outage";
    /// Rejections by reason since the previous such event.
    pub const REJECTIONS: &str = "rejections";
    /// SIGHUP: a new key and certificate passed the start-up checks and are live.
    pub const IDENTITY_RELOADED: &str = "identity_reloaded";
    /// SIGHUP: the key and certificate named by the configuration failed a check (or the
    /// configuration could not be read); the previous pair stays live.
    pub const IDENTITY_RELOAD_FAILED: &str = "identity_reload_failed";
}

/// A service event for the audit trail (`inkan-tsa events`): when, what ([`kind`]), a sentence
/// for people, and the measurements or values that decided it as named JSON fields.
///
/// ```
/// # use inkan_tsa::records::{Event, kind};
/// # use inkan_profiles::time::UnixTime;
/// let e = Event::new(UnixTime::from_secs(1_800_000_000), kind::CLOCK_LOST, "0 of 3 servers within accuracy")
///     .field("good", 0)
///     .field("of", 3);
/// assert!(e.to_json(7).contains("\"good\":0"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// When it happened.
    pub at: UnixTime,
    /// What happened (one of [`kind`], or another short snake_case name).
    pub kind: String,
    /// A sentence for the auditor.
    pub detail: String,
    /// Measurements and values (`offset_s`, `servers`, `not_after`, ...).
    pub data: serde_json::Map<String, serde_json::Value>,
}

impl Event {
    /// An event without data fields.
    pub fn new(at: UnixTime, kind: &str, detail: impl Into<String>) -> Self {
        Self {
            at,
            kind: kind.to_owned(),
            detail: detail.into(),
            data: serde_json::Map::new(),
        }
    }

    /// Adds a named value (a measurement, a count, a time as RFC 3339 text, ...).
    pub fn field(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.data.insert(name.to_owned(), value.into());
        self
    }

    /// The stored JSON line: `{"seq", "time", "kind", "detail", "data"}` (`data` only when
    /// there are fields).
    pub fn to_json(&self, seq: u64) -> String {
        let mut o = serde_json::Map::new();
        o.insert("seq".into(), seq.into());
        o.insert("time".into(), timefmt::rfc3339(self.at).into());
        o.insert("kind".into(), self.kind.clone().into());
        o.insert("detail".into(), self.detail.clone().into());
        if !self.data.is_empty() {
            o.insert("data".into(), serde_json::Value::Object(self.data.clone()));
        }
        serde_json::Value::Object(o).to_string()
    }
}

/// What the signing threads and the service hand the writer ([`Recorder`]).
pub(crate) enum Job {
    /// Granted tokens, to be committed before their responses leave.
    Tokens(Vec<Pending>),
    /// A service event.
    Event(Box<Event>),
    /// A rejection to count.
    Reject(&'static str),
    /// Answered once everything before it is committed.
    Flush(Sender<()>),
    /// Commit what came before, then end the writer.
    Stop,
}

/// The records store, behind one boundary: the handler, the records CLI and the events use
/// only [`Store`], [`Recorder`] and [`Reader`], and do not know which implementation is behind
/// them (issue 15).
///
/// * [`Store::Embedded`]: the redb file under the data directory (the default; one instance).
/// * [`Store::Postgres`]: a shared PostgreSQL database for several instances
///   ([`crate::pgstore`]).
///
/// Both share the group-commit writer (`writer_loop`), the record format ([`encode_record`])
/// and the hash chain ([`Chain`]); only the transaction differs.
#[derive(Debug)]
pub enum Store {
    /// The embedded redb store.
    Embedded(Embedded),
    /// The shared PostgreSQL store.
    Postgres(crate::pgstore::PgStore),
}

/// The embedded store: `DATA_DIR/records.redb`.
#[derive(Debug)]
pub struct Embedded {
    db: Arc<Database>,
    path: PathBuf,
}

/// Whether the store can be written now, for `/readyz` ([`Recorder::ready`]).
#[derive(Debug, Default)]
pub struct StoreHealth {
    /// The last group commit (or probe) failed.
    pub(crate) failing: std::sync::atomic::AtomicBool,
    /// The writer reports failures to `/readyz` (a store that is retried in the background;
    /// the embedded store, which has no background retry, only fails the requests).
    pub(crate) reported: bool,
    /// The instance lease of a shared store.
    pub(crate) lease: Option<Arc<crate::pgstore::Lease>>,
}

impl StoreHealth {
    /// `Ok` when the store is writable as far as this instance knows.
    pub fn check(&self) -> Result<(), String> {
        if let Some(l) = &self.lease {
            l.check()?;
        }
        if self.reported && self.failing.load(std::sync::atomic::Ordering::Relaxed) {
            return Err("the records store cannot be written".into());
        }
        Ok(())
    }
}

/// A cloneable handle that submits records to the writer thread.
#[derive(Clone, Debug)]
pub struct Recorder {
    tx: Sender<Job>,
    /// Requests waiting for a signing thread, as last published by the signing pool
    /// ([`Recorder::set_backlog`]); the writer holds a group open while it exceeds the group.
    backlog: Arc<AtomicUsize>,
    keep_tokens: bool,
    health: Arc<StoreHealth>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

/// Statistics of the writer, for `/metrics`.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Commits done.
    pub commits: AtomicU64,
    /// Token records committed.
    pub records: AtomicU64,
    /// Commits that failed.
    pub failures: AtomicU64,
    /// Time spent writing and committing, in microseconds.
    pub commit_micros: AtomicU64,
    /// Commit durations by [`WriterStats::COMMIT_BUCKETS`] (cumulative, as Prometheus wants).
    pub commit_buckets: [AtomicU64; 14],
    /// Token records per commit (commits that carried any) by [`WriterStats::GROUP_BUCKETS`].
    pub group_buckets: [AtomicU64; 12],
    /// Commits that carried token records.
    pub token_commits: AtomicU64,
}

impl WriterStats {
    /// Upper bounds of the commit-duration histogram, seconds.
    pub const COMMIT_BUCKETS: [f64; 14] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
    ];
    /// Upper bounds of the group-size histogram, token records.
    pub const GROUP_BUCKETS: [u64; 12] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

    /// Counts one group commit (tried): its duration and its token records.
    pub fn observe_commit(&self, took: Duration, tokens: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        let s = took.as_secs_f64();
        for (i, b) in Self::COMMIT_BUCKETS.iter().enumerate() {
            if s <= *b {
                self.commit_buckets[i].fetch_add(1, Relaxed);
            }
        }
        if tokens > 0 {
            self.token_commits.fetch_add(1, Relaxed);
            for (i, b) in Self::GROUP_BUCKETS.iter().enumerate() {
                if tokens as u64 <= *b {
                    self.group_buckets[i].fetch_add(1, Relaxed);
                }
            }
        }
    }
}

/// The running writer thread.
#[derive(Debug)]
pub struct Writer {
    handle: Option<JoinHandle<()>>,
}

impl Writer {
    /// Waits for the writer to drain and exit (after every [`Recorder`] is dropped).
    pub fn join(mut self) {
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// How the group-commit writer runs ([`Store::start_writer`]).
#[derive(Clone, Debug)]
pub struct WriterOptions {
    /// Most token records in one group commit.
    pub max_batch: usize,
    /// Under load, the least time between two commits (`commit_interval_ms`; zero, the
    /// default, commits as soon as the previous commit returns; see the module docs).
    pub interval: Duration,
    /// Keep each issued token with its record (configuration `keep_tokens`).
    pub keep_tokens: bool,
    /// The clock that dates store outages.
    pub clock: Arc<dyn Clock>,
}

impl WriterOptions {
    /// Options with the system clock and no kept tokens.
    pub fn new(max_batch: usize, interval: Duration) -> Self {
        Self {
            max_batch,
            interval,
            keep_tokens: false,
            clock: Arc::new(inkan_profiles::clock::SystemClock),
        }
    }
}

/// The hash chain over the token records (tamper evidence for the audit trail).
///
/// Every record is stored with its sequence number `n` (0, 1, 2, ... in commit order, across
/// restarts) and `prev`, the chain hash of record `n - 1`. The chain hash of a record is
/// `SHA-256(serial (16 bytes BE) || stored value)`, where the stored value includes `n`,
/// `prev` and the kept token if any: changing any byte of a record, or its serial, breaks the
/// link the next record carries. The `chain` table holds the head (the next sequence number
/// and the hash of the last record), written in the same transaction as the records, so that
/// removing the newest records is seen too. Record 0 links to the *genesis* hash: SHA-256 over
/// a label and every record written before the chain existed (format 1, in serial order), so
/// that an upgraded store's older records are covered as a whole.
///
/// The writer computes the links per group commit (one SHA-256 of about 150 bytes per token,
/// no lock). `inkan-tsa records --verify-chain` ([`Reader::verify_chain`]) walks the chain end
/// to end. The head is also written into the `start` and `stop` events, so an auditor can
/// compare it with a copy kept elsewhere (the log, a signed report): whoever can rewrite the
/// whole file can rebuild a consistent chain, and only a copy of the head held outside the
/// file shows that.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chain {
    /// The sequence number the next record gets (= records in the chain).
    pub next: u64,
    /// The chain hash of the last record (the genesis hash when there is none).
    pub head: [u8; 32],
}

impl Chain {
    pub(crate) const LABEL: &'static [u8] = b"inkan-tsa records chain v1";

    fn to_bytes(self) -> [u8; 40] {
        let mut b = [0u8; 40];
        b[..8].copy_from_slice(&self.next.to_be_bytes());
        b[8..].copy_from_slice(&self.head);
        b
    }

    fn from_bytes(b: &[u8]) -> Option<Self> {
        Some(Self {
            next: u64::from_be_bytes(b.get(..8)?.try_into().ok()?),
            head: b.get(8..40)?.try_into().ok()?,
        })
    }

    /// The chain hash of a stored record.
    pub(crate) fn link(serial: Serial, stored: &[u8]) -> [u8; 32] {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(serial.to_be_bytes());
        h.update(stored);
        h.finalize().into()
    }

    /// Hex of the head, for events and reports.
    pub fn head_hex(&self) -> String {
        hex(&self.head)
    }
}

/// Genesis hash over the format-1 records, fed in serial order.
struct Genesis(sha2::Sha256);

impl Genesis {
    fn new() -> Self {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(Chain::LABEL);
        Self(h)
    }

    fn add(&mut self, serial: Serial, value: &[u8]) {
        use sha2::Digest;
        self.0.update(serial.to_be_bytes());
        self.0
            .update(u32::try_from(value.len()).unwrap_or(u32::MAX).to_be_bytes());
        self.0.update(value);
    }

    fn finish(self) -> [u8; 32] {
        use sha2::Digest;
        self.0.finalize().into()
    }
}

/// Where the chain breaks ([`Reader::verify_chain`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainBreak {
    /// The record with this sequence number and serial was changed: the link the next record
    /// (or the head) carries does not match it.
    Changed {
        /// Sequence number.
        seq: u64,
        /// Serial.
        serial: Serial,
    },
    /// The record with this sequence number is missing (removed).
    Removed {
        /// The missing sequence number.
        seq: u64,
        /// The serial of the record before the gap, if any.
        after: Option<Serial>,
    },
    /// A record that the chain does not account for (a duplicate sequence number, one past
    /// the head, or an unchained record written after the chain began).
    Inserted {
        /// Its serial.
        serial: Serial,
    },
    /// The records written before the chain began (which the genesis hash covers) were
    /// changed, removed or added to.
    Genesis,
    /// A record that cannot be decoded.
    Unreadable {
        /// Its serial.
        serial: Serial,
    },
    /// The store has no chain head.
    NoHead,
}

impl std::fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = |v: &Serial| serial::to_hex(*v);
        match self {
            ChainBreak::Changed { seq, serial } => write!(
                f,
                "record #{seq} (serial {}) was changed: the chain link that follows it does not match",
                s(serial)
            ),
            ChainBreak::Removed { seq, after } => match after {
                Some(a) => write!(
                    f,
                    "record #{seq} was removed (the chain jumps after serial {})",
                    s(a)
                ),
                None => write!(f, "record #{seq} was removed (the chain starts later)"),
            },
            ChainBreak::Inserted { serial } => write!(
                f,
                "record with serial {} was inserted: the chain does not account for it",
                s(serial)
            ),
            ChainBreak::Genesis => f.write_str(
                "the records written before the chain began were changed, removed or added to",
            ),
            ChainBreak::Unreadable { serial } => {
                write!(f, "record with serial {} cannot be decoded", s(serial))
            }
            ChainBreak::NoHead => f.write_str("the store has no chain head"),
        }
    }
}

/// A chain that verified ([`Reader::verify_chain`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainReport {
    /// Chained records.
    pub records: u64,
    /// Records from before the chain (covered by the genesis hash).
    pub legacy: u64,
    /// The head.
    pub chain: Chain,
    /// A shared store's chains, one per instance number, each with its head (empty for the
    /// embedded store, whose one chain is [`ChainReport::chain`]).
    pub instances: Vec<(u16, Chain)>,
}

/// The serial-number space of one start-up ([`Store::reserve_serials`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SerialSpace {
    /// 64 random bits, never used before by this store.
    pub prefix: u64,
    /// The epoch.
    pub epoch: u32,
    /// The instance number this start-up holds in a shared store (carried in the prefix's top
    /// 16 bits); `None` for the embedded store.
    pub instance: Option<u16>,
}

impl Store {
    /// Opens (creating if needed) the embedded store under `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Embedded::open(data_dir).map(Store::Embedded)
    }

    /// Opens the embedded store under `data_dir` with a bounded page cache.
    pub fn open_with_cache(
        data_dir: &Path,
        cache_bytes: Option<usize>,
    ) -> Result<Self, StoreError> {
        Embedded::open_with_cache(data_dir, cache_bytes).map(Store::Embedded)
    }

    /// Opens the configured store: `url` (`postgresql://...`, see [`crate::pgstore`]) when
    /// given, else the embedded store under `data_dir`. A shared store is migrated and this
    /// instance's lease taken before this returns.
    pub fn open_configured(
        url: Option<&str>,
        data_dir: &Path,
        cache_bytes: Option<usize>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StoreError> {
        match url {
            Some(u) => crate::pgstore::PgStore::open(u, clock).map(Store::Postgres),
            None => Self::open_with_cache(data_dir, cache_bytes),
        }
    }

    /// The embedded store's file, or the shared store's location (without password).
    pub fn path(&self) -> &Path {
        match self {
            Store::Embedded(e) => e.path(),
            Store::Postgres(p) => p.path(),
        }
    }

    /// This instance's chain head as committed.
    pub fn chain(&self) -> Result<Chain, StoreError> {
        match self {
            Store::Embedded(e) => e.chain(),
            Store::Postgres(p) => p.chain(),
        }
    }

    /// A shared store's serial prefix, replaced when the instance takes another number.
    pub fn prefix_cell(&self) -> Option<Arc<AtomicU64>> {
        match self {
            Store::Embedded(_) => None,
            Store::Postgres(p) => Some(p.prefix_cell()),
        }
    }

    /// Reserves the next serial epoch (see [`crate::serial`]) durably.
    pub fn reserve_epoch(&self, now: UnixTime) -> Result<u32, StoreError> {
        match self {
            Store::Embedded(e) => e.reserve_epoch(now),
            Store::Postgres(p) => p.reserve_serials(now).map(|s| s.epoch),
        }
    }

    /// Reserves this start-up's serial space (see [`crate::serial`]), durably, before the
    /// first token.
    pub fn reserve_serials(&self, now: UnixTime) -> Result<SerialSpace, StoreError> {
        match self {
            Store::Embedded(e) => e.reserve_serials(now),
            Store::Postgres(p) => p.reserve_serials(now),
        }
    }

    /// Writes one event durably, outside the group-commit path (start-up and shutdown).
    pub fn event_now(&self, at: UnixTime, kind: &str, detail: &str) -> Result<(), StoreError> {
        self.record_now(&Event::new(at, kind, detail))
    }

    /// Writes one event durably, outside the group-commit path.
    pub fn record_now(&self, e: &Event) -> Result<(), StoreError> {
        match self {
            Store::Embedded(s) => s.record_now(e),
            Store::Postgres(p) => p.record_now(e),
        }
    }

    /// Starts the group-commit writer ([`Embedded::start_writer`]).
    pub fn start_writer(
        &self,
        opts: WriterOptions,
        stats: Arc<WriterStats>,
    ) -> Result<(Recorder, Writer), StoreError> {
        match self {
            Store::Embedded(e) => e.start_writer(opts, stats),
            Store::Postgres(p) => p.start_writer(opts, stats),
        }
    }

    /// Read access for queries while this process owns the store.
    pub fn reader(&self) -> Reader {
        match self {
            Store::Embedded(e) => e.reader(),
            Store::Postgres(p) => Reader {
                db: ReaderDb::Pg(p.reader()),
            },
        }
    }

    #[cfg(test)]
    fn db(&self) -> &Database {
        match self {
            Store::Embedded(e) => &e.db,
            Store::Postgres(_) => unreachable!("embedded tests only"),
        }
    }
}

impl Embedded {
    /// Opens (creating if needed) `DATA_DIR/records.redb` for writing, with redb's default
    /// page cache.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Self::open_with_cache(data_dir, None)
    }

    /// Opens (creating if needed) `DATA_DIR/records.redb` for writing; `cache_bytes` bounds
    /// the store's page cache (redb's default is 1 GiB).
    pub fn open_with_cache(
        data_dir: &Path,
        cache_bytes: Option<usize>,
    ) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| StoreError(format!("cannot create {}: {e}", data_dir.display())))?;
        let path = data_dir.join(FILE_NAME);
        let mut b = Database::builder();
        b.set_concurrency_mode(ConcurrencyMode::SingleWriter);
        if let Some(c) = cache_bytes {
            b.set_cache_size(c);
        }
        let db = b
            .create(&path)
            .map_err(|e| StoreError(format!("{}: {e}", path.display())))?;
        let store = Self {
            db: Arc::new(db),
            path,
        };
        // Create every table so read-only openers find them, and the chain head (with the
        // genesis hash over any records from before the chain) on first use.
        let mut w = store.db.begin_write().map_err(se)?;
        w.set_durability(Durability::Immediate).map_err(se)?;
        {
            let tokens = w.open_table(TOKENS).map_err(se)?;
            w.open_table(BY_TIME).map_err(se)?;
            w.open_table(EVENTS).map_err(se)?;
            w.open_table(REJECTIONS).map_err(se)?;
            w.open_table(META).map_err(se)?;
            w.open_table(PREFIXES).map_err(se)?;
            let mut chain = w.open_table(CHAIN).map_err(se)?;
            if chain.get("head").map_err(se)?.is_none() {
                let mut g = Genesis::new();
                for item in tokens.iter().map_err(se)? {
                    let (k, v) = item.map_err(se)?;
                    g.add(k.value(), v.value());
                }
                let head = Chain {
                    next: 0,
                    head: g.finish(),
                };
                chain
                    .insert("head", head.to_bytes().as_slice())
                    .map_err(se)?;
            }
        }
        w.commit().map_err(se)?;
        Ok(store)
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The chain head as committed.
    pub fn chain(&self) -> Result<Chain, StoreError> {
        read_chain(&self.db.begin_read().map_err(se)?)
    }

    /// Reserves the serial epoch for this start-up (see [`crate::serial`]) and commits it
    /// durably before returning.
    pub fn reserve_epoch(&self, now: UnixTime) -> Result<u32, StoreError> {
        let mut w = self.db.begin_write().map_err(se)?;
        w.set_durability(Durability::Immediate).map_err(se)?;
        let epoch = take_epoch(&w, now)?;
        w.commit().map_err(se)?;
        Ok(epoch)
    }

    /// Reserves this start-up's serial space (see [`crate::serial`]): the next epoch and a
    /// 64-bit random prefix that this store has never used, both committed durably before
    /// returning.
    pub fn reserve_serials(&self, now: UnixTime) -> Result<SerialSpace, StoreError> {
        let mut w = self.db.begin_write().map_err(se)?;
        w.set_durability(Durability::Immediate).map_err(se)?;
        let epoch = take_epoch(&w, now)?;
        let prefix;
        {
            let mut used = w.open_table(PREFIXES).map_err(se)?;
            let mut tries = 0;
            prefix = loop {
                let p = serial::random_prefix().map_err(StoreError)?;
                if used.get(p).map_err(se)?.is_none() {
                    break p;
                }
                tries += 1;
                if tries > 16 {
                    // 16 draws all equal to used prefixes: the generator is broken.
                    return Err(StoreError(
                        "the random serial prefix repeats: the random number generator is broken"
                            .into(),
                    ));
                }
            };
            used.insert(prefix, u64::from(epoch)).map_err(se)?;
        }
        w.commit().map_err(se)?;
        Ok(SerialSpace {
            prefix,
            epoch,
            instance: None,
        })
    }

    /// Writes one event durably, outside the group-commit path (start-up and shutdown).
    pub fn event_now(&self, at: UnixTime, kind: &str, detail: &str) -> Result<(), StoreError> {
        self.record_now(&Event::new(at, kind, detail))
    }

    /// Writes one event durably, outside the group-commit path.
    pub fn record_now(&self, e: &Event) -> Result<(), StoreError> {
        let mut w = self.db.begin_write().map_err(se)?;
        w.set_durability(Durability::Immediate).map_err(se)?;
        write_event(&w, e)?;
        w.commit().map_err(se)
    }

    /// Starts the group-commit writer; returns the handle requests use and the thread.
    /// The writer commits as soon as the previous commit has returned, holding a group open
    /// only while the published signing backlog exceeds it (at most one commit's duration,
    /// see the module docs); a non-zero `interval` also spaces commits under load (the
    /// previous commit held more than one token) at least that far apart.
    pub fn start_writer(
        &self,
        opts: WriterOptions,
        stats: Arc<WriterStats>,
    ) -> Result<(Recorder, Writer), StoreError> {
        let chain = self.chain()?;
        let db = self.db.clone();
        spawn_writer(
            move || WriterState {
                db,
                chain,
                scratch: Vec::with_capacity(512),
            },
            opts,
            stats,
            Arc::new(StoreHealth::default()),
        )
    }

    /// Read access for queries while this process owns the store.
    pub fn reader(&self) -> Reader {
        Reader {
            db: ReaderDb::Rw(self.db.clone()),
        }
    }
}

fn take_epoch(w: &redb::WriteTransaction, now: UnixTime) -> Result<u32, StoreError> {
    let mut meta = w.open_table(META).map_err(se)?;
    let prev = meta
        .get("epoch")
        .map_err(se)?
        .map(|v| u32::try_from(v.value()).unwrap_or(u32::MAX));
    let epoch = serial::next_epoch(prev, now.secs());
    if prev.is_some_and(|p| p >= epoch) {
        return Err(StoreError("serial epochs exhausted".into()));
    }
    meta.insert("epoch", u64::from(epoch)).map_err(se)?;
    Ok(epoch)
}

fn read_chain(r: &redb::ReadTransaction) -> Result<Chain, StoreError> {
    let t = r.open_table(CHAIN).map_err(se)?;
    let v = t.get("head").map_err(se)?;
    v.and_then(|v| Chain::from_bytes(v.value()))
        .ok_or_else(|| StoreError("the records chain head is missing".into()))
}

fn write_event(w: &redb::WriteTransaction, e: &Event) -> Result<(), StoreError> {
    let mut t = w.open_table(EVENTS).map_err(se)?;
    let next = t.last().map_err(se)?.map_or(0, |(k, _)| k.value() + 1);
    t.insert(next, e.to_json(next).as_str()).map_err(se)?;
    Ok(())
}

/// Starts the writer thread over `sink` (made on that thread) and returns the handle requests
/// use.
pub(crate) fn spawn_writer<S: GroupSink, F: FnOnce() -> S + Send + 'static>(
    make: F,
    opts: WriterOptions,
    stats: Arc<WriterStats>,
    health: Arc<StoreHealth>,
) -> Result<(Recorder, Writer), StoreError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let backlog = Arc::new(AtomicUsize::new(0));
    let waiting = backlog.clone();
    let keep_tokens = opts.keep_tokens;
    let h = health.clone();
    let handle = std::thread::Builder::new()
        .name("records-writer".into())
        .spawn(move || {
            let mut sink = make();
            let mut outage = Outage {
                since: None,
                clock: opts.clock.clone(),
            };
            writer_loop(
                &mut sink,
                &mut outage,
                &rx,
                opts.max_batch.max(1),
                opts.interval,
                &waiting,
                &stats,
                &h,
            );
            sink.on_stop();
        })
        .map_err(|e| StoreError(format!("cannot start the records writer: {e}")))?;
    Ok((
        Recorder {
            tx,
            backlog,
            keep_tokens,
            health,
        },
        Writer {
            handle: Some(handle),
        },
    ))
}

/// One implementation's side of the group commit: everything else (gathering, the order of
/// responses, outage events, statistics) is [`writer_loop`]'s, shared by every store.
pub(crate) trait GroupSink {
    /// Writes one group (tokens with their chain links, rejection counts, events) in one
    /// transaction and returns once it is durably committed. On error nothing of the group
    /// may be taken as written, and the sink's chain head stays the committed one.
    fn commit_group(&mut self, jobs: &[Job]) -> Result<(), StoreError>;
    /// Writes one event in its own transaction.
    fn write_event(&mut self, e: &Event) -> Result<(), StoreError>;
    /// While failing, how often the writer tries [`GroupSink::probe`] when idle (`None`: it
    /// waits for the next request).
    fn probe_every(&self) -> Option<Duration> {
        None
    }
    /// Tries to make the store writable again (reconnect, lease); `Ok` when it is.
    fn probe(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
    /// The writer ends (after its last commit).
    fn on_stop(&mut self) {}
}

/// Since when, how many commits failed, and the first error (while the store fails).
struct Outage {
    since: Option<(Option<UnixTime>, u64, String)>,
    clock: Arc<dyn Clock>,
}

impl Outage {
    /// Notes a failed commit (the first one dates the outage).
    fn failed(&mut self, e: &StoreError) {
        match &mut self.since {
            Some((_, n, _)) => *n += 1,
            None => self.since = Some((self.clock.now(), 1, e.0.clone())),
        }
    }

    /// After a successful commit that ended an outage: records it (its own commit).
    fn recovered(&mut self, sink: &mut dyn GroupSink) {
        let Some((from, failed, error)) = self.since.take() else {
            return;
        };
        let Some(to) = self.clock.now() else { return };
        let mut e = Event::new(
            to,
            kind::STORE_OUTAGE,
            format!("the records store could not be written ({failed} failed commits): {error}; writing again"),
        )
        .field("failed_commits", failed)
        .field("error", error)
        .field("to", timefmt::rfc3339(to));
        if let Some(f) = from {
            e = e.field("from", timefmt::rfc3339(f));
        }
        tracing::warn!(failed_commits = failed, "records store writable again");
        if let Err(err) = sink.write_event(&e) {
            tracing::error!(error = %err, "cannot record the store outage event");
        }
    }
}

/// The stored value of a token record: the record as format 2, its chain link (`chain`: the
/// head before it), the token if kept (see [`Chain`]). Returns the chain after it.
pub(crate) fn stored_value(v: &mut Vec<u8>, p: &Pending, chain: Chain) -> Chain {
    let i = &p.issued;
    v.clear();
    v.push(CHAINED_FORMAT);
    v.extend_from_slice(i.record.get(1..).unwrap_or_default());
    v.extend_from_slice(&chain.next.to_be_bytes());
    v.extend_from_slice(&chain.head);
    let token = p.token.as_deref().unwrap_or_default();
    v.extend_from_slice(&u32::try_from(token.len()).unwrap_or(0).to_be_bytes());
    if u32::try_from(token.len()).is_ok() {
        v.extend_from_slice(token);
    }
    Chain {
        next: chain.next + 1,
        head: Chain::link(i.serial, v),
    }
}

/// The embedded writer thread's own state.
struct WriterState {
    db: Arc<Database>,
    /// The committed chain head.
    chain: Chain,
    /// Where each stored record is assembled (record, link, token) before insertion.
    scratch: Vec<u8>,
}

impl GroupSink for WriterState {
    fn commit_group(&mut self, jobs: &[Job]) -> Result<(), StoreError> {
        self.chain = self.write_batch(jobs)?;
        Ok(())
    }

    fn write_event(&mut self, e: &Event) -> Result<(), StoreError> {
        let mut w = self.db.begin_write().map_err(se)?;
        w.set_durability(Durability::Immediate).map_err(se)?;
        write_event(&w, e)?;
        w.commit().map_err(se)
    }
}

impl WriterState {
    /// Writes one group; on success returns the new chain head (adopted by the caller only
    /// once the commit has returned).
    fn write_batch(&mut self, jobs: &[Job]) -> Result<Chain, StoreError> {
        let mut chain = self.chain;
        let mut w = self.db.begin_write().map_err(se)?;
        w.set_durability(Durability::Immediate).map_err(se)?;
        {
            let mut tokens = w.open_table(TOKENS).map_err(se)?;
            let mut by_time = w.open_table(BY_TIME).map_err(se)?;
            let mut rejections: Vec<(&str, u64)> = Vec::new();
            for job in jobs {
                match job {
                    Job::Tokens(list) => {
                        for p in list {
                            let i = &p.issued;
                            // The stored value: the record as format 2, its link, the token.
                            let v = &mut self.scratch;
                            let next = stored_value(v, p, chain);
                            if tokens.insert(i.serial, v.as_slice()).map_err(se)?.is_some() {
                                // Cannot happen by the serial scheme; refuse loudly if it ever
                                // does.
                                return Err(StoreError(format!(
                                    "serial {} already recorded",
                                    serial::to_hex(i.serial)
                                )));
                            }
                            chain = next;
                            by_time
                                .insert((time_key(i.gen_time), i.serial), ())
                                .map_err(se)?;
                        }
                    }
                    Job::Reject(r) => match rejections.iter_mut().find(|(k, _)| k == r) {
                        Some((_, n)) => *n += 1,
                        None => rejections.push((r, 1)),
                    },
                    Job::Event(..) | Job::Flush(_) | Job::Stop => {}
                }
            }
            drop((tokens, by_time));
            if chain != self.chain {
                let mut t = w.open_table(CHAIN).map_err(se)?;
                t.insert("head", chain.to_bytes().as_slice()).map_err(se)?;
            }
            if !rejections.is_empty() {
                let mut t = w.open_table(REJECTIONS).map_err(se)?;
                for (k, n) in rejections {
                    let old = t.get(k).map_err(se)?.map_or(0, |v| v.value());
                    t.insert(k, old + n).map_err(se)?;
                }
            }
            for job in jobs {
                if let Job::Event(e) = job {
                    write_event(&w, e)?;
                }
            }
        }
        w.commit().map_err(se)?;
        Ok(chain)
    }
}

fn job_tokens(j: &Job) -> usize {
    match j {
        Job::Tokens(v) => v.len(),
        _ => 1,
    }
}

/// A safety bound on holding one group open, whatever the previous commit took (a disk that
/// stalled for a second must not make the next group wait a second too). It is never a reason
/// to hold: see [`decide`].
const HOLD_CAP: Duration = Duration::from_millis(10);

/// What the writer knows about the open group when it decides whether to commit it now
/// ([`decide`]).
#[derive(Clone, Copy, Debug)]
struct GroupView {
    /// Token records in the group.
    tokens: usize,
    /// Most token records in one group (`max_batch`).
    max_batch: usize,
    /// The group holds a flush or a stop (never held back).
    control: bool,
    /// Requests waiting for a signing thread, as the pool last published them.
    backlog: usize,
    /// How long the group has been open: since the writer took its first job (the previous
    /// commit had returned by then).
    held: Duration,
    /// How long the previous commit took (write and `fsync`).
    last_commit: Duration,
    /// Token records in the previous commit.
    last_tokens: usize,
    /// Time since the previous commit began.
    since_last_start: Duration,
    /// The operator's least time between two commits under load (`commit_interval_ms`;
    /// zero, the default: none).
    min_interval: Duration,
}

/// The writer's choice for the open group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decision {
    /// Commit the group now.
    Commit,
    /// Keep gathering: wait for more jobs at most this long, then decide again.
    Hold(Duration),
}

/// The group-commit decision (pure: the writer loop measures, this decides).
///
/// Classic group commit: the writer only gets here once the previous commit has returned and
/// something is waiting, and it commits at once, with two exceptions.
/// * The operator asked for a least interval between commits under load
///   (`commit_interval_ms` > 0 and the previous commit held more than one token): wait for
///   the rest of it. The default is no interval.
/// * The signing threads are saturated: more requests wait in the signing queue than the
///   group holds. The group holds what the signing threads produced during the previous
///   commit and the hold so far, so such a backlog keeps them busy for longer than one more
///   commit's duration: holding the group for up to that long (measured, at most
///   [`HOLD_CAP`]) costs no signing time, and the commit's fixed cost (copy-on-write spines,
///   two `fdatasync`s, file locks: CPU the signing threads need on a small machine) is shared
///   by more tokens, which raises throughput. Without a backlog, holding would only delay
///   responses, and the clients waiting for them send nothing meanwhile, so it never holds.
fn decide(v: &GroupView) -> Decision {
    if v.control || v.tokens >= v.max_batch {
        return Decision::Commit;
    }
    if v.tokens > 0
        && v.last_tokens > 1
        && let Some(left) = v.min_interval.checked_sub(v.since_last_start)
        && !left.is_zero()
    {
        return Decision::Hold(left);
    }
    let bound = v.last_commit.min(HOLD_CAP);
    if v.tokens > 0
        && v.backlog > v.tokens
        && let Some(left) = bound.checked_sub(v.held)
        && !left.is_zero()
    {
        return Decision::Hold(left);
    }
    Decision::Commit
}

/// Moves what is queued for the writer into `batch`, up to `max_batch` tokens.
fn take_queued(rx: &Receiver<Job>, batch: &mut Vec<Job>, size: &mut usize, max_batch: usize) {
    while *size < max_batch {
        match rx.try_recv() {
            Ok(j) => {
                *size += job_tokens(&j);
                batch.push(j);
            }
            Err(_) => break,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn writer_loop(
    state: &mut dyn GroupSink,
    outage: &mut Outage,
    rx: &Receiver<Job>,
    max_batch: usize,
    min_interval: Duration,
    backlog: &AtomicUsize,
    stats: &WriterStats,
    health: &StoreHealth,
) {
    use std::sync::atomic::Ordering::Relaxed;
    use std::time::Instant;
    let mut batch: Vec<Job> = Vec::with_capacity(max_batch);
    let mut last_start = Instant::now();
    let mut last_commit = Duration::ZERO;
    let mut last_tokens = 0usize;
    loop {
        // Block for the first job; then take whatever else is already queued.
        // While the store fails and the sink can retry by itself, wake up to probe it, so
        // that an idle instance becomes ready again without a request.
        let probe = state.probe_every().filter(|_| health.failing.load(Relaxed));
        let first = match probe {
            Some(every) => match rx.recv_timeout(every) {
                Ok(j) => Ok(j),
                Err(RecvTimeoutError::Timeout) => {
                    if state.probe().is_ok() {
                        health.failing.store(false, Relaxed);
                        outage.recovered(state);
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => Err(()),
            },
            None => rx.recv().map_err(|_| ()),
        };
        match first {
            Ok(j) => batch.push(j),
            Err(()) => return,
        }
        let opened = Instant::now();
        let mut size = batch.iter().map(job_tokens).sum::<usize>();
        take_queued(rx, &mut batch, &mut size, max_batch);
        // Hold the group only while `decide` says so; each job that arrives meanwhile (one
        // message per batch a signing thread finished) wakes the writer to decide again.
        loop {
            let now = Instant::now();
            let view = GroupView {
                tokens: batch
                    .iter()
                    .filter(|j| matches!(j, Job::Tokens(_)))
                    .map(job_tokens)
                    .sum(),
                max_batch,
                control: batch.iter().any(|j| matches!(j, Job::Flush(_) | Job::Stop)),
                backlog: backlog.load(Relaxed),
                held: now - opened,
                last_commit,
                last_tokens,
                since_last_start: now - last_start,
                min_interval,
            };
            let Decision::Hold(wait) = decide(&view) else {
                break;
            };
            match rx.recv_timeout(wait) {
                Ok(j) => {
                    size += job_tokens(&j);
                    batch.push(j);
                    take_queued(rx, &mut batch, &mut size, max_batch);
                }
                Err(RecvTimeoutError::Timeout) => {}
                // Every Recorder is gone: commit what the group holds, then the next `recv`
                // ends the loop.
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        last_tokens = batch
            .iter()
            .filter(|j| matches!(j, Job::Tokens(_)))
            .map(job_tokens)
            .sum();
        last_start = Instant::now();
        let has_work = batch
            .iter()
            .any(|j| !matches!(j, Job::Flush(_) | Job::Stop));
        let stop = batch.iter().any(|j| matches!(j, Job::Stop));
        let began = Instant::now();
        let result = if has_work {
            state.commit_group(&batch)
        } else {
            Ok(())
        };
        let took = began.elapsed();
        last_commit = took;
        stats
            .commit_micros
            .fetch_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Relaxed);
        stats.commits.fetch_add(u64::from(has_work), Relaxed);
        if has_work {
            stats.observe_commit(took, last_tokens);
        }
        match &result {
            Err(e) => {
                stats.failures.fetch_add(1, Relaxed);
                health.failing.store(true, Relaxed);
                tracing::error!(error = %e, records = batch.len(), "group commit failed");
                outage.failed(e);
            }
            Ok(()) if has_work => {
                health.failing.store(false, Relaxed);
                outage.recovered(state);
            }
            Ok(()) => {}
        }
        let mut n = 0;
        for job in batch.drain(..) {
            match job {
                Job::Tokens(list) => {
                    for p in list {
                        n += 1;
                        (p.notify)(result.clone());
                    }
                }
                Job::Flush(done) => {
                    let _ = done.send(());
                }
                Job::Event(..) | Job::Reject(_) | Job::Stop => {}
            }
        }
        if result.is_ok() {
            stats.records.fetch_add(n, Relaxed);
        }
        if stop {
            // Whatever was queued before the stop is committed; later submissions fail.
            return;
        }
    }
}

impl Recorder {
    /// Publishes how many requests wait for a signing thread (the signing pool calls this as
    /// its queue changes). The writer holds a group open (at most one commit's duration) while
    /// this exceeds the group's size: the signing threads are saturated then.
    pub fn set_backlog(&self, queued: usize) {
        self.backlog
            .store(queued, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the store can be written now, as far as this instance knows (for `/readyz`):
    /// a shared store's lease is held and its last commit did not fail.
    pub fn ready(&self) -> Result<(), String> {
        self.health.check()
    }

    /// Prometheus lines on a shared store's lease and writability (empty for the embedded
    /// store); commit latency, group size and failures are in [`WriterStats`].
    pub fn store_metrics(&self) -> String {
        let h = &self.health;
        let Some(l) = &h.lease else {
            return String::new();
        };
        format!(
            "# HELP inkan_tsa_store_lease_held Whether this instance holds the lease on its instance number (shared store).\n# TYPE inkan_tsa_store_lease_held gauge\ninkan_tsa_store_lease_held {}\n# HELP inkan_tsa_store_instance The instance number held or last held (shared store).\n# TYPE inkan_tsa_store_instance gauge\ninkan_tsa_store_instance {}\n# HELP inkan_tsa_store_writable Whether the last group commit or probe of the shared store succeeded.\n# TYPE inkan_tsa_store_writable gauge\ninkan_tsa_store_writable {}\n",
            u8::from(l.check().is_ok()),
            l.number(),
            u8::from(!h.failing.load(std::sync::atomic::Ordering::Relaxed)),
        )
    }

    /// Whether issued tokens are kept with their records (configuration `keep_tokens`): the
    /// signing pool then passes each token in [`Pending::token`].
    pub fn keeps_tokens(&self) -> bool {
        self.keep_tokens
    }

    /// Submits granted tokens signed together; each one's `notify` runs after the commit
    /// that holds it. If the writer has stopped, every `notify` gets the error at once.
    pub fn commit_batch(&self, batch: Vec<Pending>) {
        if let Err(std::sync::mpsc::SendError(Job::Tokens(list))) = self.tx.send(Job::Tokens(batch))
        {
            for p in list {
                (p.notify)(Err(StoreError("writer stopped".into())));
            }
        }
    }

    /// Submits one token record and waits until it is durably committed.
    pub async fn commit(&self, issued: Issued) -> Result<(), StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.commit_batch(vec![Pending {
            issued,
            notify: Box::new(move |r| {
                let _ = tx.send(r);
            }),
            token: None,
        }]);
        rx.await.map_err(|_| StoreError("writer stopped".into()))?
    }

    /// Submits one token record from a blocking thread and waits for its commit.
    pub fn commit_blocking(&self, issued: Issued) -> Result<(), StoreError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.commit_batch(vec![Pending {
            issued,
            notify: Box::new(move |r| {
                let _ = tx.send(r);
            }),
            token: None,
        }]);
        rx.recv().map_err(|_| StoreError("writer stopped".into()))?
    }

    /// Records an event with the next commit (not awaited).
    pub fn event(&self, at: UnixTime, kind: &str, detail: &str) {
        self.record(Event::new(at, kind, detail));
    }

    /// Records a service event, with its data fields, with the next group commit (not
    /// awaited; the store keeps events in the order they were submitted). This is the API for
    /// every part of the service that has something for the audit trail: clock discipline,
    /// certificate and key checks, ...
    pub fn record(&self, e: Event) {
        let _ = self.tx.send(Job::Event(Box::new(e)));
    }

    /// Counts a rejection with the next commit (not awaited).
    pub fn reject(&self, reason: &'static str) {
        let _ = self.tx.send(Job::Reject(reason));
    }

    /// Commits everything submitted before this call, then ends the writer thread (it drops
    /// its handle on the database, so the file can be opened again once [`Store`] is
    /// dropped). Join the [`Writer`] to wait for it.
    pub fn stop(&self) {
        let _ = self.tx.send(Job::Stop);
    }

    /// Waits until everything submitted before this call is committed (or `timeout`).
    pub fn flush(&self, timeout: Duration) -> bool {
        let (tx, rx) = std::sync::mpsc::channel();
        if self.tx.send(Job::Flush(tx)).is_err() {
            return false;
        }
        !matches!(rx.recv_timeout(timeout), Err(RecvTimeoutError::Timeout))
    }
}

enum ReaderDb {
    Rw(Arc<Database>),
    Ro(redb::ReadOnlyDatabase),
    Pg(crate::pgstore::PgReader),
}

/// Read-only queries (used by `inkan-tsa records`).
pub struct Reader {
    db: ReaderDb,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reader")
    }
}

/// A query.
#[derive(Clone, Debug)]
pub enum Query {
    /// By serial.
    Serial(Serial),
    /// By imprint octets.
    Imprint(Vec<u8>),
    /// genTime in `[from, to]`.
    Range(UnixTime, UnixTime),
}

impl Reader {
    /// Opens `DATA_DIR/records.redb` for reading, alongside a running server if there is one.
    /// When the file needs recovery (after a crash) and no server has it open, it is opened
    /// for writing once so redb can repair it.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let path = data_dir.join(FILE_NAME);
        if !path.exists() {
            return Err(StoreError(format!("{} does not exist", path.display())));
        }
        match redb::Builder::new()
            .set_concurrency_mode(ConcurrencyMode::SingleWriter)
            .open_read_only(&path)
        {
            Ok(db) => Ok(Self {
                db: ReaderDb::Ro(db),
            }),
            Err(redb::DatabaseError::RepairAborted) | Err(redb::DatabaseError::Storage(_)) => {
                let store = Store::open(data_dir)?;
                Ok(store.reader())
            }
            Err(e) => Err(StoreError(format!("{}: {e}", path.display()))),
        }
    }

    /// Opens the configured store for reading: `url` (`postgresql://...`) when given, else
    /// the embedded store under `data_dir` ([`Reader::open`]).
    pub fn open_configured(url: Option<&str>, data_dir: &Path) -> Result<Self, StoreError> {
        match url {
            Some(u) => Ok(Self {
                db: ReaderDb::Pg(crate::pgstore::PgReader::open(u)?),
            }),
            None => Self::open(data_dir),
        }
    }

    fn read(&self) -> Result<redb::ReadTransaction, StoreError> {
        match &self.db {
            ReaderDb::Rw(db) => db.begin_read().map_err(se),
            ReaderDb::Ro(db) => db.begin_read().map_err(se),
            ReaderDb::Pg(_) => Err(StoreError("not an embedded store".into())),
        }
    }

    /// Calls `out` with each matching record's JSON line, in serial (or time) order; returns
    /// how many matched.
    pub fn query(
        &self,
        q: &Query,
        mut out: impl FnMut(&str) -> std::io::Result<()>,
    ) -> Result<u64, StoreError> {
        if let ReaderDb::Pg(p) = &self.db {
            return p.query(q, &mut out);
        }
        let r = self.read()?;
        let tokens = r.open_table(TOKENS).map_err(se)?;
        let mut n = 0u64;
        let mut emit = |serial: u128| -> Result<(), StoreError> {
            if let Some(v) = tokens.get(serial).map_err(se)? {
                let rec = TokenRecord::decode(serial, v.value()).ok_or_else(|| {
                    StoreError(format!(
                        "corrupt record for serial {}",
                        serial::to_hex(serial)
                    ))
                })?;
                out(&rec.to_json_line()).map_err(|e| StoreError(format!("output: {e}")))?;
                n += 1;
            }
            Ok(())
        };
        match q {
            Query::Serial(s) => emit(*s)?,
            Query::Imprint(imp) => {
                // One pass over the records (no imprint index: see the module docs).
                let mut hits = Vec::new();
                for item in tokens.iter().map_err(se)? {
                    let (k, v) = item.map_err(se)?;
                    if record_imprint(v.value()) == Some(imp.as_slice()) {
                        hits.push(k.value());
                    }
                }
                for s in hits {
                    emit(s)?;
                }
            }
            Query::Range(from, to) => {
                let t = r.open_table(BY_TIME).map_err(se)?;
                let (lo, hi) = ((time_key(*from), 0u128), (time_key(*to), u128::MAX));
                for item in t.range(lo..=hi).map_err(se)? {
                    emit(item.map_err(se)?.0.value().1)?;
                }
            }
        }
        Ok(n)
    }

    /// Walks the hash chain over the token records end to end (see [`Chain`]): `Ok(Ok(_))`
    /// when it is intact, `Ok(Err(_))` naming the first record changed, removed or inserted.
    /// Memory: 32 bytes per record (sequence number and serial), to put the records in chain
    /// order.
    pub fn verify_chain(&self) -> Result<Result<ChainReport, ChainBreak>, StoreError> {
        if let ReaderDb::Pg(p) = &self.db {
            return p.verify_chain();
        }
        let r = self.read()?;
        let Ok(chain) = read_chain(&r) else {
            return Ok(Err(ChainBreak::NoHead));
        };
        let tokens = r.open_table(TOKENS).map_err(se)?;
        let mut genesis = Genesis::new();
        let mut legacy = 0u64;
        let mut order: Vec<(u64, Serial)> = Vec::new();
        for item in tokens.iter().map_err(se)? {
            let (k, v) = item.map_err(se)?;
            let serial = k.value();
            let Some(rec) = parse_stored(v.value()) else {
                return Ok(Err(ChainBreak::Unreadable { serial }));
            };
            match rec.link {
                Some((seq, _)) => order.push((seq, serial)),
                None => {
                    genesis.add(serial, v.value());
                    legacy += 1;
                }
            }
        }
        order.sort_unstable();
        let genesis = genesis.finish();
        let mut head = genesis;
        let mut expected = 0u64;
        let mut last: Option<(u64, Serial)> = None;
        let mut i = 0;
        while i < order.len() {
            let (seq, serial) = order[i];
            if seq >= chain.next {
                return Ok(Err(ChainBreak::Inserted { serial }));
            }
            if seq > expected {
                return Ok(Err(ChainBreak::Removed {
                    seq: expected,
                    after: last.map(|l| l.1),
                }));
            }
            // Records claiming this sequence number: the one that links to the chain so far
            // (and, among copies, the one the next record links to) belongs; any other was
            // inserted.
            let mut j = i;
            while j < order.len() && order[j].0 == seq {
                j += 1;
            }
            let mut linked = Vec::new();
            let mut unlinked = None;
            for &(_, s) in &order[i..j] {
                let v = tokens
                    .get(s)
                    .map_err(se)?
                    .ok_or_else(|| StoreError("a record vanished during the check".into()))?;
                let value = v.value();
                let Some((_, prev)) = parse_stored(value).and_then(|r| r.link) else {
                    return Ok(Err(ChainBreak::Unreadable { serial: s }));
                };
                if prev == head {
                    linked.push((s, Chain::link(s, value)));
                } else {
                    unlinked.get_or_insert(s);
                }
            }
            if linked.len() > 1 {
                // Identical links: keep the one whose hash the next record (or the head)
                // carries.
                let mut next_prevs = Vec::new();
                let mut k = j;
                while k < order.len() && order[k].0 == seq + 1 {
                    if let Some(v) = tokens.get(order[k].1).map_err(se)?
                        && let Some((_, p)) = parse_stored(v.value()).and_then(|r| r.link)
                    {
                        next_prevs.push(<[u8; 32]>::try_from(p).unwrap_or_default());
                    }
                    k += 1;
                }
                if seq + 1 == chain.next {
                    next_prevs.push(chain.head);
                }
                let keep = linked
                    .iter()
                    .position(|(_, l)| next_prevs.contains(l))
                    .unwrap_or(0);
                let other = linked[usize::from(keep == 0)].0;
                return Ok(Err(ChainBreak::Inserted { serial: other }));
            }
            if let (Some(s), false) = (unlinked, linked.is_empty()) {
                return Ok(Err(ChainBreak::Inserted { serial: s }));
            }
            let found = linked.pop();
            let Some((s, link)) = found else {
                return Ok(Err(match last {
                    Some((lseq, lserial)) => ChainBreak::Changed {
                        seq: lseq,
                        serial: lserial,
                    },
                    None if legacy > 0 => ChainBreak::Genesis,
                    // The first record's own link was altered.
                    None => ChainBreak::Changed { seq, serial },
                }));
            };
            head = link;
            last = Some((seq, s));
            expected = seq + 1;
            i = j;
        }
        if expected < chain.next {
            return Ok(Err(ChainBreak::Removed {
                seq: expected,
                after: last.map(|l| l.1),
            }));
        }
        if head != chain.head {
            return Ok(Err(match last {
                Some((seq, serial)) => ChainBreak::Changed { seq, serial },
                None => ChainBreak::Genesis,
            }));
        }
        Ok(Ok(ChainReport {
            records: expected,
            legacy,
            chain,
            instances: Vec::new(),
        }))
    }

    /// Calls `out` with each service event whose time is in `[from, to]`, oldest first, as a
    /// JSON line (events written by 0.1 get their `seq` added); returns how many.
    pub fn events_between(
        &self,
        from: UnixTime,
        to: UnixTime,
        mut out: impl FnMut(&str) -> std::io::Result<()>,
    ) -> Result<u64, StoreError> {
        if let ReaderDb::Pg(p) = &self.db {
            return p.events_between(from, to, &mut out);
        }
        let r = self.read()?;
        let t = r.open_table(EVENTS).map_err(se)?;
        let mut n = 0;
        for item in t.iter().map_err(se)? {
            let (k, v) = item.map_err(se)?;
            let Ok(serde_json::Value::Object(mut o)) =
                serde_json::from_str::<serde_json::Value>(v.value())
            else {
                continue;
            };
            let Some(at) = o
                .get("time")
                .and_then(|t| t.as_str())
                .and_then(timefmt::parse_rfc3339)
            else {
                continue;
            };
            if at < from || at > to {
                continue;
            }
            o.entry("seq").or_insert_with(|| k.value().into());
            out(&serde_json::Value::Object(o).to_string())
                .map_err(|e| StoreError(format!("output: {e}")))?;
            n += 1;
        }
        Ok(n)
    }

    /// Every serial in the store (for tests and audits of uniqueness).
    pub fn serials(&self) -> Result<Vec<Serial>, StoreError> {
        if let ReaderDb::Pg(p) = &self.db {
            return p.serials();
        }
        let r = self.read()?;
        let t = r.open_table(TOKENS).map_err(se)?;
        let mut v = Vec::new();
        for item in t.iter().map_err(se)? {
            v.push(item.map_err(se)?.0.value());
        }
        Ok(v)
    }

    /// Every event line, oldest first.
    pub fn events(&self) -> Result<Vec<String>, StoreError> {
        if let ReaderDb::Pg(p) = &self.db {
            return p.events();
        }
        let r = self.read()?;
        let t = r.open_table(EVENTS).map_err(se)?;
        let mut v = Vec::new();
        for item in t.iter().map_err(se)? {
            v.push(item.map_err(se)?.1.value().to_owned());
        }
        Ok(v)
    }

    /// Rejection counters by reason.
    pub fn rejections(&self) -> Result<Vec<(String, u64)>, StoreError> {
        if let ReaderDb::Pg(p) = &self.db {
            return p.rejections();
        }
        let r = self.read()?;
        let t = r.open_table(REJECTIONS).map_err(se)?;
        let mut v = Vec::new();
        for item in t.iter().map_err(se)? {
            let (k, c) = item.map_err(se)?;
            v.push((k.value().to_owned(), c.value()));
        }
        Ok(v)
    }
}

/// What [`Reader::backup`] copied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupReport {
    /// Token records copied.
    pub records: u64,
    /// Events copied.
    pub events: u64,
    /// Serial prefixes copied (every start-up of the store so far).
    pub prefixes: u64,
    /// The chain state of the copy (its head is the last record copied).
    pub chain: Chain,
}

fn copy_table<K, V>(
    r: &redb::ReadTransaction,
    w: &redb::WriteTransaction,
    def: TableDefinition<'_, K, V>,
) -> Result<u64, StoreError>
where
    K: redb::Key + 'static,
    V: redb::Value + 'static,
{
    let from = match r.open_table(def) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
        Err(e) => return Err(se(e)),
    };
    let mut to = w.open_table(def).map_err(se)?;
    let mut n = 0u64;
    for item in from.iter().map_err(se)? {
        let (k, v) = item.map_err(se)?;
        to.insert(k.value(), v.value()).map_err(se)?;
        n += 1;
    }
    Ok(n)
}

impl Reader {
    /// Copies the whole store (records, time index, events, rejection counts, serial epoch
    /// and every serial prefix taken, the chain head) into a new redb file `out`, inside ONE
    /// read transaction: the copy is the store exactly as some commit left it, even while the
    /// server keeps committing (redb readers see a fixed snapshot). It is written beside `out`
    /// first, made durable, then renamed, so `out` is either complete or absent. Refuses an
    /// existing `out`.
    ///
    /// Restoring such a copy never repeats a serial: every start takes a fresh random 64-bit
    /// prefix and checks it against the prefixes the store holds ([`crate::serial`]), so the
    /// serials issued after the backup (under prefixes the copy does not know) are kept apart
    /// from the restored store's by the prefix, with the odds of a 64-bit collision.
    pub fn backup(&self, out: &Path) -> Result<BackupReport, StoreError> {
        if out.exists() {
            return Err(StoreError(format!(
                "{} exists; a backup is written to a new file",
                out.display()
            )));
        }
        let mut partial = out.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let _ = std::fs::remove_file(&partial);
        let result = (|| {
            let r = self.read()?;
            let db = Database::create(&partial)
                .map_err(|e| StoreError(format!("{}: {e}", partial.display())))?;
            let mut w = db.begin_write().map_err(se)?;
            w.set_durability(Durability::Immediate).map_err(se)?;
            let records = copy_table(&r, &w, TOKENS)?;
            copy_table(&r, &w, BY_TIME)?;
            let events = copy_table(&r, &w, EVENTS)?;
            copy_table(&r, &w, REJECTIONS)?;
            copy_table(&r, &w, META)?;
            let prefixes = copy_table(&r, &w, PREFIXES)?;
            copy_table(&r, &w, CHAIN)?;
            w.commit().map_err(se)?;
            let chain = read_chain(&r)?;
            drop(db);
            Ok(BackupReport {
                records,
                events,
                prefixes,
                chain,
            })
        })();
        match result {
            Ok(report) => {
                std::fs::rename(&partial, out).map_err(|e| {
                    StoreError(format!("cannot rename the copy to {}: {e}", out.display()))
                })?;
                if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty())
                    && let Ok(d) = std::fs::File::open(dir)
                {
                    let _ = d.sync_all();
                }
                Ok(report)
            }
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issued(serial: Serial, secs: u64, imprint: &[u8]) -> Issued {
        let t = UnixTime::new(secs, 5);
        let mut record = Vec::new();
        let policy = const_oid::ObjectIdentifier::new_unwrap("1.2.3");
        encode_record(
            &mut record,
            t,
            "sha256",
            policy.as_bytes(),
            imprint,
            &[0; 32],
            None,
        );
        Issued {
            serial,
            gen_time: t,
            imprint: imprint.to_vec(),
            record,
        }
    }

    #[test]
    fn binary_records_round_trip() {
        let t = UnixTime::new(1_795_395_723, 250_000_000);
        let policy = const_oid::ObjectIdentifier::new_unwrap("1.2.392.999.1.1");
        let mut b = Vec::new();
        encode_record(
            &mut b,
            t,
            "sha384",
            policy.as_bytes(),
            &[7; 48],
            &[9; 32],
            Some(&[0, 0x80]),
        );
        let r = TokenRecord::decode(0x1234, &b).unwrap();
        assert_eq!(r.serial, "1234");
        assert_eq!(r.gen_time, "2026-11-23T01:02:03.25Z");
        assert_eq!(r.policy, "1.2.392.999.1.1");
        assert_eq!(r.imprint_alg, "sha384");
        assert_eq!(r.imprint, "07".repeat(48));
        assert_eq!(r.cert_sha256, "09".repeat(32));
        assert_eq!(r.nonce.as_deref(), Some("0080"));
        assert_eq!(record_imprint(&b), Some(&[7u8; 48][..]));
        // Truncations and a wrong format byte decode to None, never panic.
        for n in 0..b.len() {
            assert!(TokenRecord::decode(1, &b[..n]).is_none(), "{n}");
        }
        b[0] = 9;
        assert!(TokenRecord::decode(1, &b).is_none());
    }

    /// A group of `tokens` just opened after a 2 ms commit of 50 tokens that began 2 ms ago,
    /// no backlog, no operator interval.
    fn view(tokens: usize) -> GroupView {
        GroupView {
            tokens,
            max_batch: 4096,
            control: false,
            backlog: 0,
            held: Duration::ZERO,
            last_commit: Duration::from_millis(2),
            last_tokens: 50,
            since_last_start: Duration::from_millis(2),
            min_interval: Duration::ZERO,
        }
    }

    #[test]
    fn decide_commits_at_once_without_a_saturated_signing_queue() {
        // Classic group commit: the previous commit has returned and something waits.
        assert_eq!(decide(&view(1)), Decision::Commit);
        assert_eq!(decide(&view(40)), Decision::Commit);
        // Fewer (or as many) waiting requests than the group holds: the signing threads would
        // run dry during a hold, and the clients of the group send nothing meanwhile.
        assert_eq!(
            decide(&GroupView {
                backlog: 40,
                ..view(40)
            }),
            Decision::Commit
        );
        // An idle server after a single-token commit, with events only: commit.
        assert_eq!(
            decide(&GroupView {
                last_tokens: 1,
                ..view(0)
            }),
            Decision::Commit
        );
    }

    #[test]
    fn decide_holds_a_group_while_the_signing_threads_are_saturated() {
        let v = GroupView {
            backlog: 200,
            ..view(40)
        };
        assert_eq!(decide(&v), Decision::Hold(Duration::from_millis(2)));
        // Partly held: only the rest of one commit's duration.
        assert_eq!(
            decide(&GroupView {
                held: Duration::from_micros(1500),
                ..v
            }),
            Decision::Hold(Duration::from_micros(500))
        );
        // Held as long as the previous commit took: commit, backlog or not.
        assert_eq!(
            decide(&GroupView {
                held: Duration::from_millis(2),
                ..v
            }),
            Decision::Commit
        );
        // The backlog fell to the group's size meanwhile: commit.
        assert_eq!(
            decide(&GroupView {
                backlog: 40,
                held: Duration::from_micros(300),
                ..v
            }),
            Decision::Commit
        );
        // A stalled disk does not stretch the hold past the safety bound.
        assert_eq!(
            decide(&GroupView {
                last_commit: Duration::from_secs(3),
                ..v
            }),
            Decision::Hold(HOLD_CAP)
        );
        // The very first group (no commit measured yet) is not held.
        assert_eq!(
            decide(&GroupView {
                last_commit: Duration::ZERO,
                ..v
            }),
            Decision::Commit
        );
        // A group without token records (events, rejections) is not held.
        assert_eq!(decide(&GroupView { tokens: 0, ..v }), Decision::Commit);
    }

    #[test]
    fn decide_never_holds_a_flush_a_stop_or_a_full_group() {
        let v = GroupView {
            backlog: usize::MAX,
            min_interval: Duration::from_millis(5),
            since_last_start: Duration::ZERO,
            ..view(40)
        };
        assert!(matches!(decide(&v), Decision::Hold(_)));
        assert_eq!(decide(&GroupView { control: true, ..v }), Decision::Commit);
        assert_eq!(decide(&GroupView { tokens: 4096, ..v }), Decision::Commit);
    }

    #[test]
    fn decide_keeps_an_operators_commit_interval_under_load_only() {
        let v = GroupView {
            min_interval: Duration::from_millis(5),
            ..view(10)
        };
        // Under load (the previous commit held several tokens): the rest of the interval.
        assert_eq!(decide(&v), Decision::Hold(Duration::from_millis(3)));
        assert_eq!(
            decide(&GroupView {
                since_last_start: Duration::from_millis(6),
                ..v
            }),
            Decision::Commit
        );
        // An idle server (the previous commit held one token) commits at once.
        assert_eq!(
            decide(&GroupView {
                last_tokens: 1,
                ..v
            }),
            Decision::Commit
        );
    }

    #[test]
    fn backlog_holds_groups_open_but_never_forever() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let stats = Arc::new(WriterStats::default());
        let (rec, writer) = store
            .start_writer(
                WriterOptions::new(4096, Duration::from_millis(2)),
                stats.clone(),
            )
            .unwrap();
        // A signing queue that never drains: every group is held, at most one commit's time.
        rec.set_backlog(usize::MAX);
        let mut serial = 1u128;
        for round in 0..4 {
            let rt = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            rt.block_on(async {
                let mut tasks = Vec::new();
                for _ in 0..8 {
                    let (rec, i) = (rec.clone(), serial);
                    serial += 1;
                    tasks.push(tokio::spawn(async move {
                        rec.commit(issued(i, 1000 + i as u64, &[i as u8; 32])).await
                    }));
                }
                for t in tasks {
                    t.await.unwrap().unwrap();
                }
            });
            // A flush is never held back by the backlog.
            assert!(rec.flush(Duration::from_secs(5)), "round {round}");
        }
        rec.set_backlog(0);
        assert!(rec.commit_blocking(issued(serial, 1, &[1])).is_ok());
        drop(rec);
        writer.join();
        assert_eq!(stats.records.load(std::sync::atomic::Ordering::Relaxed), 33);
    }

    #[test]
    fn group_commit_and_queries() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let e1 = store.reserve_epoch(UnixTime::from_secs(100)).unwrap();
        let e2 = store.reserve_epoch(UnixTime::from_secs(100)).unwrap();
        assert!(e2 > e1);
        let stats = Arc::new(WriterStats::default());
        let (rec, writer) = store
            .start_writer(
                WriterOptions::new(16, Duration::from_millis(5)),
                stats.clone(),
            )
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut tasks = Vec::new();
            for i in 1..=50u128 {
                let rec = rec.clone();
                tasks.push(tokio::spawn(async move {
                    rec.commit(issued(i, 1000 + i as u64, &[i as u8; 32])).await
                }));
            }
            for t in tasks {
                t.await.unwrap().unwrap();
            }
        });
        rec.reject("badAlg");
        rec.reject("badAlg");
        rec.event(UnixTime::from_secs(5), "clock", "synchronised");
        assert!(rec.flush(Duration::from_secs(5)));
        // A duplicate serial is refused.
        assert!(rec.commit_blocking(issued(7, 1, &[1])).is_err());
        drop(rec);
        writer.join();
        assert_eq!(stats.records.load(std::sync::atomic::Ordering::Relaxed), 50);
        // 50 tokens at once, at most 16 per commit, gathered: a handful of commits (plus the
        // reject/event/duplicate ones), never one per token.
        assert!(stats.commits.load(std::sync::atomic::Ordering::Relaxed) < 20);
        let r = store.reader();
        let mut lines = Vec::new();
        assert_eq!(
            r.query(&Query::Serial(7), |l| {
                lines.push(l.to_owned());
                Ok(())
            })
            .unwrap(),
            1
        );
        let rec: TokenRecord = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(rec.serial, "7");
        assert_eq!(
            r.query(&Query::Imprint(vec![9; 32]), |_| Ok(())).unwrap(),
            1
        );
        assert_eq!(
            r.query(
                &Query::Range(UnixTime::from_secs(1010), UnixTime::from_secs(1020)),
                |_| Ok(())
            )
            .unwrap(),
            // 1010.000000005 ..= 1020.000000005, stored as the token says: 1010 ..= 1020.
            11
        );
        assert_eq!(r.serials().unwrap().len(), 50);
        assert_eq!(r.rejections().unwrap(), vec![("badAlg".to_owned(), 2)]);
        assert_eq!(r.events().unwrap().len(), 1);
    }

    /// Commits `n` records through the writer (serials `first..first+n`, genTime with
    /// nanoseconds the token does not carry), optionally keeping a token with each.
    fn commit_some(store: &Store, first: u128, n: u128, keep: bool) {
        let stats = Arc::new(WriterStats::default());
        let mut opts = WriterOptions::new(8, Duration::ZERO);
        opts.keep_tokens = keep;
        let (rec, writer) = store.start_writer(opts, stats).unwrap();
        for i in first..first + n {
            let t = UnixTime::new(2000 + i as u64, 123_456_789);
            let mut record = Vec::new();
            encode_record(
                &mut record,
                t,
                "sha256",
                &[0x2a, 0x03],
                &[i as u8; 32],
                &[0; 32],
                None,
            );
            let is = Issued {
                serial: i,
                gen_time: t,
                imprint: vec![i as u8; 32],
                record,
            };
            let (tx, rx) = std::sync::mpsc::channel();
            rec.commit_batch(vec![Pending {
                issued: is,
                notify: Box::new(move |r| {
                    let _ = tx.send(r);
                }),
                token: keep.then(|| vec![0x30, 0x03, 0x02, 0x01, i as u8]),
            }]);
            rx.recv().unwrap().unwrap();
        }
        rec.stop();
        drop(rec);
        writer.join();
    }

    /// Rewrites the stored value of `serial` through the store's own API, as someone editing
    /// the file would.
    fn tamper(store: &Store, f: impl FnOnce(&mut redb::Table<'_, u128, &[u8]>)) {
        let w = store.db().begin_write().unwrap();
        {
            let mut t = w.open_table(TOKENS).unwrap();
            f(&mut t);
        }
        w.commit().unwrap();
    }

    #[test]
    fn records_keep_the_tokens_own_time_precision() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        commit_some(&store, 1, 3, true);
        let r = store.reader();
        let mut lines = Vec::new();
        // The token says 2002.123456Z (microseconds); looking it up by exactly that finds it.
        let t = UnixTime::new(2002, 123_456_000);
        assert_eq!(
            r.query(&Query::Range(t, t), |l| {
                lines.push(l.to_owned());
                Ok(())
            })
            .unwrap(),
            1
        );
        let rec: TokenRecord = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(rec.gen_time, "1970-01-01T00:33:22.123456Z");
        assert_eq!(rec.serial, "2");
        assert_eq!(rec.token.as_deref(), Some("3003020102"));
        assert_eq!(
            r.query(&Query::Imprint(vec![3; 32]), |_| Ok(())).unwrap(),
            1
        );
    }

    #[test]
    fn chain_spans_restarts_and_names_what_was_changed_removed_or_inserted() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            commit_some(&store, 1, 5, false);
        }
        // A restart: the chain goes on from the stored head.
        let store = Store::open(dir.path()).unwrap();
        commit_some(&store, 100, 5, true);
        let report = store.reader().verify_chain().unwrap().unwrap();
        assert_eq!(report.records, 10);
        assert_eq!(report.legacy, 0);
        assert_eq!(store.chain().unwrap(), report.chain);

        // Changed: one byte of record #2 (serial 3): the imprint.
        let original = store
            .reader()
            .read()
            .unwrap()
            .open_table(TOKENS)
            .unwrap()
            .get(3)
            .unwrap()
            .unwrap()
            .value()
            .to_vec();
        let mut edited = original.clone();
        let at = 1 + 12 + 1 + 6 + 1 + 5; // format, time, "sha256", policy 1.2.3, first imprint byte
        edited[at] ^= 1;
        tamper(&store, |t| {
            t.insert(3, edited.as_slice()).unwrap();
        });
        assert_eq!(
            store.reader().verify_chain().unwrap(),
            Err(ChainBreak::Changed { seq: 2, serial: 3 })
        );
        tamper(&store, |t| {
            t.insert(3, original.as_slice()).unwrap();
        });
        assert!(store.reader().verify_chain().unwrap().is_ok());

        // Removed: record #6 (serial 101).
        let kept = store
            .reader()
            .read()
            .unwrap()
            .open_table(TOKENS)
            .unwrap()
            .get(101)
            .unwrap()
            .unwrap()
            .value()
            .to_vec();
        tamper(&store, |t| {
            t.remove(101).unwrap();
        });
        assert_eq!(
            store.reader().verify_chain().unwrap(),
            Err(ChainBreak::Removed {
                seq: 6,
                after: Some(100)
            })
        );
        // Inserted: a copy of record #6 under a new serial, beside the original.
        tamper(&store, |t| {
            t.insert(101, kept.as_slice()).unwrap();
            t.insert(555, kept.as_slice()).unwrap();
        });
        assert_eq!(
            store.reader().verify_chain().unwrap(),
            Err(ChainBreak::Inserted { serial: 555 })
        );
        // The same copy under a smaller serial than the original: still the copy is named
        // (the next record links to the original).
        tamper(&store, |t| {
            t.remove(555).unwrap();
            t.insert(50, kept.as_slice()).unwrap();
        });
        assert_eq!(
            store.reader().verify_chain().unwrap(),
            Err(ChainBreak::Inserted { serial: 50 })
        );
        tamper(&store, |t| {
            t.remove(50).unwrap();
            t.insert(555, kept.as_slice()).unwrap();
        });
        // An unchained (format 1) record slipped in later is inserted too (genesis breaks).
        let mut plain = Vec::new();
        encode_record(
            &mut plain,
            UnixTime::from_secs(9),
            "sha256",
            &[0x2a],
            &[1; 32],
            &[0; 32],
            None,
        );
        tamper(&store, |t| {
            t.remove(555).unwrap();
            t.insert(7777, plain.as_slice()).unwrap();
        });
        assert_eq!(
            store.reader().verify_chain().unwrap(),
            Err(ChainBreak::Genesis)
        );
        tamper(&store, |t| {
            t.remove(7777).unwrap();
        });
        // The newest record removed: the head in the store says one more.
        tamper(&store, |t| {
            t.remove(104).unwrap();
        });
        assert_eq!(
            store.reader().verify_chain().unwrap(),
            Err(ChainBreak::Removed {
                seq: 9,
                after: Some(103)
            })
        );
    }

    #[test]
    fn records_from_before_the_chain_are_covered_by_the_genesis_hash() {
        let dir = tempfile::tempdir().unwrap();
        {
            // A 0.1 store: format-1 records and no chain head.
            let store = Store::open(dir.path()).unwrap();
            let w = store.db().begin_write().unwrap();
            {
                let mut t = w.open_table(TOKENS).unwrap();
                for i in 1..=3u128 {
                    t.insert(i, issued(i, 10, &[1; 32]).record.as_slice())
                        .unwrap();
                }
                w.open_table(CHAIN).unwrap().remove("head").unwrap();
            }
            w.commit().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        commit_some(&store, 10, 2, false);
        let report = store.reader().verify_chain().unwrap().unwrap();
        assert_eq!((report.records, report.legacy), (2, 3));
        tamper(&store, |t| {
            t.remove(2).unwrap();
        });
        assert_eq!(
            store.reader().verify_chain().unwrap(),
            Err(ChainBreak::Genesis)
        );
    }

    #[test]
    fn serial_prefixes_never_repeat_in_one_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let a = store.reserve_serials(UnixTime::from_secs(100)).unwrap();
        let b = store.reserve_serials(UnixTime::from_secs(100)).unwrap();
        assert_ne!(a.prefix, b.prefix);
        assert!(b.epoch > a.epoch);
        let r = store.db().begin_read().unwrap();
        let t = r.open_table(PREFIXES).unwrap();
        assert!(t.get(a.prefix).unwrap().is_some() && t.get(b.prefix).unwrap().is_some());
    }

    #[test]
    fn events_carry_data_and_are_selected_by_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .event_now(UnixTime::from_secs(100), kind::START, "up")
            .unwrap();
        let stats = Arc::new(WriterStats::default());
        let (rec, writer) = store
            .start_writer(WriterOptions::new(8, Duration::ZERO), stats)
            .unwrap();
        rec.record(
            Event::new(
                UnixTime::from_secs(200),
                kind::CLOCK_LOST,
                "0 of 3 within accuracy",
            )
            .field("good", 0)
            .field("of", 3),
        );
        rec.event(UnixTime::from_secs(300), kind::STOP, "down");
        assert!(rec.flush(Duration::from_secs(5)));
        rec.stop();
        drop(rec);
        writer.join();
        let mut lines = Vec::new();
        let n = store
            .reader()
            .events_between(UnixTime::from_secs(150), UnixTime::from_secs(300), |l| {
                lines.push(l.to_owned());
                Ok(())
            })
            .unwrap();
        assert_eq!(n, 2);
        let v: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        assert_eq!(v["kind"], "clock_lost");
        assert_eq!(v["data"]["of"], 3);
        assert_eq!(v["seq"], 1);
        assert_eq!(v["time"], "1970-01-01T00:03:20Z");
    }

    #[test]
    fn a_failed_commit_is_recorded_as_a_store_outage_once_writing_works_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut opts = WriterOptions::new(8, Duration::ZERO);
        opts.clock = Arc::new(inkan_profiles::clock::FixedClock(UnixTime::from_secs(
            1_800_000_000,
        )));
        let (rec, writer) = store
            .start_writer(opts, Arc::new(WriterStats::default()))
            .unwrap();
        assert!(rec.commit_blocking(issued(7, 1, &[1])).is_ok());
        // The commit fails (here: a serial already recorded; in production: a full disk, an
        // I/O error); the next one succeeds and records the outage.
        assert!(rec.commit_blocking(issued(7, 2, &[2])).is_err());
        assert!(rec.commit_blocking(issued(8, 3, &[3])).is_ok());
        rec.stop();
        drop(rec);
        writer.join();
        let events = store.reader().events().unwrap();
        assert_eq!(events.len(), 1, "{events:?}");
        let v: serde_json::Value = serde_json::from_str(&events[0]).unwrap();
        assert_eq!(v["kind"], kind::STORE_OUTAGE);
        assert_eq!(v["data"]["failed_commits"], 1);
        assert_eq!(v["data"]["from"], "2027-01-15T08:00:00Z");
        // The failed commit left the chain as it was.
        assert_eq!(store.reader().verify_chain().unwrap().unwrap().records, 2);
    }

    #[test]
    fn hex_helpers() {
        assert_eq!(hex(&[0, 0xab]), "00ab");
        assert_eq!(unhex("00AB"), Some(vec![0, 0xab]));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("zz"), None);
    }
}
