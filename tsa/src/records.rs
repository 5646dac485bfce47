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
//! # Group commit
//!
//! One writer thread owns the write transactions. A request hands its [`TokenRecord`] over a
//! channel and waits; the writer takes everything queued (up to `max_batch`), writes it in one
//! transaction, commits it durably, and only then releases every waiter. While one `fsync`
//! runs, the next batch gathers, so the `fsync` cost is shared by all concurrent requests and
//! throughput does not depend on the disk's latency. The HTTP response carrying a token is sent
//! only after its record's commit has returned: a client can never hold a token the store does
//! not know, even after `kill -9`.
//!
//! # Tables
//!
//! | table | key | value |
//! |---|---|---|
//! | `tokens` | serial (u128) | the record as one JSON line |
//! | `by_imprint` (multimap) | imprint octets | serial |
//! | `by_time` (multimap) | genTime, ns since 1970 | serial |
//! | `events` | sequence number | JSON `{time, kind, detail}` |
//! | `rejections` | failure reason | count |
//! | `meta` | name | u64 (`epoch`) |

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use inkan_profiles::time::UnixTime;
use redb::{
    ConcurrencyMode, Database, Durability, MultimapTableDefinition, ReadableDatabase,
    ReadableTable, TableDefinition,
};
use serde::{Deserialize, Serialize};

use crate::serial::{self, Serial};
use crate::timefmt;

const TOKENS: TableDefinition<'_, u128, &[u8]> = TableDefinition::new("tokens");
const BY_IMPRINT: MultimapTableDefinition<'_, &[u8], u128> =
    MultimapTableDefinition::new("by_imprint");
const BY_TIME: MultimapTableDefinition<'_, u64, u128> = MultimapTableDefinition::new("by_time");
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

/// A token record with the binary keys the indexes need.
#[derive(Clone, Debug)]
pub struct Issued {
    /// Serial.
    pub serial: Serial,
    /// genTime.
    pub gen_time: UnixTime,
    /// Imprint octets.
    pub imprint: Vec<u8>,
    /// The printable record.
    pub record: TokenRecord,
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

enum Job {
    Token(
        Box<Issued>,
        tokio::sync::oneshot::Sender<Result<(), StoreError>>,
    ),
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
            w.open_multimap_table(BY_IMPRINT).map_err(se)?;
            w.open_multimap_table(BY_TIME).map_err(se)?;
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
    pub fn start_writer(&self, max_batch: usize, stats: Arc<WriterStats>) -> (Recorder, Writer) {
        let (tx, rx) = std::sync::mpsc::channel();
        let db = self.db.clone();
        let handle = std::thread::Builder::new()
            .name("records-writer".into())
            .spawn(move || writer_loop(&db, &rx, max_batch.max(1), &stats))
            .ok();
        (Recorder { tx }, Writer { handle })
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
        let mut by_imprint = w.open_multimap_table(BY_IMPRINT).map_err(se)?;
        let mut by_time = w.open_multimap_table(BY_TIME).map_err(se)?;
        let mut rejections: Vec<(&str, u64)> = Vec::new();
        for job in jobs {
            match job {
                Job::Token(i, _) => {
                    let json = serde_json::to_vec(&i.record)
                        .map_err(|e| StoreError(format!("encoding a record: {e}")))?;
                    if tokens
                        .insert(i.serial, json.as_slice())
                        .map_err(se)?
                        .is_some()
                    {
                        // Cannot happen by the serial scheme; refuse loudly if it ever does.
                        return Err(StoreError(format!(
                            "serial {} already recorded",
                            serial::to_hex(i.serial)
                        )));
                    }
                    by_imprint
                        .insert(i.imprint.as_slice(), i.serial)
                        .map_err(se)?;
                    by_time.insert(time_key(i.gen_time), i.serial).map_err(se)?;
                }
                Job::Reject(r) => match rejections.iter_mut().find(|(k, _)| k == r) {
                    Some((_, n)) => *n += 1,
                    None => rejections.push((r, 1)),
                },
                Job::Event(..) | Job::Flush(_) | Job::Stop => {}
            }
        }
        drop((tokens, by_imprint, by_time));
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

fn writer_loop(db: &Database, rx: &Receiver<Job>, max_batch: usize, stats: &WriterStats) {
    use std::sync::atomic::Ordering::Relaxed;
    let mut batch: Vec<Job> = Vec::with_capacity(max_batch);
    loop {
        // Block for the first job; then take whatever else is already queued.
        match rx.recv() {
            Ok(j) => batch.push(j),
            Err(_) => return,
        }
        while batch.len() < max_batch {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let has_work = batch
            .iter()
            .any(|j| !matches!(j, Job::Flush(_) | Job::Stop));
        let stop = batch.iter().any(|j| matches!(j, Job::Stop));
        let result = if has_work {
            write_batch(db, &batch)
        } else {
            Ok(())
        };
        stats.commits.fetch_add(u64::from(has_work), Relaxed);
        if let Err(e) = &result {
            stats.failures.fetch_add(1, Relaxed);
            tracing::error!(error = %e, records = batch.len(), "group commit failed");
        }
        let mut n = 0;
        for job in batch.drain(..) {
            match job {
                Job::Token(_, done) => {
                    n += 1;
                    let _ = done.send(result.clone());
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
    /// Submits a token record and waits until it is durably committed.
    pub async fn commit(&self, issued: Issued) -> Result<(), StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.tx
            .send(Job::Token(Box::new(issued), tx))
            .map_err(|_| StoreError("writer stopped".into()))?;
        rx.await.map_err(|_| StoreError("writer stopped".into()))?
    }

    /// Submits a token record from a blocking thread and waits for its commit.
    pub fn commit_blocking(&self, issued: Issued) -> Result<(), StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.tx
            .send(Job::Token(Box::new(issued), tx))
            .map_err(|_| StoreError("writer stopped".into()))?;
        rx.blocking_recv()
            .map_err(|_| StoreError("writer stopped".into()))?
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
                let line = std::str::from_utf8(v.value())
                    .map_err(|_| StoreError("corrupt record".into()))?
                    .to_owned();
                out(&line).map_err(|e| StoreError(format!("output: {e}")))?;
                n += 1;
            }
            Ok(())
        };
        match q {
            Query::Serial(s) => emit(*s)?,
            Query::Imprint(imp) => {
                let t = r.open_multimap_table(BY_IMPRINT).map_err(se)?;
                for s in t.get(imp.as_slice()).map_err(se)? {
                    emit(s.map_err(se)?.value())?;
                }
            }
            Query::Range(from, to) => {
                let t = r.open_multimap_table(BY_TIME).map_err(se)?;
                for item in t.range(time_key(*from)..=time_key(*to)).map_err(se)? {
                    let (_, serials) = item.map_err(se)?;
                    for s in serials {
                        emit(s.map_err(se)?.value())?;
                    }
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
        Issued {
            serial,
            gen_time: t,
            imprint: imprint.to_vec(),
            record: TokenRecord {
                serial: serial::to_hex(serial),
                gen_time: timefmt::rfc3339(t),
                policy: "1.2.3".into(),
                imprint_alg: "sha256".into(),
                imprint: hex(imprint),
                cert_sha256: hex(&[0; 32]),
                nonce: None,
            },
        }
    }

    #[test]
    fn group_commit_and_queries() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let e1 = store.reserve_epoch(UnixTime::from_secs(100)).unwrap();
        let e2 = store.reserve_epoch(UnixTime::from_secs(100)).unwrap();
        assert!(e2 > e1);
        let stats = Arc::new(WriterStats::default());
        let (rec, writer) = store.start_writer(16, stats.clone());
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
