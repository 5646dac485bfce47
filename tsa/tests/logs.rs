//! Logs as an operator meets them (the logs of `inkan-tsa serve`): plain text without colour
//! codes when standard error is a file or a pipe, and a clear error for a bad filter instead of
//! silence.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::process::bin;

#[test]
fn no_colour_codes_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin())
        .args(["serve", "--dev", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .env_remove("INKAN_LOG_FORMAT")
        .env_remove("NO_COLOR")
        .env("INKAN_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("inkan-tsa listening") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen.contains("inkan-tsa listening"), "{seen}");
    assert!(
        !seen.contains('\u{1b}'),
        "colour codes in a pipe:\n{seen:?}"
    );
}

#[test]
fn a_bad_log_filter_or_format_is_an_error_not_silence() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value) in [("INKAN_LOG", "inkan_tsa=loud"), ("INKAN_LOG_FORMAT", "xml")] {
        let out = Command::new(bin())
            .args(["serve", "--dev", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .env(var, value)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(64), "{var}={value}: {out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(var) && err.contains(value), "{err}");
    }
}
