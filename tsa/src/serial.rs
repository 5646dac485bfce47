//! Serial numbers that are unique for this TSA forever.
//!
//! # Scheme
//!
//! ```text
//!  bits 111..96   95..64           63..0
//!  instance_id  | epoch          | counter
//!  (config)     | (per start-up) | (in memory)
//! ```
//!
//! * `epoch` is taken once per start-up from the records store, **durably committed before the
//!   first token is issued**: `epoch = max(previous_epoch + 1, unix_seconds_now)`. The `+ 1`
//!   makes every start-up of one store distinct, however fast the restarts; the wall-clock term
//!   keeps epochs moving forward even if the store is restored from an old backup (the restore
//!   would otherwise hand out an epoch already used since). 32 bits of seconds last to 2106.
//! * `counter` counts tokens within one start-up in memory, so issuing costs no I/O for the
//!   serial itself (the token *record* is still committed before the response leaves; see
//!   [`crate::records`]). 2^64 tokens per start-up cannot be reached.
//! * `instance_id` separates instances that share a TSA certificate without sharing a store;
//!   the operator gives each its own (configuration `instance_id`).
//!
//! A `kill -9` loses at most the unused remainder of one epoch; it can never repeat a serial,
//! since the next start-up takes a larger epoch. The result is at most 112 bits, inside the
//! 160 bits RFC 3161 §2.4.2 asks clients to handle, and is always positive.
//!
//! Why not 64-bit time + random: uniqueness would then be probabilistic, and a TSA must be able
//! to show an auditor that a serial *cannot* repeat.

use std::sync::atomic::{AtomicU64, Ordering};

/// A serial number (at most 112 bits, see the module docs).
pub type Serial = u128;

/// Hands out serials for one start-up.
#[derive(Debug)]
pub struct SerialSource {
    prefix: u128,
    counter: AtomicU64,
}

impl SerialSource {
    /// A source for `instance_id` and a freshly reserved `epoch`.
    pub fn new(instance_id: u16, epoch: u32) -> Self {
        Self {
            prefix: (u128::from(instance_id) << 96) | (u128::from(epoch) << 64),
            counter: AtomicU64::new(0),
        }
    }

    /// The next serial. The counter starts at 1 so the serial is never zero.
    pub fn next(&self) -> Serial {
        let n = self.counter.fetch_add(1, Ordering::Relaxed).wrapping_add(1);
        self.prefix | u128::from(n)
    }

    /// How many serials were handed out.
    pub fn issued(&self) -> u64 {
        self.counter.load(Ordering::Relaxed)
    }
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
        let s = SerialSource::new(0x0102, 0x0304_0506);
        let a = s.next();
        let b = s.next();
        assert_ne!(a, b);
        assert_eq!(a >> 96, 0x0102);
        assert_eq!((a >> 64) as u32, 0x0304_0506);
        assert_eq!(a as u64, 1);
        assert!(a < (1u128 << 112));
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
