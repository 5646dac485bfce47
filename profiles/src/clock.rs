//! The one module of the workspace that reads the system clock.
//!
//! Everything else takes a [`UnixTime`] argument or a `&dyn Clock`, so tests pin instants.

use crate::time::UnixTime;

/// A source of the current time.
pub trait Clock: std::fmt::Debug + Send + Sync {
    /// The current time, or `None` if the clock cannot tell (before 1970, or unavailable).
    fn now(&self) -> Option<UnixTime>;
}

/// The operating system's real-time clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one permitted read of the system clock
    fn now(&self) -> Option<UnixTime> {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        Some(UnixTime::new(d.as_secs(), d.subsec_nanos()))
    }
}

/// A clock that always answers the same instant; for tests and for replaying a decision.
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub UnixTime);

impl Clock for FixedClock {
    fn now(&self) -> Option<UnixTime> {
        Some(self.0)
    }
}
