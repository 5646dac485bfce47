//! inkan-tsa (under construction).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod app;
pub mod cli;
pub mod config;
pub mod dev;
pub mod handler;
pub mod metrics;
pub mod ntp;
pub mod records;
pub mod serial;
pub mod server;
pub mod startup;
pub mod timefmt;
pub mod token;
