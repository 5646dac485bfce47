//! The command-line convention shared by the four binaries (`inkan-tsa`, `inkan-sign`,
//! `inkan-verify`, `inkan-hsm`): exit statuses in one place (BSD `sysexits.h`, as the
//! contract names them) and the one-line usage error with a "did you mean" hint.
//!
//! A usage error is one line on standard error, `PROG: MESSAGE; see PROG --help`, with
//! `(did you mean --NAME?)` when the message names an option that is close to one the help
//! text lists. The help text is the single list of options: the hint is drawn from it, so a
//! new flag needs no second registration.

/// Success.
pub const EXIT_OK: u8 = 0;
/// Bad usage: an unknown flag, a missing value, flags that exclude each other (`EX_USAGE`).
pub const EXIT_USAGE: u8 = 64;
/// An input file cannot be read (`EX_NOINPUT`).
pub const EXIT_NOINPUT: u8 = 66;
/// A service the command needs is unavailable: a TSA, an OCSP or CRL server
/// (`EX_UNAVAILABLE`).
pub const EXIT_UNAVAILABLE: u8 = 69;
/// An internal error (`EX_SOFTWARE`).
pub const EXIT_SOFTWARE: u8 = 70;
/// An output cannot be created (`EX_CANTCREAT`).
pub const EXIT_CANTCREAT: u8 = 73;
/// A key, PIN or certificate problem (`EX_NOPERM`).
pub const EXIT_NOPERM: u8 = 77;

/// The one-line usage error of `prog` for `message` (see the module docs).
pub fn usage_line(prog: &str, message: &str, help: &str) -> String {
    let message = message.lines().next().unwrap_or_default().trim_end();
    match bad_option(message).and_then(|bad| suggest(bad, help)) {
        Some(s) => format!("{prog}: {message} (did you mean {s}?); see {prog} --help"),
        None => format!("{prog}: {message}; see {prog} --help"),
    }
}

/// The option a message names, as lexopt spells it: `invalid option '--x'`,
/// `unexpected argument for option '--x'`, `missing argument for option '--x'`.
fn bad_option(message: &str) -> Option<&str> {
    let start = message.find("'--")? + 1;
    let len = message[start..].find('\'')?;
    let opt = &message[start..start + len];
    // `--name=value`: the name.
    Some(opt.split('=').next().unwrap_or(opt))
}

/// The option of `help` nearest to `bad`, when it is near enough to be the one meant: a
/// prefix of it, or within an edit distance of a third of its length (at least 1). Options
/// `bad` equals exactly are not suggested (the problem is elsewhere, e.g. its value).
pub fn suggest<'h>(bad: &str, help: &'h str) -> Option<&'h str> {
    let mut best: Option<(usize, &str)> = None;
    for opt in options(help) {
        if opt == bad {
            return None;
        }
        let d = if opt.starts_with(bad) && bad.len() > 3 {
            1
        } else {
            distance(bad, opt)
        };
        let limit = (opt.len() - 2).div_ceil(3).max(1);
        if d <= limit && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, opt));
        }
    }
    best.map(|(_, o)| o)
}

/// The `--options` a help text names, each once, in order.
fn options(help: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    let bytes = help.as_bytes();
    let mut i = 0;
    while let Some(off) = help[i..].find("--") {
        let start = i + off;
        let mut end = start + 2;
        while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'-') {
            end += 1;
        }
        let before_ok = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
        let opt = &help[start..end];
        if before_ok && opt.len() > 3 && !out.contains(&opt) {
            out.push(opt);
        }
        i = end.max(start + 2);
    }
    out
}

/// Levenshtein distance over bytes (options are ASCII), bounded by their short length.
fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() > 64 || b.len() > 64 {
        return usize::MAX;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, &ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELP: &str = "USAGE:\n  x [--data FILE] [--data-dir DIR] [--trust PEM]\n  --revocation MODE\n  --lang ja|en\n";

    #[test]
    fn one_line_with_a_hint() {
        assert_eq!(
            usage_line("x", "invalid option '--trsut'", HELP),
            "x: invalid option '--trsut' (did you mean --trust?); see x --help"
        );
        assert_eq!(
            usage_line("x", "invalid option '--revoc'", HELP),
            "x: invalid option '--revoc' (did you mean --revocation?); see x --help"
        );
        assert_eq!(
            usage_line("x", "invalid option '--bogus'", HELP),
            "x: invalid option '--bogus'; see x --help"
        );
        // A known option with a bad value gets no hint; a second line is dropped.
        assert_eq!(
            usage_line("x", "missing argument for option '--data'\nmore", HELP),
            "x: missing argument for option '--data'; see x --help"
        );
        assert_eq!(
            usage_line("x", "invalid option '--data-dri=a'", HELP),
            "x: invalid option '--data-dri=a' (did you mean --data-dir?); see x --help"
        );
    }

    #[test]
    fn options_of_a_help_text() {
        assert_eq!(
            options(HELP),
            ["--data", "--data-dir", "--trust", "--revocation", "--lang"]
        );
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(suggest("--lnag", HELP), Some("--lang"));
    }
}
