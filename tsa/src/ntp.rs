//! Time discipline: an SNTP client (RFC 4330 / RFC 5905 on-wire protocol) that checks the host
//! clock against several servers, and the [`TimeGuard`] every token asks for its genTime.
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
//! A measurement is *good* while it is younger than the freshness window and still puts the
//! host clock within the declared accuracy *now*: `|offset - step| + uncertainty <= accuracy`,
//! where `step` is how far the wall clock has moved against the monotonic clock since the
//! measurement was taken (both clocks are slewed alike by the kernel's frequency and offset
//! corrections, so they part only when the wall clock is stepped: `settimeofday`, chrony's
//! `makestep`, an operator's `date -s`, a leap second applied as a step). Tokens are issued only
//! while a strict majority of the configured servers is good (so one wrong or hijacked server
//! can neither stop nor mislead the TSA when there are three).
//!
//! # Every token checks the clock (EN 319 421 §7.7.2)
//!
//! The poller publishes, for each good measurement, the interval of wall-against-monotonic
//! steps it tolerates (its "accuracy budget left") and when it goes stale. [`TimeGuard::now_for_issuing`]
//! is called by the signing thread right before a token is signed (so the queue wait does not
//! count against the accuracy): it reads the wall and the monotonic clock, computes the step
//! since the newest measurement and counts the measurements whose interval still holds it. Too
//! few: the token is refused with timeNotAvailable, `/readyz` answers 503, the poller records a
//! `clock_step` / `clock_lost` event and measures again at once; measurements taken before the
//! step no longer count, so issuing resumes only on a fresh majority. A step that stays within
//! the budget (a few milliseconds of correction) is recorded as an event and counted in
//! `/metrics`, and issuing goes on.
//!
//! # Leap seconds
//!
//! The leap indicator (RFC 5905 §7.3) warns of a leap second in the last minute of the UTC day
//! at the end of June or December; when a majority of good servers announces one, the leap is
//! placed at the next end of June 30 or December 31 (00:00:00 UTC of July 1 or January 1).
//! With [`LeapPolicy::RefuseInWindow`] nothing is issued from `leap_window` before that instant
//! to `leap_window` after it; with [`LeapPolicy::Ignore`] issuance continues through it. The
//! example configuration states the same rule.
//!
//! # SNTP client hardening
//!
//! * Each request carries a random transmit timestamp (RFC 5905 §8, as recommended against
//!   off-path spoofing: the client's own T1 is kept locally), and a reply counts only when its
//!   origin timestamp echoes it; other datagrams are ignored until the timeout.
//! * Kiss-o'-death replies (stratum 0, RFC 5905 §7.4) that pass that check are honoured:
//!   `RATE` doubles that server's poll interval (up to 2^17 s, RFC 5905 `MAXPOLL`); `DENY` and
//!   `RSTR` drop the server for the rest of the run (it still counts as configured, so the
//!   majority needed does not shrink), with an error in the log and an event.
//! * A measurement during which the wall clock moved against the monotonic clock is discarded.
//!
//! # Without servers
//!
//! The host clock is trusted as it is; a warning is logged at start-up and `/metrics` shows
//! `inkan_tsa_clock_source{source="host"} 1`. Steps are still watched: every step of more
//! than 1 ms is an event (`clock_step`) and counted in `/metrics`. Once the steps since start
//! add up to more than the declared accuracy, issuing stops (timeNotAvailable, `/readyz` 503)
//! until the TSA is restarted: without an independent reference the TSA cannot tell whether
//! the clock was wrong before the step or is wrong after it, and at least one of the two
//! breaks the accuracy every token declares; so an operator must check the clock (or
//! configure SNTP servers) and restart, which is recorded. The one exception is a step of one
//! second at the end of June 30 or December 31 UTC, a leap second applied by the kernel: an
//! event, and issuing goes on.
//!
//! # The signing identity
//!
//! The guard also holds the instants at which the TSA certificate's validity and the key's
//! CRYPTREC period end ([`IdentityWindow`], computed once at start-up): a genTime whose
//! accuracy interval reaches past either (or before notBefore) is refused with systemFailure,
//! and `/readyz` answers 503; the poller thread records the warning 30 days ahead and the end
//! as events. A key and certificate rollover (SIGHUP, see [`crate::app::Reloader`]) replaces
//! the window with [`TimeGuard::set_identity`], and the warning and end are watched afresh.

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use inkan_profiles::clock::Clock;
use inkan_profiles::time::UnixTime;

use crate::config::LeapPolicy;
use crate::timefmt;

/// Seconds from 1900-01-01 (NTP era 0) to 1970-01-01.
const NTP_UNIX_DELTA: u64 = 2_208_988_800;

/// A wall-against-monotonic divergence smaller than this between two watches is read noise,
/// not a step.
const STEP_NOISE_NS: i128 = 1_000_000;

/// Largest poll interval a `RATE` kiss can push a server to (RFC 5905 `MAXPOLL`, 2^17 s).
const MAX_BACKOFF: Duration = Duration::from_secs(1 << 17);

/// How often the poller thread re-evaluates between polls (staleness, steps, lifetime).
const TICK: Duration = Duration::from_millis(50);

/// 30 days, the warning lead for the end of the signing identity.
pub const WARN_AHEAD: Duration = Duration::from_secs(30 * 86_400);

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
    /// The server says it is not synchronised (leap indicator 3, or stratum 0 without a
    /// kiss code we act on).
    Unsynchronised,
    /// A kiss-o'-death (stratum 0) with this four-letter code (RFC 5905 §7.4).
    Kiss([u8; 4]),
    /// The host's wall clock moved against the monotonic clock during the exchange.
    Stepped,
    /// The host clock (or the random source) could not be read.
    NoClock,
}

impl std::fmt::Display for SntpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "network: {e}"),
            Self::BadReply(why) => write!(f, "bad reply: {why}"),
            Self::Unsynchronised => f.write_str("server not synchronised"),
            Self::Kiss(code) => write!(f, "kiss-o'-death {}", String::from_utf8_lossy(code)),
            Self::Stepped => f.write_str("host clock stepped during the exchange"),
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

#[cfg(test)]
fn from_ns(v: i128) -> UnixTime {
    let v = v.max(0);
    UnixTime::new(
        u64::try_from(v / 1_000_000_000).unwrap_or(u64::MAX),
        (v % 1_000_000_000) as u32,
    )
}

fn dur_ns(d: Duration) -> i128 {
    i128::try_from(d.as_nanos()).unwrap_or(i128::MAX)
}

/// Signed nanoseconds from `a` to `b` on the monotonic clock.
fn mono_diff(a: Instant, b: Instant) -> i128 {
    if b >= a {
        dur_ns(b - a)
    } else {
        -dur_ns(a - b)
    }
}

/// 64 random bits from the kernel (`/dev/urandom`); the SNTP transmit timestamp.
pub fn random_u64() -> Option<u64> {
    use std::io::Read as _;
    let mut b = [0u8; 8];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .ok()?;
    Some(u64::from_be_bytes(b))
}

/// Builds a client request whose transmit timestamp is `xmt`: a random nonce (RFC 5905 §8),
/// not the client's clock, which stays local as T1.
pub fn request_packet(xmt: u64) -> [u8; 48] {
    let mut p = [0u8; 48];
    p[0] = 0x23; // LI 0, version 4, mode 3 (client)
    p[40..48].copy_from_slice(&xmt.to_be_bytes());
    p
}

/// Checks a reply to the request whose transmit timestamp was `xmt`, sent at host time `t1`
/// and answered at `t4`; returns the measurement. The origin check comes first, so a forged
/// kiss-o'-death is ignored like any other stray datagram.
pub fn parse_reply(
    reply: &[u8],
    xmt: u64,
    t1: UnixTime,
    t4: UnixTime,
) -> Result<Measurement, SntpError> {
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
    if stamp(24) != xmt {
        return Err(SntpError::BadReply(
            "origin timestamp does not match our request",
        ));
    }
    if stratum == 0 {
        let code = [reply[12], reply[13], reply[14], reply[15]];
        return match &code {
            b"RATE" | b"DENY" | b"RSTR" => Err(SntpError::Kiss(code)),
            _ => Err(SntpError::Unsynchronised),
        };
    }
    if li == 3 || stratum > 15 {
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

/// A measurement with the host's wall and monotonic readings when its reply arrived.
#[derive(Clone, Copy, Debug)]
pub struct Taken {
    /// The measurement.
    pub m: Measurement,
    /// Host wall time at T4, ns since the epoch.
    pub wall_ns: i128,
    /// Monotonic time at T4.
    pub mono: Instant,
}

/// Sends one SNTP query to `server` and waits up to `timeout` for the reply.
pub fn query(server: SocketAddr, clock: &dyn Clock, timeout: Duration) -> Result<Taken, SntpError> {
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
    let xmt = random_u64().ok_or(SntpError::NoClock)?;
    let m1 = Instant::now();
    let t1 = clock.now().ok_or(SntpError::NoClock)?;
    sock.send(&request_packet(xmt)).map_err(io)?;
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 512];
    loop {
        let n = sock.recv(&mut buf).map_err(io)?;
        let t4 = clock.now().ok_or(SntpError::NoClock)?;
        let m4 = Instant::now();
        match parse_reply(&buf[..n], xmt, t1, t4) {
            // A stray or forged datagram: keep waiting for the real reply until the deadline.
            Err(SntpError::BadReply(_)) if Instant::now() < deadline => continue,
            Ok(m) => {
                // The wall clock must have advanced as the monotonic one did (within the two
                // readings' own spacing), or T1 and T4 are on different clocks.
                let wall = ns(t4) - ns(t1);
                let mono = mono_diff(m1, m4);
                if (wall - mono).abs() > STEP_NOISE_NS {
                    return Err(SntpError::Stepped);
                }
                return Ok(Taken {
                    m,
                    wall_ns: ns(t4),
                    mono: m4,
                });
            }
            Err(e) => return Err(e),
        }
    }
}

/// When the signing identity allows tokens: the TSA certificate's validity and the end of the
/// key's CRYPTREC strength period for new signatures, computed once at start-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityWindow {
    /// The certificate's notBefore.
    pub not_before: UnixTime,
    /// The certificate's notAfter.
    pub cert_not_after: UnixTime,
    /// The first instant at which the key's strength no longer allows new signatures (e.g.
    /// 2031-01-01 for RSA-2048, 112-bit), with the rule's description; `None`: no end announced.
    pub key_end: Option<(UnixTime, String)>,
}

impl IdentityWindow {
    /// No limits (for tests of other parts).
    pub fn unlimited() -> Self {
        Self {
            not_before: UnixTime::from_secs(0),
            cert_not_after: UnixTime::from_secs(u64::from(u32::MAX) * 64),
            key_end: None,
        }
    }

    /// May a token be stamped `t_ns` with accuracy `acc_ns`? genTime must not precede the
    /// certificate's notBefore, and the latest instant the true time can be,
    /// `genTime + accuracy`, must not pass its notAfter (RFC 5280 §4.1.2.5) nor reach the end
    /// of the key's policy period, so that no verifier can place the token after them.
    pub fn check(&self, t_ns: i128, acc_ns: i128) -> Result<(), TimeRefusal> {
        if t_ns < ns(self.not_before) {
            return Err(TimeRefusal::CertificateNotYetValid);
        }
        if t_ns + acc_ns > ns(self.cert_not_after) {
            return Err(TimeRefusal::CertificateExpired);
        }
        if let Some((end, _)) = &self.key_end
            && t_ns + acc_ns >= ns(*end)
        {
            return Err(TimeRefusal::KeyPolicyEnded);
        }
        Ok(())
    }

    /// The instant issuing ends and what ends it ("certificate" or "key policy").
    pub fn end(&self) -> (UnixTime, &'static str) {
        match &self.key_end {
            Some((k, _)) if *k <= self.cert_not_after => (*k, "key policy"),
            _ => (self.cert_not_after, "certificate"),
        }
    }
}

/// A clock-discipline or identity event, recorded in the store and logged.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClockEvent {
    /// No servers: the host clock is trusted.
    TrustingHost,
    /// One server stopped giving measurements (its name does not resolve, it does not
    /// answer, its replies are unusable); reported once per change of state, not per poll.
    ServerFailing {
        /// The server as configured.
        server: String,
        /// What went wrong.
        error: String,
    },
    /// A server that was failing answers again.
    ServerAnswering {
        /// The server as configured.
        server: String,
    },
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
        /// Every server's last measurement, for the record (EN 319 421 OVR-7.12-04).
        measurements: String,
    },
    /// Issuing stopped.
    Lost {
        /// Why, for the auditor.
        reason: String,
    },
    /// A leap second was announced for `at` (Unix seconds of the instant after it).
    LeapAnnounced {
        /// The end of June 30 or December 31.
        at: u64,
    },
    /// The wall clock moved against the monotonic clock by `step_ns`.
    Step {
        /// The step, ns (positive: the wall clock jumped ahead).
        step_ns: i64,
        /// Whether it took the clock out of the declared accuracy (issuing stops).
        out_of_accuracy: bool,
        /// A one-second step at the end of June 30 or December 31: a leap second.
        leap: bool,
    },
    /// Without servers: the steps since start exceed the accuracy; issuing stopped until a
    /// restart.
    HostStopped {
        /// Sum of the steps since start, ns.
        total_ns: i64,
    },
    /// A server sent a `RATE` kiss: its poll interval is now `interval`.
    RateLimited {
        /// The server as configured.
        server: String,
        /// The new poll interval.
        interval: Duration,
    },
    /// A server sent `DENY` or `RSTR`: it is no longer polled.
    ServerDropped {
        /// The server as configured.
        server: String,
        /// The kiss code.
        code: String,
    },
    /// The signing identity ends within 30 days.
    IdentityExpiring {
        /// "certificate" or "key policy".
        what: &'static str,
        /// When.
        at: UnixTime,
    },
    /// The signing identity has ended: nothing is issued.
    IdentityEnded {
        /// "certificate" or "key policy".
        what: &'static str,
        /// When.
        at: UnixTime,
    },
}

/// Why the guard refuses to give a time for a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeRefusal {
    /// The clock is not (or no longer) confirmed within accuracy.
    Unsynchronised,
    /// The wall clock stepped out of the accuracy budget (re-measuring).
    Stepped,
    /// Without servers: the host clock stepped beyond the accuracy; stopped until a restart.
    HostStepped,
    /// Inside the leap-second window.
    LeapWindow,
    /// The host clock cannot be read.
    NoClock,
    /// Before the TSA certificate's notBefore.
    CertificateNotYetValid,
    /// After the TSA certificate's notAfter.
    CertificateExpired,
    /// After the end of the key's CRYPTREC strength period.
    KeyPolicyEnded,
}

impl TimeRefusal {
    /// Whether the refusal comes from the signing identity (systemFailure) rather than the
    /// clock (timeNotAvailable).
    pub fn is_identity(self) -> bool {
        matches!(
            self,
            Self::CertificateNotYetValid | Self::CertificateExpired | Self::KeyPolicyEnded
        )
    }

    /// A short text for `/readyz` and logs.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Unsynchronised => "time source not within accuracy",
            Self::Stepped => "host clock stepped out of the declared accuracy; measuring again",
            Self::HostStepped => {
                "host clock stepped beyond the declared accuracy with no SNTP server to check it; check the clock and restart"
            }
            Self::LeapWindow => "leap-second window",
            Self::NoClock => "host clock unreadable",
            Self::CertificateNotYetValid => "TSA certificate not valid yet",
            Self::CertificateExpired => "TSA certificate expired",
            Self::KeyPolicyEnded => "TSA key past its CRYPTREC period",
        }
    }
}

/// One good measurement as the hot path sees it: the steps (ns, wall against monotonic since
/// the reference) it tolerates, and when it goes stale.
#[derive(Clone, Copy, Debug)]
struct Window {
    lo: i128,
    hi: i128,
    expires: Instant,
}

/// What the poller publishes for the hot path.
#[derive(Debug)]
struct Discipline {
    /// Reference wall time, ns, and the monotonic time read with it.
    ref_wall: i128,
    ref_mono: Instant,
    /// With servers: the good measurements' windows, and how many must hold.
    windows: Vec<Window>,
    need: usize,
    /// Without servers: the sum of the steps seen since start.
    cum_ns: i128,
}

/// A reading of both clocks, `half_ns` the bound on their misalignment.
#[derive(Clone, Copy, Debug)]
struct Sample {
    time: UnixTime,
    wall: i128,
    mono: Instant,
    half_ns: i128,
}

/// The shared state every token consults.
#[derive(Debug)]
pub struct TimeGuard {
    clock: Arc<dyn Clock>,
    trust_host: bool,
    accuracy: Duration,
    leap_policy: LeapPolicy,
    leap_window: Duration,
    identity: RwLock<IdentityWindow>,
    /// Bumped by every [`TimeGuard::set_identity`], so the poller watches the new window.
    identity_gen: AtomicU64,
    disc: RwLock<Discipline>,
    offset_ns: AtomicI64,
    uncertainty_ns: AtomicU64,
    /// Whether `offset_ns` holds a fresh measurement (none yet, all stale, or no servers:
    /// unknown, and `/metrics` leaves the offset out rather than show 0).
    offset_known: AtomicBool,
    /// Monotonic ns since `epoch` (plus one) of the newest measurement that was good (within
    /// accuracy, counted towards the majority); 0: none yet.
    last_good_ns: AtomicU64,
    /// Unix seconds of an announced leap (0: none).
    leap_at: AtomicU64,
    /// 0 initial, 1 issuing, 2 stopped (servers mode).
    state: AtomicU8,
    /// Set by the hot path when the clock stepped out of budget: the poller measures at once.
    remeasure: AtomicBool,
    /// Without servers: stopped for good after steps beyond accuracy.
    host_stopped: AtomicBool,
    steps: AtomicU64,
    last_step_ns: AtomicI64,
    /// The wall-minus-monotonic divergence at a token the hot path refused for a step, for
    /// the poller to record the step even when the clock is back before its next tick
    /// ([`NO_DIV`]: none).
    hot_div: AtomicI64,
    /// The origin of the monotonic side of that divergence.
    epoch: Instant,
}

/// No divergence recorded.
const NO_DIV: i64 = i64::MIN;

impl TimeGuard {
    /// A guard over `clock`. With `trust_host` (no servers configured) it allows issuing as
    /// long as the host clock does not step; otherwise it refuses until the first good
    /// majority. The identity has no limits until [`TimeGuard::with_identity`].
    pub fn new(
        clock: Arc<dyn Clock>,
        trust_host: bool,
        accuracy: Duration,
        leap_policy: LeapPolicy,
        leap_window: Duration,
    ) -> Self {
        let wall = clock.now().map_or(0, ns);
        Self {
            clock,
            trust_host,
            accuracy,
            leap_policy,
            leap_window,
            identity: RwLock::new(IdentityWindow::unlimited()),
            identity_gen: AtomicU64::new(0),
            disc: RwLock::new(Discipline {
                ref_wall: wall,
                ref_mono: Instant::now(),
                windows: Vec::new(),
                need: usize::MAX,
                cum_ns: 0,
            }),
            offset_ns: AtomicI64::new(0),
            uncertainty_ns: AtomicU64::new(0),
            offset_known: AtomicBool::new(false),
            last_good_ns: AtomicU64::new(0),
            leap_at: AtomicU64::new(0),
            state: AtomicU8::new(0),
            remeasure: AtomicBool::new(false),
            host_stopped: AtomicBool::new(false),
            steps: AtomicU64::new(0),
            last_step_ns: AtomicI64::new(0),
            hot_div: AtomicI64::new(NO_DIV),
            epoch: Instant::now(),
        }
    }

    /// The same guard, refusing tokens outside `identity`.
    pub fn with_identity(self, identity: IdentityWindow) -> Self {
        self.set_identity(identity);
        self
    }

    /// Replaces the signing identity's window (a key and certificate rollover); the poller
    /// watches the new window's warning and end afresh.
    pub fn set_identity(&self, identity: IdentityWindow) {
        *self.identity.write().unwrap_or_else(|p| p.into_inner()) = identity;
        self.identity_gen.fetch_add(1, Ordering::Release);
    }

    /// The signing identity's window.
    pub fn identity(&self) -> IdentityWindow {
        self.identity
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Whether the host clock is trusted without servers.
    pub fn trusts_host(&self) -> bool {
        self.trust_host
    }

    /// The declared accuracy.
    pub fn accuracy(&self) -> Duration {
        self.accuracy
    }

    fn acc_ns(&self) -> i128 {
        dur_ns(self.accuracy)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Discipline> {
        // A poisoned lock means a panic while publishing; the fields are plain values, still
        // usable (the next publication replaces them).
        self.disc.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Discipline> {
        self.disc.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Wall time minus monotonic time (ns, from a fixed origin): constant while the wall clock
    /// is only slewed, changed by exactly the step when it is stepped.
    fn div(&self, s: &Sample) -> i128 {
        s.wall - mono_diff(self.epoch, s.mono)
    }

    fn note_hot_step(&self, s: &Sample) {
        self.hot_div.store(
            i64::try_from(self.div(s)).unwrap_or(NO_DIV),
            Ordering::Relaxed,
        );
    }

    /// Reads the wall clock between two monotonic readings (retrying when the thread was
    /// preempted in between), so that the two clocks are compared at one instant.
    fn sample(&self) -> Option<Sample> {
        let mut last = None;
        for _ in 0..3 {
            let m0 = Instant::now();
            let time = self.clock.now()?;
            let m1 = Instant::now();
            let half = (m1 - m0) / 2;
            let s = Sample {
                time,
                wall: ns(time),
                mono: m0 + half,
                half_ns: dur_ns(half),
            };
            if s.half_ns < STEP_NOISE_NS / 4 {
                return Some(s);
            }
            last = Some(s);
        }
        last
    }

    /// The genTime for a token signed now, or why none can be given. Called by the signing
    /// thread right before it signs; checks, in this order, the clock (steps, majority,
    /// freshness), the leap window and the signing identity.
    pub fn now_for_issuing(&self) -> Result<UnixTime, TimeRefusal> {
        let s = self.sample().ok_or(TimeRefusal::NoClock)?;
        self.check_clock(&s)?;
        if self.leap_policy == LeapPolicy::RefuseInWindow {
            let at = self.leap_at.load(Ordering::Relaxed);
            if at != 0 {
                // [leap - window, leap + window), to the nanosecond.
                let w = dur_ns(self.leap_window.max(Duration::from_secs(1)));
                let at = i128::from(at) * 1_000_000_000;
                if s.wall >= at - w && s.wall < at + w {
                    return Err(TimeRefusal::LeapWindow);
                }
            }
        }
        self.identity
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .check(s.wall, self.acc_ns())?;
        Ok(s.time)
    }

    fn check_clock(&self, s: &Sample) -> Result<(), TimeRefusal> {
        let d = self.read();
        let step = (s.wall - d.ref_wall) - mono_diff(d.ref_mono, s.mono);
        if self.trust_host {
            if self.host_stopped.load(Ordering::Acquire) {
                return Err(TimeRefusal::HostStepped);
            }
            let total = d.cum_ns + if step.abs() > STEP_NOISE_NS { step } else { 0 };
            if total.abs() > self.acc_ns() {
                // Stopped at once (a leap second excepted, which the poller sorts out);
                // the poller records it.
                if !is_leap_step(step, s.wall) {
                    self.host_stopped.store(true, Ordering::Release);
                }
                self.note_hot_step(s);
                return Err(TimeRefusal::HostStepped);
            }
            return Ok(());
        }
        let (mut live, mut ok) = (0usize, 0usize);
        for w in &d.windows {
            if w.expires > s.mono {
                live += 1;
                if w.lo + s.half_ns <= step && step <= w.hi - s.half_ns {
                    ok += 1;
                }
            }
        }
        if ok >= d.need {
            Ok(())
        } else if live >= d.need {
            self.remeasure.store(true, Ordering::Relaxed);
            self.note_hot_step(s);
            Err(TimeRefusal::Stepped)
        } else {
            Err(TimeRefusal::Unsynchronised)
        }
    }

    /// Whether a token could be issued now (for `/readyz`).
    pub fn ready(&self) -> bool {
        self.now_for_issuing().is_ok()
    }

    /// Why no token could be issued now (`Ok` when one could).
    pub fn readiness(&self) -> Result<(), TimeRefusal> {
        self.now_for_issuing().map(|_| ())
    }

    /// Last median offset (ns) and uncertainty (ns); zeros when trusting the host.
    pub fn offset(&self) -> (i64, u64) {
        (
            self.offset_ns.load(Ordering::Relaxed),
            self.uncertainty_ns.load(Ordering::Relaxed),
        )
    }

    /// The offset and uncertainty (ns) of a fresh measurement, `None` when unknown (no
    /// servers, none answered yet, or every measurement is stale).
    pub fn offset_if_known(&self) -> Option<(i64, u64)> {
        self.offset_known
            .load(Ordering::Relaxed)
            .then(|| self.offset())
    }

    /// Whether the clock counts as synchronised now: with servers, a fresh majority within
    /// accuracy; without, the host clock is trusted and has not stepped beyond the accuracy.
    pub fn synchronised(&self) -> bool {
        if self.trust_host {
            !self.host_stopped.load(Ordering::Acquire)
        } else {
            self.state.load(Ordering::Relaxed) == 1
        }
    }

    /// How long ago the newest good measurement (one within accuracy) was taken; `None`
    /// when there has been none (or no servers are configured).
    pub fn last_good_age(&self) -> Option<Duration> {
        match self.last_good_ns.load(Ordering::Relaxed) {
            0 => None,
            n => Some(
                self.epoch
                    .elapsed()
                    .saturating_sub(Duration::from_nanos(n - 1)),
            ),
        }
    }

    /// Steps of the wall clock seen since start, and the last one (ns).
    pub fn steps(&self) -> (u64, i64) {
        (
            self.steps.load(Ordering::Relaxed),
            self.last_step_ns.load(Ordering::Relaxed),
        )
    }

    /// Records a leap announcement seen at `now`; returns the leap instant if it is new. The
    /// leap falls at the end of June 30 or December 31 (RFC 5905 §7.3): the next of the two.
    fn announce_leap(&self, now: UnixTime) -> Option<u64> {
        // Servers still announcing during the window after the leap mean this leap, not the
        // next one.
        let w = self.leap_window.as_secs().max(1);
        let at = next_leap_instant(UnixTime::from_secs(now.secs().saturating_sub(w + 1)))?;
        let prev = self.leap_at.swap(at, Ordering::Relaxed);
        (prev != at).then_some(at)
    }

    /// The majority no longer announces a leap: forget it, unless its window is under way
    /// (servers may clear the indicator a moment before the leap).
    fn clear_leap_unless_in_window(&self, now: UnixTime) {
        let at = self.leap_at.load(Ordering::Relaxed);
        let w = self.leap_window.as_secs().max(1);
        if at != 0 && (now.secs() >= at + w || now.secs() + w <= at) {
            self.leap_at.store(0, Ordering::Relaxed);
        }
    }
}

/// The next end of June 30 or December 31 UTC at or after `now` (Unix seconds of the 00:00:00
/// that follows), where a leap second announced by the leap indicator falls.
pub fn next_leap_instant(now: UnixTime) -> Option<u64> {
    let days = i64::try_from(now.secs() / 86_400).ok()?;
    let (y, m, _) = timefmt::civil_from_days(days);
    let (ny, nm) = if m <= 6 { (y, 7) } else { (y + 1, 1) };
    u64::try_from(timefmt::days_from_civil(ny, nm, 1) * 86_400).ok()
}

/// Whether a step seen at wall time `wall_ns` is a leap second: one second, within 2 s of the
/// end of June 30 or December 31.
fn is_leap_step(step_ns: i128, wall_ns: i128) -> bool {
    if ((step_ns.abs()) - 1_000_000_000).abs() > 50_000_000 {
        return false;
    }
    let secs = u64::try_from(wall_ns.div_euclid(1_000_000_000)).unwrap_or(0);
    let Some(next) = next_leap_instant(UnixTime::from_secs(secs.saturating_sub(3))) else {
        return false;
    };
    secs.abs_diff(next) <= 2
}

/// One configured server, as the poller tracks it.
#[derive(Clone, Debug)]
struct ServerState {
    name: String,
    last: Option<Taken>,
    interval: Duration,
    next_due: Option<Instant>,
    dropped: bool,
    /// The kind of failure last reported for this server (`None`: answering, or not polled
    /// yet), so that a failure is reported once when it starts or changes, not every poll.
    failing: Option<&'static str>,
}

/// The kind of an SNTP failure, for [`ServerState::failing`].
fn failure_kind(e: &SntpError) -> &'static str {
    match e {
        SntpError::Io(m) if m.starts_with("cannot resolve") => "resolve",
        SntpError::Io(_) => "network",
        SntpError::BadReply(_) => "bad reply",
        SntpError::Unsynchronised => "unsynchronised",
        SntpError::Kiss(_) => "kiss",
        SntpError::Stepped | SntpError::NoClock => "host",
    }
}

/// The servers' verdict at one instant: the reference (wall ns, monotonic) of the newest
/// measurement, the step since it, and each candidate with its window and whether it holds.
type Verdict = ((i128, Instant), i128, Vec<(Taken, Window, bool)>);

/// Evaluates the servers' measurements at sample `s`: those taken after `since` and younger
/// than `freshness`. Returns the newest one's (wall, mono) as the reference, the step since
/// it, and for each candidate its window and whether it holds the step now.
fn windows_at(
    taken: &[Taken],
    s_wall: i128,
    s_mono: Instant,
    since: Option<Instant>,
    freshness: Duration,
    accuracy: Duration,
) -> Option<Verdict> {
    let acc = dur_ns(accuracy);
    let cands: Vec<&Taken> = taken
        .iter()
        .filter(|t| since.is_none_or(|x| t.mono > x))
        .filter(|t| s_mono.saturating_duration_since(t.mono) < freshness)
        .collect();
    let newest = cands.iter().max_by_key(|t| t.mono)?;
    let (rw, rm) = (newest.wall_ns, newest.mono);
    let step_now = (s_wall - rw) - mono_diff(rm, s_mono);
    let out = cands
        .iter()
        .filter_map(|t| {
            let budget = acc - i128::from(t.m.uncertainty_ns);
            if budget < 0 {
                return None;
            }
            // Steps between this measurement and the reference.
            let s_i = (rw - t.wall_ns) - mono_diff(t.mono, rm);
            let centre = i128::from(t.m.offset_ns) - s_i;
            let w = Window {
                lo: centre - budget,
                hi: centre + budget,
                expires: t.mono + freshness,
            };
            Some((**t, w, w.lo <= step_now && step_now <= w.hi))
        })
        .collect();
    Some(((rw, rm), step_now, out))
}

/// Each server's last measurement as text: offset, uncertainty, age, and whether it counted
/// (the measurements that decided a synchronisation or a loss, for the auditor).
fn summary(st: &[ServerState], good: &[(Taken, Window)], now: Instant) -> String {
    let parts: Vec<String> = st
        .iter()
        .map(|x| match (&x.last, x.dropped) {
            (_, true) => format!("{}: dropped (kiss-o'-death)", x.name),
            (None, false) => format!("{}: no reply yet", x.name),
            (Some(t), false) => format!(
                "{}: offset {:+.6} s ± {:.6} s, {} ms old, {}",
                x.name,
                t.m.offset_ns as f64 / 1e9,
                t.m.uncertainty_ns as f64 / 1e9,
                now.saturating_duration_since(t.mono).as_millis(),
                if good.iter().any(|g| g.0.mono == t.mono) {
                    "counted"
                } else {
                    "not counted"
                }
            ),
        })
        .collect();
    format!("measurements: {}", parts.join("; "))
}

/// The poller thread's memory between ticks.
#[derive(Debug)]
struct Watch {
    /// The divergence (see [`TimeGuard::div`]) at the previous tick.
    prev: Option<i128>,
    /// With servers: measurements at or before this instant no longer count (a step
    /// invalidated them).
    since: Option<Instant>,
    /// With servers: when the published majority goes stale unless renewed (the hot path
    /// stops then, between ticks; the next tick records it even if a reply has come since).
    lapse: Option<Instant>,
    warned: bool,
    ended: bool,
    /// The identity generation `warned` and `ended` refer to.
    identity_gen: u64,
    /// Without servers: the stop has been recorded.
    host_reported: bool,
}

/// Drives the guard: SNTP polls (when servers are configured), and on every tick the step,
/// staleness and identity checks. Runs on its own thread until `stop` fires.
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

/// The address of a configured server name (`HOST`, `HOST:PORT`, an IPv6 address with or
/// without brackets; port 123 unless given); `None` when the name does not resolve.
pub fn resolve(server: &str) -> Option<SocketAddr> {
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

fn secs_f(v: i128) -> f64 {
    v as f64 / 1e9
}

impl Poller {
    /// A poller for `servers` (none: only the host-clock watch) feeding `guard`.
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

    /// Polls the servers that are due (all of them when `now_all`, except those backing off
    /// after a `RATE` kiss or dropped).
    fn poll_due(&self, st: &mut [ServerState], now_all: bool) {
        let clock = self.guard.clock.as_ref();
        let now = Instant::now();
        let due: Vec<usize> = st
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                let due = s.next_due.is_none_or(|d| d <= now);
                let may_hurry = now_all && s.interval <= self.poll;
                !s.dropped && (due || may_hurry)
            })
            .map(|(i, _)| i)
            .collect();
        if due.is_empty() {
            return;
        }
        // All at once, each on its own thread: a silent server costs one timeout per round,
        // not one per server, so the ticks (staleness, steps, identity) keep their pace.
        let results: Vec<(usize, Result<Taken, SntpError>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = due
                .iter()
                .map(|&i| {
                    let name = st[i].name.clone();
                    let timeout = self.timeout;
                    (
                        i,
                        scope.spawn(move || match resolve(&name) {
                            Some(addr) => query(addr, clock, timeout),
                            None => Err(SntpError::Io(format!("cannot resolve {name}"))),
                        }),
                    )
                })
                .collect();
            handles
                .into_iter()
                .map(|(i, h)| {
                    let r = h
                        .join()
                        .unwrap_or_else(|_| Err(SntpError::Io("query thread panicked".into())));
                    (i, r)
                })
                .collect()
        });
        for (i, r) in results {
            let s = &mut st[i];
            s.next_due = Some(now + s.interval);
            match r {
                Ok(t) => {
                    tracing::debug!(server = %s.name, offset_ns = t.m.offset_ns, uncertainty_ns = t.m.uncertainty_ns, "sntp");
                    s.last = Some(t);
                    if s.failing.take().is_some() {
                        (self.on_event)(ClockEvent::ServerAnswering {
                            server: s.name.clone(),
                        });
                    }
                }
                Err(SntpError::Kiss(code)) if &code == b"RATE" => {
                    s.interval = (s.interval * 2).min(MAX_BACKOFF);
                    s.next_due = Some(now + s.interval);
                    (self.on_event)(ClockEvent::RateLimited {
                        server: s.name.clone(),
                        interval: s.interval,
                    });
                }
                Err(SntpError::Kiss(code)) => {
                    s.dropped = true;
                    s.last = None;
                    (self.on_event)(ClockEvent::ServerDropped {
                        server: s.name.clone(),
                        code: String::from_utf8_lossy(&code).into_owned(),
                    });
                }
                Err(e) => {
                    tracing::debug!(server = %s.name, error = %e, "sntp query failed");
                    let kind = failure_kind(&e);
                    // The host's own clock trouble is not the server's fault.
                    if kind != "host" && s.failing != Some(kind) {
                        s.failing = Some(kind);
                        let error = match &e {
                            SntpError::Io(m) if m.starts_with("cannot resolve") => {
                                "the name does not resolve".to_owned()
                            }
                            SntpError::Io(m)
                                if m.contains("timed out")
                                    || m.contains("would block")
                                    || m.contains("Resource temporarily unavailable") =>
                            {
                                format!("no answer within {} ms", self.timeout.as_millis())
                            }
                            other => other.to_string(),
                        };
                        (self.on_event)(ClockEvent::ServerFailing {
                            server: s.name.clone(),
                            error,
                        });
                    }
                }
            }
        }
    }

    /// One tick: steps, the servers' verdict (published to the guard), leap, identity.
    fn evaluate(&self, st: &[ServerState], w: &mut Watch) {
        let g = &self.guard;
        let Some(s) = g.sample() else { return };
        // Steps since the previous tick: the change of the divergence, and when a token was
        // refused at a divergence that is gone again, the step there and the step back.
        let div = g.div(&s);
        let hot = g.hot_div.swap(NO_DIV, Ordering::Relaxed);
        let noise = STEP_NOISE_NS + s.half_ns;
        let mut steps = Vec::new();
        if let Some(p) = w.prev {
            let h = i128::from(hot);
            if hot != NO_DIV && (h - p).abs() > noise && (div - h).abs() > noise {
                steps.push(h - p);
                steps.push(div - h);
            } else if (div - p).abs() > noise {
                steps.push(div - p);
            }
        }
        for step in &steps {
            g.steps.fetch_add(1, Ordering::Relaxed);
            g.last_step_ns
                .store(i64::try_from(*step).unwrap_or(i64::MAX), Ordering::Relaxed);
        }
        if s.half_ns < STEP_NOISE_NS / 4 || w.prev.is_none() || !steps.is_empty() {
            w.prev = Some(div);
        }
        if g.trust_host {
            self.evaluate_host(&s, &steps, w);
        } else {
            self.evaluate_servers(st, &s, &steps, w);
        }
        self.watch_identity(&s, w);
    }

    fn evaluate_host(&self, s: &Sample, steps: &[i128], w: &mut Watch) {
        let g = &self.guard;
        let acc = g.acc_ns();
        let mut d = g.write();
        let mut events = Vec::new();
        for step in steps {
            let leap = is_leap_step(*step, s.wall);
            if !leap {
                d.cum_ns += step;
            }
            let out = d.cum_ns.abs() > acc;
            events.push((*step, leap, out, d.cum_ns));
        }
        d.ref_wall = s.wall;
        d.ref_mono = s.mono;
        d.need = 0;
        drop(d);
        for (step, leap, out, cum) in events {
            (self.on_event)(ClockEvent::Step {
                step_ns: i64::try_from(step).unwrap_or(i64::MAX),
                out_of_accuracy: out,
                leap,
            });
            if out && !w.host_reported {
                w.host_reported = true;
                g.host_stopped.store(true, Ordering::Release);
                (self.on_event)(ClockEvent::HostStopped {
                    total_ns: i64::try_from(cum).unwrap_or(i64::MAX),
                });
            }
        }
    }

    fn evaluate_servers(&self, st: &[ServerState], s: &Sample, steps: &[i128], w: &mut Watch) {
        let g = &self.guard;
        let n = self.servers.len();
        let need = n / 2 + 1;
        let taken: Vec<Taken> = st.iter().filter_map(|x| x.last).collect();
        let mut was = g.state.load(Ordering::Relaxed);
        if was == 1 && w.lapse.is_some_and(|l| s.mono >= l) {
            g.state.store(2, Ordering::Relaxed);
            was = 2;
            (self.on_event)(ClockEvent::Lost {
                reason: format!(
                    "the measurements of the majority went stale (no fresh reply within {} ms)",
                    self.freshness.as_millis()
                ),
            });
        }
        let mut verdict = windows_at(&taken, s.wall, s.mono, w.since, self.freshness, g.accuracy);
        let good_count = |v: &Option<Verdict>| {
            v.as_ref()
                .map_or(0, |(_, _, c)| c.iter().filter(|x| x.2).count())
        };
        let mut step_reason = None;
        // A step there and back between two ticks was out of the budget (a token was refused).
        let there_and_back = steps.len() > 1;
        for &step in steps {
            let out = there_and_back || good_count(&verdict) < need;
            (self.on_event)(ClockEvent::Step {
                step_ns: i64::try_from(step).unwrap_or(i64::MAX),
                out_of_accuracy: out,
                leap: is_leap_step(step, s.wall),
            });
            // Out of the budget, or while not issuing: the measurements taken before the step
            // no longer count; measure again at once and resume on a fresh majority.
            if out || was != 1 {
                w.since = Some(s.mono);
                g.remeasure.store(true, Ordering::Relaxed);
                verdict = None;
                step_reason = Some(format!(
                    "the wall clock stepped by {:+.6} s against the monotonic clock, beyond the accuracy budget left; measuring again",
                    secs_f(step)
                ));
            }
        }
        let good: Vec<(Taken, Window)> = verdict
            .as_ref()
            .map(|(_, _, c)| c.iter().filter(|x| x.2).map(|x| (x.0, x.1)).collect())
            .unwrap_or_default();
        if let Some(newest) = good.iter().map(|x| x.0.mono).max() {
            let n = u64::try_from(newest.saturating_duration_since(g.epoch).as_nanos())
                .unwrap_or(u64::MAX - 1);
            g.last_good_ns.fetch_max(n + 1, Ordering::Relaxed);
        }
        // Publish for the hot path.
        {
            let mut d = g.write();
            if let Some(((rw, rm), _, _)) = &verdict {
                d.ref_wall = *rw;
                d.ref_mono = *rm;
            }
            d.windows = good.iter().map(|x| x.1).collect();
            d.need = need;
        }
        w.lapse = if good.len() >= need {
            let mut exp: Vec<Instant> = good.iter().map(|x| x.1.expires).collect();
            exp.sort_unstable_by(|a, b| b.cmp(a));
            Some(exp[need - 1])
        } else {
            None
        };
        if good.len() >= need {
            let mut offs: Vec<i64> = good.iter().map(|(t, _)| t.m.offset_ns).collect();
            offs.sort_unstable();
            let median = offs[offs.len() / 2];
            let unc = good
                .iter()
                .map(|(t, _)| t.m.uncertainty_ns)
                .max()
                .unwrap_or(0);
            g.offset_ns.store(median, Ordering::Relaxed);
            g.uncertainty_ns.store(unc, Ordering::Relaxed);
            g.offset_known.store(true, Ordering::Relaxed);
            let leaps = good
                .iter()
                .filter(|(t, _)| matches!(t.m.leap, 1 | 2))
                .count();
            if leaps >= need {
                if let Some(at) = g.announce_leap(s.time) {
                    (self.on_event)(ClockEvent::LeapAnnounced { at });
                }
            } else {
                g.clear_leap_unless_in_window(s.time);
            }
            if was != 1 {
                g.state.store(1, Ordering::Relaxed);
                (self.on_event)(ClockEvent::Synchronised {
                    offset_ns: median,
                    uncertainty_ns: unc,
                    good: good.len(),
                    of: n,
                    measurements: summary(st, &good, s.mono),
                });
            }
        } else {
            // The newest measurement, while it is fresh; otherwise the offset is unknown.
            match taken
                .iter()
                .max_by_key(|t| t.mono)
                .filter(|t| s.mono.saturating_duration_since(t.mono) <= self.freshness)
            {
                Some(t) => {
                    g.offset_ns.store(t.m.offset_ns, Ordering::Relaxed);
                    g.uncertainty_ns
                        .store(t.m.uncertainty_ns, Ordering::Relaxed);
                    g.offset_known.store(true, Ordering::Relaxed);
                }
                None => g.offset_known.store(false, Ordering::Relaxed),
            }
            if was != 2 {
                g.state.store(2, Ordering::Relaxed);
                let reason = step_reason.unwrap_or_else(|| {
                    format!(
                        "{} of {} servers within accuracy {} ms (need {})",
                        good.len(),
                        n,
                        g.accuracy.as_millis(),
                        need
                    )
                });
                (self.on_event)(ClockEvent::Lost {
                    reason: format!("{reason}; {}", summary(st, &good, s.mono)),
                });
            }
        }
    }

    fn watch_identity(&self, s: &Sample, w: &mut Watch) {
        let g = &self.guard;
        let gen_now = g.identity_gen.load(Ordering::Acquire);
        if gen_now != w.identity_gen {
            // A new key and certificate: its own warning and end, when they come.
            (w.identity_gen, w.warned, w.ended) = (gen_now, false, false);
        }
        let id = g.identity();
        let (end, what) = id.end();
        if !w.warned && s.wall + dur_ns(WARN_AHEAD) >= ns(end) {
            w.warned = true;
            (self.on_event)(ClockEvent::IdentityExpiring { what, at: end });
        }
        if !w.ended
            && let Err(r) = id.check(s.wall, g.acc_ns())
            && r != TimeRefusal::CertificateNotYetValid
        {
            w.ended = true;
            let (at, what) = match r {
                TimeRefusal::KeyPolicyEnded => {
                    (id.key_end.as_ref().map_or(end, |k| k.0), "key policy")
                }
                _ => (id.cert_not_after, "certificate"),
            };
            (self.on_event)(ClockEvent::IdentityEnded { what, at });
        }
    }

    /// Runs until `stop` receives a message or is disconnected.
    pub fn run(self, stop: std::sync::mpsc::Receiver<()>) {
        let mut st: Vec<ServerState> = self
            .servers
            .iter()
            .map(|name| ServerState {
                name: name.clone(),
                last: None,
                interval: self.poll,
                next_due: None,
                dropped: false,
                failing: None,
            })
            .collect();
        let mut w = Watch {
            prev: None,
            since: None,
            lapse: None,
            warned: false,
            ended: false,
            identity_gen: 0,
            host_reported: false,
        };
        loop {
            if !st.is_empty() {
                let hurry = self.guard.remeasure.swap(false, Ordering::Relaxed);
                self.poll_due(&mut st, hurry);
            }
            self.evaluate(&st, &mut w);
            // Re-evaluate every tick so that staleness, steps and the identity's end are
            // noticed (and recorded) promptly even with a long poll interval.
            match stop.recv_timeout(TICK) {
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                _ => {
                    // A last look, so that what the tokens were refused for since the last
                    // tick is on record before the service stops.
                    self.evaluate(&st, &mut w);
                    return;
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

    const XMT: u64 = 0x0123_4567_89ab_cdef;

    #[test]
    fn offset_and_uncertainty() {
        // 2026-11-23T01:02:03Z
        let t1 = UnixTime::new(1_795_395_723, 0);
        let t4 = UnixTime::new(1_795_395_723, 10_000_000); // 10 ms round trip
        let req = request_packet(XMT);
        let server = UnixTime::new(1_795_395_725, 5_000_000); // 2 s ahead
        let m = parse_reply(&reply_for(&req, server, 0, 1), XMT, t1, t4).unwrap();
        assert!((m.offset_ns - 2_000_000_000).abs() < 1000, "{m:?}");
        // 5 ms half delay + ~0.98 ms root dispersion.
        assert!((5_900_000..6_100_000).contains(&m.uncertainty_ns), "{m:?}");
    }

    #[test]
    fn the_transmit_timestamp_is_random_and_echoed() {
        let a = random_u64().unwrap();
        let b = random_u64().unwrap();
        assert_ne!(a, b);
        let p = request_packet(a);
        assert_eq!(p[40..48], a.to_be_bytes());
        // A reply echoing our clock instead of the nonce (an off-path guess) is refused.
        let t1 = UnixTime::new(1_795_395_723, 0);
        let mut r = reply_for(&p, t1, 0, 1);
        r[24..32].copy_from_slice(&to_ntp(t1).to_be_bytes());
        assert!(matches!(
            parse_reply(&r, a, t1, t1),
            Err(SntpError::BadReply(_))
        ));
    }

    #[test]
    fn replies_are_checked() {
        let t1 = UnixTime::new(1_795_395_723, 0);
        let req = request_packet(XMT);
        let mut r = reply_for(&req, t1, 0, 1);
        r[24] ^= 1;
        assert!(matches!(
            parse_reply(&r, XMT, t1, t1),
            Err(SntpError::BadReply(_))
        ));
        let r = reply_for(&req, t1, 3, 1);
        assert_eq!(parse_reply(&r, XMT, t1, t1), Err(SntpError::Unsynchronised));
        let r = reply_for(&req, t1, 0, 0);
        assert_eq!(parse_reply(&r, XMT, t1, t1), Err(SntpError::Unsynchronised));
        assert!(parse_reply(&r[..40], XMT, t1, t1).is_err());
    }

    #[test]
    fn kiss_codes() {
        let t1 = UnixTime::new(1_795_395_723, 0);
        let req = request_packet(XMT);
        for code in [b"RATE", b"DENY", b"RSTR"] {
            let mut r = reply_for(&req, t1, 3, 0);
            r[12..16].copy_from_slice(code);
            assert_eq!(parse_reply(&r, XMT, t1, t1), Err(SntpError::Kiss(*code)));
            // A forged kiss (wrong origin) is only a stray datagram.
            r[31] ^= 1;
            assert!(matches!(
                parse_reply(&r, XMT, t1, t1),
                Err(SntpError::BadReply(_))
            ));
        }
    }

    #[test]
    fn leap_second_falls_at_the_end_of_june_or_december() {
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
        // Still announced just after midnight: the same leap.
        assert_eq!(g.announce_leap(UnixTime::from_secs(1_483_228_801)), None);
        // Inside the window the announcement stands even when the servers drop it.
        g.clear_leap_unless_in_window(UnixTime::from_secs(1_483_228_800));
        assert_eq!(g.now_for_issuing(), Err(TimeRefusal::LeapWindow));
        g.clear_leap_unless_in_window(UnixTime::from_secs(1_483_228_802));
        assert!(g.now_for_issuing().is_ok());
        // Withdrawn well before the leap: forgotten.
        assert_eq!(g.announce_leap(before), Some(1_483_228_800));
        g.clear_leap_unless_in_window(UnixTime::from_secs(1_483_228_700));
        assert!(g.now_for_issuing().is_ok());
        // Announced in March 2015: the end of June 30 2015 (the leap of 2015-06-30), not the
        // end of March.
        assert_eq!(
            next_leap_instant(UnixTime::from_secs(1_426_000_000)),
            Some(1_435_708_800)
        );
        // Announced in August: the end of December 31.
        assert_eq!(
            next_leap_instant(UnixTime::from_secs(1_471_000_000)),
            Some(1_483_228_800)
        );
        assert!(is_leap_step(-1_000_000_000, 1_483_228_800_500_000_000));
        assert!(!is_leap_step(-1_000_000_000, 1_483_000_000_000_000_000));
        assert!(!is_leap_step(-30_000_000_000, 1_483_228_800_500_000_000));
    }

    fn taken(off: i64, unc: u64, wall_ns: i128, mono: Instant) -> Taken {
        Taken {
            m: Measurement {
                offset_ns: off,
                uncertainty_ns: unc,
                leap: 0,
                stratum: 1,
            },
            wall_ns,
            mono,
        }
    }

    #[test]
    fn majority_freshness_and_steps() {
        let m0 = Instant::now();
        let w0: i128 = 1_795_395_723_000_000_000;
        let acc = Duration::from_millis(500);
        let fresh = Duration::from_secs(1);
        let set = [
            taken(0, 1_000_000, w0, m0),
            taken(2_000_000_000, 1_000_000, w0, m0),
        ];
        let count = |v: Option<Verdict>| v.map_or(0, |(_, _, c)| c.iter().filter(|x| x.2).count());
        // At the measurement: one good, one 2 s off.
        assert_eq!(count(windows_at(&set, w0, m0, None, fresh, acc)), 1);
        // Stale after the freshness window.
        let later = m0 + Duration::from_secs(2);
        assert_eq!(
            count(windows_at(
                &set,
                w0 + 2_000_000_000,
                later,
                None,
                fresh,
                acc
            )),
            0
        );
        // 100 ms later with the wall clock stepped +30 s: the good one no longer holds.
        let t = m0 + Duration::from_millis(100);
        assert_eq!(
            count(windows_at(&set, w0 + 100_000_000, t, None, fresh, acc)),
            1
        );
        assert_eq!(
            count(windows_at(&set, w0 + 30_100_000_000, t, None, fresh, acc)),
            0
        );
        // A +400 ms step is within the budget of a measurement at offset 0 (±499 ms), not of
        // one at -300 ms (the host was already 300 ms ahead: now 700 ms).
        let set2 = [
            taken(0, 1_000_000, w0, m0),
            taken(-300_000_000, 1_000_000, w0, m0),
        ];
        let v = windows_at(&set2, w0 + 500_000_000, t, None, fresh, acc).unwrap();
        assert_eq!(v.1, 400_000_000);
        assert_eq!(v.2.iter().map(|x| x.2).collect::<Vec<_>>(), [true, false]);
        // Measurements taken before an invalidating step do not count.
        assert_eq!(count(windows_at(&set, w0, t, Some(m0), fresh, acc)), 0);
    }

    /// A clock the test steps: real elapsed time plus a settable offset.
    #[derive(Debug)]
    struct Stepped {
        base: UnixTime,
        start: Instant,
        offset_ns: AtomicI64,
    }

    impl Clock for Stepped {
        fn now(&self) -> Option<UnixTime> {
            let v = ns(self.base)
                + dur_ns(self.start.elapsed())
                + i128::from(self.offset_ns.load(Ordering::SeqCst));
            Some(from_ns(v))
        }
    }

    #[test]
    fn without_servers_a_step_beyond_accuracy_stops_issuing() {
        let clock = Arc::new(Stepped {
            base: UnixTime::from_secs(1_795_395_723),
            start: Instant::now(),
            offset_ns: AtomicI64::new(0),
        });
        let g = Arc::new(TimeGuard::new(
            clock.clone(),
            true,
            Duration::from_millis(500),
            LeapPolicy::Ignore,
            Duration::from_secs(2),
        ));
        let events = Arc::new(std::sync::Mutex::new(Vec::new()));
        let ev = events.clone();
        let p = Poller::new(
            g.clone(),
            Vec::new(),
            Duration::from_secs(16),
            Duration::from_secs(48),
            Duration::from_secs(1),
            Box::new(move |e| ev.lock().unwrap().push(e)),
        );
        let mut w = Watch {
            prev: None,
            since: None,
            lapse: None,
            warned: false,
            ended: false,
            identity_gen: 0,
            host_reported: false,
        };
        p.evaluate(&[], &mut w);
        assert!(g.now_for_issuing().is_ok());
        // 100 ms: within accuracy; an event, issuing goes on.
        clock.offset_ns.store(100_000_000, Ordering::SeqCst);
        p.evaluate(&[], &mut w);
        assert!(g.now_for_issuing().is_ok());
        assert_eq!(g.steps().0, 1);
        // +30 s: refused at once by the hot path, before the poller looks.
        clock.offset_ns.store(30_100_000_000, Ordering::SeqCst);
        assert_eq!(g.now_for_issuing(), Err(TimeRefusal::HostStepped));
        p.evaluate(&[], &mut w);
        // Back again: still refused (which side was right is unknown) until a restart.
        clock.offset_ns.store(0, Ordering::SeqCst);
        p.evaluate(&[], &mut w);
        assert_eq!(g.now_for_issuing(), Err(TimeRefusal::HostStepped));
        let ev = events.lock().unwrap();
        assert!(matches!(
            ev[0],
            ClockEvent::Step {
                out_of_accuracy: false,
                ..
            }
        ));
        assert!(
            ev.iter()
                .any(|e| matches!(e, ClockEvent::HostStopped { total_ns }
                if (*total_ns - 30_100_000_000).abs() < 5_000_000)),
            "{ev:?}"
        );
    }

    #[test]
    fn identity_window() {
        let w = IdentityWindow {
            not_before: UnixTime::from_secs(1000),
            cert_not_after: UnixTime::from_secs(5000),
            key_end: Some((UnixTime::from_secs(4000), "RSA-2048".into())),
        };
        let s = |v: i128| v * 1_000_000_000;
        let acc = 500_000_000;
        assert!(w.check(s(2000), acc).is_ok());
        assert_eq!(
            w.check(s(1000) - 1, acc),
            Err(TimeRefusal::CertificateNotYetValid)
        );
        assert_eq!(w.check(s(1000), acc), Ok(()));
        assert_eq!(w.check(s(3999), acc), Ok(()));
        assert_eq!(
            w.check(s(3999) + 600_000_000, acc),
            Err(TimeRefusal::KeyPolicyEnded)
        );
        assert_eq!(w.end(), (UnixTime::from_secs(4000), "key policy"));
        let w = IdentityWindow { key_end: None, ..w };
        assert_eq!(w.check(s(5000), acc), Err(TimeRefusal::CertificateExpired));
        assert_eq!(w.end(), (UnixTime::from_secs(5000), "certificate"));
    }
}
