//! The `inkan-sign` command: parse, sign or extend, print a summary, map to an exit status.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use inkan_profiles::clock::{Clock, SystemClock};
use inkan_signer::cli::{self, Command};
use inkan_signer::sign::{self, SetupError};
use inkan_signer::{plan, report};

/// Inputs refused because their output exists that are named one by one.
const EXISTS_SHOWN: usize = 10;

fn main() -> ExitCode {
    let cmd = match cli::parse(std::env::args_os().skip(1)) {
        Ok(c) => c,
        Err(stop) => return ExitCode::from(stop.finish()),
    };
    let clock = SystemClock;
    match cmd {
        Command::Sign(opts, files, report) => {
            let result = sign::sign_files(&opts, &files, &clock);
            finish(result, &files, &opts.level.to_string(), report, "signed")
        }
        Command::Timestamp(opts, files, report) => {
            let result = inkan_signer::timestamp::timestamp_files(&opts, &files);
            finish(result, &files, "timestamp", report, "time-stamped")
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
                    ExitCode::from(e.problem.map_or(1, |p| p.exit_status()))
                }
            }
        }
    }
}

/// Prints the outcome of a batch (`verb`: "signed" or "time-stamped"), writes the report
/// when asked, and maps the outcome to the exit status.
fn finish(
    result: Result<sign::Summary, SetupError>,
    files: &[std::path::PathBuf],
    level: &str,
    report: Option<std::path::PathBuf>,
    verb: &str,
) -> ExitCode {
    let (text, status) = match result {
        Ok(summary) => {
            for n in &summary.notices {
                eprintln!("inkan-sign: note: {n}");
            }
            // Failures of the inputs themselves, one line each; those caused by a problem
            // that stopped the batch are said once, below. Outputs that exist: the first
            // few, then a count (a re-run of a large batch without --skip-existing would
            // print one line per input).
            let mut exists = 0usize;
            for f in &summary.files {
                if let Some(e) = f.error()
                    && !f.by_stop
                {
                    if e.ends_with(plan::EXISTS_HINT) {
                        exists += 1;
                        if exists > EXISTS_SHOWN {
                            continue;
                        }
                    }
                    eprintln!("inkan-sign: {}: {e}", f.input.display());
                }
            }
            if exists > EXISTS_SHOWN {
                eprintln!(
                    "inkan-sign: and {} more input(s) whose output exists (--report FILE lists \
                     all {exists}); {}",
                    exists - EXISTS_SHOWN,
                    plan::EXISTS_HINT
                );
            }
            if let Some(stop) = &summary.stopped {
                eprintln!(
                    "inkan-sign: stopped early, {} input(s) not {verb}: {}",
                    summary.files.iter().filter(|f| f.by_stop).count(),
                    stop.message
                );
            }
            let at = if verb == "signed" {
                format!(" at {level}")
            } else {
                String::new()
            };
            eprintln!(
                "inkan-sign: {verb} {} of {} input(s){at}, {} skipped, {} failed, in {:.2}s",
                summary.signed(),
                summary.files.len(),
                summary.skipped(),
                summary.failed(),
                summary.elapsed.as_secs_f64()
            );
            let status = match &summary.stopped {
                Some(stop) => stop.problem.exit_status(),
                None if summary.failed() > 0 => 1,
                None => 0,
            };
            (report::render(&summary, level), status)
        }
        Err(e) => {
            eprintln!("inkan-sign: nothing {verb}: {e}");
            let status = match e {
                SetupError::Usage(_) => 64,
                SetupError::Material(_) => 66,
                _ => 77,
            };
            (report::render_refused(files, level, &e.to_string()), status)
        }
    };
    if let Some(path) = report
        && let Err(e) = report::write(&path, &text)
    {
        eprintln!(
            "inkan-sign: cannot write the report {}: {e}",
            path.display()
        );
        return ExitCode::from(if status == 0 { 73 } else { status });
    }
    ExitCode::from(status)
}
