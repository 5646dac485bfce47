//! The shared records store on PostgreSQL (issue 15): several `inkan-tsa` instances behind one
//! load balancer issue as one TSA, with one set of records for the auditor.
//!
//! `--store postgresql://USER@HOST[:PORT]/DBNAME[?sslmode=...&sslrootcert=FILE&password-source=env:NAME|FILE&lease_s=N]`
//!
//! * **Password**: from `PGPASSWORD`, or `password-source=env:NAME` / `password-source=FILE`
//!   (first line). A password inside the URL is refused: command lines are visible to every
//!   user of the host (`ps`) and end up in shell histories. The password never reaches a log,
//!   an error or `Debug` (the driver's `Config` redacts it; [`Target`] prints only the URL
//!   without it).
//! * **TLS** through rustls (the `ring` provider already in the tree), libpq's `sslmode`:
//!   `disable`; `prefer` (libpq's default: TLS when the server offers it); `require`,
//!   `verify-ca` and `verify-full`, which all **verify the server certificate and its host
//!   name** against `sslrootcert` (PEM) or else the system's roots. This is stricter than
//!   libpq, whose `require` accepts any certificate and whose `verify-ca` skips the host name:
//!   a TSA's records are not a place for an unauthenticated server. `prefer` verifies too when
//!   the server offers TLS.
//! * `lease_s` (default 30, 2..=3600): the instance lease; it is renewed every third of it.
//! * Timeouts: connect 5 s, `tcp_user_timeout` 10 s and TCP keep-alives (a cut network
//!   fails a commit within about 10 s instead of hanging), `statement_timeout` 15 s. While the
//!   database cannot be reached, the writer retries with backoff (100 ms doubling to 5 s) and
//!   answers every group at once with the error in between, so requests get `systemFailure`
//!   without waiting.
//!
//! # Why `postgres` (tokio-postgres) without a pool
//!
//! The candidates were `tokio-postgres` with `deadpool-postgres`, and `sqlx`. `sqlx` brings a
//! query macro layer, its own pool and runtime glue, and many more crates; nothing here needs
//! compile-time checked queries (a dozen fixed statements). `tokio-postgres` (through its
//! blocking wrapper `postgres`, same maintainers) is the maintained driver most Rust
//! PostgreSQL crates build on, and takes any TLS connector (`tokio-postgres-rustls`). A pool
//! (`deadpool-postgres`) buys nothing: the group commit serialises every write onto **one**
//! connection by design (one transaction per group, [`crate::records`]), the lease is renewed
//! on a second connection of its own (so a slow commit cannot starve the renewal), and the
//! start-up steps and the `records`/`events` commands open one connection each. Two long-lived
//! connections per instance, reconnected with backoff, are simpler to reason about under an
//! outage than a pool's recycling rules. The blocking wrapper suits the writer, which is a
//! plain thread already (it runs its own small runtime per connection).
//!
//! # Schema and migrations
//!
//! Versioned SQL files in `tsa/migrations/` (compiled in), applied at start in one
//! transaction each, under `pg_advisory_xact_lock`, so that two instances starting at the same
//! moment do not both apply one: the second waits, then sees it applied. The table
//! `inkan_schema` lists what was applied. A database with a newer schema than this build knows
//! is refused.
//!
//! # Instances, leases and serials
//!
//! At start an instance takes an instance number (1..=65535) from `inkan_instances`: the
//! lowest one whose lease has expired (`SELECT ... FOR UPDATE SKIP LOCKED`, so two instances
//! never wait on, or take, the same row), else a new one (under an advisory lock). It renews
//! the lease every third of its length on a connection of its own. It stops issuing as soon as
//! the lease is not known to be valid: the local deadline is the time the renewal was *sent*
//! plus the lease, a little earlier than the database's `expires_at`, and every group commit
//! also checks in the same transaction that this instance still owns the number and the lease
//! has not expired by the database's clock (`UPDATE ... WHERE owner = $me AND expires_at >
//! now()`): a commit under a lost lease is rolled back, so no token leaves under it. When the
//! number was taken over by another instance meanwhile, the lease thread takes a free number
//! and issuing resumes; the event `store_lease` records every take.
//!
//! Serials keep the scheme of [`crate::serial`] with the instance number in the top 16 bits of
//! the 64-bit prefix and 48 random bits below it; the prefix is inserted into
//! `inkan_serial_prefixes` (primary key) before the first token, redrawn on conflict. Two
//! instances sharing the database can therefore never hold the same prefix, whatever the
//! random draw; the number in the serial tells the auditor which instance issued it. (An
//! instance that lost its number and took another keeps its prefix, unique all the same.)
//!
//! # The hash chain: one per instance number
//!
//! Each instance number carries its own chain ([`crate::record::Chain`]), its head in its
//! `inkan_instances` row, updated in the same transaction as the records; the first record of
//! number `n` links to `SHA-256(label || n)`. An instance that takes a number over continues
//! its chain. One chain per number (not one ordered by the database) keeps instances from
//! serialising on one row. `records --verify-chain --store URL` walks every chain and reports
//! the first record changed, removed or inserted, and any record outside every chain.
//!
//! # Durability
//!
//! A token's response leaves only after the `COMMIT` of its group returned. What that means
//! is the database's `synchronous_commit`: `on` (default) — the record is in the primary's
//! WAL on disk; `remote_write`/`on` with `synchronous_standby_names` — also received/flushed
//! by a standby, so a failover loses no record a client holds (recommended); `local` — the
//! primary only even with standbys; `off` — a database crash can lose the last few hundred
//! milliseconds of records whose tokens clients already hold (do not use for a TSA).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use inkan_profiles::clock::Clock;
use inkan_profiles::time::UnixTime;
use postgres::{Client, Config};

use crate::group::{
    self, GroupSink, Job, Recorder, StoreHealth, Writer, WriterOptions, WriterStats,
};
use crate::record::{self, Chain, ChainBreak, ChainReport, Event, Query, SerialSpace, StoreError};
use crate::serial::{self, Serial};

/// The migrations, in order (version = index + 1).
const MIGRATIONS: &[&str] = &[include_str!("../migrations/0001_records.sql")];

/// Advisory lock keys (arbitrary constants: "inkan" and a purpose).
const LOCK_MIGRATE: i64 = 0x696e_6b61_6e00_0001;
const LOCK_INSTANCES: i64 = 0x696e_6b61_6e00_0002;

/// Event kind: an instance number taken (at start or after a lease was lost).
pub const KIND_LEASE: &str = "store_lease";

/// A driver error with its causes (the TLS or I/O error behind "error performing TLS
/// handshake", ...). The driver's messages carry no password.
fn pe(e: postgres::Error) -> StoreError {
    let mut m = format!("postgresql: {e}");
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        let text = c.to_string();
        if !m.ends_with(&text) {
            m.push_str(": ");
            m.push_str(&text);
        }
        cause = c.source();
    }
    StoreError::Unavailable(m)
}

/// Where and how to connect (parsed `--store` URL). `Debug` shows no password.
#[derive(Clone)]
pub struct Target {
    config: Config,
    tls: Option<rustls::ClientConfig>,
    display: String,
    lease: Duration,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Target({})", self.display)
    }
}

fn percent_decode(s: &str) -> Result<String, StoreError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| StoreError::Config("bad %-escape in the store URL".into()))?;
            out.push(h);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| StoreError::Config("the store URL is not UTF-8".into()))
}

/// Reads a password source: `env:NAME` or a file (first line).
fn read_password(src: &str) -> Result<String, StoreError> {
    if let Some(name) = src.strip_prefix("env:") {
        return std::env::var(name)
            .map_err(|_| StoreError::Config(format!("password-source: ${name} is not set")));
    }
    let text = std::fs::read_to_string(src)
        .map_err(|e| StoreError::Config(format!("password-source: cannot read {src}: {e}")))?;
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

impl Target {
    /// Parses `postgresql://USER@HOST[:PORT]/DBNAME[?params]` (see the module docs).
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let bad = |m: &str| StoreError::Config(format!("--store: {m}"));
        let rest = url
            .strip_prefix("postgresql://")
            .or_else(|| url.strip_prefix("postgres://"))
            .ok_or_else(|| bad("use postgresql://USER@HOST[:PORT]/DBNAME"))?;
        let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (auth, hostpath) = main
            .rsplit_once('@')
            .ok_or_else(|| bad("the URL needs a user (postgresql://USER@HOST/DB)"))?;
        if auth.contains(':') {
            return Err(bad(
                "a password in the URL is refused (command lines are visible to every user): use PGPASSWORD or password-source=env:NAME|FILE",
            ));
        }
        let (hostport, db) = hostpath
            .split_once('/')
            .ok_or_else(|| bad("the URL needs a database name (.../DBNAME)"))?;
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => (
                h,
                p.parse::<u16>()
                    .map_err(|_| bad("the port is not a number"))?,
            ),
            _ => (hostport, 5432),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let (user, db, host) = (
            percent_decode(auth)?,
            percent_decode(db)?,
            percent_decode(host)?,
        );
        if user.is_empty() || db.is_empty() || host.is_empty() {
            return Err(bad("user, host and database name must not be empty"));
        }
        let mut c = Config::new();
        c.user(&user)
            .host(&host)
            .port(port)
            .dbname(&db)
            .application_name("inkan-tsa")
            .connect_timeout(Duration::from_secs(5))
            .tcp_user_timeout(Duration::from_secs(10))
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(10))
            .options("-c statement_timeout=15000 -c idle_in_transaction_session_timeout=30000");
        let (mut sslmode, mut rootcert, mut password_source, mut lease_s) =
            ("prefer".to_owned(), None, None, 30u64);
        for kv in query.split('&').filter(|s| !s.is_empty()) {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let v = percent_decode(v)?;
            match k {
                "sslmode" => sslmode = v,
                "sslrootcert" => rootcert = Some(v),
                "password-source" => password_source = Some(v),
                "lease_s" => {
                    lease_s = v
                        .parse()
                        .ok()
                        .filter(|n| (2..=3600).contains(n))
                        .ok_or_else(|| bad("lease_s must be 2..=3600"))?;
                }
                "password" => {
                    return Err(bad(
                        "a password in the URL is refused: use PGPASSWORD or password-source",
                    ));
                }
                other => return Err(bad(&format!("unknown parameter {other:?}"))),
            }
        }
        let password = match password_source {
            Some(src) => Some(read_password(&src)?),
            None => std::env::var("PGPASSWORD").ok(),
        };
        if let Some(p) = password {
            c.password(p);
        }
        let tls = match sslmode.as_str() {
            "disable" => {
                c.ssl_mode(postgres::config::SslMode::Disable);
                None
            }
            "prefer" | "require" | "verify-ca" | "verify-full" => {
                c.ssl_mode(if sslmode == "prefer" {
                    postgres::config::SslMode::Prefer
                } else {
                    postgres::config::SslMode::Require
                });
                Some(tls_config(rootcert.as_deref())?)
            }
            other => {
                return Err(bad(&format!(
                    "sslmode {other:?} is not one of disable, prefer, require, verify-ca, verify-full"
                )));
            }
        };
        Ok(Self {
            config: c,
            tls,
            display: format!("postgresql://{user}@{hostport}/{db}"),
            lease: Duration::from_secs(lease_s),
        })
    }

    /// Connects (blocking; not from inside the async runtime).
    fn connect(&self) -> Result<Client, StoreError> {
        match &self.tls {
            None => self.config.connect(postgres::NoTls).map_err(pe),
            Some(t) => self
                .config
                .connect(tokio_postgres_rustls::MakeRustlsConnect::new(t.clone()))
                .map_err(pe),
        }
    }
}

fn tls_config(rootcert: Option<&str>) -> Result<rustls::ClientConfig, StoreError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    match rootcert {
        Some(path) => {
            for c in CertificateDer::pem_file_iter(path)
                .map_err(|e| StoreError::Config(format!("sslrootcert {path}: {e}")))?
            {
                let c = c.map_err(|e| StoreError::Config(format!("sslrootcert {path}: {e}")))?;
                roots
                    .add(c)
                    .map_err(|e| StoreError::Config(format!("sslrootcert {path}: {e}")))?;
            }
        }
        None => {
            for c in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(c);
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Config(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// What `inkan-tsa backup` says for a shared store: its records are the database's to back up
/// (a copy taken by the TSA through one connection would be neither point-in-time consistent
/// across instances nor restorable by PostgreSQL's tools). No password in it.
pub fn backup_advice(url: &str) -> String {
    let (shown, db) = match Target::parse(url) {
        Ok(t) => {
            let db = t.config.get_dbname().unwrap_or("DBNAME").to_owned();
            (t.display, db)
        }
        Err(e) => return e.detail().to_owned(),
    };
    format!(
        "the records are in the shared PostgreSQL store {shown}: `inkan-tsa backup` copies only the embedded store. \
Back the database up with PostgreSQL's tools: continuous WAL archiving with pg_basebackup (or pgBackRest, Barman) for \
point-in-time recovery, and `pg_dump --format=custom --file=FILE {db}` for a consistent snapshot while the instances \
serve; keep the output of `inkan-tsa records --verify-chain --store URL` (the chain heads) with each backup, and check \
a restored copy with the same command (docs/deployment.md, \"Backups of the records\")"
    )
}

/// What `inkan-tsa check --store URL` found: `(tag, text)` lines, tag `ok`, `info` or `WARN`.
pub type Findings = Vec<(&'static str, String)>;

/// The checks `inkan-tsa check` runs against a shared store, beside instances that serve from
/// it: connects (password, TLS), and in one read-only transaction reads the server's version,
/// whether the connection is encrypted, the schema version against this build's migrations, the
/// role's privileges (to create the schema or write the records), the instance leases, and the
/// durability settings (`synchronous_commit`, a synchronous standby). Changes nothing, takes no
/// lease. `Err`: serve would not start, with the reason.
pub fn check(url: &str) -> Result<Findings, String> {
    let t = Target::parse(url).map_err(|e| e.detail().to_owned())?;
    off_runtime(|| check_on(&t).map_err(|e| e.detail().to_owned()))
}

fn check_on(t: &Target) -> Result<Findings, StoreError> {
    let mut found = Findings::new();
    let mut c = t.connect().map_err(|e| {
        StoreError::Unavailable(format!("cannot connect to {}: {}", t.display, e.detail()))
    })?;
    let mut tx = c.transaction().map_err(pe)?;
    tx.batch_execute("SET TRANSACTION READ ONLY").map_err(pe)?;
    let row = tx
        .query_one(
            "SELECT current_setting('server_version'), current_user, current_schema(), \
             (SELECT coalesce(max(version), '') FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl)",
            &[],
        )
        .map_err(pe)?;
    let (version, user, schema, tls): (String, String, Option<String>, String) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    let loopback = matches!(
        t.config.get_hosts().first(),
        Some(postgres::config::Host::Tcp(h)) if h == "localhost" || h.parse::<std::net::IpAddr>().is_ok_and(|a| a.is_loopback())
    );
    found.push((
        if tls.is_empty() && !loopback {
            "WARN"
        } else {
            "ok"
        },
        format!(
            "connected to {} as {user} (PostgreSQL {version}), {}",
            t.display,
            if tls.is_empty() {
                "NOT encrypted (sslmode=disable or the server offers no TLS)".to_owned()
            } else {
                format!("TLS {tls}, server certificate verified")
            }
        ),
    ));
    let Some(schema) = schema else {
        return Err(StoreError::Config(format!(
            "the role {user} has no schema to work in (search_path)"
        )));
    };
    let known = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
    let present: bool = tx
        .query_one("SELECT to_regclass('inkan_schema') IS NOT NULL", &[])
        .map_err(pe)?
        .get(0);
    let have: i32 = if present {
        tx.query_one("SELECT coalesce(max(version), 0) FROM inkan_schema", &[])
            .map_err(pe)?
            .get(0)
    } else {
        0
    };
    if have > known {
        return Err(StoreError::Config(format!(
            "the database schema is version {have}, newer than this inkan-tsa knows ({known}): upgrade inkan-tsa"
        )));
    }
    if have < known {
        let can: bool = tx
            .query_one("SELECT has_schema_privilege($1, 'CREATE')", &[&schema])
            .map_err(pe)?
            .get(0);
        if !can {
            return Err(StoreError::Config(format!(
                "the schema is at version {have} of {known} and the role {user} may not create tables in schema {schema}: grant CREATE or migrate as the owner"
            )));
        }
        found.push((
            "info",
            if have == 0 {
                format!("no inkan schema yet in {schema}: serve would create it (version {known})")
            } else {
                format!("schema version {have}: serve would migrate it to {known}")
            },
        ));
    } else {
        found.push(("ok", format!("schema version {have} (current)")));
    }
    if have > 0 {
        for (table, privilege) in [
            ("inkan_token_records", "INSERT"),
            ("inkan_events", "INSERT"),
            ("inkan_instances", "UPDATE"),
            ("inkan_serial_prefixes", "INSERT"),
            ("inkan_meta", "UPDATE"),
            ("inkan_rejections", "UPDATE"),
        ] {
            let can: bool = tx
                .query_one("SELECT has_table_privilege($1, $2)", &[&table, &privilege])
                .map_err(pe)?
                .get(0);
            if !can {
                return Err(StoreError::Config(format!(
                    "the role {user} lacks {privilege} on {table}"
                )));
            }
        }
        let r = tx
            .query_one(
                "SELECT count(*) FILTER (WHERE expires_at > now()), count(*), \
                 coalesce(string_agg(number::text, ', ' ORDER BY number) FILTER (WHERE expires_at > now()), ''), \
                 (SELECT count(*) FROM inkan_token_records) FROM inkan_instances",
                &[],
            )
            .map_err(pe)?;
        let (live, all, numbers, records): (i64, i64, String, i64) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        found.push((
            "info",
            format!(
                "{records} records; instance numbers leased now: {live}{}; {} expired (serve would take {})",
                if numbers.is_empty() {
                    String::new()
                } else {
                    format!(" ({numbers})")
                },
                all - live,
                if all > live {
                    "the lowest expired number"
                } else {
                    "a new number"
                }
            ),
        ));
    }
    let r = tx
        .query_one(
            "SELECT current_setting('synchronous_commit'), current_setting('synchronous_standby_names')",
            &[],
        )
        .map_err(pe)?;
    let (sync, standbys): (String, String) = (r.get(0), r.get(1));
    match sync.as_str() {
        "off" => found.push((
            "WARN",
            "synchronous_commit = off: a database crash can lose records of tokens clients already hold (set it to on; docs/deployment.md)".to_owned(),
        )),
        _ if standbys.trim().is_empty() => found.push((
            "info",
            format!(
                "synchronous_commit = {sync}, no synchronous standby: a token's record survives a crash of the database, not the loss of its disk (docs/deployment.md)"
            ),
        )),
        _ => found.push((
            "ok",
            format!("synchronous_commit = {sync} with synchronous standbys {standbys}"),
        )),
    }
    tx.rollback().map_err(pe)?;
    Ok(found)
}

/// Runs blocking database work off the async runtime (the blocking driver must not run on a
/// runtime thread).
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| match s.spawn(f).join() {
            Ok(v) => v,
            Err(p) => std::panic::resume_unwind(p),
        })
    } else {
        f()
    }
}

/// Applies the migrations this database lacks (see the module docs).
fn migrate(c: &mut Client) -> Result<(), StoreError> {
    let mut tx = c.transaction().map_err(pe)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_MIGRATE])
        .map_err(pe)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS inkan_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .map_err(pe)?;
    let have: i32 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM inkan_schema", &[])
        .map_err(pe)?
        .get(0);
    let known = i32::try_from(MIGRATIONS.len()).unwrap_or(i32::MAX);
    if have > known {
        return Err(StoreError::Config(format!(
            "the database schema is version {have}, newer than this inkan-tsa knows ({known}): upgrade inkan-tsa"
        )));
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(have).unwrap_or(0))
    {
        let v = i32::try_from(i + 1).unwrap_or(i32::MAX);
        tx.batch_execute(sql).map_err(pe)?;
        tx.execute("INSERT INTO inkan_schema (version) VALUES ($1)", &[&v])
            .map_err(pe)?;
        tracing::info!(version = v, "records store schema migrated");
    }
    tx.commit().map_err(pe)
}

/// The first chain hash of instance number `n`'s chain.
fn genesis(n: u16) -> [u8; 32] {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(Chain::LABEL);
    h.update(b" instance ");
    h.update(n.to_be_bytes());
    h.finalize().into()
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn bytes16(s: Serial) -> Vec<u8> {
    s.to_be_bytes().to_vec()
}

fn serial_of(b: &[u8]) -> Option<Serial> {
    Some(u128::from_be_bytes(b.try_into().ok()?))
}

fn ns(t: UnixTime) -> i64 {
    i64::try_from(record::time_key(t)).unwrap_or(i64::MAX)
}

/// This instance's lease on its instance number.
#[derive(Debug)]
pub struct Lease {
    owner: String,
    /// The serial prefix in use (top 16 bits: the instance number), replaced with a fresh one
    /// when another number is taken.
    prefix: Arc<std::sync::atomic::AtomicU64>,
    length: Duration,
    state: Mutex<LeaseState>,
}

#[derive(Debug, Clone, Copy)]
struct LeaseState {
    number: u16,
    /// Bumped whenever the number changes (the writer reloads its chain head).
    generation: u64,
    /// Until when the lease is known valid (local monotonic clock); `None`: lost.
    deadline: Option<Instant>,
}

impl Lease {
    fn snapshot(&self) -> LeaseState {
        *self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self, f: impl FnOnce(&mut LeaseState)) {
        f(&mut self.state.lock().unwrap_or_else(|p| p.into_inner()));
    }

    /// `Ok` while the lease is known valid.
    pub fn check(&self) -> Result<(), String> {
        let s = self.snapshot();
        match s.deadline {
            Some(d) if Instant::now() < d => Ok(()),
            _ => Err(format!(
                "the lease on instance number {} is not held (the records store cannot be written)",
                s.number
            )),
        }
    }

    /// The instance number held (or last held).
    pub fn number(&self) -> u16 {
        self.snapshot().number
    }
}

impl group::Lease for Lease {
    fn check(&self) -> Result<(), String> {
        Lease::check(self)
    }

    fn number(&self) -> u16 {
        Lease::number(self)
    }
}

impl Lease {
    /// The local deadline of a lease renewed by a statement sent at `sent`: the database's
    /// `expires_at` is `now() + length` with `now()` read after `sent`, so this is earlier;
    /// 2% less again for clock rate differences.
    fn deadline_from(&self, sent: Instant) -> Instant {
        sent + self.length - self.length / 50
    }
}

/// Takes an instance number: the lowest expired one, else a new one. Returns it.
fn acquire(c: &mut Client, lease: &Lease, now: Option<UnixTime>) -> Result<u16, StoreError> {
    let sent = Instant::now();
    let len = millis(lease.length);
    let mut tx = c.transaction().map_err(pe)?;
    let row = tx
        .query_opt(
            "SELECT number, owner FROM inkan_instances WHERE expires_at < now() ORDER BY number LIMIT 1 FOR UPDATE SKIP LOCKED",
            &[],
        )
        .map_err(pe)?;
    let (number, previous) = match row {
        Some(r) => {
            let n: i32 = r.get(0);
            let prev: String = r.get(1);
            tx.execute(
                "UPDATE inkan_instances SET owner = $1, expires_at = now() + $2 * interval '1 millisecond', taken_at = now() WHERE number = $3",
                &[&lease.owner, &(len as f64), &n],
            )
            .map_err(pe)?;
            (n, Some(prev))
        }
        None => {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_INSTANCES])
                .map_err(pe)?;
            let n: i32 = tx
                .query_one(
                    "SELECT coalesce(max(number), 0) + 1 FROM inkan_instances",
                    &[],
                )
                .map_err(pe)?
                .get(0);
            let n16 = u16::try_from(n)
                .map_err(|_| StoreError::Exhausted("all 65535 instance numbers are leased"))?;
            tx.execute(
                "INSERT INTO inkan_instances (number, owner, expires_at, taken_at, chain_head) VALUES ($1, $2, now() + $3 * interval '1 millisecond', now(), $4)",
                &[&n, &lease.owner, &(len as f64), &genesis(n16).to_vec()],
            )
            .map_err(pe)?;
            (n, None)
        }
    };
    let n = u16::try_from(number).map_err(|_| StoreError::Corrupt("bad instance number".into()))?;
    if let Some(at) = now {
        let mut e = Event::new(
            at,
            KIND_LEASE,
            format!("instance number {n} taken by {}", lease.owner),
        )
        .field("instance", n)
        .field("owner", lease.owner.clone());
        if let Some(p) = previous {
            e = e.field("previous_owner", p);
        }
        insert_event(&mut tx, &e, Some(n))?;
    }
    tx.commit().map_err(pe)?;
    let deadline = lease.deadline_from(sent);
    lease.set(|s| {
        if s.number != n || s.deadline.is_none() {
            s.generation += 1;
        }
        s.number = n;
        s.deadline = Some(deadline);
    });
    Ok(n)
}

fn insert_event(
    c: &mut impl postgres::GenericClient,
    e: &Event,
    instance: Option<u16>,
) -> Result<(), StoreError> {
    let inst = instance.map(i32::from);
    c.execute(
        "INSERT INTO inkan_events (time_ns, instance, body) VALUES ($1, $2, $3)",
        &[&ns(e.at), &inst, &e.to_json(0)],
    )
    .map_err(pe)?;
    Ok(())
}

fn read_chain(c: &mut impl postgres::GenericClient, n: u16) -> Result<Chain, StoreError> {
    let row = c
        .query_one(
            "SELECT chain_next, chain_head FROM inkan_instances WHERE number = $1",
            &[&i32::from(n)],
        )
        .map_err(pe)?;
    let next: i64 = row.get(0);
    let head: Vec<u8> = row.get(1);
    Ok(Chain {
        next: u64::try_from(next).unwrap_or(0),
        head: head
            .try_into()
            .map_err(|_| StoreError::Corrupt("bad chain head".into()))?,
    })
}

/// Takes a serial prefix for instance number `n`: the number in the top 16 bits, 48 random
/// bits, inserted into `inkan_serial_prefixes` (redrawn if it was ever taken).
fn take_prefix(
    tx: &mut impl postgres::GenericClient,
    n: u16,
    epoch: u32,
) -> Result<u64, StoreError> {
    for _ in 0..16 {
        let r = serial::random_prefix().map_err(StoreError::Unavailable)?;
        let p = (u64::from(n) << 48) | (r & 0xffff_ffff_ffff);
        let inserted = tx
            .execute(
                "INSERT INTO inkan_serial_prefixes (prefix, epoch, instance) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&i64::from_be_bytes(p.to_be_bytes()), &i64::from(epoch), &i32::from(n)],
            )
            .map_err(pe)?;
        if inserted == 1 {
            return Ok(p);
        }
    }
    // 16 draws all equal to used prefixes: the generator is broken.
    Err(StoreError::Refused(
        "the random serial prefix repeats: the random number generator is broken".into(),
    ))
}

/// After taking another number while running: a fresh prefix carrying it, durable before the
/// first serial uses it.
fn new_prefix_for(c: &mut Client, lease: &Lease, n: u16) -> Result<(), StoreError> {
    let mut tx = c.transaction().map_err(pe)?;
    let epoch: Option<i64> = tx
        .query_opt("SELECT value FROM inkan_meta WHERE name = 'epoch'", &[])
        .map_err(pe)?
        .map(|r| r.get(0));
    let p = take_prefix(&mut tx, n, u32::try_from(epoch.unwrap_or(0)).unwrap_or(0))?;
    tx.commit().map_err(pe)?;
    lease.prefix.store(p, Ordering::Relaxed);
    Ok(())
}

/// The open shared store: this instance's lease and the thread that renews it.
#[derive(Debug)]
pub struct PgStore {
    target: Arc<Target>,
    lease: Arc<Lease>,
    stopping: Arc<AtomicBool>,
    clock: Arc<dyn Clock>,
    path: PathBuf,
}

impl Drop for PgStore {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Relaxed);
    }
}

fn owner_id() -> Result<String, StoreError> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "host".into());
    let r = serial::random_prefix().map_err(StoreError::Unavailable)?;
    Ok(format!("{host}:{}:{r:016x}", std::process::id()))
}

impl PgStore {
    /// Connects, migrates the schema, takes an instance number and starts renewing its lease.
    pub fn open(url: &str, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let target = Arc::new(Target::parse(url)?);
        let lease = Arc::new(Lease {
            owner: owner_id()?,
            prefix: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            length: target.lease,
            state: Mutex::new(LeaseState {
                number: 0,
                generation: 0,
                deadline: None,
            }),
        });
        let now = clock.now();
        off_runtime(|| -> Result<(), StoreError> {
            let mut c = target.connect()?;
            migrate(&mut c)?;
            acquire(&mut c, &lease, now)?;
            Ok(())
        })?;
        let stopping = Arc::new(AtomicBool::new(false));
        let (t, l, s, clk) = (
            target.clone(),
            lease.clone(),
            stopping.clone(),
            clock.clone(),
        );
        std::thread::Builder::new()
            .name("store-lease".into())
            .spawn(move || lease_loop(&t, &l, &s, &*clk))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the lease thread: {e}")))?;
        tracing::info!(store = %target.display, instance = lease.number(), "shared records store open");
        Ok(Self {
            path: PathBuf::from(&target.display),
            target,
            lease,
            stopping,
            clock,
        })
    }

    /// The URL without password.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The serial prefix cell ([`crate::serial::SerialSource::shared`]).
    pub fn prefix_cell(&self) -> Arc<std::sync::atomic::AtomicU64> {
        self.lease.prefix.clone()
    }

    /// The lease (for `/readyz` and metrics).
    pub fn lease(&self) -> &Arc<Lease> {
        &self.lease
    }

    /// This instance number's chain head as committed.
    pub fn chain(&self) -> Result<Chain, StoreError> {
        let n = self.lease.number();
        off_runtime(|| read_chain(&mut self.target.connect()?, n))
    }

    /// Reserves the serial space: the next epoch (shared) and a prefix with this instance's
    /// number in its top 16 bits, unique in the database, both committed before returning.
    pub fn reserve_serials(&self, now: UnixTime) -> Result<SerialSpace, StoreError> {
        let n = self.lease.number();
        off_runtime(|| {
            let mut c = self.target.connect()?;
            let mut tx = c.transaction().map_err(pe)?;
            let prev: Option<i64> = tx
                .query_opt(
                    "SELECT value FROM inkan_meta WHERE name = 'epoch' FOR UPDATE",
                    &[],
                )
                .map_err(pe)?
                .map(|r| r.get(0));
            let prev = prev.map(|v| u32::try_from(v).unwrap_or(u32::MAX));
            let epoch = serial::next_epoch(prev, now.secs());
            if prev.is_some_and(|p| p >= epoch) {
                return Err(StoreError::Exhausted("serial epochs exhausted"));
            }
            tx.execute(
                "INSERT INTO inkan_meta (name, value) VALUES ('epoch', $1) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                &[&i64::from(epoch)],
            )
            .map_err(pe)?;
            let prefix = take_prefix(&mut tx, n, epoch)?;
            tx.commit().map_err(pe)?;
            self.lease.prefix.store(prefix, Ordering::Relaxed);
            Ok(SerialSpace {
                prefix,
                epoch,
                instance: Some(n),
            })
        })
    }

    /// Writes one event in its own transaction.
    pub fn record_now(&self, e: &Event) -> Result<(), StoreError> {
        let n = self.lease.number();
        off_runtime(|| insert_event(&mut self.target.connect()?, e, Some(n)))
    }

    /// Starts the group-commit writer on its own connection.
    pub fn start_writer(
        &self,
        opts: WriterOptions,
        stats: Arc<WriterStats>,
    ) -> Result<(Recorder, Writer), StoreError> {
        let health = Arc::new(StoreHealth {
            reported: true,
            lease: Some(self.lease.clone()),
            ..StoreHealth::default()
        });
        let (target, lease, stopping) = (
            self.target.clone(),
            self.lease.clone(),
            self.stopping.clone(),
        );
        let _ = &self.clock;
        group::spawn_writer(
            move || PgSink {
                target,
                lease,
                stopping,
                client: None,
                retry_at: Instant::now(),
                backoff: BACKOFF_MIN,
                chain: None,
                scratch: Vec::with_capacity(512),
                group_stmt: None,
            },
            opts,
            stats,
            health,
        )
    }

    /// Read access (its own connections).
    pub fn reader(&self) -> PgReader {
        PgReader {
            target: self.target.clone(),
        }
    }
}

const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// Renews the lease every third of its length; retakes a number when it was lost.
fn lease_loop(target: &Target, lease: &Lease, stopping: &AtomicBool, clock: &dyn Clock) {
    let every = lease.length / 3;
    let mut client: Option<Client> = None;
    let mut next = Instant::now() + every;
    let mut backoff = BACKOFF_MIN;
    loop {
        while Instant::now() < next {
            if stopping.load(Ordering::Relaxed) {
                release(client.as_mut(), target, lease);
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let r = (|| -> Result<(), StoreError> {
            if client.as_ref().is_none_or(Client::is_closed) {
                client = Some(target.connect()?);
            }
            let Some(c) = client.as_mut() else {
                return Ok(());
            };
            let s = lease.snapshot();
            let sent = Instant::now();
            let n = c
                .execute(
                    "UPDATE inkan_instances SET expires_at = now() + $1 * interval '1 millisecond' WHERE number = $2 AND owner = $3",
                    &[&(millis(lease.length) as f64), &i32::from(s.number), &lease.owner],
                )
                .map_err(pe)?;
            if n == 1 {
                let d = lease.deadline_from(sent);
                lease.set(|st| {
                    if st.deadline.is_none() {
                        st.generation += 1;
                    }
                    st.deadline = Some(d);
                });
            } else {
                tracing::error!(
                    instance = s.number,
                    "the lease on this instance number was taken over; taking another"
                );
                lease.set(|st| st.deadline = None);
                let n = acquire(c, lease, clock.now())?;
                // Issuing stays refused until the serials carry the new number.
                let d = lease.snapshot().deadline;
                lease.set(|st| st.deadline = None);
                new_prefix_for(c, lease, n)?;
                lease.set(|st| st.deadline = d);
                tracing::warn!(instance = n, "instance number taken");
            }
            Ok(())
        })();
        match r {
            Ok(()) => {
                backoff = BACKOFF_MIN;
                next = Instant::now() + every;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot renew the instance lease");
                if client.as_ref().is_some_and(Client::is_closed) {
                    client = None;
                }
                next = Instant::now() + backoff.min(every);
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

/// Gives the number back at shutdown, so another instance may take it at once.
fn release(client: Option<&mut Client>, target: &Target, lease: &Lease) {
    let s = lease.snapshot();
    let mut own;
    let c = match client {
        Some(c) => c,
        None => match target.connect() {
            Ok(c) => {
                own = c;
                &mut own
            }
            Err(_) => return,
        },
    };
    let _ = c.execute(
        "UPDATE inkan_instances SET expires_at = now() WHERE number = $1 AND owner = $2",
        &[&i32::from(s.number), &lease.owner],
    );
    lease.set(|st| st.deadline = None);
}

/// The writer's side of the shared store.
struct PgSink {
    target: Arc<Target>,
    lease: Arc<Lease>,
    stopping: Arc<AtomicBool>,
    client: Option<Client>,
    retry_at: Instant,
    backoff: Duration,
    /// (lease generation, number, committed head) once loaded.
    chain: Option<(u64, u16, Chain)>,
    scratch: Vec<u8>,
    /// [`GROUP_SQL`] prepared on the current connection.
    group_stmt: Option<postgres::Statement>,
}

/// A group of token records and nothing else, in one statement (so in one implicit
/// transaction and one round trip, prepared once per connection): the chain head moves only
/// while this instance holds the number and its lease has not expired by the database's clock,
/// and the records are inserted only when it moved (`FROM u`). Fewer rows than records: the
/// lease was lost and nothing was written. The `COMMIT` of the implicit transaction, with the
/// database's `synchronous_commit`, happens before the statement's answer.
const GROUP_SQL: &str = "WITH u AS (UPDATE inkan_instances SET chain_next = $1, chain_head = $2 \
     WHERE number = $3 AND owner = $4 AND chain_next = $5 AND expires_at > now() RETURNING number) \
     INSERT INTO inkan_token_records (serial, instance, seq, gen_ns, imprint, stored) \
     SELECT x.s, u.number, x.q, x.t, x.i, x.v FROM u, \
     unnest($6::bytea[], $7::bigint[], $8::bigint[], $9::bytea[], $10::bytea[]) AS x(s, q, t, i, v)";

impl PgSink {
    fn conn(&mut self) -> Result<&mut Client, StoreError> {
        if self.client.as_ref().is_some_and(Client::is_closed) {
            self.client = None;
            self.chain = None;
        }
        if self.client.is_none() {
            if Instant::now() < self.retry_at {
                return Err(StoreError::Unavailable(
                    "the database is not reachable (retrying with backoff)".into(),
                ));
            }
            match self.target.connect() {
                Ok(c) => {
                    self.backoff = BACKOFF_MIN;
                    self.client = Some(c);
                    self.group_stmt = None;
                }
                Err(e) => {
                    self.retry_at = Instant::now() + self.backoff;
                    self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
                    return Err(e);
                }
            }
        }
        self.client
            .as_mut()
            .ok_or_else(|| StoreError::Unavailable("no connection".into()))
    }

    fn try_commit(&mut self, jobs: &[Job]) -> Result<(), StoreError> {
        self.lease.check().map_err(StoreError::Refused)?;
        let ls = self.lease.snapshot();
        let cached = self
            .chain
            .filter(|(g, n, _)| *g == ls.generation && *n == ls.number);
        let start = match cached {
            Some((_, _, ch)) => ch,
            None => read_chain(self.conn()?, ls.number)?,
        };
        let mut chain = start;
        let (mut serials, mut seqs, mut times, mut imprints, mut stored) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut rejections: Vec<(&str, i64)> = Vec::new();
        for job in jobs {
            match job {
                Job::Tokens(list) => {
                    for p in list {
                        if p.issued.serial >> 112 != u128::from(ls.number) {
                            // Drawn under the number this instance held before a takeover:
                            // refused, so that every serial carries its chain's number.
                            return Err(StoreError::Refused(format!(
                                "serial {} was drawn under a previous instance number",
                                serial::to_hex(p.issued.serial)
                            )));
                        }
                        let seq = i64::try_from(chain.next).unwrap_or(i64::MAX);
                        chain = group::stored_value(&mut self.scratch, p, chain);
                        serials.push(bytes16(p.issued.serial));
                        seqs.push(seq);
                        times.push(ns(p.issued.gen_time));
                        imprints.push(p.issued.imprint.clone());
                        stored.push(self.scratch.clone());
                    }
                }
                Job::Reject(r) => match rejections.iter_mut().find(|(k, _)| k == r) {
                    Some((_, n)) => *n += 1,
                    None => rejections.push((r, 1)),
                },
                Job::Event(..) | Job::Flush(_) | Job::Stop => {}
            }
        }
        let number = i32::from(ls.number);
        let lease = self.lease.clone();
        let lost = |ls: &LeaseState| {
            lease.set(|s| s.deadline = None);
            StoreError::Refused(format!(
                "the lease on instance number {} was lost; nothing of this group was written",
                ls.number
            ))
        };
        let next = i64::try_from(chain.next).unwrap_or(i64::MAX);
        let prev = i64::try_from(start.next).unwrap_or(i64::MAX);
        let only_tokens = rejections.is_empty() && !jobs.iter().any(|j| matches!(j, Job::Event(_)));
        if only_tokens && !serials.is_empty() {
            // The common group: one prepared statement, one round trip.
            if self.group_stmt.is_none() {
                let st = self.conn()?.prepare(GROUP_SQL).map_err(pe)?;
                self.group_stmt = Some(st);
            }
            let st = self
                .group_stmt
                .clone()
                .ok_or_else(|| StoreError::Unavailable("no statement".into()))?;
            let head = chain.head.to_vec();
            let n = self
                .conn()?
                .execute(
                    &st,
                    &[
                        &next,
                        &head,
                        &number,
                        &lease.owner,
                        &prev,
                        &serials,
                        &seqs,
                        &times,
                        &imprints,
                        &stored,
                    ],
                )
                .map_err(pe)?;
            if n != serials.len() as u64 {
                return Err(lost(&ls));
            }
            self.chain = Some((ls.generation, ls.number, chain));
            return Ok(());
        }
        let c = self.conn()?;
        let mut tx = c.transaction().map_err(pe)?;
        if !serials.is_empty() {
            // The lease, checked by the database's clock in the same transaction: a commit
            // under a lost lease is rolled back (nothing issued under it).
            let n = tx
                .execute(
                    "UPDATE inkan_instances SET chain_next = $1, chain_head = $2 WHERE number = $3 AND owner = $4 AND chain_next = $5 AND expires_at > now()",
                    &[&next, &chain.head.to_vec(), &number, &lease.owner, &prev],
                )
                .map_err(pe)?;
            if n != 1 {
                return Err(lost(&ls));
            }
            tx.execute(
                "INSERT INTO inkan_token_records (serial, instance, seq, gen_ns, imprint, stored) SELECT s, $2, q, t, i, v FROM unnest($1::bytea[], $3::bigint[], $4::bigint[], $5::bytea[], $6::bytea[]) AS u(s, q, t, i, v)",
                &[&serials, &number, &seqs, &times, &imprints, &stored],
            )
            .map_err(pe)?;
        }
        for (r, n) in rejections {
            tx.execute(
                "INSERT INTO inkan_rejections (reason, count) VALUES ($1, $2) ON CONFLICT (reason) DO UPDATE SET count = inkan_rejections.count + EXCLUDED.count",
                &[&r, &n],
            )
            .map_err(pe)?;
        }
        for job in jobs {
            if let Job::Event(e) = job {
                insert_event(&mut tx, e, Some(ls.number))?;
            }
        }
        tx.commit().map_err(pe)?;
        self.chain = Some((ls.generation, ls.number, chain));
        Ok(())
    }
}

impl GroupSink for PgSink {
    fn commit_group(&mut self, jobs: &[Job]) -> Result<(), StoreError> {
        let r = self.try_commit(jobs);
        if r.is_err() {
            // The commit's outcome may be unknown (connection lost during COMMIT): reload the
            // head from the database before the next group.
            self.chain = None;
            if self.client.as_ref().is_some_and(Client::is_closed) {
                self.client = None;
            }
        }
        r
    }

    fn write_event(&mut self, e: &Event) -> Result<(), StoreError> {
        let n = self.lease.number();
        insert_event(self.conn()?, e, Some(n))
    }

    fn probe_every(&self) -> Option<Duration> {
        Some(Duration::from_millis(250))
    }

    fn probe(&mut self) -> Result<(), StoreError> {
        self.lease.check().map_err(StoreError::Refused)?;
        let r = self.conn()?.is_valid(Duration::from_secs(2)).map_err(pe);
        if r.is_err() {
            self.client = None;
        }
        r
    }

    fn on_stop(&mut self) {
        // The last group is committed: give the number back.
        self.stopping.store(true, Ordering::Relaxed);
        let target = self.target.clone();
        release(self.client.as_mut(), &target, &self.lease);
    }
}

/// Queries over the shared store (`inkan-tsa records|events --store URL`).
#[derive(Debug)]
pub struct PgReader {
    target: Arc<Target>,
}

impl PgReader {
    /// Connects for reading (the schema must exist). Every transaction of these connections is
    /// read-only (`default_transaction_read_only`): an auditor's query cannot change the
    /// records, whatever the role may do.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let mut t = Target::parse(url)?;
        let opts = format!(
            "{} -c default_transaction_read_only=on",
            t.config.get_options().unwrap_or_default()
        );
        t.config.options(opts.trim_start());
        let target = Arc::new(t);
        let present = off_runtime(|| -> Result<bool, StoreError> {
            let mut c = target.connect()?;
            let row = c
                .query_one("SELECT to_regclass('inkan_token_records') IS NOT NULL", &[])
                .map_err(pe)?;
            Ok(row.get(0))
        })?;
        if !present {
            return Err(StoreError::Config(format!(
                "no inkan-tsa records in {}: the database has no inkan schema (is the URL right? the first `inkan-tsa serve --store` creates it)",
                target.display
            )));
        }
        Ok(Self { target })
    }

    fn client(&self) -> Result<Client, StoreError> {
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(StoreError::Refused(
                "store queries run outside the async runtime".into(),
            ));
        }
        self.target.connect()
    }

    /// See [`crate::records::Reader::query`].
    pub fn query(
        &self,
        q: &Query,
        out: &mut dyn FnMut(&str) -> std::io::Result<()>,
    ) -> Result<u64, StoreError> {
        let mut c = self.client()?;
        let (sql, params): (&str, Vec<Box<dyn postgres::types::ToSql + Sync>>) = match q {
            Query::Serial(s) => (
                "SELECT serial, stored FROM inkan_token_records WHERE serial = $1",
                vec![Box::new(bytes16(*s))],
            ),
            Query::Imprint(i) => (
                "SELECT serial, stored FROM inkan_token_records WHERE imprint = $1 ORDER BY serial",
                vec![Box::new(i.clone())],
            ),
            Query::Range(from, to) => (
                "SELECT serial, stored FROM inkan_token_records WHERE gen_ns BETWEEN $1 AND $2 ORDER BY gen_ns, serial",
                vec![Box::new(ns(*from)), Box::new(ns(*to))],
            ),
        };
        let mut rows = c
            .query_raw(
                sql,
                params.iter().map(|p| &**p as &dyn postgres::types::ToSql),
            )
            .map_err(pe)?;
        let mut n = 0;
        use postgres::fallible_iterator::FallibleIterator;
        while let Some(row) = rows.next().map_err(pe)? {
            let s: Vec<u8> = row.get(0);
            let v: Vec<u8> = row.get(1);
            let serial =
                serial_of(&s).ok_or_else(|| StoreError::Corrupt("bad serial column".into()))?;
            let rec = record::TokenRecord::decode(serial, &v).ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "corrupt record for serial {}",
                    serial::to_hex(serial)
                ))
            })?;
            out(&rec.to_json_line()).map_err(|e| StoreError::Output(format!("output: {e}")))?;
            n += 1;
        }
        Ok(n)
    }

    /// Walks the chain of every instance number (see the module docs).
    pub fn verify_chain(&self) -> Result<Result<ChainReport, ChainBreak>, StoreError> {
        use postgres::fallible_iterator::FallibleIterator;
        let mut c = self.client()?;
        let heads = c
            .query(
                "SELECT number, chain_next, chain_head FROM inkan_instances ORDER BY number",
                &[],
            )
            .map_err(pe)?;
        let mut total = 0u64;
        let mut instances = Vec::new();
        let mut last_chain = Chain {
            next: 0,
            head: [0; 32],
        };
        for h in &heads {
            let number: i32 = h.get(0);
            let next: i64 = h.get(1);
            let head: Vec<u8> = h.get(2);
            let n16 = u16::try_from(number).unwrap_or(0);
            let want = Chain {
                next: u64::try_from(next).unwrap_or(0),
                head: head.try_into().unwrap_or([0; 32]),
            };
            let mut cur = genesis(n16);
            let mut expected = 0u64;
            let mut last: Option<(u64, Serial)> = None;
            let mut rows = c
                .query_raw(
                    "SELECT serial, seq, stored FROM inkan_token_records WHERE instance = $1 ORDER BY seq",
                    [&number as &dyn postgres::types::ToSql],
                )
                .map_err(pe)?;
            while let Some(row) = rows.next().map_err(pe)? {
                let s: Vec<u8> = row.get(0);
                let seq: i64 = row.get(1);
                let v: Vec<u8> = row.get(2);
                let serial =
                    serial_of(&s).ok_or_else(|| StoreError::Corrupt("bad serial column".into()))?;
                let Some((lseq, prev)) = record::stored_link(&v) else {
                    return Ok(Err(ChainBreak::Unreadable { serial }));
                };
                let seq = u64::try_from(seq).unwrap_or(u64::MAX);
                if lseq != seq || seq >= want.next {
                    return Ok(Err(ChainBreak::Inserted { serial }));
                }
                if seq > expected {
                    return Ok(Err(ChainBreak::Removed {
                        seq: expected,
                        after: last.map(|l| l.1),
                    }));
                }
                if prev != cur {
                    return Ok(Err(match last {
                        Some((seq, serial)) => ChainBreak::Changed { seq, serial },
                        None => ChainBreak::Changed { seq, serial },
                    }));
                }
                cur = Chain::link(serial, &v);
                last = Some((seq, serial));
                expected = seq + 1;
            }
            drop(rows);
            if expected < want.next {
                return Ok(Err(ChainBreak::Removed {
                    seq: expected,
                    after: last.map(|l| l.1),
                }));
            }
            if cur != want.head {
                return Ok(Err(match last {
                    Some((seq, serial)) => ChainBreak::Changed { seq, serial },
                    None => ChainBreak::NoHead,
                }));
            }
            total += expected;
            last_chain = want;
            instances.push((n16, want));
        }
        // A record of no instance number is outside every chain.
        if let Some(r) = c
            .query_opt(
                "SELECT serial FROM inkan_token_records r WHERE NOT EXISTS (SELECT 1 FROM inkan_instances i WHERE i.number = r.instance) LIMIT 1",
                &[],
            )
            .map_err(pe)?
        {
            let s: Vec<u8> = r.get(0);
            return Ok(Err(ChainBreak::Inserted {
                serial: serial_of(&s).unwrap_or(0),
            }));
        }
        Ok(Ok(ChainReport {
            records: total,
            legacy: 0,
            chain: last_chain,
            instances,
        }))
    }

    /// See [`crate::records::Reader::events_between`]; each line also carries `instance`.
    pub fn events_between(
        &self,
        from: UnixTime,
        to: UnixTime,
        out: &mut dyn FnMut(&str) -> std::io::Result<()>,
    ) -> Result<u64, StoreError> {
        let mut c = self.client()?;
        let rows = c
            .query(
                "SELECT seq, instance, body FROM inkan_events WHERE time_ns BETWEEN $1 AND $2 ORDER BY time_ns, seq",
                &[&ns(from), &ns(to)],
            )
            .map_err(pe)?;
        let mut n = 0;
        for r in rows {
            if let Some(line) = event_line(&r) {
                out(&line).map_err(|e| StoreError::Output(format!("output: {e}")))?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Whether this reader's sessions refuse writes (`transaction_read_only`), as the database
    /// reports it.
    pub fn read_only(&self) -> Result<bool, StoreError> {
        let mut c = self.client()?;
        let on: String = c
            .query_one("SHOW transaction_read_only", &[])
            .map_err(pe)?
            .get(0);
        Ok(on == "on")
    }

    /// Every serial (tests, audits of uniqueness).
    pub fn serials(&self) -> Result<Vec<Serial>, StoreError> {
        let mut c = self.client()?;
        let rows = c
            .query(
                "SELECT serial FROM inkan_token_records ORDER BY serial",
                &[],
            )
            .map_err(pe)?;
        Ok(rows
            .iter()
            .filter_map(|r| serial_of(&r.get::<_, Vec<u8>>(0)))
            .collect())
    }

    /// Every event line, oldest first.
    pub fn events(&self) -> Result<Vec<String>, StoreError> {
        let mut c = self.client()?;
        let rows = c
            .query(
                "SELECT seq, instance, body FROM inkan_events ORDER BY seq",
                &[],
            )
            .map_err(pe)?;
        Ok(rows.iter().filter_map(event_line).collect())
    }

    /// Rejection counters by reason.
    pub fn rejections(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let mut c = self.client()?;
        let rows = c
            .query(
                "SELECT reason, count FROM inkan_rejections ORDER BY reason",
                &[],
            )
            .map_err(pe)?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get::<_, String>(0),
                    u64::try_from(r.get::<_, i64>(1)).unwrap_or(0),
                )
            })
            .collect())
    }
}

fn event_line(r: &postgres::Row) -> Option<String> {
    let seq: i64 = r.get(0);
    let inst: Option<i32> = r.get(1);
    let body: String = r.get(2);
    let Ok(serde_json::Value::Object(mut o)) = serde_json::from_str(&body) else {
        return None;
    };
    o.insert("seq".into(), seq.into());
    if let Some(i) = inst {
        o.insert("instance".into(), i.into());
    }
    Some(serde_json::Value::Object(o).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_passwords_stay_out() {
        let t = Target::parse("postgresql://tsa@db.example:6543/records?sslmode=disable&lease_s=5")
            .unwrap();
        assert_eq!(t.display, "postgresql://tsa@db.example:6543/records");
        assert_eq!(t.lease, Duration::from_secs(5));
        assert!(!format!("{t:?}").contains("secret"));
        for bad in [
            "postgresql://tsa:secret@h/db",
            "postgresql://h/db",
            "postgresql://tsa@h",
            "mysql://tsa@h/db",
            "postgresql://tsa@h/db?password=x",
            "postgresql://tsa@h/db?sslmode=allow",
            "postgresql://tsa@h/db?lease_s=1",
            "postgresql://tsa@h:99999/db",
        ] {
            let e = Target::parse(bad).unwrap_err();
            assert!(!e.detail().contains("secret"), "{e}");
        }
    }

    #[test]
    fn genesis_differs_per_instance() {
        assert_ne!(genesis(1), genesis(2));
    }
}
