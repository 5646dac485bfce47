//! Several real `inkan-tsa` processes sharing one real PostgreSQL server (issue 15), which the
//! test starts itself: `initdb` in a temporary directory as the unprivileged `postgres` user
//! (PostgreSQL refuses root), on a free loopback port, stopped at the end. Never skipped: a
//! machine without `/usr/lib/postgresql/*/bin/initdb` fails these tests (CI installs Debian's
//! `postgresql`).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use inkan_profiles::asn1::tsp::PkiFailureInfo;

use crate::clock::metric;
use crate::common::process::{TsaProcess, bin};
use crate::common::*;

/// A private PostgreSQL server.
pub struct Pg {
    dir: PathBuf,
    /// Removes `dir` when dropped (a private server); `None` for the shared one, whose
    /// watchdog removes it.
    _owned: Option<tempfile::TempDir>,
    data: PathBuf,
    bindir: PathBuf,
    pub port: u16,
    /// Extra server options (`-c ...`).
    opts: String,
    /// The shared server's watchdog (its stdin is the pipe whose end stops the server).
    _watchdog: Option<Mutex<std::process::Child>>,
}

/// One test's database in a [`Pg`] server.
pub struct Db<'a> {
    pg: &'a Pg,
    pub name: String,
}

fn pg_bindir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (/usr/lib/postgresql; Debian package postgresql)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| b.join("initdb").exists())
        .collect();
    found.sort();
    found
        .pop()
        .expect("an initdb under /usr/lib/postgresql/*/bin")
}

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// A shell command line that runs `cmd` as `postgres` when we are root (PostgreSQL refuses
/// to run as root), else as ourselves.
fn as_pg_user(cmd: &str) -> String {
    if is_root() {
        format!("su postgres -s /bin/sh -c '{}'", cmd.replace('\'', "'\\''"))
    } else {
        cmd.to_owned()
    }
}

/// Runs a PostgreSQL tool, as `postgres` when we are root.
fn pg_run(cmd: &str) {
    let out = Command::new("sh")
        .args(["-c", &as_pg_user(cmd)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{cmd}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A temporary folder the `postgres` user can reach: under `TMPDIR` when every folder above it
/// may be traversed by others, else under `/tmp` (a root whose `TMPDIR` is under `/root`).
fn pg_tmp() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt as _;
    let base = std::env::temp_dir();
    let reachable = base
        .ancestors()
        .all(|a| std::fs::metadata(a).is_ok_and(|m| m.permissions().mode() & 0o001 != 0));
    if reachable || !is_root() {
        tmp()
    } else {
        tempfile::tempdir_in("/tmp").unwrap()
    }
}

static SHARED: std::sync::OnceLock<Pg> = std::sync::OnceLock::new();

impl Pg {
    /// A server of this test's own (for tests that stop it).
    pub fn start() -> Self {
        Self::start_with("", |_, _| {})
    }

    /// The server the tests of this binary share (one `initdb` per run), each in a database of
    /// its own (`pwtest` asks for a password). TLS is on (`ssl-ca.pem` in [`Pg::dir`] is its CA); plaintext connections are
    /// accepted too. A watchdog stops it and removes its directory when this process ends,
    /// however it ends (the end of a pipe, not a destructor).
    pub fn shared() -> &'static Self {
        SHARED.get_or_init(|| {
            let mut pg = Self::start_with(
                "-c ssl=on -c ssl_cert_file=server.pem -c ssl_key_file=server.key",
                |dir, data| {
                    // The database `pwtest` asks for a password (SCRAM); the others trust.
                    let hba = data.join("pg_hba.conf");
                    let rest = std::fs::read_to_string(&hba).unwrap();
                    std::fs::write(
                        &hba,
                        format!("host pwtest all 127.0.0.1/32 scram-sha-256\n{rest}"),
                    )
                    .unwrap();
                    tls_pki(dir, "ssl");
                    std::fs::copy(dir.join("ssl-server.pem"), data.join("server.pem")).unwrap();
                    std::fs::copy(dir.join("ssl-server.key"), data.join("server.key")).unwrap();
                    Command::new("chmod")
                        .args(["600", data.join("server.key").to_str().unwrap()])
                        .status()
                        .unwrap();
                },
            );
            let owned = pg._owned.take().unwrap().keep();
            let script = format!(
                "read _ ; {} ; rm -rf {}",
                as_pg_user(&pg.stop_cmd()),
                owned.display()
            );
            let child = Command::new("sh")
                .args(["-c", &script])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            pg._watchdog = Some(Mutex::new(child));
            pg
        })
    }

    /// Initialises, lets `prepare` put files into its directory and the data directory (as
    /// root: they are handed to `postgres`), and starts with `opts`.
    pub fn start_with(opts: &str, prepare: impl FnOnce(&Path, &Path)) -> Self {
        let owned = pg_tmp();
        let dir = owned.path().to_path_buf();
        // The postgres user must traverse the directory.
        Command::new("chmod")
            .args(["755", dir.to_str().unwrap()])
            .status()
            .unwrap();
        let data = dir.join("pg");
        if is_root() {
            let ok = Command::new("install")
                .args(["-d", "-o", "postgres", "-m", "700", data.to_str().unwrap()])
                .status()
                .unwrap()
                .success();
            assert!(ok);
        }
        let bindir = pg_bindir();
        pg_run(&format!(
            "{}/initdb -D {} -U inkan --auth=trust -N",
            bindir.display(),
            data.display()
        ));
        prepare(&dir, &data);
        if is_root() {
            Command::new("chown")
                .args(["-R", "postgres", data.to_str().unwrap()])
                .status()
                .unwrap();
        }
        let pg = Self {
            dir,
            _owned: Some(owned),
            data,
            bindir,
            port: free_port(),
            opts: opts.to_owned(),
            _watchdog: None,
        };
        pg.up();
        pg
    }

    /// The folder of the server's files (and of the shared server's TLS CA).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts the server (again).
    pub fn up(&self) {
        pg_run(&format!(
            "{}/pg_ctl -D {d} -w -t 60 -l {d}/server.log -o \"-p {p} -k {d} -c listen_addresses=127.0.0.1 {o}\" start",
            self.bindir.display(),
            d = self.data.display(),
            p = self.port,
            o = self.opts
        ));
    }

    fn stop_cmd(&self) -> String {
        format!(
            "{}/pg_ctl -D {} -w -m immediate stop",
            self.bindir.display(),
            self.data.display()
        )
    }

    /// Stops the server at once (like a crash of the database host: `-m immediate`).
    pub fn down(&self) {
        pg_run(&self.stop_cmd());
    }

    /// The server's processes (the postmaster and its children).
    fn pids(&self) -> Vec<String> {
        let pm = std::fs::read_to_string(self.data.join("postmaster.pid")).unwrap_or_default();
        let Some(pm) = pm.lines().next().map(|l| l.trim().to_owned()) else {
            return Vec::new();
        };
        let mut pids = vec![pm.clone()];
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            if let Ok(stat) = std::fs::read_to_string(e.path().join("stat"))
                && let Some((head, rest)) = stat.rsplit_once(") ")
                && rest.split_whitespace().nth(1) == Some(pm.as_str())
            {
                pids.push(head.split(' ').next().unwrap().to_owned());
            }
        }
        pids
    }

    /// Freezes (`SIGSTOP`) or thaws (`SIGCONT`) every process of the server: a database that
    /// hangs (a stalled disk, a frozen VM) while its connections stay open.
    pub fn signal_all(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(sig)
            .args(self.pids())
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    /// A new database for one test.
    pub fn create_db(&self, name: &str) -> Db<'_> {
        let db = Db {
            pg: self,
            name: "postgres".into(),
        };
        db.sql(&format!("CREATE DATABASE {name}"));
        Db {
            pg: self,
            name: name.into(),
        }
    }
}

impl Db<'_> {
    /// Runs SQL through `psql` (as an intruder with database access would).
    pub fn sql(&self, sql: &str) -> String {
        let out = Command::new(self.pg.bindir.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.pg.port.to_string(),
                "-U",
                "inkan",
                "-d",
                &self.name,
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The store URL (plaintext on the loopback).
    pub fn url(&self, lease_s: u64) -> String {
        format!(
            "postgresql://inkan@127.0.0.1:{}/{}?sslmode=disable&lease_s={lease_s}",
            self.pg.port, self.name
        )
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        if self._watchdog.is_none() {
            // A test that failed while the server was frozen: thaw it, or the stop below
            // would wait on a stopped process forever.
            if self.data.join("postmaster.pid").exists() {
                let _ = Command::new("kill").arg("-CONT").args(self.pids()).status();
            }
            let _ = Command::new("sh")
                .args(["-c", &as_pg_user(&self.stop_cmd())])
                .output();
        }
    }
}

/// `inkan-tsa SUB ARGS`: (exit code, stdout, stderr).
fn cli(sub: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin()).arg(sub).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn serve(url: &str, cwd: &Path, name: &str) -> TsaProcess {
    let data = cwd.join(name);
    TsaProcess::start(
        &[
            "--dev",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
            "--store",
            url,
        ],
        cwd,
    )
}

/// What clients saw.
#[derive(Default)]
struct Seen {
    granted: Vec<u128>,
    system_failures: u64,
}

/// `threads` keep-alive clients against `addr` until `stop`; a broken connection is reopened
/// (until `stop`).
fn load(
    addr: std::net::SocketAddr,
    threads: u64,
    tag: u64,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
) -> Vec<std::thread::JoinHandle<()>> {
    (0..threads)
        .map(|t| {
            let (stop, seen) = (stop.clone(), seen.clone());
            std::thread::spawn(move || {
                let mut i = (tag << 40) | (t << 32);
                while !stop.load(SeqCst) {
                    let Ok(mut c) = Conn::open(addr) else {
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    };
                    while !stop.load(SeqCst) {
                        i += 1;
                        match c.post(&request(i)) {
                            Ok((200, body)) => {
                                let mut s = seen.lock().unwrap();
                                match failure_of(&body) {
                                    None => s.granted.push(serial_of(&body)),
                                    Some(f) => {
                                        assert_eq!(f, PkiFailureInfo::SYSTEM_FAILURE);
                                        s.system_failures += 1;
                                    }
                                }
                            }
                            Ok((status, _)) => panic!("HTTP {status}"),
                            Err(_) => break,
                        }
                    }
                }
            })
        })
        .collect()
}

fn join(h: Vec<std::thread::JoinHandle<()>>) {
    for h in h {
        h.join().unwrap();
    }
}

/// Every granted serial is unique and in the shared records; the chains verify.
fn check_store(url: &str, granted: &[u128]) {
    let unique: HashSet<u128> = granted.iter().copied().collect();
    assert_eq!(unique.len(), granted.len(), "a serial was issued twice");
    let r =
        inkan_tsa::records::Reader::open_configured(Some(url), Path::new("/nonexistent")).unwrap();
    let stored: HashSet<u128> = r.serials().unwrap().into_iter().collect();
    let missing: Vec<_> = unique.difference(&stored).collect();
    assert!(
        missing.is_empty(),
        "{} received serials not recorded: {missing:x?}",
        missing.len()
    );
    let (code, out, err) = cli("records", &["--store", url, "--verify-chain"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("chain intact"), "{out}");
    // The auditor's connections cannot write.
    assert!(
        inkan_tsa::pgstore::PgReader::open(url)
            .unwrap()
            .read_only()
            .unwrap()
    );
}

fn instance_of(serial: u128) -> u16 {
    u16::try_from(serial >> 112).unwrap()
}

#[test]
fn two_instances_share_records_with_unique_serials_and_survive_kill_9() {
    let db = Pg::shared().create_db("two_instances");
    let url = db.url(30);
    let dir = tmp();
    let d = dir.path();
    // Both start at the same moment on an empty database: the schema is created once (the
    // second waits on the advisory lock), and they take different numbers.
    let (ua, ub) = (url.clone(), url.clone());
    let (pa, pb) = (d.to_path_buf(), d.to_path_buf());
    let ta = std::thread::spawn(move || serve(&ua, &pa, "a"));
    let tb = std::thread::spawn(move || serve(&ub, &pb, "b"));
    let (a, b) = (ta.join().unwrap(), tb.join().unwrap());
    assert_eq!(db.sql("SELECT count(*) FROM inkan_schema").trim(), "1");
    wait_for_status(a.addr, "/readyz", 200, 30);
    wait_for_status(b.addr, "/readyz", 200, 30);
    let metrics = String::from_utf8(http(b.addr, "GET", "/metrics", None, b"").2).unwrap();
    assert!(
        metrics.contains("inkan_tsa_store_lease_held 1"),
        "{metrics}"
    );
    assert!(metrics.contains("inkan_tsa_store_writable 1"), "{metrics}");

    let stop_a = Arc::new(AtomicBool::new(false));
    let stop_b = Arc::new(AtomicBool::new(false));
    let seen_a = Arc::new(Mutex::new(Seen::default()));
    let seen_b = Arc::new(Mutex::new(Seen::default()));
    let ha = load(a.addr, 4, 1, stop_a.clone(), seen_a.clone());
    let hb = load(b.addr, 4, 2, stop_b.clone(), seen_b.clone());
    std::thread::sleep(Duration::from_millis(2000));
    // kill -9 of one instance in the middle of its load.
    a.kill9();
    stop_a.store(true, SeqCst);
    join(ha);
    std::thread::sleep(Duration::from_millis(500));
    stop_b.store(true, SeqCst);
    join(hb);
    let (ga, gb) = (
        seen_a.lock().unwrap().granted.clone(),
        seen_b.lock().unwrap().granted.clone(),
    );
    assert!(ga.len() > 50 && gb.len() > 50, "{} {}", ga.len(), gb.len());
    // Each instance's serials carry its own instance number.
    let na: HashSet<u16> = ga.iter().map(|s| instance_of(*s)).collect();
    let nb: HashSet<u16> = gb.iter().map(|s| instance_of(*s)).collect();
    assert_eq!(na.len(), 1);
    assert_eq!(nb.len(), 1);
    assert_ne!(na, nb);
    // The shared store's commits are in B's histograms (latency and group size).
    let count = |name: &str| metric(b.addr, name) as u64;
    let groups = count("inkan_tsa_records_group_size_count");
    assert!(groups > 0);
    assert!(count("inkan_tsa_records_group_size_sum") >= gb.len() as u64);
    assert!(count("inkan_tsa_records_commit_duration_seconds_count") >= groups);
    // SIGHUP reloads the key and certificate on the shared store as on the embedded one: the
    // event goes to the shared events, and B keeps issuing under its number.
    assert!(
        Command::new("kill")
            .args(["-HUP", &b.child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !cli(
        "events",
        &[
            "--store",
            &url,
            "--from",
            "2000-01-01",
            "--to",
            "2200-01-01",
        ],
    )
    .1
    .contains("\"kind\":\"identity_reloaded\"")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no identity_reloaded event"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let after = serial_of(&post_tsq(b.addr, &request(77)));
    assert_eq!(instance_of(after), *nb.iter().next().unwrap());
    let mut gb = gb;
    gb.push(after);
    assert!(b.stop(), "graceful stop");

    let all: Vec<u128> = ga.iter().chain(&gb).copied().collect();
    check_store(&url, &all);
    // Each instance number's chain and head, for the auditor to keep outside the database.
    let (code, out, _) = cli("records", &["--store", &url, "--verify-chain"]);
    assert_eq!(code, 0);
    let heads: Vec<&str> = out.lines().filter(|l| l.starts_with("instance ")).collect();
    assert_eq!(heads.len(), 2, "{out}");
    for n in na.iter().chain(&nb) {
        assert!(
            heads
                .iter()
                .any(|l| l.starts_with(&format!("instance {n}: "))),
            "{out}"
        );
    }
    // The auditor's view through the CLI: a record of each instance, the events.
    for s in [ga[ga.len() / 2], gb[gb.len() / 2]] {
        let (code, out, err) = cli("records", &["--store", &url, "--serial", &format!("{s:x}")]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(&format!("\"serial\":\"{s:x}\"")), "{out}");
    }
    let (code, out, err) = cli(
        "events",
        &[
            "--store",
            &url,
            "--from",
            "2000-01-01",
            "--to",
            "2200-01-01",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.matches("\"kind\":\"store_lease\"").count(), 2, "{out}");
    assert_eq!(out.matches("\"kind\":\"start\"").count(), 2, "{out}");
    assert!(out.contains("\"kind\":\"stop\""), "{out}");
    // A password in the URL is refused, and not echoed.
    let (code, _, err) = cli(
        "records",
        &[
            "--store",
            "postgresql://inkan:s3cret@127.0.0.1:1/x",
            "--verify-chain",
        ],
    );
    assert_ne!(code, 0);
    assert!(!err.contains("s3cret"), "{err}");
}

#[test]
fn database_stopped_and_started_under_load_refuses_then_recovers() {
    // A server of its own: this test stops it.
    let pg = Pg::start();
    let db = pg.create_db("records");
    let url = db.url(30);
    let dir = tmp();
    let tsa = serve(&url, dir.path(), "a");
    wait_for_status(tsa.addr, "/readyz", 200, 30);
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let h = load(tsa.addr, 4, 1, stop.clone(), seen.clone());
    std::thread::sleep(Duration::from_millis(1000));
    pg.down();
    // Requests are refused with systemFailure, and the load balancer is told.
    wait_for_status(tsa.addr, "/readyz", 503, 30);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while seen.lock().unwrap().system_failures == 0 {
        assert!(std::time::Instant::now() < deadline, "no systemFailure");
        std::thread::sleep(Duration::from_millis(20));
    }
    let before = seen.lock().unwrap().granted.len();
    pg.up();
    // Issuing resumes by itself.
    wait_for_status(tsa.addr, "/readyz", 200, 60);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while seen.lock().unwrap().granted.len() < before + 50 {
        assert!(
            std::time::Instant::now() < deadline,
            "issuing did not resume"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, SeqCst);
    join(h);
    assert!(tsa.stop());
    let granted = seen.lock().unwrap().granted.clone();
    check_store(&url, &granted);
    let (code, out, _) = cli(
        "events",
        &[
            "--store",
            &url,
            "--from",
            "2000-01-01",
            "--to",
            "2200-01-01",
        ],
    );
    assert_eq!(code, 0);
    assert!(out.contains("\"kind\":\"store_outage\""), "{out}");

    // Tampering with the shared records is seen: a changed record, then a removed one.
    let victim = granted[granted.len() / 2];
    let hex = format!("{victim:032x}");
    db.sql(&format!(
        "UPDATE inkan_token_records SET stored = overlay(stored placing '\\x00'::bytea from 20 for 1) WHERE serial = '\\x{hex}'"
    ));
    let (code, out, _) = cli("records", &["--store", &url, "--verify-chain"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("was changed"), "{out}");
    db.sql(&format!(
        "DELETE FROM inkan_token_records WHERE serial = '\\x{hex}'"
    ));
    let (code, out, _) = cli("records", &["--store", &url, "--verify-chain"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("was removed"), "{out}");
}

#[test]
fn an_expired_lease_is_taken_over_and_the_old_holder_stops_issuing() {
    let db = Pg::shared().create_db("lease_takeover");
    let url = db.url(2);
    let dir = tmp();
    let d = dir.path();
    let a = serve(&url, d, "a");
    wait_for_status(a.addr, "/readyz", 200, 30);
    let first = serial_of(&post_tsq(a.addr, &request(1)));
    assert_eq!(instance_of(first), 1);
    // A freezes (SIGSTOP) past its lease: it cannot renew.
    let pid = a.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .unwrap()
            .success()
    );
    std::thread::sleep(Duration::from_millis(3000));
    // B takes the expired number 1 over and continues its chain.
    let b = serve(&url, d, "b");
    wait_for_status(b.addr, "/readyz", 200, 30);
    let from_b = serial_of(&post_tsq(b.addr, &request(2)));
    assert_eq!(instance_of(from_b), 1);
    // A wakes: its lease is gone. It issues nothing under number 1; after taking another
    // number it issues again, with serials that differ from B's.
    assert!(
        Command::new("kill")
            .args(["-CONT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let mut granted = vec![first, from_b];
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut refused = 0;
    loop {
        let body = post_tsq(a.addr, &request(3 + refused));
        match failure_of(&body) {
            Some(f) => {
                assert_eq!(f, PkiFailureInfo::SYSTEM_FAILURE);
                refused += 1;
            }
            None => {
                granted.push(serial_of(&body));
                break;
            }
        }
        assert!(std::time::Instant::now() < deadline, "A never issued again");
        std::thread::sleep(Duration::from_millis(50));
    }
    // A's serials now carry its new number, not B's.
    assert_ne!(instance_of(granted[2]), 1);
    granted.push(serial_of(&post_tsq(b.addr, &request(1000))));
    wait_for_status(a.addr, "/readyz", 200, 30);
    assert!(a.stop());
    assert!(b.stop());
    check_store(&url, &granted);
    let (_, out, _) = cli(
        "events",
        &[
            "--store",
            &url,
            "--from",
            "2000-01-01",
            "--to",
            "2200-01-01",
        ],
    );
    assert!(out.contains("\"previous_owner\""), "{out}");
}

/// A CA and a server certificate for 127.0.0.1 (IP SAN), made with OpenSSL in `dir`.
fn tls_pki(dir: &Path, name: &str) {
    openssl_p256_req(
        dir,
        &format!("{name}-ca.key"),
        &format!("{name}-ca.pem"),
        &format!("/CN={name} test CA"),
        &["-x509", "-days", "2"],
    );
    openssl_p256_req(
        dir,
        &format!("{name}-server.key"),
        &format!("{name}-server.csr"),
        "/CN=127.0.0.1",
        &[],
    );
    write(dir, "ext.cnf", b"subjectAltName=IP:127.0.0.1\n");
    openssl_ok(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}-server.csr"),
            "-CA",
            &format!("{name}-ca.pem"),
            "-CAkey",
            &format!("{name}-ca.key"),
            "-CAcreateserial",
            "-out",
            &format!("{name}-server.pem"),
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
}

#[test]
fn tls_verify_full_with_sslrootcert_and_refusal_of_an_unknown_server() {
    let dir = tmp();
    let d = dir.path();
    tls_pki(d, "other");
    let pg = Pg::shared();
    let db = pg.create_db("tls");
    let url = |mode: &str, ca: &Path| {
        format!(
            "postgresql://inkan@127.0.0.1:{}/tls?sslmode={mode}&sslrootcert={}",
            pg.port,
            ca.display()
        )
    };
    let good = url("verify-full", &pg.dir().join("ssl-ca.pem"));
    let tsa = serve(&good, d, "a");
    let s = serial_of(&post_tsq(tsa.addr, &request(7)));
    // The TSA's own connections are encrypted.
    let encrypted = db.sql(
        "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE ssl AND application_name = 'inkan-tsa' AND datname = 'tls'",
    );
    assert!(encrypted.trim().parse::<u32>().unwrap() >= 1, "{encrypted}");
    let plain = db.sql(
        "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE NOT ssl AND application_name = 'inkan-tsa' AND datname = 'tls'",
    );
    assert_eq!(plain.trim(), "0");
    assert!(tsa.stop());
    check_store(&good, &[s]);
    // A server whose certificate does not chain to sslrootcert is refused.
    let (code, _, err) = cli(
        "records",
        &[
            "--store",
            &url("require", &d.join("other-ca.pem")),
            "--verify-chain",
        ],
    );
    assert_ne!(code, 0);
    assert!(
        err.to_lowercase().contains("certificate") || err.contains("tls"),
        "{err}"
    );
}

#[test]
fn backup_of_a_shared_store_says_to_use_the_database_tools() {
    let dir = tmp();
    let d = dir.path();
    let out = d.join("copy.redb");
    let url = "postgresql://tsa@db.example:5432/tsa_records?sslmode=disable";
    let (code, _, err) = cli("backup", &["--store", url, "--out", out.to_str().unwrap()]);
    assert_eq!(code, 64, "{err}");
    for want in ["pg_basebackup", "pg_dump", "tsa_records", "--verify-chain"] {
        assert!(err.contains(want), "{want}: {err}");
    }
    assert!(!out.exists());
    // The same when the configuration names the shared store.
    write(d, "tsa.toml", format!("store = \"{url}\"\n").as_bytes());
    let (code, _, err) = cli(
        "backup",
        &[
            "--config",
            d.join("tsa.toml").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("pg_dump"), "{err}");
    assert!(!out.exists());
}

#[test]
fn check_reads_the_shared_store_and_changes_nothing() {
    let pg = Pg::shared();
    let db = pg.create_db("check_store");
    let url = db.url(30);
    let dir = tmp();
    let d = dir.path();
    let data = d.join("a");
    let check = |url: &str| {
        cli(
            "check",
            &[
                "--dev",
                "--data-dir",
                data.to_str().unwrap(),
                "--store",
                url,
            ],
        )
    };
    // An empty database: serve would create the schema; check creates nothing.
    let (code, out, err) = check(&url);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("ok    records store: connected to postgresql://inkan@127.0.0.1:"),
        "{out}"
    );
    assert!(out.contains("NOT encrypted"), "{out}");
    assert!(out.contains("serve would create it (version 1)"), "{out}");
    assert!(
        out.contains("synchronous_commit = on, no synchronous standby"),
        "{out}"
    );
    assert!(out.ends_with("serve would start\n"), "{out}");
    assert_eq!(
        db.sql("SELECT to_regclass('inkan_schema') IS NULL").trim(),
        "t"
    );
    // The auditor's commands say what is wrong with an empty database.
    let (code, _, err) = cli("records", &["--store", &url, "--verify-chain"]);
    assert_eq!(code, 70, "{err}");
    assert!(
        err.contains("no inkan-tsa records in postgresql://inkan@127.0.0.1:"),
        "{err}"
    );
    // Beside a serving instance: the schema is current, its lease is seen, none is taken.
    let tsa = serve(&url, d, "b");
    let s = serial_of(&post_tsq(tsa.addr, &request(1)));
    let (code, out, err) = check(&url);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("schema version 1 (current)"), "{out}");
    assert!(
        out.contains("1 records; instance numbers leased now: 1 (1); 0 expired"),
        "{out}"
    );
    assert_eq!(db.sql("SELECT count(*) FROM inkan_instances").trim(), "1");
    wait_for_status(tsa.addr, "/readyz", 200, 10);
    // Over TLS, the version and the verification are named.
    let tls = format!(
        "postgresql://inkan@127.0.0.1:{}/check_store?sslmode=verify-full&sslrootcert={}",
        pg.port,
        pg.dir().join("ssl-ca.pem").display()
    );
    let (code, out, err) = check(&tls);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("TLS TLSv1."), "{out}");
    assert!(out.contains("server certificate verified"), "{out}");
    assert!(tsa.stop());
    check_store(&url, &[s]);
    // A role that may read but not write the records: serve would fail at its first group.
    db.sql("CREATE ROLE auditor LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO auditor");
    let (code, out, err) = check(&url.replace("inkan@", "auditor@"));
    assert_eq!(code, 64, "{out}{err}");
    assert!(
        err.contains("the role auditor lacks INSERT on inkan_token_records"),
        "{err}"
    );
    assert!(
        out.contains("FAIL  records store:") && out.ends_with("serve would not start\n"),
        "{out}"
    );
    // A schema newer than this build.
    db.sql("INSERT INTO inkan_schema (version) VALUES (99)");
    let (code, _, err) = check(&url);
    assert_eq!(code, 64);
    assert!(err.contains("newer than this inkan-tsa knows"), "{err}");
    // No server at all.
    let closed = format!(
        "postgresql://inkan@127.0.0.1:{}/x?sslmode=disable",
        free_port()
    );
    let (code, _, err) = check(&closed);
    assert_eq!(code, 64);
    assert!(
        err.contains("cannot connect to postgresql://inkan@127.0.0.1:"),
        "{err}"
    );
}

#[test]
fn the_password_comes_from_a_file_or_the_environment_and_never_shows() {
    const PW: &str = "Pw-0f-the-TSA-r0le";
    let pg = Pg::shared();
    let admin = pg.create_db("pwtest_admin");
    admin.sql(&format!("CREATE ROLE tsa_pw LOGIN PASSWORD '{PW}'"));
    admin.sql("CREATE DATABASE pwtest OWNER tsa_pw");
    let dir = tmp();
    let d = dir.path();
    let pwfile = write(d, "db-password", format!("{PW}\n").as_bytes());
    let base = format!(
        "postgresql://tsa_pw@127.0.0.1:{}/pwtest?sslmode=disable",
        pg.port
    );
    let with_file = format!("{base}&password-source={}", pwfile.display());
    let tsa = serve(&with_file, d, "a");
    let s = serial_of(&post_tsq(tsa.addr, &request(1)));
    let metrics = http(tsa.addr, "GET", "/metrics", None, b"").2;
    assert!(!String::from_utf8_lossy(&metrics).contains(PW));
    assert!(tsa.stop());
    // PGPASSWORD, and password-source=env:NAME, for the auditor's commands.
    let env_cli = |url: &str, var: &str, value: &str| {
        let out = Command::new(bin())
            .args(["records", "--store", url, "--serial", &format!("{s:x}")])
            .env_remove("PGPASSWORD")
            .env(var, value)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = env_cli(&base, "PGPASSWORD", PW);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("\"serial\":\"{s:x}\"")), "{out}");
    let via_env = format!("{base}&password-source=env:TSA_DB_PW");
    let (code, _, err) = env_cli(&via_env, "TSA_DB_PW", PW);
    assert_eq!(code, 0, "{err}");
    // A wrong password is named as such, and neither password is echoed.
    let (code, _, err) = env_cli(&base, "PGPASSWORD", "wrong-Pw-123");
    assert_eq!(code, 70, "{err}");
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(!err.contains("wrong-Pw-123") && !err.contains(PW), "{err}");
    // An unset variable is named, not taken as an empty password.
    let (code, _, err) = env_cli(&via_env, "OTHER", "x");
    assert_eq!(code, 70, "{err}");
    assert!(err.contains("$TSA_DB_PW is not set"), "{err}");
    // Nothing of the password in the server's log.
    let tsa = serve(&with_file, d, "b");
    post_tsq(tsa.addr, &request(2));
    let log = tsa.stderr();
    assert!(log.contains("inkan-tsa listening"), "{log}");
    assert!(!log.contains(PW), "{log}");
    assert!(tsa.stop());
}

#[test]
fn a_hung_database_is_refused_at_once_and_issuing_resumes() {
    // A server of its own: this test freezes it.
    let pg = Pg::start();
    let db = pg.create_db("records");
    let url = db.url(2);
    let dir = tmp();
    let d = dir.path();
    // A request that waited for the hung database would be answered only after ten minutes;
    // the client below gives up after 30 s.
    let cfg = write(d, "tsa.toml", b"request_timeout_ms = 600000\n");
    let data = d.join("a");
    let tsa = TsaProcess::start(
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--dev",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            data.to_str().unwrap(),
            "--store",
            &url,
        ],
        d,
    );
    wait_for_status(tsa.addr, "/readyz", 200, 30);
    let mut granted = vec![serial_of(&post_tsq(tsa.addr, &request(1)))];
    // Under load, so that the writer is inside a commit when the database freezes.
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let h = load(tsa.addr, 4, 1, stop.clone(), seen.clone());
    while seen.lock().unwrap().granted.len() < 50 {
        std::thread::sleep(Duration::from_millis(20));
    }
    pg.signal_all("-STOP");
    // The lease cannot be renewed: not ready, and every new request refused while the
    // database is still frozen (never held for the commit that cannot happen, which holds
    // the writer).
    wait_for_status(tsa.addr, "/readyz", 503, 30);
    let mut c = Conn::open(tsa.addr).unwrap();
    for i in 0..20 {
        let (status, body) = c.post(&request(100 + i)).expect("answered while frozen");
        assert_eq!(status, 200);
        assert_eq!(failure_of(&body), Some(PkiFailureInfo::SYSTEM_FAILURE));
    }
    pg.signal_all("-CONT");
    // Issuing resumes by itself.
    wait_for_status(tsa.addr, "/readyz", 200, 60);
    stop.store(true, SeqCst);
    join(h);
    granted.extend(seen.lock().unwrap().granted.iter().copied());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let body = post_tsq(tsa.addr, &request(1000));
        if failure_of(&body).is_none() {
            granted.push(serial_of(&body));
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "issuing did not resume"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(tsa.stop());
    check_store(&url, &granted);
}
