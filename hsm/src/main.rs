//! The `inkan-hsm` command (see [`inkan_hsm::cli`]).
#![forbid(unsafe_code)]

use inkan_profiles::clock::{Clock, SystemClock};

fn main() -> std::process::ExitCode {
    let Some(now) = SystemClock.now() else {
        eprintln!("inkan-hsm: the system clock is before 1970");
        return std::process::ExitCode::from(70);
    };
    match inkan_hsm::cli::run(std::env::args_os().skip(1).collect(), now) {
        Ok(text) => {
            print!("{text}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("inkan-hsm: {e}");
            std::process::ExitCode::from(e.exit_code())
        }
    }
}
