//! Manual pages generated from the binaries' own `--help` texts, so that `man` and `--help`
//! never disagree: `docs/man/NAME.1` for the four binaries (roff, the `man(7)` macros). This
//! test renders them and fails when a committed page differs from what the binary prints;
//! `INKAN_UPDATE_MAN=1 cargo test -p inkan-tests --test man_pages` writes them anew.

use std::fmt::Write as _;

use inkan_tests::{run, workspace_root};

const BINARIES: [&str; 4] = ["inkan-tsa", "inkan-sign", "inkan-verify", "inkan-hsm"];

/// `text` as roff lines inside `.nf`: backslashes escaped, and a line that starts with a
/// control character (`.` or `'`) made literal.
fn literal(text: &str) -> String {
    let mut out = String::new();
    for line in text.trim_end().lines() {
        let line = line.replace('\\', "\\e");
        if line.starts_with(['.', '\'']) {
            out.push_str("\\&");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The manual page of `bin` from its help text (and, for `inkan-verify`, that of `ui`).
fn page(bin: &str) -> String {
    let dir = workspace_root();
    let help = |args: &[&str]| {
        let out = run(bin, args, &dir);
        assert_eq!(out.status.code(), Some(0), "{bin} {args:?}");
        String::from_utf8(out.stdout).expect("UTF-8 help")
    };
    let text = help(&["--help"]);
    let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let summary = first
        .strip_prefix(&format!("{bin}: "))
        .unwrap_or(first)
        .trim_end_matches(',');
    let version = env!("CARGO_PKG_VERSION");
    let mut p = String::new();
    let _ = writeln!(
        p,
        ".\\\" Generated from `{bin} --help` by tests/tests/man_pages.rs; do not edit."
    );
    let _ = writeln!(
        p,
        ".TH {} 1 \"\" \"inkan {version}\" \"inkan manual\"",
        bin.to_uppercase()
    );
    let _ = writeln!(p, ".SH NAME\n{bin} \\- {summary}");
    let _ = writeln!(p, ".SH DESCRIPTION\n.nf\n{}.fi", literal(rest));
    if bin == "inkan-verify" {
        let ui = help(&["ui", "--help"]);
        let _ = writeln!(
            p,
            ".SH \"THE PAGE: inkan-verify ui\"\n.nf\n{}.fi",
            literal(&ui)
        );
    }
    let others: Vec<String> = BINARIES
        .iter()
        .filter(|b| **b != bin)
        .map(|b| format!("{b}(1)"))
        .collect();
    let _ = writeln!(p, ".SH SEE ALSO\n{}", others.join(", "));
    p
}

#[test]
fn manual_pages_match_the_help_texts() {
    let update = std::env::var_os("INKAN_UPDATE_MAN").is_some();
    let dir = workspace_root().join("docs/man");
    for bin in BINARIES {
        let want = page(bin);
        let path = dir.join(format!("{bin}.1"));
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &want).unwrap();
            continue;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "{} is not what `{bin} --help` prints now; run \
             INKAN_UPDATE_MAN=1 cargo test -p inkan-tests --test man_pages",
            path.display()
        );
        // Every line is roff that man(7) reads: no stray control lines from the help text.
        for line in have.lines() {
            if line.starts_with('.') {
                let known = [".\\\"", ".TH", ".SH", ".nf", ".fi"];
                assert!(known.iter().any(|k| line.starts_with(k)), "{line}");
            }
        }
    }
}
