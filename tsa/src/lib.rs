//! inkan-tsa (under construction).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod handler;
pub mod metrics;
pub mod ntp;
pub mod records;
pub mod serial;
pub mod server;
pub mod timefmt;
