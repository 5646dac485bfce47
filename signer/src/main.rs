//! The `inkan-sign` command: parse, sign or extend, print a summary, map to an exit status.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use inkan_profiles::clock::{Clock, SystemClock};
use inkan_signer::cli::{self, Command};
use inkan_signer::sign::{self, SetupError};

fn main() -> ExitCode {
    let cmd = match cli::parse(std::env::args_os().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("inkan-sign: {e}\n(see inkan-sign --help)");
            return ExitCode::from(64);
        }
    };
    let clock = SystemClock;
    match cmd {
        Command::Help => {
            print!("{}", cli::HELP);
            ExitCode::SUCCESS
        }
        Command::Version => {
            println!("inkan-sign {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Sign(opts, files) => match sign::sign_files(&opts, &files, &clock) {
            Ok(summary) => {
                for f in &summary.files {
                    if let Err(e) = &f.result {
                        eprintln!("inkan-sign: {}: {e}", f.input.display());
                    }
                }
                eprintln!(
                    "inkan-sign: signed {} of {} file(s) at {}, {} failed, in {:.2}s",
                    summary.signed(),
                    summary.files.len(),
                    opts.level,
                    summary.failed(),
                    summary.elapsed.as_secs_f64()
                );
                if summary.failed() == 0 {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(1)
                }
            }
            Err(e) => {
                eprintln!("inkan-sign: nothing signed: {e}");
                ExitCode::from(match e {
                    SetupError::Usage(_) => 64,
                    SetupError::Material(_) => 66,
                    _ => 77,
                })
            }
        },
        Command::Timestamp(opts, files) => {
            match inkan_signer::timestamp::timestamp_files(&opts, &files) {
                Ok(summary) => {
                    for f in &summary.files {
                        if let Err(e) = &f.result {
                            eprintln!("inkan-sign: {}: {e}", f.input.display());
                        }
                    }
                    eprintln!(
                        "inkan-sign: time-stamped {} of {} file(s), {} failed, in {:.2}s",
                        summary.signed(),
                        summary.files.len(),
                        summary.failed(),
                        summary.elapsed.as_secs_f64()
                    );
                    if summary.failed() == 0 {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    }
                }
                Err(e) => {
                    eprintln!("inkan-sign: nothing time-stamped: {e}");
                    ExitCode::from(match e {
                        SetupError::Usage(_) => 64,
                        SetupError::Material(_) => 66,
                        _ => 69,
                    })
                }
            }
        }
        Command::Extend(opts, sig) => {
            let Some(at) = clock.now() else {
                eprintln!("inkan-sign: the system clock is unusable");
                return ExitCode::from(70);
            };
            match sign::extend(&opts, &sig, at) {
                Ok(p) => {
                    eprintln!("inkan-sign: {} raised to {}", p.display(), opts.level);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("inkan-sign: {}: {e}", sig.display());
                    ExitCode::from(1)
                }
            }
        }
    }
}
