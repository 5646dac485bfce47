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
//!   SQLite's strengths (ad-hoc SQL, many writers) buy nothing here, and it
//!   would bring a C library.
//!
//! The store's parts live in three modules, none of which imports another in a loop: the
//! record format, the hash chain and the events in [`crate::record`]; the group-commit writer
//! shared by every store in [`crate::group`]; the embedded store, the [`Store`] boundary and
//! the [`Reader`] here. Their public items are re-exported here, where callers have always
//! found them.
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
use std::sync::atomic::AtomicU64;

use inkan_profiles::clock::Clock;
use inkan_profiles::time::UnixTime;
use redb::{
    ConcurrencyMode, Database, Durability, ReadableDatabase, ReadableTable, TableDefinition,
};

use crate::group::{GroupSink, Job, spawn_writer, stored_value};
pub use crate::group::{
    Lease, Notify, Pending, Recorder, StoreHealth, Writer, WriterOptions, WriterStats,
};
pub use crate::record::{
    Chain, ChainBreak, ChainReport, Event, GEN_TIME_DIGITS, Issued, Query, SerialSpace, StoreError,
    TokenRecord, encode_record, hex, kind, token_time, unhex,
};
use crate::record::{Genesis, parse_stored, record_imprint, time_key};
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

fn se(e: impl Into<redb::Error>) -> StoreError {
    StoreError::Unavailable(e.into().to_string())
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
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Unavailable(format!("cannot create {}: {e}", data_dir.display()))
        })?;
        let path = data_dir.join(FILE_NAME);
        let mut b = Database::builder();
        b.set_concurrency_mode(ConcurrencyMode::SingleWriter);
        if let Some(c) = cache_bytes {
            b.set_cache_size(c);
        }
        let db = b
            .create(&path)
            .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
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
                let p = serial::random_prefix().map_err(StoreError::Unavailable)?;
                if used.get(p).map_err(se)?.is_none() {
                    break p;
                }
                tries += 1;
                if tries > 16 {
                    // 16 draws all equal to used prefixes: the generator is broken.
                    return Err(StoreError::Refused(
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
        return Err(StoreError::Exhausted("serial epochs exhausted"));
    }
    meta.insert("epoch", u64::from(epoch)).map_err(se)?;
    Ok(epoch)
}

fn read_chain(r: &redb::ReadTransaction) -> Result<Chain, StoreError> {
    let t = r.open_table(CHAIN).map_err(se)?;
    let v = t.get("head").map_err(se)?;
    v.and_then(|v| Chain::from_bytes(v.value()))
        .ok_or_else(|| StoreError::Corrupt("the records chain head is missing".into()))
}

fn write_event(w: &redb::WriteTransaction, e: &Event) -> Result<(), StoreError> {
    let mut t = w.open_table(EVENTS).map_err(se)?;
    let next = t.last().map_err(se)?.map_or(0, |(k, _)| k.value() + 1);
    t.insert(next, e.to_json(next).as_str()).map_err(se)?;
    Ok(())
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
                                return Err(StoreError::Refused(format!(
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

impl Reader {
    /// Opens `DATA_DIR/records.redb` for reading, alongside a running server if there is one.
    /// When the file needs recovery (after a crash) and no server has it open, it is opened
    /// for writing once so redb can repair it.
    pub fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let path = data_dir.join(FILE_NAME);
        if !path.exists() {
            return Err(StoreError::Unavailable(format!(
                "{} does not exist",
                path.display()
            )));
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
            Err(e) => Err(StoreError::Unavailable(format!("{}: {e}", path.display()))),
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
            ReaderDb::Pg(_) => Err(StoreError::Refused("not an embedded store".into())),
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
                    StoreError::Corrupt(format!(
                        "corrupt record for serial {}",
                        serial::to_hex(serial)
                    ))
                })?;
                out(&rec.to_json_line()).map_err(|e| StoreError::Output(format!("output: {e}")))?;
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
                let v = tokens.get(s).map_err(se)?.ok_or_else(|| {
                    StoreError::Corrupt("a record vanished during the check".into())
                })?;
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
                .map_err(|e| StoreError::Output(format!("output: {e}")))?;
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
            return Err(StoreError::Refused(format!(
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
                .map_err(|e| StoreError::Output(format!("{}: {e}", partial.display())))?;
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
                    StoreError::Unavailable(format!(
                        "cannot rename the copy to {}: {e}",
                        out.display()
                    ))
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
    use std::time::Duration;

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
