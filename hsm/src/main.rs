//! The `inkan-hsm` command (see [`inkan_hsm::cli`]).
#![forbid(unsafe_code)]

use inkan_profiles::clock::{Clock, SystemClock};

fn main() -> std::process::ExitCode {
    let Some(now) = SystemClock.now() else {
        eprintln!("inkan-hsm: the system clock is before 1970");
        return std::process::ExitCode::from(inkan_profiles::cli::EXIT_SOFTWARE);
    };
    match inkan_hsm::cli::run(std::env::args_os().skip(1).collect(), now) {
        Ok(text) => {
            // A closed standard output (`inkan-hsm --help | head -1`) is no reason to panic;
            // any other write error is reported.
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    eprintln!("inkan-hsm: cannot write to standard output: {e}");
                    std::process::ExitCode::from(inkan_profiles::cli::EXIT_SOFTWARE)
                }
                _ => std::process::ExitCode::SUCCESS,
            }
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::from(e.exit_code())
        }
    }
}
