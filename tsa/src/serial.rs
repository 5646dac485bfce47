//! Serial numbers that are unique for this TSA forever, without operator care.
//!
//! # Scheme
//!
//! ```text
//!  bits 127..64                 63..32          31..0 (carrying upwards)
//!  prefix                     | epoch          | counter
//!  (64 random bits per start)   (per start-up)   (in memory)
//! ```
//!
//! At every start-up, in one durable store transaction committed **before the first token is
//! issued** ([`crate::records::Store::reserve_serials`]):
//!
//! * `prefix` is 64 bits drawn from the operating system's CSPRNG (`getrandom(2)` through
//!   `ring`), redrawn while it is one this store has already used: every prefix a store ever
//!   took is kept in it;
//! * `epoch = max(previous_epoch + 1, unix_seconds_now)`, as in 0.1.
//!
//! The serial of the n-th token of a start-up is `prefix · 2^64 + epoch · 2^32 + n`, n from 1
//! (n past 2^32 carries into the epoch bits; see below why that is harmless).
//!
//! # Why no serial can repeat (RFC 3161 §2.4.2: unique for each token of one TSA)
//!
//! 1. *Within one start-up*: the counter is an atomic increment; the serials of one start-up
//!    differ.
//! 2. *Across start-ups of one store* (restarts, crashes, `kill -9`): the prefixes differ **by
//!    construction**, since the store refuses a prefix it has used before and the new prefix
//!    is durable before any token carries it. The operator needs no setting for this.
//! 3. *Across stores that know nothing of each other*: two instances with default settings and
//!    separate data directories, a store restored from a backup (it has forgotten the prefixes
//!    taken after the backup), a data directory copied to a second machine. Here nothing can be
//!    coordinated, so uniqueness rests on the 64 random bits: two start-ups collide only if
//!    their prefixes are equal, probability 2^-64 per pair, **and** their counter ranges
//!    overlap, which needs their epochs (start-up seconds) to be within
//!    tokens-issued / 2^32 seconds of each other. Over k start-ups in all, the chance that any
//!    two prefixes are equal is below k² / 2^65: 3·10^-10 for ten instances restarted every day
//!    for thirty years (k ≈ 110,000), before the epoch condition makes it smaller still.
//!    The `instance_id` of 0.1 (which the operator had to set by hand, and which defaulted to
//!    0 for everyone) is no longer part of the serial; it is kept as a label in the start-up
//!    event.
//!
//! A serial is at most 128 bits, inside the 160 bits RFC 3161 §2.4.2 asks clients to handle,
//! never zero (n starts at 1), and always encoded as a positive, minimal DER INTEGER
//! ([`to_der_content`]: at most 17 content octets).
//!
//! Why not a counter alone: case 3 cannot be solved by any counter kept in a store that can be
//! copied. Why not random alone: case 2 would then be probabilistic too; with the store
//! remembering its prefixes an auditor can be shown that one store's serials *cannot* repeat.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A serial number (at most 128 bits, see the module docs).
pub type Serial = u128;

/// Hands out serials for one start-up.
#[derive(Debug)]
pub struct SerialSource {
    /// The 64-bit prefix; shared with a shared store's lease, which replaces it when the
    /// instance takes another instance number ([`SerialSource::shared`]).
    prefix: Arc<AtomicU64>,
    base: u64,
    counter: AtomicU64,
}

impl SerialSource {
    /// A source for a freshly drawn `prefix` and a freshly reserved `epoch` (both durable in
    /// the store before the first serial is used).
    pub fn new(prefix: u64, epoch: u32) -> Self {
        Self::shared(Arc::new(AtomicU64::new(prefix)), epoch)
    }

    /// A source whose prefix the shared store may replace (by a fresh prefix, also durable
    /// before use) when the instance takes another instance number.
    pub fn shared(prefix: Arc<AtomicU64>, epoch: u32) -> Self {
        Self {
            prefix,
            base: u64::from(epoch) << 32,
            counter: AtomicU64::new(0),
        }
    }

    /// The next serial. The counter starts at 1 so the serial is never zero.
    pub fn next(&self) -> Serial {
        let n = self.counter.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        // epoch · 2^32 + n stays below 2^64 for any n reachable in one start-up (2^63 - 2^32
        // tokens); the carry into the epoch bits only moves this start-up's range up, within
        // its own prefix.
        (u128::from(self.prefix.load(Ordering::Relaxed)) << 64)
            | u128::from(self.base.wrapping_add(n))
    }

    /// The 64-bit prefix of this start-up.
    pub fn prefix(&self) -> u64 {
        self.prefix.load(Ordering::Relaxed)
    }

    /// How many serials were handed out.
    pub fn issued(&self) -> u64 {
        self.counter.load(Ordering::Relaxed)
    }
}

/// 64 bits from the operating system's CSPRNG.
pub fn random_prefix() -> Result<u64, String> {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 8];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| "the operating system's random number generator failed".to_owned())?;
    Ok(u64::from_be_bytes(b))
}

/// The epoch to take, given the previous one (if any) and the current Unix seconds.
pub fn next_epoch(previous: Option<u32>, now_secs: u64) -> u32 {
    let by_clock = u32::try_from(now_secs).unwrap_or(u32::MAX);
    match previous {
        Some(p) => p.saturating_add(1).max(by_clock),
        None => by_clock.max(1),
    }
}

/// The DER content octets of the INTEGER `serial` (minimal, positive).
pub fn to_der_content(serial: Serial) -> Vec<u8> {
    let bytes = serial.to_be_bytes();
    let first = bytes
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(bytes.len() - 1);
    let mut out = Vec::with_capacity(17);
    if bytes[first] & 0x80 != 0 {
        out.push(0);
    }
    out.extend_from_slice(&bytes[first..]);
    out
}

/// Lower-case hex without leading zeros (at least one digit).
pub fn to_hex(serial: Serial) -> String {
    format!("{serial:x}")
}

/// Parses hex as printed by [`to_hex`] or by `openssl ts -reply -text` (`0x` prefix, leading
/// zeros, either case).
pub fn from_hex(s: &str) -> Option<Serial> {
    let s = s.trim();
    let s = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    let s = s.trim_start_matches('0');
    if s.is_empty() {
        return Some(0);
    }
    if s.len() > 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(s, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_and_uniqueness() {
        let s = SerialSource::new(0xffee_ddcc_bbaa_9988, 0x0304_0506);
        let a = s.next();
        let b = s.next();
        assert_ne!(a, b);
        assert_eq!((a >> 64) as u64, 0xffee_ddcc_bbaa_9988);
        assert_eq!((a >> 32) as u32, 0x0304_0506);
        assert_eq!(a as u32, 1);
        assert_eq!(s.prefix(), 0xffee_ddcc_bbaa_9988);
        // The largest serial still encodes in 17 content octets (positive), within 160 bits.
        let max = SerialSource::new(u64::MAX, u32::MAX).next();
        assert_eq!(to_der_content(max).len(), 17);
        assert_eq!(to_der_content(max)[0], 0);
    }

    #[test]
    fn prefixes_are_drawn_fresh() {
        let a = random_prefix().unwrap();
        let b = random_prefix().unwrap();
        assert_ne!(a, b);
        assert_ne!(
            SerialSource::new(a, 7).next(),
            SerialSource::new(b, 7).next()
        );
    }

    #[test]
    fn epochs_only_grow() {
        assert_eq!(next_epoch(None, 1_700_000_000), 1_700_000_000);
        assert_eq!(
            next_epoch(Some(1_700_000_000), 1_700_000_000),
            1_700_000_001
        );
        // A restored backup with an old epoch still moves past it by the clock.
        assert_eq!(next_epoch(Some(5), 1_700_000_000), 1_700_000_000);
        assert_eq!(next_epoch(None, 0), 1);
    }

    #[test]
    fn der_integer_is_minimal_and_positive() {
        assert_eq!(to_der_content(1), vec![1]);
        assert_eq!(to_der_content(0x80), vec![0, 0x80]);
        assert_eq!(to_der_content(0x0100), vec![1, 0]);
        assert_eq!(to_der_content(0), vec![0]);
    }

    #[test]
    fn hex_round_trip() {
        let v = 0x0001_6553_f100_0000_0000_0000_002au128;
        assert_eq!(from_hex(&to_hex(v)), Some(v));
        assert_eq!(from_hex("0x00ABcd"), Some(0xabcd));
        assert_eq!(from_hex("zz"), None);
        assert_eq!(from_hex(&"1".repeat(33)), None);
    }
}
