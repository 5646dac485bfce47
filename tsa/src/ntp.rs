//! Time discipline: an SNTP client (RFC 4330 / RFC 5905 on-wire protocol) that checks the host
//! clock against several servers, and the [`TimeGuard`] every request asks before a token is
//! stamped.
//!
//! # Model
//!
//! The TSA stamps tokens with the host clock (disciplined by chrony or ntpd in production) and
//! uses SNTP only to *check* it, independently of the daemon that steers it. For each server
//! and poll it measures
//!
//! * `offset = ((T2 - T1) + (T3 - T4)) / 2` (how far the server is ahead of us), and
//! * `uncertainty = delay / 2 + root_delay / 2 + root_dispersion`, where
//!   `delay = (T4 - T1) - (T3 - T2)`: half our round trip (the true offset lies anywhere in
//!   it), plus the server's own distance to its reference (RFC 5905 "root distance").
//!
//! A server is *good* when its last measurement is younger than the freshness window and
//! `|offset| + uncertainty <= accuracy`. The guard lets tokens be issued only while a strict
//! majority of the configured servers is good (so one wrong or hijacked server can neither stop
//! nor mislead the TSA when there are three), and only until that majority's measurements go
//! stale: a server that falls silent stops issuance by itself within the freshness window, even
//! between polls. Every transition (synchronised, lost, leap second announced) becomes an event
//! in the records store.
//!
//! # Leap seconds
//!
//! The leap indicator of a majority of good servers announces a leap second at the end of the
//! current month (RFC 5905 §7.3). With [`LeapPolicy::RefuseInWindow`] nothing is issued from
//! `leap_window` before that instant to `leap_window` after it; with [`LeapPolicy::Ignore`]
//! issuance continues through it.
//!
//! # Without servers
//!
//! The host clock is trusted as it is; a warning is logged at start-up and `/metrics` shows
//! `inkan_tsa_clock_source{source="host"} 1`.

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use inkan_profiles::clock::Clock;
use inkan_profiles::time::UnixTime;

use crate::config::LeapPolicy;
use crate::timefmt;

/// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01.
const NTP_UNIX_DELTA: u64 = 2_208_988_800;

/// One SNTP measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measurement {
    /// Server time minus host time, in nanoseconds.
    pub offset_ns: i64,
    /// Bound on the error of `offset_ns`, in nanoseconds.
    pub uncertainty_ns: u64,
    /// Leap indicator (0 none, 1 insert, 2 delete).
    pub leap: u8,
    /// Server stratum.
    pub stratum: u8,
}

/// Why an SNTP query gave no measurement.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SntpError {
    /// Network error or timeout.
    Io(String),
    /// The reply is not a valid server reply to our request.
    BadReply(&'static str),
    /// The server says it is not synchronised (leap indicator 3 or stratum 0 / kiss-o'-death).
    Unsynchronised,
    /// The host clock could not be read.
    NoClock,
}

impl std::fmt::Display for SntpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "network: {e}"),
            Self::BadReply(why) => write!(f, "bad reply: {why}"),
            Self::Unsynchronised => f.write_str("server not synchronised"),
            Self::NoClock => f.write_str("host clock unreadable"),
        }
    }
}

/// Unix time to a 64-bit NTP timestamp.
pub fn to_ntp(t: UnixTime) -> u64 {
    let secs = t.secs().wrapping_add(NTP_UNIX_DELTA) & 0xffff_ffff;
    let frac = (u64::from(t.subsec_nanos()) << 32) / 1_000_000_000;
    (secs << 32) | frac
}

/// A 64-bit NTP timestamp to nanoseconds since the Unix epoch, taking the era nearest to
/// `near_unix_secs` (so era 1, from 2036, works).
pub fn from_ntp(ts: u64, near_unix_secs: u64) -> i128 {
    let secs32 = i128::from(ts >> 32);
    let frac = i128::from(ts & 0xffff_ffff);
    let near = i128::from(near_unix_secs) + i128::from(NTP_UNIX_DELTA);
    let era = (near - secs32 + (1i128 << 31)).div_euclid(1i128 << 32);
    let ntp_secs = secs32 + era * (1i128 << 32);
    (ntp_secs - i128::from(NTP_UNIX_DELTA)) * 1_000_000_000 + ((frac * 1_000_000_000) >> 32)
}

fn short_to_ns(v: u32) -> u64 {
    (u64::from(v) * 1_000_000_000) >> 16
}

fn ns(t: UnixTime) -> i128 {
    i128::from(t.secs()) * 1_000_000_000 + i128::from(t.subsec_nanos())
}

/// Builds a client request whose transmit timestamp is `t1`.
pub fn request_packet(t1: UnixTime) -> [u8; 48] {
    let mut p = [0u8; 48];
    p[0] = 0x23; // LI 0, version 4, mode 3 (client)
    p[40..48].copy_from_slice(&to_ntp(t1).to_be_bytes());
    p
}

/// Checks a reply against the request sent at `t1` and received at `t4`; returns the
/// measurement.
pub fn parse_reply(reply: &[u8], t1: UnixTime, t4: UnixTime) -> Result<Measurement, SntpError> {
    if reply.len() < 48 {
        return Err(SntpError::BadReply("shorter than 48 bytes"));
    }
    let word = |i: usize| u32::from_be_bytes([reply[i], reply[i + 1], reply[i + 2], reply[i + 3]]);
    let stamp = |i: usize| (u64::from(word(i)) << 32) | u64::from(word(i + 4));
    let li = reply[0] >> 6;
    let version = (reply[0] >> 3) & 7;
    let mode = reply[0] & 7;
    let stratum = reply[1];
    if mode != 4 {
        return Err(SntpError::BadReply("not a server reply"));
    }
    if !(3..=4).contains(&version) {
        return Err(SntpError::BadReply("unsupported version"));
    }
    if stamp(24) != to_ntp(t1) {
        return Err(SntpError::BadReply(
            "origin timestamp does not match our request",
        ));
    }
    if li == 3 || stratum == 0 || stratum > 15 {
        return Err(SntpError::Unsynchronised);
    }
    let root_delay = short_to_ns(word(4));
    let root_disp = short_to_ns(word(8));
    let (rx, tx) = (stamp(32), stamp(40));
    if rx == 0 || tx == 0 {
        return Err(SntpError::BadReply("zero timestamps"));
    }
    let near = t1.secs();
    let (t1n, t2, t3, t4n) = (ns(t1), from_ntp(rx, near), from_ntp(tx, near), ns(t4));
    let offset = ((t2 - t1n) + (t3 - t4n)) / 2;
    let delay = ((t4n - t1n) - (t3 - t2)).max(0);
    let unc = delay / 2 + i128::from(root_delay / 2 + root_disp);
    Ok(Measurement {
        offset_ns: i64::try_from(offset).map_err(|_| SntpError::BadReply("offset out of range"))?,
        uncertainty_ns: u64::try_from(unc).unwrap_or(u64::MAX),
        leap: li,
        stratum,
    })
}

/// Sends one SNTP query to `server` and waits up to `timeout` for the reply.
pub fn query(
    server: SocketAddr,
    clock: &dyn Clock,
    timeout: Duration,
) -> Result<Measurement, SntpError> {
    let io = |e: std::io::Error| SntpError::Io(e.to_string());
    let bind: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let sock = UdpSocket::bind(bind).map_err(io)?;
    sock.connect(server).map_err(io)?;
    sock.set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
        .map_err(io)?;
    let t1 = clock.now().ok_or(SntpError::NoClock)?;
    sock.send(&request_packet(t1)).map_err(io)?;
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 512];
    loop {
        let n = sock.recv(&mut buf).map_err(io)?;
        let t4 = clock.now().ok_or(SntpError::NoClock)?;
        match parse_reply(&buf[..n], t1, t4) {
            // A stray or forged datagram: keep waiting for the real reply until the deadline.
            Err(SntpError::BadReply(_)) if Instant::now() < deadline => continue,
            r => return r,
        }
    }
}

/// A clock-discipline event, recorded in the store and logged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClockEvent {
    /// No servers: the host clock is trusted.
    TrustingHost,
    /// A majority of servers agree with the host clock within accuracy; issuing (again).
    Synchronised {
        /// Median offset, ns.
        offset_ns: i64,
        /// Largest uncertainty among the good servers, ns.
        uncertainty_ns: u64,
        /// Good servers / configured servers.
        good: usize,
        /// Configured servers.
        of: usize,
    },
    /// Issuing stopped.
    Lost {
        /// Why, for the auditor.
        reason: String,
    },
    /// A leap second was announced for `at` (Unix seconds of the instant after it).
    LeapAnnounced {
        /// The end-of-month instant.
        at: u64,
    },
}

/// Why the guard refuses to give a time for a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeRefusal {
    /// The clock is not (or no longer) confirmed within accuracy.
    Unsynchronised,
    /// Inside the leap-second window.
    LeapWindow,
    /// The host clock cannot be read.
    NoClock,
}

/// The shared, lock-free state every request consults.
#[derive(Debug)]
pub struct TimeGuard {
    clock: Arc<dyn Clock>,
    trust_host: bool,
    start: Instant,
    /// Monotonic ms since `start` until which issuing is allowed (0: not allowed).
    valid_until_ms: AtomicU64,
    offset_ns: AtomicI64,
    uncertainty_ns: AtomicU64,
    /// Unix seconds of an announced leap (0: none).
    leap_at: AtomicU64,
    leap_policy: LeapPolicy,
    leap_window: Duration,
    accuracy: Duration,
    state: AtomicU8,
}

impl TimeGuard {
    /// A guard over `clock`. With `trust_host` (no servers configured) it always allows
    /// issuing; otherwise it starts refusing until the first good majority.
    pub fn new(
        clock: Arc<dyn Clock>,
        trust_host: bool,
        accuracy: Duration,
        leap_policy: LeapPolicy,
        leap_window: Duration,
    ) -> Self {
        Self {
            clock,
            trust_host,
            start: Instant::now(),
            valid_until_ms: AtomicU64::new(0),
            offset_ns: AtomicI64::new(0),
            uncertainty_ns: AtomicU64::new(0),
            leap_at: AtomicU64::new(0),
            leap_policy,
            leap_window,
            accuracy,
            state: AtomicU8::new(0),
        }
    }

    fn mono_ms(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Whether the host clock is trusted without servers.
    pub fn trusts_host(&self) -> bool {
        self.trust_host
    }

    /// The declared accuracy.
    pub fn accuracy(&self) -> Duration {
        self.accuracy
    }

    /// The time to put in a token now, or why none can be given.
    pub fn now_for_issuing(&self) -> Result<UnixTime, TimeRefusal> {
        if !self.trust_host && self.mono_ms() >= self.valid_until_ms.load(Ordering::Acquire) {
            return Err(TimeRefusal::Unsynchronised);
        }
        let now = self.clock.now().ok_or(TimeRefusal::NoClock)?;
        if self.leap_policy == LeapPolicy::RefuseInWindow {
            let at = self.leap_at.load(Ordering::Relaxed);
            if at != 0 {
                let w = self.leap_window.as_secs().max(1);
                if now.secs() + w > at && now.secs() < at + w {
                    return Err(TimeRefusal::LeapWindow);
                }
            }
        }
        Ok(now)
    }

    /// Whether a token could be issued now (for `/readyz`).
    pub fn ready(&self) -> bool {
        self.now_for_issuing().is_ok()
    }

    /// Last median offset (ns) and uncertainty (ns); zeros when trusting the host.
    pub fn offset(&self) -> (i64, u64) {
        (
            self.offset_ns.load(Ordering::Relaxed),
            self.uncertainty_ns.load(Ordering::Relaxed),
        )
    }

    /// Records a leap announcement seen at `now`; returns the leap instant if it is new.
    fn announce_leap(&self, now: UnixTime) -> Option<u64> {
        let days = i64::try_from(now.secs() / 86_400).ok()?;
        let (y, m, _) = timefmt::civil_from_days(days);
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        let at = u64::try_from(timefmt::days_from_civil(ny, nm, 1) * 86_400).ok()?;
        let prev = self.leap_at.swap(at, Ordering::Relaxed);
        (prev != at).then_some(at)
    }

    fn clear_leap_if_past(&self, now: UnixTime) {
        let at = self.leap_at.load(Ordering::Relaxed);
        if at != 0 && now.secs() >= at + self.leap_window.as_secs().max(1) {
            self.leap_at.store(0, Ordering::Relaxed);
        }
    }
}

/// Per-server memory of the poller.
#[derive(Clone, Debug)]
struct Last {
    at: Instant,
    m: Measurement,
}

/// Evaluates the servers' last measurements at `now`; returns (good measurements with their
/// expiry, in ms since `start`).
fn good_set(
    last: &[Option<Last>],
    now: Instant,
    start: Instant,
    freshness: Duration,
    accuracy: Duration,
) -> Vec<(Measurement, u64)> {
    let acc = u64::try_from(accuracy.as_nanos()).unwrap_or(u64::MAX);
    last.iter()
        .flatten()
        .filter(|l| now.duration_since(l.at) < freshness)
        .filter(|l| {
            l.m.offset_ns
                .unsigned_abs()
                .saturating_add(l.m.uncertainty_ns)
                <= acc
        })
        .map(|l| {
            let exp = (l.at + freshness).duration_since(start);
            (l.m, u64::try_from(exp.as_millis()).unwrap_or(u64::MAX))
        })
        .collect()
}

/// Drives the guard from SNTP polls until `stop` fires. Runs on its own thread.
pub struct Poller {
    guard: Arc<TimeGuard>,
    servers: Vec<String>,
    poll: Duration,
    freshness: Duration,
    timeout: Duration,
    on_event: Box<dyn Fn(ClockEvent) + Send>,
}

impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller")
            .field("servers", &self.servers)
            .field("poll", &self.poll)
            .finish_non_exhaustive()
    }
}

fn resolve(server: &str) -> Option<SocketAddr> {
    let with_port = if server.parse::<SocketAddr>().is_ok()
        || server
            .rsplit_once(':')
            .is_some_and(|(h, p)| !h.contains(':') && p.parse::<u16>().is_ok())
    {
        server.to_owned()
    } else if server.contains(':') && !server.starts_with('[') {
        format!("[{server}]:123")
    } else {
        format!("{server}:123")
    };
    with_port.to_socket_addrs().ok()?.next()
}

impl Poller {
    /// A poller for `servers` feeding `guard`.
    pub fn new(
        guard: Arc<TimeGuard>,
        servers: Vec<String>,
        poll: Duration,
        freshness: Duration,
        timeout: Duration,
        on_event: Box<dyn Fn(ClockEvent) + Send>,
    ) -> Self {
        Self {
            guard,
            servers,
            poll,
            freshness,
            timeout,
            on_event,
        }
    }

    /// Polls every server once, updates the guard, reports transitions.
    fn round(&self, last: &mut [Option<Last>]) {
        let clock = self.guard.clock.as_ref();
        for (i, s) in self.servers.iter().enumerate() {
            let r = match resolve(s) {
                Some(addr) => query(addr, clock, self.timeout),
                None => Err(SntpError::Io(format!("cannot resolve {s}"))),
            };
            match r {
                Ok(m) => {
                    tracing::debug!(server = %s, offset_ns = m.offset_ns, uncertainty_ns = m.uncertainty_ns, "sntp");
                    last[i] = Some(Last {
                        at: Instant::now(),
                        m,
                    });
                }
                Err(e) => tracing::debug!(server = %s, error = %e, "sntp query failed"),
            }
        }
        self.evaluate(last);
    }

    fn evaluate(&self, last: &[Option<Last>]) {
        let g = &self.guard;
        let n = self.servers.len();
        let good = good_set(last, Instant::now(), g.start, self.freshness, g.accuracy);
        let need = n / 2 + 1;
        let was = g.state.load(Ordering::Relaxed);
        if good.len() >= need {
            let mut exp: Vec<u64> = good.iter().map(|(_, e)| *e).collect();
            exp.sort_unstable_by(|a, b| b.cmp(a));
            let until = exp[need - 1];
            let mut offs: Vec<i64> = good.iter().map(|(m, _)| m.offset_ns).collect();
            offs.sort_unstable();
            let median = offs[offs.len() / 2];
            let unc = good
                .iter()
                .map(|(m, _)| m.uncertainty_ns)
                .max()
                .unwrap_or(0);
            g.offset_ns.store(median, Ordering::Relaxed);
            g.uncertainty_ns.store(unc, Ordering::Relaxed);
            g.valid_until_ms.store(until, Ordering::Release);
            let leaps = good.iter().filter(|(m, _)| matches!(m.leap, 1 | 2)).count();
            if let Some(now) = g.clock.now() {
                if leaps >= need {
                    if let Some(at) = g.announce_leap(now) {
                        (self.on_event)(ClockEvent::LeapAnnounced { at });
                    }
                } else {
                    g.clear_leap_if_past(now);
                }
            }
            if was != 1 {
                g.state.store(1, Ordering::Relaxed);
                (self.on_event)(ClockEvent::Synchronised {
                    offset_ns: median,
                    uncertainty_ns: unc,
                    good: good.len(),
                    of: n,
                });
            }
        } else {
            // Keep the last majority's expiry: issuing stops by itself when it runs out. A
            // measured excursion beyond accuracy stops it at once.
            let fresh_bad = last
                .iter()
                .flatten()
                .filter(|l| Instant::now().duration_since(l.at) < self.freshness)
                .count()
                > good.len();
            if fresh_bad {
                g.valid_until_ms.store(0, Ordering::Release);
            }
            if let Some((m, _)) = good.first() {
                g.offset_ns.store(m.offset_ns, Ordering::Relaxed);
            } else if let Some(l) = last.iter().flatten().max_by_key(|l| l.at) {
                g.offset_ns.store(l.m.offset_ns, Ordering::Relaxed);
                g.uncertainty_ns
                    .store(l.m.uncertainty_ns, Ordering::Relaxed);
            }
            if was != 2 && (fresh_bad || g.mono_ms() >= g.valid_until_ms.load(Ordering::Acquire)) {
                g.state.store(2, Ordering::Relaxed);
                (self.on_event)(ClockEvent::Lost {
                    reason: format!(
                        "{} of {} servers within accuracy {} ms (need {})",
                        good.len(),
                        n,
                        g.accuracy.as_millis(),
                        need
                    ),
                });
            }
        }
    }

    /// Runs until `stop` receives a message or is disconnected.
    pub fn run(self, stop: std::sync::mpsc::Receiver<()>) {
        let mut last: Vec<Option<Last>> = vec![None; self.servers.len()];
        loop {
            let began = Instant::now();
            self.round(&mut last);
            let wait = self.poll.saturating_sub(began.elapsed());
            // Re-evaluate staleness at least every 100 ms so a silent majority is noticed
            // (and an event recorded) promptly even with a long poll interval.
            let deadline = Instant::now() + wait;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                match stop.recv_timeout(left.min(Duration::from_millis(100))) {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => self.evaluate(&last),
                    _ => return,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use inkan_profiles::clock::FixedClock;

    #[test]
    fn ntp_timestamps_round_trip_across_eras() {
        for secs in [1_795_395_723u64, 2_085_978_496 + 10] {
            let t = UnixTime::new(secs, 500_000_000);
            let back = from_ntp(to_ntp(t), secs);
            assert_eq!(back, i128::from(secs) * 1_000_000_000 + 500_000_000);
        }
    }

    fn reply_for(req: &[u8; 48], server_time: UnixTime, li: u8, stratum: u8) -> [u8; 48] {
        let mut p = [0u8; 48];
        p[0] = (li << 6) | (4 << 3) | 4;
        p[1] = stratum;
        p[8..12].copy_from_slice(&(1u32 << 6).to_be_bytes()); // root dispersion ~1 ms
        p[24..32].copy_from_slice(&req[40..48]);
        let ts = to_ntp(server_time).to_be_bytes();
        p[32..40].copy_from_slice(&ts);
        p[40..48].copy_from_slice(&ts);
        p
    }

    #[test]
    fn offset_and_uncertainty() {
        // 2026-11-23T01:02:03Z
        let t1 = UnixTime::new(1_795_395_723, 0);
        let t4 = UnixTime::new(1_795_395_723, 10_000_000); // 10 ms round trip
        let req = request_packet(t1);
        let server = UnixTime::new(1_795_395_725, 5_000_000); // 2 s ahead
        let m = parse_reply(&reply_for(&req, server, 0, 1), t1, t4).unwrap();
        assert!((m.offset_ns - 2_000_000_000).abs() < 1000, "{m:?}");
        // 5 ms half delay + ~0.98 ms root dispersion.
        assert!((5_900_000..6_100_000).contains(&m.uncertainty_ns), "{m:?}");
    }

    #[test]
    fn replies_are_checked() {
        let t1 = UnixTime::new(1_795_395_723, 0);
        let req = request_packet(t1);
        let mut r = reply_for(&req, t1, 0, 1);
        r[24] ^= 1;
        assert!(matches!(
            parse_reply(&r, t1, t1),
            Err(SntpError::BadReply(_))
        ));
        let r = reply_for(&req, t1, 3, 1);
        assert_eq!(parse_reply(&r, t1, t1), Err(SntpError::Unsynchronised));
        let r = reply_for(&req, t1, 0, 0);
        assert_eq!(parse_reply(&r, t1, t1), Err(SntpError::Unsynchronised));
        assert!(parse_reply(&r[..40], t1, t1).is_err());
    }

    #[test]
    fn leap_window() {
        // 2016-12-31T23:59:59Z, one second before the last leap second took effect.
        let before = UnixTime::from_secs(1_483_228_799);
        let clock = Arc::new(FixedClock(before));
        let g = TimeGuard::new(
            clock,
            true,
            Duration::from_secs(1),
            LeapPolicy::RefuseInWindow,
            Duration::from_secs(2),
        );
        assert!(g.now_for_issuing().is_ok());
        assert_eq!(g.announce_leap(before), Some(1_483_228_800));
        assert_eq!(g.now_for_issuing(), Err(TimeRefusal::LeapWindow));
        g.clear_leap_if_past(UnixTime::from_secs(1_483_228_802));
        assert!(g.now_for_issuing().is_ok());
    }

    #[test]
    fn majority_and_freshness() {
        let start = Instant::now();
        let m = |off: i64| Measurement {
            offset_ns: off,
            uncertainty_ns: 1_000_000,
            leap: 0,
            stratum: 1,
        };
        let last = vec![
            Some(Last { at: start, m: m(0) }),
            Some(Last {
                at: start,
                m: m(2_000_000_000),
            }),
            None,
        ];
        let good = good_set(
            &last,
            start,
            start,
            Duration::from_secs(1),
            Duration::from_millis(500),
        );
        assert_eq!(good.len(), 1);
        let good = good_set(
            &last,
            start + Duration::from_secs(2),
            start,
            Duration::from_secs(1),
            Duration::from_millis(500),
        );
        assert!(good.is_empty());
    }
}
