//! Points in time as plain values.
//!
//! Library code takes a [`UnixTime`] argument; it never reads a clock (see [`crate::clock`]).

/// A point in time: whole seconds and nanoseconds since 1970-01-01T00:00:00Z (UTC, no leap
/// seconds, as POSIX time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime {
    secs: u64,
    nanos: u32,
}

impl UnixTime {
    /// The instant `secs` seconds after the epoch.
    pub const fn from_secs(secs: u64) -> Self {
        Self { secs, nanos: 0 }
    }

    /// The instant `secs` seconds and `nanos` nanoseconds after the epoch. Nanoseconds at or
    /// above one second carry into the seconds.
    pub const fn new(secs: u64, nanos: u32) -> Self {
        Self {
            secs: secs + (nanos / 1_000_000_000) as u64,
            nanos: nanos % 1_000_000_000,
        }
    }

    /// Whole seconds since the epoch.
    pub const fn secs(self) -> u64 {
        self.secs
    }

    /// Nanoseconds within the second.
    pub const fn subsec_nanos(self) -> u32 {
        self.nanos
    }
}
