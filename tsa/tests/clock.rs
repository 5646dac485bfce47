//! Time discipline end to end: a real SNTP responder on 127.0.0.1 (a UDP socket served from a
//! test thread, answering NTP v4 server packets from the host clock plus an offset the test
//! controls) drives the TSA through good → skewed by 2 s → good → silent → good, and three of
//! them the majority rule (one skewed: issuing; two skewed: refusing; recovery). No mocked
//! clock: the TSA polls the responder over UDP and stamps with the host clock.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering::SeqCst};
use std::time::{Duration, Instant};

use inkan_profiles::clock::{Clock, SystemClock};
use inkan_profiles::time::UnixTime;
use inkan_tsa::ntp::to_ntp;

use crate::common::*;

/// An SNTP server on 127.0.0.1:0.
struct Responder {
    addr: SocketAddr,
    offset_ns: Arc<AtomicI64>,
    silent: Arc<AtomicBool>,
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
    fn start() -> Self {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let addr = sock.local_addr().unwrap();
        let offset_ns = Arc::new(AtomicI64::new(0));
        let silent = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (o, q, st) = (offset_ns.clone(), silent.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut answered = 0u64;
            let mut buf = [0u8; 512];
            while !st.load(SeqCst) {
                let Ok((n, peer)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                let rx = shifted(o.load(SeqCst));
                // A client request: version 3 or 4, mode 3.
                if n < 48 || buf[0] & 7 != 3 || q.load(SeqCst) {
                    continue;
                }
                let mut p = [0u8; 48];
                p[0] = (4 << 3) | 4; // LI 0, version 4, mode 4 (server)
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
            stop,
            thread: Some(thread),
        }
    }

    fn good(&self) {
        self.offset_ns.store(0, SeqCst);
        self.silent.store(false, SeqCst);
    }

    fn skew(&self, ns: i64) {
        self.offset_ns.store(ns, SeqCst);
    }

    fn silence(&self) {
        self.silent.store(true, SeqCst);
    }

    fn finish(mut self) -> u64 {
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

/// A TSA on 127.0.0.1:0 whose clock is checked against the SNTP servers `ntp` (polled every
/// 100 ms, measurements fresh for 600 ms); data in `data`.
fn start_with_ntp(
    pki: &std::path::Path,
    data: &std::path::Path,
    ntp: &[SocketAddr],
) -> (tokio::runtime::Runtime, inkan_tsa::app::Running) {
    let servers: Vec<String> = ntp.iter().map(|a| format!("\"{a}\"")).collect();
    let extra = format!(
        "ntp_servers = [{}]\nntp_poll_ms = 100\nntp_freshness_ms = 600\nntp_timeout_ms = 50\n",
        servers.join(", ")
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
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
    assert!(
        outcomes(addr, 5, 0).iter().all(Option::is_none),
        "good clock: tokens"
    );

    // Skewed by 2 s (accuracy 500 ms): every request refused, /readyz 503, promptly.
    ntp.skew(2_000_000_000);
    let t = Instant::now();
    wait_for_status(addr, "/readyz", 503, 5);
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "skew noticed within a few polls"
    );
    let refused = outcomes(addr, 20, 100);
    assert!(
        refused
            .iter()
            .all(|o| o.as_deref() == Some("timeNotAvailable")),
        "{refused:?}"
    );
    let m = String::from_utf8(http(addr, "GET", "/metrics", None, b"").2).unwrap();
    assert!(m.contains("reason=\"timeNotAvailable\"} 20"), "{m}");

    // Good again: resumes by itself.
    ntp.good();
    wait_for_status(addr, "/readyz", 200, 5);
    assert!(
        outcomes(addr, 5, 200).iter().all(Option::is_none),
        "recovered: tokens"
    );

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
    let refused = outcomes(addr, 5, 300);
    assert!(
        refused
            .iter()
            .all(|o| o.as_deref() == Some("timeNotAvailable")),
        "{refused:?}"
    );

    // Good again: resumes by itself.
    ntp.good();
    wait_for_status(addr, "/readyz", 200, 5);
    assert!(
        outcomes(addr, 5, 400).iter().all(Option::is_none),
        "recovered: tokens"
    );

    rt.block_on(tsa.shutdown());
    let answered = ntp.finish();
    assert!(
        answered >= 4,
        "the TSA polled the responder: {answered} answers"
    );

    // The events are on record: synchronised, lost (skew), synchronised, lost (silence),
    // synchronised; and the refusals are counted.
    let r = inkan_tsa::records::Reader::open(data.path()).unwrap();
    let kinds = clock_events(data.path());
    assert_eq!(
        kinds,
        [
            "clock_synchronised",
            "clock_lost",
            "clock_synchronised",
            "clock_lost",
            "clock_synchronised"
        ],
        "{kinds:?}"
    );
    let rej = r.rejections().unwrap();
    assert!(
        rej.contains(&("timeNotAvailable".to_owned(), 25)),
        "{rej:?}"
    );
    assert_eq!(r.serials().unwrap().len(), 15);
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
    assert!(
        outcomes(addr, 5, 0).iter().all(Option::is_none),
        "three good servers: tokens"
    );

    // One skewed by 2 s (accuracy 500 ms): two of three still agree, so issuing goes on.
    // Give the poller several rounds to see it.
    ntp[0].skew(2_000_000_000);
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(http(addr, "GET", "/readyz", None, b"").0, 200);
    assert!(
        outcomes(addr, 5, 100).iter().all(Option::is_none),
        "one bad server of three is outvoted: tokens"
    );

    // A second one skewed: one good of three is no majority; every request refused.
    ntp[1].skew(-2_000_000_000);
    let t = Instant::now();
    wait_for_status(addr, "/readyz", 503, 5);
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "lost majority noticed within a few polls"
    );
    let refused = outcomes(addr, 10, 200);
    assert!(
        refused
            .iter()
            .all(|o| o.as_deref() == Some("timeNotAvailable")),
        "{refused:?}"
    );

    // One of the skewed servers good again: two of three, issuing resumes by itself.
    ntp[1].good();
    wait_for_status(addr, "/readyz", 200, 5);
    assert!(
        outcomes(addr, 5, 300).iter().all(Option::is_none),
        "majority restored: tokens"
    );

    rt.block_on(tsa.shutdown());
    for (i, r) in ntp.into_iter().enumerate() {
        let answered = r.finish();
        assert!(answered >= 4, "server {i} was polled: {answered} answers");
    }

    let r = inkan_tsa::records::Reader::open(data.path()).unwrap();
    let kinds = clock_events(data.path());
    // The single skewed server never caused a loss: synchronised, lost (two skewed),
    // synchronised.
    assert_eq!(
        kinds,
        ["clock_synchronised", "clock_lost", "clock_synchronised"],
        "{kinds:?}"
    );
    let rej = r.rejections().unwrap();
    assert!(
        rej.contains(&("timeNotAvailable".to_owned(), 10)),
        "{rej:?}"
    );
    assert_eq!(r.serials().unwrap().len(), 15);
}
