//! Time discipline end to end: a real SNTP responder on 127.0.0.1 (a UDP socket served from a
//! test thread, answering NTP v4 server packets from the host clock plus an offset the test
//! controls) drives the TSA through good → skewed by 2 s → good → silent → good, and three of
//! them the majority rule (one skewed: issuing; two skewed: refusing; recovery). No mocked
//! clock: the TSA polls the responder over UDP and stamps with the host clock.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use inkan_profiles::clock::{Clock, SystemClock};
use inkan_profiles::time::UnixTime;
use inkan_tsa::ntp::to_ntp;

use crate::common::*;

/// An SNTP server on 127.0.0.1:0.
pub(crate) struct Responder {
    pub(crate) addr: SocketAddr,
    offset_ns: Arc<AtomicI64>,
    silent: Arc<AtomicBool>,
    /// A kiss-o'-death code to answer with instead of the time.
    kiss: Arc<Mutex<Option<[u8; 4]>>>,
    /// The leap indicator to send (0 none, 1 insert).
    leap: Arc<AtomicU8>,
    /// Every query received: when, and its transmit timestamp.
    queries: Arc<Mutex<Vec<(Instant, u64)>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

fn shifted(offset_ns: i64) -> UnixTime {
    let now = SystemClock.now().unwrap();
    let ns = i128::from(now.secs()) * 1_000_000_000
        + i128::from(now.subsec_nanos())
        + i128::from(offset_ns);
    UnixTime::new((ns / 1_000_000_000) as u64, (ns % 1_000_000_000) as u32)
}

impl Responder {
    pub(crate) fn start() -> Self {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let addr = sock.local_addr().unwrap();
        let offset_ns = Arc::new(AtomicI64::new(0));
        let silent = Arc::new(AtomicBool::new(false));
        let kiss = Arc::new(Mutex::new(None::<[u8; 4]>));
        let queries = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (o, q, st) = (offset_ns.clone(), silent.clone(), stop.clone());
        let leap = Arc::new(AtomicU8::new(0));
        let (k, qs, li) = (kiss.clone(), queries.clone(), leap.clone());
        let thread = std::thread::spawn(move || {
            let mut answered = 0u64;
            let mut buf = [0u8; 512];
            while !st.load(SeqCst) {
                let Ok((n, peer)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                let rx = shifted(o.load(SeqCst));
                // A client request: version 3 or 4, mode 3.
                if n < 48 || buf[0] & 7 != 3 {
                    continue;
                }
                let xmt = u64::from_be_bytes(buf[40..48].try_into().unwrap());
                qs.lock().unwrap().push((Instant::now(), xmt));
                if q.load(SeqCst) {
                    continue;
                }
                if let Some(code) = *k.lock().unwrap() {
                    // Kiss-o'-death (RFC 5905 §7.4): LI 3, stratum 0, the code as refid,
                    // the client's transmit timestamp as origin.
                    let mut p = [0u8; 48];
                    p[0] = (3 << 6) | (4 << 3) | 4;
                    p[12..16].copy_from_slice(&code);
                    p[24..32].copy_from_slice(&buf[40..48]);
                    let _ = sock.send_to(&p, peer);
                    continue;
                }
                let mut p = [0u8; 48];
                p[0] = (li.load(SeqCst) << 6) | (4 << 3) | 4; // LI, version 4, mode 4 (server)
                p[1] = 1; // stratum 1
                p[2] = 4; // poll
                p[3] = 0xec; // precision 2^-20
                p[4..8].copy_from_slice(&0u32.to_be_bytes()); // root delay
                p[8..12].copy_from_slice(&16u32.to_be_bytes()); // root dispersion ~0.24 ms
                p[12..16].copy_from_slice(b"TEST");
                p[16..24].copy_from_slice(&to_ntp(rx).to_be_bytes()); // reference
                p[24..32].copy_from_slice(&buf[40..48]); // origin = client's transmit
                p[32..40].copy_from_slice(&to_ntp(rx).to_be_bytes()); // receive
                p[40..48].copy_from_slice(&to_ntp(shifted(o.load(SeqCst))).to_be_bytes());
                let _ = sock.send_to(&p, peer);
                answered += 1;
            }
            answered
        });
        Self {
            addr,
            offset_ns,
            silent,
            kiss,
            leap,
            queries,
            stop,
            thread: Some(thread),
        }
    }

    fn kiss(&self, code: &[u8; 4]) {
        *self.kiss.lock().unwrap() = Some(*code);
    }

    fn queries(&self) -> Vec<(Instant, u64)> {
        self.queries.lock().unwrap().clone()
    }

    pub(crate) fn good(&self) {
        self.offset_ns.store(0, SeqCst);
        self.silent.store(false, SeqCst);
    }

    fn skew(&self, ns: i64) {
        self.offset_ns.store(ns, SeqCst);
    }

    pub(crate) fn silence(&self) {
        self.silent.store(true, SeqCst);
    }

    pub(crate) fn finish(mut self) -> u64 {
        self.stop.store(true, SeqCst);
        self.thread.take().unwrap().join().unwrap()
    }
}

fn outcomes(addr: SocketAddr, n: u64, base: u64) -> Vec<Option<String>> {
    let mut c = Conn::open(addr).unwrap();
    (0..n)
        .map(|i| {
            let (status, body) = c.post(&request(base + i)).unwrap();
            assert_eq!(status, 200);
            failure_of(&body).map(|f| f.names().join(","))
        })
        .collect()
}

/// Asserts that `n` requests (nonces from `base`) all get a token.
fn assert_issuing(addr: SocketAddr, n: u64, base: u64, what: &str) {
    assert!(
        outcomes(addr, n, base).iter().all(Option::is_none),
        "{what}"
    );
}

/// Asserts that `n` requests (nonces from `base`) are all refused with `timeNotAvailable`
/// (RFC 3161 §2.4.2 PKIFailureInfo).
fn assert_refused(addr: SocketAddr, n: u64, base: u64) {
    let refused = outcomes(addr, n, base);
    assert!(
        refused
            .iter()
            .all(|o| o.as_deref() == Some("timeNotAvailable")),
        "{refused:?}"
    );
}

/// Asserts what is on record in `data`: the clock events `kinds` in order, `refused`
/// `timeNotAvailable` refusals and `issued` serial numbers.
fn assert_records(data: &std::path::Path, kinds: &[&str], refused: u64, issued: usize) {
    let r = inkan_tsa::records::Reader::open(data).unwrap();
    let got = clock_events(data);
    assert_eq!(got, kinds, "{got:?}");
    let rej = r.rejections().unwrap();
    assert!(
        rej.contains(&("timeNotAvailable".to_owned(), refused)),
        "{rej:?}"
    );
    assert_eq!(r.serials().unwrap().len(), issued);
}

/// Writes `tsa.toml` in `pki` for the real binary: the key and chain of `pki`, data in `data`,
/// the one SNTP server `ntp`, and the further settings `extra_toml`; returns its path.
fn ntp_config_file(
    pki: &std::path::Path,
    data: &std::path::Path,
    ntp: SocketAddr,
    extra_toml: &str,
) -> std::path::PathBuf {
    let toml = format!(
        "listen = \"127.0.0.1:0\"\nkey = \"{}\"\ncert_chain = \"{}\"\npolicy = \"1.2.3.4.1\"\ndata_dir = \"{}\"\naccuracy_ms = 500\nntp_servers = [\"{ntp}\"]\n{extra_toml}",
        pki.join("tsa.key").display(),
        pki.join("chain.pem").display(),
        data.display(),
    );
    write(pki, "tsa.toml", toml.as_bytes())
}

/// A TSA on 127.0.0.1:0 whose clock is checked against the SNTP servers `ntp` (polled every
/// 100 ms, measurements fresh for 600 ms); data in `data`.
pub(crate) fn start_with_ntp(
    pki: &std::path::Path,
    data: &std::path::Path,
    ntp: &[SocketAddr],
) -> (tokio::runtime::Runtime, inkan_tsa::app::Running) {
    let servers: Vec<String> = ntp.iter().map(|a| format!("\"{a}\"")).collect();
    let extra = format!(
        "ntp_servers = [{}]\nntp_poll_ms = 100\nntp_freshness_ms = 600\nntp_timeout_ms = 50\n",
        servers.join(", ")
    );
    let rt = runtime();
    let tsa = rt.block_on(start(settings(pki, data, &extra)));
    (rt, tsa)
}

/// The clock events on record in `data`, oldest first.
fn clock_events(data: &std::path::Path) -> Vec<String> {
    inkan_tsa::records::Reader::open(data)
        .unwrap()
        .events()
        .unwrap()
        .iter()
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(e).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .filter(|k| k.starts_with("clock_"))
        .collect()
}

#[test]
fn clock_good_skewed_silent_good() {
    let pki = tmp();
    let data = tmp();
    make_pki(pki.path(), KeyKind::P256);
    let ntp = Responder::start();
    let (rt, tsa) = start_with_ntp(pki.path(), data.path(), &[ntp.addr]);
    let addr = tsa.addr;

    // Good: issuing.
    wait_for_status(addr, "/readyz", 200, 10);
    assert_issuing(addr, 5, 0, "good clock: tokens");

    // Skewed by 2 s (accuracy 500 ms): every request refused, /readyz 503, promptly.
    ntp.skew(2_000_000_000);
    let t = Instant::now();
    wait_for_status(addr, "/readyz", 503, 5);
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "skew noticed within a few polls"
    );
    assert_refused(addr, 20, 100);
    let m = String::from_utf8(http(addr, "GET", "/metrics", None, b"").2).unwrap();
    assert!(m.contains("reason=\"timeNotAvailable\"} 20"), "{m}");

    // Good again: resumes by itself.
    ntp.good();
    wait_for_status(addr, "/readyz", 200, 5);
    assert_issuing(addr, 5, 200, "recovered: tokens");

    // Silent: still issuing on the last fresh measurement, then stops once it is stale.
    ntp.silence();
    let t = Instant::now();
    wait_for_status(addr, "/readyz", 503, 5);
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(400),
        "stopped before the freshness window: {took:?}"
    );
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_refused(addr, 5, 300);

    // Good again: resumes by itself.
    ntp.good();
    wait_for_status(addr, "/readyz", 200, 5);
    assert_issuing(addr, 5, 400, "recovered: tokens");

    rt.block_on(tsa.shutdown());
    let answered = ntp.finish();
    assert!(
        answered >= 4,
        "the TSA polled the responder: {answered} answers"
    );

    // The events are on record: synchronised, lost (skew), synchronised, lost (silence),
    // synchronised; and the refusals are counted.
    assert_records(
        data.path(),
        &[
            "clock_synchronised",
            "clock_lost",
            "clock_synchronised",
            "clock_lost",
            "clock_synchronised",
        ],
        25,
        15,
    );
}

/// Three real SNTP responders: one skewed by 2 s is outvoted (the majority of two good ones
/// keeps issuing, /readyz 200); a second skewed one leaves no majority (every request gets
/// timeNotAvailable, /readyz 503); one of them good again restores the majority and issuing
/// resumes by itself.
#[test]
fn three_servers_majority_rules() {
    let pki = tmp();
    let data = tmp();
    make_pki(pki.path(), KeyKind::P256);
    let ntp = [Responder::start(), Responder::start(), Responder::start()];
    let (rt, tsa) = start_with_ntp(
        pki.path(),
        data.path(),
        &[ntp[0].addr, ntp[1].addr, ntp[2].addr],
    );
    let addr = tsa.addr;

    // All three good: issuing.
    wait_for_status(addr, "/readyz", 200, 10);
    assert_issuing(addr, 5, 0, "three good servers: tokens");

    // One skewed by 2 s (accuracy 500 ms): two of three still agree, so issuing goes on.
    // Give the poller several rounds to see it.
    ntp[0].skew(2_000_000_000);
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(http(addr, "GET", "/readyz", None, b"").0, 200);
    assert_issuing(addr, 5, 100, "one bad server of three is outvoted: tokens");

    // A second one skewed: one good of three is no majority; every request refused.
    ntp[1].skew(-2_000_000_000);
    let t = Instant::now();
    wait_for_status(addr, "/readyz", 503, 5);
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "lost majority noticed within a few polls"
    );
    assert_refused(addr, 10, 200);

    // One of the skewed servers good again: two of three, issuing resumes by itself.
    ntp[1].good();
    wait_for_status(addr, "/readyz", 200, 5);
    assert_issuing(addr, 5, 300, "majority restored: tokens");

    rt.block_on(tsa.shutdown());
    for (i, r) in ntp.into_iter().enumerate() {
        let answered = r.finish();
        assert!(answered >= 4, "server {i} was polled: {answered} answers");
    }

    // The single skewed server never caused a loss: synchronised, lost (two skewed),
    // synchronised.
    assert_records(
        data.path(),
        &["clock_synchronised", "clock_lost", "clock_synchronised"],
        10,
        15,
    );
}

/// Kiss-o'-death, RFC 5905 §7.4, from a real responder: `RATE` makes the TSA poll that server
/// at least twice as far apart each time; `DENY` makes it stop polling the server for good
/// (an error and an `sntp_server_dropped` event), and with the only server gone the
/// measurements go stale and issuing stops. Every query carries a random transmit timestamp,
/// not the host clock (RFC 5905 §8).
#[test]
fn kiss_of_death_rate_backs_off_deny_drops() {
    let pki = tmp();
    let data = tmp();
    make_pki(pki.path(), KeyKind::P256);
    let ntp = Responder::start();
    let (rt, tsa) = start_with_ntp(pki.path(), data.path(), &[ntp.addr]);
    let addr = tsa.addr;
    wait_for_status(addr, "/readyz", 200, 10);

    // RATE: each gap between queries at least doubles the previous poll interval (100 ms).
    ntp.kiss(b"RATE");
    let from = ntp.queries().len();
    let deadline = Instant::now() + Duration::from_secs(30);
    while ntp.queries().len() < from + 4 {
        assert!(Instant::now() < deadline, "{:?}", ntp.queries());
        std::thread::sleep(Duration::from_millis(50));
    }
    let q = ntp.queries();
    let gaps: Vec<Duration> = q[from..]
        .windows(2)
        .map(|w| w[1].0.duration_since(w[0].0))
        .collect();
    for (i, g) in gaps.iter().enumerate() {
        // After the k-th RATE the interval is 100 ms * 2^k (lower bound: lateness only adds).
        let want = Duration::from_millis(100 << (i + 1));
        assert!(*g >= want * 9 / 10, "gap {i} {g:?} < {want:?}: {gaps:?}");
    }

    // DENY: the kiss arrives at the next (backed-off) poll; after it the server is never
    // asked again (waiting well past twice the last interval), and with no fresh measurement
    // issuing has stopped.
    ntp.kiss(b"DENY");
    let n = ntp.queries().len();
    let deadline = Instant::now() + Duration::from_secs(30);
    while ntp.queries().len() == n {
        assert!(Instant::now() < deadline, "no query after DENY");
        std::thread::sleep(Duration::from_millis(20));
    }
    let last_gap = *gaps.last().unwrap();
    std::thread::sleep(last_gap * 5);
    assert_eq!(ntp.queries().len(), n + 1, "polled after DENY");
    assert_eq!(http(addr, "GET", "/readyz", None, b"").0, 503);
    rt.block_on(tsa.shutdown());
    // Random transmit timestamps: none is near the host clock (a 1 in 2^15 chance each).
    let now = to_ntp(SystemClock.now().unwrap()) >> 32;
    let near = ntp
        .queries()
        .iter()
        .filter(|(_, x)| (x >> 32).abs_diff(now) < 86_400)
        .count();
    assert_eq!(near, 0, "transmit timestamps look like the clock");
    ntp.finish();
    let kinds: Vec<String> = inkan_tsa::records::Reader::open(data.path())
        .unwrap()
        .events()
        .unwrap()
        .iter()
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(e).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(kinds.iter().any(|k| k == "sntp_rate"), "{kinds:?}");
    assert!(
        kinds.iter().any(|k| k == "sntp_server_dropped"),
        "{kinds:?}"
    );
    assert_eq!(kinds.last().map(String::as_str), Some("stop"), "{kinds:?}");
}

const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

/// The control file libfaketime re-reads on every clock call (`FAKETIME_NO_CACHE=1`),
/// replaced atomically so that no call reads it half-written.
struct FakeTime(std::path::PathBuf);

impl FakeTime {
    fn new(dir: &std::path::Path) -> Self {
        let f = Self(dir.join("faketime.rc"));
        f.set("+0s");
        f
    }

    fn set(&self, spec: &str) {
        let tmp = self.0.with_extension("tmp");
        std::fs::write(&tmp, format!("{spec}\n")).unwrap();
        std::fs::rename(&tmp, &self.0).unwrap();
    }

    /// The environment for the TSA process: its wall clock follows the file, its monotonic
    /// clock stays real.
    fn env(&self) -> Vec<(&'static str, String)> {
        assert!(
            std::path::Path::new(LIBFAKETIME).exists(),
            "libfaketime is missing (Debian package faketime)"
        );
        vec![
            ("LD_PRELOAD", LIBFAKETIME.to_owned()),
            ("FAKETIME_TIMESTAMP_FILE", self.0.display().to_string()),
            ("FAKETIME_NO_CACHE", "1".to_owned()),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1".to_owned()),
        ]
    }
}

/// What a client saw: real time before and after, and the outcome (genTime or failure).
#[derive(Debug, Clone)]
struct Seen {
    before: i128,
    after: i128,
    phase: usize,
    gen_time: Option<i128>,
    failure: Option<String>,
}

fn real_ns() -> i128 {
    let t = SystemClock.now().unwrap();
    i128::from(t.secs()) * 1_000_000_000 + i128::from(t.subsec_nanos())
}

/// A client posting requests one after another on a keep-alive connection until stopped.
struct Client {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<Seen>>>,
    phase: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Client {
    fn start(addr: SocketAddr) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let phase = Arc::new(AtomicUsize::new(0));
        let (st, sn, ph) = (stop.clone(), seen.clone(), phase.clone());
        let thread = std::thread::spawn(move || {
            let mut c = Conn::open(addr).unwrap();
            let mut i = 0u64;
            while !st.load(SeqCst) {
                let phase = ph.load(SeqCst);
                let before = real_ns();
                let (status, body) = c.post(&request(i)).unwrap();
                let after = real_ns();
                assert_eq!(status, 200);
                let failure = failure_of(&body).map(|f| f.names().join(","));
                let gen_time = failure.is_none().then(|| {
                    let t = tst_info(&body).generalized_time().unwrap().to_unix();
                    i128::from(t.secs()) * 1_000_000_000 + i128::from(t.subsec_nanos())
                });
                sn.lock().unwrap().push(Seen {
                    before,
                    after,
                    phase,
                    gen_time,
                    failure,
                });
                i += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        Self {
            stop,
            seen,
            phase,
            thread: Some(thread),
        }
    }

    fn phase(&self, p: usize) {
        self.phase.store(p, SeqCst);
    }

    /// Waits until `n` more outcomes matching `f` arrive.
    fn wait_for(&self, n: usize, f: impl Fn(&Seen) -> bool) {
        let count = |v: &[Seen]| v.iter().filter(|s| f(s)).count();
        let from = count(&self.seen.lock().unwrap());
        let deadline = Instant::now() + Duration::from_secs(60);
        while count(&self.seen.lock().unwrap()) < from + n {
            assert!(Instant::now() < deadline, "no progress");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn finish(mut self) -> Vec<Seen> {
        self.stop.store(true, SeqCst);
        self.thread.take().unwrap().join().unwrap();
        self.seen.lock().unwrap().clone()
    }
}

fn event_kinds(data: &std::path::Path) -> Vec<(String, String)> {
    inkan_tsa::records::Reader::open(data)
        .unwrap()
        .events()
        .unwrap()
        .iter()
        .map(|e| {
            let v = serde_json::from_str::<serde_json::Value>(e).unwrap();
            (
                v["kind"].as_str().unwrap().to_owned(),
                v["detail"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// The seconds in a `clock_step` event's "stepped by +30.000026 s".
fn stepped_by(detail: &str) -> Option<f64> {
    detail
        .split("stepped by ")
        .nth(1)?
        .split(' ')
        .next()?
        .parse()
        .ok()
}

pub(crate) fn metric(addr: SocketAddr, name: &str) -> f64 {
    let m = String::from_utf8(http(addr, "GET", "/metrics", None, b"").2).unwrap();
    m.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{name} not in {m}"))
}

/// The scenario, end to end: the real inkan-tsa process under libfaketime (its wall
/// clock stepped by a file, its monotonic clock real) with the default 16 s SNTP poll against
/// a real responder. The wall clock is stepped +30 s, back, -30 s, back, while a client keeps
/// asking. No granted token's genTime is more than the declared accuracy (500 ms) from the
/// true time (this test process's clock, read before and after each request); the steps are
/// refused with timeNotAvailable and /readyz 503; after each step back the TSA measures again
/// and resumes; the steps and losses are on record.
#[test]
fn wall_clock_steps_under_libfaketime() {
    let pki = tmp();
    let data = tmp();
    make_pki(pki.path(), KeyKind::P256);
    let ntp = Responder::start();
    let fake = FakeTime::new(pki.path());
    let cfg = ntp_config_file(pki.path(), data.path(), ntp.addr, "ntp_timeout_ms = 200\n");
    let env = fake.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let tsa =
        process::TsaProcess::start_env(&["--config", cfg.to_str().unwrap()], pki.path(), &env);
    let addr = tsa.addr;
    wait_for_status(addr, "/readyz", 200, 30);
    let client = Client::start(addr);
    client.wait_for(5, |s| s.gen_time.is_some());
    let mut phase = 0;
    for step in ["+30s", "-30s"] {
        phase += 1;
        client.phase(phase);
        fake.set(step);
        wait_for_status(addr, "/readyz", 503, 30);
        client.wait_for(5, |s| s.phase == phase && s.failure.is_some());
        phase += 1;
        client.phase(phase);
        fake.set("+0s");
        wait_for_status(addr, "/readyz", 200, 30);
        client.wait_for(5, |s| s.phase == phase && s.gen_time.is_some());
    }
    let steps = metric(addr, "inkan_tsa_clock_steps_total");
    let seen = client.finish();
    assert!(tsa.stop(), "clean exit");
    let ntp_addr = ntp.addr;
    ntp.finish();

    let acc = 500_000_000;
    for s in &seen {
        if let Some(g) = s.gen_time {
            assert!(
                g >= s.before - acc && g <= s.after + acc,
                "genTime {:.3} s off the true time (phase {}): {s:?}",
                (g - s.before) as f64 / 1e9,
                s.phase
            );
        }
        if let Some(f) = &s.failure {
            assert_eq!(f, "timeNotAvailable", "{s:?}");
        }
    }
    for p in 0..=4 {
        let granted = seen.iter().filter(|s| s.phase == p && s.gen_time.is_some());
        assert!(granted.count() > 0 || p % 2 == 1, "phase {p}: no token");
    }
    assert!(steps >= 4.0, "steps counted: {steps}");
    let events = event_kinds(data.path());
    // The measurements that decided each loss and recovery are on record (OVR-7.12-04/06).
    let server = ntp_addr.to_string();
    assert!(
        events
            .iter()
            .filter(|(k, _)| k == "clock_synchronised" || k == "clock_lost")
            .all(|(_, d)| d.contains("measurements: ") && d.contains(&server)),
        "{events:?}"
    );
    let kinds: Vec<String> = events.into_iter().map(|k| k.0).collect();
    let n = |k: &str| kinds.iter().filter(|x| *x == k).count();
    assert!(n("clock_step") >= 4, "{kinds:?}");
    assert!(n("clock_lost") >= 2, "{kinds:?}");
    assert!(n("clock_synchronised") >= 3, "{kinds:?}");
}

/// Without SNTP servers (the host clock trusted), a +30 s step under libfaketime is an event
/// and a metric, and it stops issuing (timeNotAvailable, /readyz 503) even once the clock is
/// back: the TSA cannot tell which side of the step was right. A restart (after the operator
/// checked the clock) resumes.
#[test]
fn host_clock_step_without_servers_stops_until_restart() {
    let pki = tmp();
    let data = tmp();
    make_pki(pki.path(), KeyKind::P256);
    let fake = FakeTime::new(pki.path());
    let env = fake.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let tsa = process::TsaProcess::start_with_pki(pki.path(), data.path(), &env);
    let addr = tsa.addr;
    wait_for_status(addr, "/readyz", 200, 30);
    let mut c = Conn::open(addr).unwrap();
    let (_, body) = c.post(&request(1)).unwrap();
    assert_eq!(failure_of(&body), None);
    fake.set("+30s");
    wait_for_status(addr, "/readyz", 503, 30);
    fake.set("+0s");
    // Back on time, still refusing.
    let deadline = Instant::now() + Duration::from_secs(30);
    while metric(addr, "inkan_tsa_clock_steps_total") < 1.0 {
        assert!(
            Instant::now() < deadline,
            "the step back is not counted: {}\n{}",
            String::from_utf8(http(addr, "GET", "/metrics", None, b"").2).unwrap(),
            tsa.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    for i in 0..5 {
        let (_, body) = c.post(&request(10 + i)).unwrap();
        assert_eq!(
            failure_of(&body).map(|f| f.names().join(",")).as_deref(),
            Some("timeNotAvailable")
        );
    }
    let (status, _, body) = http(addr, "GET", "/readyz", None, b"");
    assert_eq!(status, 503);
    assert!(
        String::from_utf8_lossy(&body).contains("restart"),
        "{body:?}"
    );
    assert!(tsa.stop());
    let events = event_kinds(data.path());
    assert!(
        events.iter().any(|(k, d)| k == "clock_step"
            && stepped_by(d).is_some_and(|v| (v - 30.0).abs() < 0.1)
            && d.contains("beyond")),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|(k, d)| k == "clock_lost" && d.contains("restarted")),
        "{events:?}"
    );
    // Restarted: issuing again.
    let tsa = process::TsaProcess::start_with_pki(pki.path(), data.path(), &env);
    wait_for_status(tsa.addr, "/readyz", 200, 30);
    let (_, body) = Conn::open(tsa.addr).unwrap().post(&request(99)).unwrap();
    assert_eq!(failure_of(&body), None);
    assert!(tsa.stop());
}

/// A leap second announced by the server's leap indicator falls at the end of December 31
/// (RFC 5905 §7.3), the rule the example configuration states: the real process under
/// libfaketime runs from 2026-12-31T23:59:50 with a responder that agrees with its clock and
/// announces an inserted second; with `leap_policy = "refuse"` and `leap_window_s = 2` no
/// token is stamped from 23:59:58 to 00:00:02, tokens are stamped on both sides of it, and the
/// announcement is on record.
#[test]
fn leap_second_window_at_the_end_of_december() {
    let pki = tmp();
    let data = tmp();
    make_pki(pki.path(), KeyKind::P256);
    // 2026-12-31T23:59:50Z.
    let target: i64 = 1_798_761_590;
    let offset = target - SystemClock.now().unwrap().secs() as i64;
    let fake = FakeTime::new(pki.path());
    fake.set(&format!("+{offset}s"));
    let ntp = Responder::start();
    ntp.skew(offset * 1_000_000_000);
    ntp.leap.store(1, SeqCst);
    let cfg = ntp_config_file(
        pki.path(),
        data.path(),
        ntp.addr,
        "ntp_poll_ms = 500\nntp_timeout_ms = 200\nleap_policy = \"refuse\"\nleap_window_s = 2\n",
    );
    // The certificate was made today: its validity must cover the faked instant.
    let d = pki.path();
    sign_csr(d, "tsa.csr", "root", "4343", &["-days", "3650"], "tsa.pem");
    // ...and so must the root's.
    root_cert(d, "3650");
    sign_csr(d, "tsa.csr", "root", "4344", &["-days", "3650"], "tsa.pem");
    write_chain(d, "chain.pem", &["tsa.pem", "root.pem"]);
    let env = fake.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let tsa =
        process::TsaProcess::start_env(&["--config", cfg.to_str().unwrap()], pki.path(), &env);
    let addr = tsa.addr;
    wait_for_status(addr, "/readyz", 200, 30);
    let client = Client::start(addr);
    // Until a token is stamped in 2027 (at least 2 s after midnight).
    let jan1: i128 = 1_798_761_600 * 1_000_000_000;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = client
            .seen
            .lock()
            .unwrap()
            .iter()
            .any(|s| s.gen_time.is_some_and(|g| g >= jan1));
        if done {
            break;
        }
        assert!(Instant::now() < deadline, "no token after the leap");
        std::thread::sleep(Duration::from_millis(50));
    }
    let seen = client.finish();
    assert!(tsa.stop());
    ntp.finish();
    let stamped: Vec<i128> = seen.iter().filter_map(|s| s.gen_time).collect();
    let window = (jan1 - 2_000_000_000)..(jan1 + 2_000_000_000);
    assert!(
        stamped.iter().all(|g| !window.contains(g)),
        "a token inside the leap window: {:?}",
        stamped
            .iter()
            .filter(|g| window.contains(g))
            .map(|g| (g - jan1) as f64 / 1e9)
            .collect::<Vec<_>>()
    );
    assert!(stamped.iter().any(|g| *g < window.start), "none before");
    assert!(stamped.iter().any(|g| *g >= window.end), "none after");
    let refused: Vec<&Seen> = seen.iter().filter(|s| s.failure.is_some()).collect();
    assert!(!refused.is_empty());
    assert!(
        refused
            .iter()
            .all(|s| s.failure.as_deref() == Some("timeNotAvailable"))
    );
    let events = event_kinds(data.path());
    assert!(
        events
            .iter()
            .any(|(k, d)| k == "leap_announced" && d.contains("2027-01-01T00:00:00Z")),
        "{events:?}"
    );
}
