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
//! under load (the `fsync` shared by all of them). Under load (the previous commit held more
//! than one token) the writer also waits until `commit_interval` has passed since the previous
//! commit began, so that a commit's fixed cost (copy-on-write of the B-tree spines, two
//! `fdatasync`s, file locks: about 0.5-0.8 ms of CPU on the test VM) is shared by more tokens;
//! an idle server never waits. Past that interval it keeps the group open (checking every half
//! interval, at most four intervals since the previous commit began) while more requests wait
//! in the signing pool's queue than the group holds ([`Recorder::set_backlog`]): the signing
//! threads have work meanwhile, so the wait costs no throughput, and the commit is shared by
//! more tokens (SoftHSM2 P-256 under `inkan-tsa-load`: ~120 tokens per commit instead of
//! ~60-75, 2-4 µs less writer CPU per token). A client with few requests in flight leaves the
//! queue empty and is not held. The HTTP response carrying a token is sent
//! only after its record's commit has returned: a client can never hold a token the store does
//! not know, even after `kill -9`.
//!
//! # Tables
//!
//! | table | key | value |
//! |---|---|---|
//! | `token_records` | serial (u128) | the record, binary ([`encode_record`], format 1) |
//! | `idx_time` | (genTime in ns since 1970, serial) | () |
//! | `events` | sequence number | JSON `{time, kind, detail}` |
//! | `rejections` | failure reason | count |
//! | `meta` | name | u64 (`epoch`) |
//!
//! Token records are binary (about 100 bytes, no text formatting on the hot path) and become
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
/// Nonce length marking "no nonce".
const NO_NONCE: u16 = u16::MAX;

/// Encodes a token record (format 1): format byte, genTime seconds (u64 BE) and nanoseconds
/// (u32 BE), then length-prefixed (u8) imprint algorithm name, policy OID (DER content
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
    if b.first() != Some(&RECORD_FORMAT) {
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
    /// Decodes a record written by [`encode_record`] for `serial`; `None` if it is not one.
    pub fn decode(serial: Serial, b: &[u8]) -> Option<Self> {
        let (&format, mut rest) = b.split_first()?;
        if format != RECORD_FORMAT {
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
        let alg = std::str::from_utf8(short()?).ok()?.to_owned();
        let policy = const_oid::ObjectIdentifier::from_bytes(short()?).ok()?;
        let imprint = hex(short()?);
        let cert = hex(take(32)?);
        let nlen = u16::from_be_bytes(take(2)?.try_into().ok()?);
        let nonce = if nlen == NO_NONCE {
            None
        } else {
            Some(hex(take(usize::from(nlen))?))
        };
        if nanos >= 1_000_000_000 {
            return None;
        }
        Some(Self {
            serial: serial::to_hex(serial),
            gen_time: timefmt::rfc3339(UnixTime::new(secs, nanos)),
            policy: policy.to_string(),
            imprint_alg: alg,
            imprint,
            cert_sha256: cert,
            nonce,
        })
    }

    /// The JSON line `inkan-tsa records` prints.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
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

fn time_key(t: UnixTime) -> u64 {
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
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("serial", &self.issued.serial)
            .finish_non_exhaustive()
    }
}

enum Job {
    Tokens(Vec<Pending>),
    Event(UnixTime, String, String),
    Reject(&'static str),
    Flush(Sender<()>),
    Stop,
}

/// The open store and its group-commit writer.
#[derive(Debug)]
pub struct Store {
    db: Arc<Database>,
    path: PathBuf,
}

/// A cloneable handle that submits records to the writer thread.
#[derive(Clone, Debug)]
pub struct Recorder {
    tx: Sender<Job>,
    /// Requests waiting for a signing thread, as last published by the signing pool
    /// ([`Recorder::set_backlog`]); the writer holds a group open while it exceeds the group.
    backlog: Arc<AtomicUsize>,
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

impl Store {
    /// Opens (creating if needed) `DATA_DIR/records.redb` for writing.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| StoreError(format!("cannot create {}: {e}", data_dir.display())))?;
        let path = data_dir.join(FILE_NAME);
        let db = Database::builder()
            .set_concurrency_mode(ConcurrencyMode::SingleWriter)
            .create(&path)
            .map_err(|e| StoreError(format!("{}: {e}", path.display())))?;
        let store = Self {
            db: Arc::new(db),
            path,
        };
        // Create every table so read-only openers find them.
        let mut w = store.db.begin_write().map_err(se)?;
        w.set_durability(Durability::Immediate).map_err(se)?;
        {
            w.open_table(TOKENS).map_err(se)?;
            w.open_table(BY_TIME).map_err(se)?;
            w.open_table(EVENTS).map_err(se)?;
            w.open_table(REJECTIONS).map_err(se)?;
            w.open_table(META).map_err(se)?;
        }
        w.commit().map_err(se)?;
        Ok(store)
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reserves the serial epoch for this start-up (see [`crate::serial`]) and commits it
    /// durably before returning.
    pub fn reserve_epoch(&self, now: UnixTime) -> Result<u32, StoreError> {
        let mut w = self.db.begin_write().map_err(se)?;
        w.set_durability(Durability::Immediate).map_err(se)?;
        let epoch;
        {
            let mut meta = w.open_table(META).map_err(se)?;
            let prev = meta
                .get("epoch")
                .map_err(se)?
                .map(|v| u32::try_from(v.value()).unwrap_or(u32::MAX));
            epoch = serial::next_epoch(prev, now.secs());
            if prev == Some(epoch) || prev.is_some_and(|p| p >= epoch) {
                return Err(StoreError("serial epochs exhausted".into()));
            }
            meta.insert("epoch", u64::from(epoch)).map_err(se)?;
        }
        w.commit().map_err(se)?;
        Ok(epoch)
    }

    /// Writes one event durably, outside the group-commit path (start-up and shutdown).
    pub fn event_now(&self, at: UnixTime, kind: &str, detail: &str) -> Result<(), StoreError> {
        let mut w = self.db.begin_write().map_err(se)?;
        w.set_durability(Durability::Immediate).map_err(se)?;
        write_event(&w, at, kind, detail)?;
        w.commit().map_err(se)
    }

    /// Starts the group-commit writer; returns the handle requests use and the thread.
    /// Under load (the previous commit held more than one token) the writer commits at most
    /// once per `interval`, gathering what arrives meanwhile, and longer (up to four intervals)
    /// while the published signing backlog exceeds the group; `Duration::ZERO` commits as soon
    /// as the previous commit returns.
    pub fn start_writer(
        &self,
        max_batch: usize,
        interval: Duration,
        stats: Arc<WriterStats>,
    ) -> (Recorder, Writer) {
        let (tx, rx) = std::sync::mpsc::channel();
        let db = self.db.clone();
        let backlog = Arc::new(AtomicUsize::new(0));
        let waiting = backlog.clone();
        let handle = std::thread::Builder::new()
            .name("records-writer".into())
            .spawn(move || {
                writer_loop(&db, &rx, max_batch.max(1), interval, &waiting, &stats);
            })
            .ok();
        (Recorder { tx, backlog }, Writer { handle })
    }

    /// Read access for queries while this process owns the store.
    pub fn reader(&self) -> Reader {
        Reader {
            db: ReaderDb::Rw(self.db.clone()),
        }
    }
}

fn write_event(
    w: &redb::WriteTransaction,
    at: UnixTime,
    kind: &str,
    detail: &str,
) -> Result<(), StoreError> {
    let mut t = w.open_table(EVENTS).map_err(se)?;
    let next = t.last().map_err(se)?.map_or(0, |(k, _)| k.value() + 1);
    let line = serde_json::json!({
        "time": timefmt::rfc3339(at),
        "kind": kind,
        "detail": detail,
    })
    .to_string();
    t.insert(next, line.as_str()).map_err(se)?;
    Ok(())
}

fn write_batch(db: &Database, jobs: &[Job]) -> Result<(), StoreError> {
    let mut w = db.begin_write().map_err(se)?;
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
                        if tokens
                            .insert(i.serial, i.record.as_slice())
                            .map_err(se)?
                            .is_some()
                        {
                            // Cannot happen by the serial scheme; refuse loudly if it ever does.
                            return Err(StoreError(format!(
                                "serial {} already recorded",
                                serial::to_hex(i.serial)
                            )));
                        }
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
        if !rejections.is_empty() {
            let mut t = w.open_table(REJECTIONS).map_err(se)?;
            for (k, n) in rejections {
                let old = t.get(k).map_err(se)?.map_or(0, |v| v.value());
                t.insert(k, old + n).map_err(se)?;
            }
        }
        for job in jobs {
            if let Job::Event(at, kind, detail) = job {
                write_event(&w, *at, kind, detail)?;
            }
        }
    }
    w.commit().map_err(se)
}

fn job_tokens(j: &Job) -> usize {
    match j {
        Job::Tokens(v) => v.len(),
        _ => 1,
    }
}

/// How many commit intervals the writer may hold a group open while requests wait for a
/// signing thread (see [`writer_loop`]).
const HOLD_MAX: u32 = 4;

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

fn writer_loop(
    db: &Database,
    rx: &Receiver<Job>,
    max_batch: usize,
    gather: Duration,
    backlog: &AtomicUsize,
    stats: &WriterStats,
) {
    use std::sync::atomic::Ordering::Relaxed;
    let mut batch: Vec<Job> = Vec::with_capacity(max_batch);
    let mut last_start = std::time::Instant::now();
    let mut last_tokens = 0usize;
    loop {
        // Block for the first job; then take whatever else is already queued.
        match rx.recv() {
            Ok(j) => batch.push(j),
            Err(_) => return,
        }
        let mut size = batch.iter().map(job_tokens).sum::<usize>();
        take_queued(rx, &mut batch, &mut size, max_batch);
        // Under load (the previous commit carried several tokens), commit at most once per
        // `gather`: the tokens arriving meanwhile share the commit. The writer sleeps through
        // the wait instead of waking for each arrival (every wake-up is a `futex` call on the
        // sender's side and a context switch on this one), then takes what has queued. An
        // idle server commits at once.
        if last_tokens > 1
            && !gather.is_zero()
            && !batch.iter().any(|j| matches!(j, Job::Flush(_) | Job::Stop))
        {
            if let Some(left) =
                (last_start + gather).checked_duration_since(std::time::Instant::now())
            {
                std::thread::sleep(left);
            }
            take_queued(rx, &mut batch, &mut size, max_batch);
            // Hold the group open while more requests wait for a signing thread than it
            // holds: those keep the signing threads busy meanwhile, so waiting costs no
            // throughput, and the commit's fixed cost is shared by more tokens. At most
            // HOLD_MAX intervals since the previous commit began, checked every half interval.
            let cap = last_start + gather * HOLD_MAX;
            while size < max_batch
                && backlog.load(Relaxed) > size
                && !batch.iter().any(|j| matches!(j, Job::Flush(_) | Job::Stop))
            {
                let Some(left) = cap.checked_duration_since(std::time::Instant::now()) else {
                    break;
                };
                std::thread::sleep(left.min(gather / 2));
                take_queued(rx, &mut batch, &mut size, max_batch);
            }
        }
        last_tokens = batch
            .iter()
            .filter(|j| matches!(j, Job::Tokens(_)))
            .map(job_tokens)
            .sum();
        last_start = std::time::Instant::now();
        let has_work = batch
            .iter()
            .any(|j| !matches!(j, Job::Flush(_) | Job::Stop));
        let stop = batch.iter().any(|j| matches!(j, Job::Stop));
        let began = std::time::Instant::now();
        let result = if has_work {
            write_batch(db, &batch)
        } else {
            Ok(())
        };
        stats.commit_micros.fetch_add(
            u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX),
            Relaxed,
        );
        stats.commits.fetch_add(u64::from(has_work), Relaxed);
        if let Err(e) = &result {
            stats.failures.fetch_add(1, Relaxed);
            tracing::error!(error = %e, records = batch.len(), "group commit failed");
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
    /// its queue changes). Under load the writer keeps gathering a group while this exceeds
    /// the group's size.
    pub fn set_backlog(&self, queued: usize) {
        self.backlog
            .store(queued, std::sync::atomic::Ordering::Relaxed);
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
        }]);
        rx.recv().map_err(|_| StoreError("writer stopped".into()))?
    }

    /// Records an event with the next commit (not awaited).
    pub fn event(&self, at: UnixTime, kind: &str, detail: &str) {
        let _ = self
            .tx
            .send(Job::Event(at, kind.to_owned(), detail.to_owned()));
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

    fn read(&self) -> Result<redb::ReadTransaction, StoreError> {
        match &self.db {
            ReaderDb::Rw(db) => db.begin_read().map_err(se),
            ReaderDb::Ro(db) => db.begin_read().map_err(se),
        }
    }

    /// Calls `out` with each matching record's JSON line, in serial (or time) order; returns
    /// how many matched.
    pub fn query(
        &self,
        q: &Query,
        mut out: impl FnMut(&str) -> std::io::Result<()>,
    ) -> Result<u64, StoreError> {
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

    /// Every serial in the store (for tests and audits of uniqueness).
    pub fn serials(&self) -> Result<Vec<Serial>, StoreError> {
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

    #[test]
    fn backlog_holds_groups_open_but_never_forever() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let stats = Arc::new(WriterStats::default());
        let (rec, writer) = store.start_writer(4096, Duration::from_millis(2), stats.clone());
        // A signing queue that never drains: every group is held, at most HOLD_MAX intervals.
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
        let (rec, writer) = store.start_writer(16, Duration::from_millis(5), stats.clone());
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
            10
        );
        assert_eq!(r.serials().unwrap().len(), 50);
        assert_eq!(r.rejections().unwrap(), vec![("badAlg".to_owned(), 2)]);
        assert_eq!(r.events().unwrap().len(), 1);
    }

    #[test]
    fn hex_helpers() {
        assert_eq!(hex(&[0, 0xab]), "00ab");
        assert_eq!(unhex("00AB"), Some(vec![0, 0xab]));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("zz"), None);
    }
}
