//! `--report FILE`: what became of every input, as JSON lines (`inkan-sign --report`), for
//! an officer who retries the failures of a large batch or files the run's record.
//!
//! One line per distinct input, in the order named (an input named twice appears once):
//!
//! ```text
//! {"input":"a/x.pdf","output":"a/x.pdf.p7s","status":"signed","level":"B-T","error":null}
//! {"input":"b/y.pdf","output":"b/y.pdf.p7s","status":"skipped","level":"B-T","error":"b/y.pdf.p7s exists and is kept (--skip-existing)"}
//! {"input":"c/z.pdf","output":"c/z.pdf.p7s","status":"failed","level":"B-T","error":"cannot read: No such file or directory (os error 2)"}
//! ```
//!
//! `status` is `signed`, `skipped` or `failed`; `error` says why for the last two (null when
//! signed); `output` is null when no output was chosen (a signature file skipped in a
//! batch). Then one summary line:
//!
//! ```text
//! {"summary":{"inputs":3,"signed":1,"skipped":1,"failed":1,"level":"B-T","stopped":null}}
//! ```
//!
//! `level` is the level signed at, or `timestamp` for `inkan-sign timestamp` (whose
//! `signed` counts the inputs time-stamped). `stopped` is the one message of a problem that stopped the batch early (the TSA
//! unreachable, ...), else null. A run refused before anything was signed (a collision, the
//! key's PIN, ...) still writes the report: every input failed with that reason. Paths that
//! are not valid UTF-8 are written with U+FFFD in place of the invalid bytes. The file is
//! written atomically when the run ends.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::sign::{Status, Summary};

/// `s` as a JSON string (RFC 8259 §7): quotes, backslash and control characters escaped.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn path_or_null(p: Option<&Path>) -> String {
    p.map_or_else(|| "null".to_owned(), |p| json_string(&p.to_string_lossy()))
}

fn line(
    out: &mut String,
    input: &Path,
    output: Option<&Path>,
    status: &str,
    level: impl std::fmt::Display,
    error: Option<&str>,
) {
    let _ = writeln!(
        out,
        "{{\"input\":{},\"output\":{},\"status\":\"{status}\",\"level\":\"{level}\",\"error\":{}}}",
        json_string(&input.to_string_lossy()),
        path_or_null(output),
        error.map_or_else(|| "null".to_owned(), json_string)
    );
}

fn summary_line(
    out: &mut String,
    counts: [usize; 3],
    level: impl std::fmt::Display,
    stopped: Option<&str>,
) {
    let [signed, skipped, failed] = counts;
    let _ = writeln!(
        out,
        "{{\"summary\":{{\"inputs\":{},\"signed\":{signed},\"skipped\":{skipped},\"failed\":{failed},\"level\":\"{level}\",\"stopped\":{}}}}}",
        signed + skipped + failed,
        stopped.map_or_else(|| "null".to_owned(), json_string)
    );
}

/// The report of a run that signed (or tried to).
pub fn render(summary: &Summary, level: impl std::fmt::Display + Copy) -> String {
    let mut out = String::new();
    for f in &summary.files {
        let (status, error) = match &f.status {
            Status::Signed => ("signed", None),
            Status::Skipped(why) => ("skipped", Some(why.as_str())),
            Status::Failed(why) => ("failed", Some(why.as_str())),
        };
        line(
            &mut out,
            &f.input,
            f.output.as_deref(),
            status,
            level,
            error,
        );
    }
    summary_line(
        &mut out,
        [summary.signed(), summary.skipped(), summary.failed()],
        level,
        summary.stopped.as_ref().map(|s| s.message.as_str()),
    );
    out
}

/// The report of a run refused before anything was signed: every input failed with `why`
/// (inputs named twice once).
pub fn render_refused(
    inputs: &[PathBuf],
    level: impl std::fmt::Display + Copy,
    why: &str,
) -> String {
    let mut out = String::new();
    let mut seen = std::collections::HashSet::new();
    let mut n = 0;
    for i in inputs {
        if seen.insert(i) {
            line(&mut out, i, None, "failed", level, Some(why));
            n += 1;
        }
    }
    summary_line(&mut out, [0, 0, n], level, Some(why));
    out
}

/// Writes `text` to `path` atomically (see [`crate::output::write_atomic`]).
pub fn write(path: &Path, text: &str) -> std::io::Result<()> {
    crate::output::write_atomic(path, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cades::Level;
    use crate::sign::FileResult;

    #[test]
    fn escapes() {
        assert_eq!(
            json_string("a\"b\\c\nd\u{1}é"),
            "\"a\\\"b\\\\c\\nd\\u0001é\""
        );
    }

    #[test]
    fn lines_and_summary() {
        let s = Summary {
            files: vec![
                FileResult {
                    input: "a.txt".into(),
                    output: Some("a.txt.p7s".into()),
                    status: Status::Signed,
                    by_stop: false,
                },
                FileResult {
                    input: "b.p7s".into(),
                    output: None,
                    status: Status::Skipped("a signature file".into()),
                    by_stop: false,
                },
                FileResult {
                    input: "c\"x.txt".into(),
                    output: Some("out/c\"x.txt.p7s".into()),
                    status: Status::Failed("cannot read".into()),
                    by_stop: false,
                },
            ],
            ..Default::default()
        };
        let text = render(&s, Level::BT);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[0],
            r#"{"input":"a.txt","output":"a.txt.p7s","status":"signed","level":"B-T","error":null}"#
        );
        assert_eq!(
            lines[1],
            r#"{"input":"b.p7s","output":null,"status":"skipped","level":"B-T","error":"a signature file"}"#
        );
        assert!(lines[2].contains(r#""input":"c\"x.txt""#), "{}", lines[2]);
        assert_eq!(
            lines[3],
            r#"{"summary":{"inputs":3,"signed":1,"skipped":1,"failed":1,"level":"B-T","stopped":null}}"#
        );
        let refused = render_refused(&["a".into(), "a".into(), "b".into()], Level::BB, "PIN");
        assert_eq!(refused.lines().count(), 3);
        assert!(refused.ends_with(
            "{\"summary\":{\"inputs\":2,\"signed\":0,\"skipped\":0,\"failed\":2,\"level\":\"B-B\",\"stopped\":\"PIN\"}}\n"
        ));
    }
}
