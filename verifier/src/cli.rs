//! Command-line handling of `inkan-verify` (INTERFACE.md): arguments, files, exit codes.

use std::ffi::OsString;
use std::path::PathBuf;

use inkan_profiles::clock::{Clock, SystemClock};
use inkan_profiles::time::UnixTime;

use crate::report::Lang;
use crate::{Data, Input, Options};

/// Exit status: bad usage.
pub const EXIT_USAGE: u8 = 64;
/// Exit status: an input file cannot be read.
pub const EXIT_NOINPUT: u8 = 66;
/// Exit status: internal error.
pub const EXIT_SOFTWARE: u8 = 70;

const USAGE: &str =
    "usage: inkan-verify SIGNATURE_FILE [--data CONTENT_FILE] [--trust PEM]... [--crl FILE]...
             [--ocsp FILE]... [--at RFC3339_TIME] [--revocation required|optional]
             [--format text|json] [--lang ja|en] [--policy OID]...";

/// The `--help` text (printed to stdout, exit 0).
pub const HELP: &str = "\
inkan-verify: offline verification of CMS/CAdES signatures and RFC 3161 time-stamp tokens,
judged as ETSI EN 319 102-1 prescribes, under the CRYPTREC LS-0001-2022 policy.

USAGE:
  inkan-verify SIGNATURE_FILE [--data CONTENT_FILE] [--trust PEM]... [--crl FILE]...
               [--ocsp FILE]... [--at RFC3339_TIME] [--revocation required|optional]
               [--format text|json] [--lang ja|en] [--policy OID]...

OPTIONS:
  --data FILE        the signed data (detached signatures, time-stamp tokens)
  --trust PEM        trust anchors; repeatable
  --crl FILE         CRL (DER or PEM); repeatable
  --ocsp FILE        OCSP response (DER); repeatable
  --at TIME          validation time (RFC 3339), default now
  --revocation R     required (default) or optional
  --format F         text (default) or json (fields: verifier/README.md)
  --lang L           ja or en (default: from the locale)
  --policy OID       the signer's certificate must be issued under this certificate policy
                     (RFC 5280 path validation with this initial policy set and an
                     explicit policy required); repeatable: any one of them will do
  -h, --help         this text
  -V, --version      the version

Exit status: 0 TOTAL-PASSED, 1 TOTAL-FAILED, 2 INDETERMINATE, 64 usage, 66 input unreadable,
70 internal error.
";

/// Parsed arguments.
#[derive(Debug, Default)]
pub struct Args {
    sig: Option<PathBuf>,
    data: Option<PathBuf>,
    trust: Vec<PathBuf>,
    crl: Vec<PathBuf>,
    ocsp: Vec<PathBuf>,
    at: Option<i64>,
    revocation_optional: bool,
    policies: Vec<const_oid::ObjectIdentifier>,
    json: bool,
    lang: Option<Lang>,
}

/// Parses an RFC 3339 time (`2024-01-02T03:04:05Z`, offsets and fractions allowed).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    let (date, time) = s.split_once(['T', 't', ' '])?;
    let mut d = date.split('-');
    let y: i64 = d.next()?.parse().ok()?;
    let mo: i64 = d.next()?.parse().ok()?;
    let da: i64 = d.next()?.parse().ok()?;
    let (clock, offset) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else {
        let i = time.rfind(['+', '-'])?;
        let (c, o) = time.split_at(i);
        let sign = if o.starts_with('-') { -1 } else { 1 };
        let (oh, om) = o[1..].split_once(':')?;
        (
            c,
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60),
        )
    };
    let clock = clock.split('.').next()?;
    let mut c = clock.split(':');
    let h: i64 = c.next()?.parse().ok()?;
    let mi: i64 = c.next()?.parse().ok()?;
    let se: i64 = c.next()?.parse().ok()?;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&da) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    // In range: checked above.
    let days = inkan_profiles::time::days_from_civil(y, mo as u32, da as u32);
    Some(days * 86400 + h * 3600 + mi * 60 + se - offset)
}

/// Marker returned by [`parse`] for `--version`.
const VERSION_REQUEST: &str = "\0version";

fn parse(args: Vec<OsString>) -> Result<Args, String> {
    use lexopt::prelude::*;
    let mut p = lexopt::Parser::from_args(args);
    let mut a = Args::default();
    while let Some(arg) = p.next().map_err(|e| e.to_string())? {
        match arg {
            Long("data") => a.data = Some(p.value().map_err(|e| e.to_string())?.into()),
            Long("trust") => a.trust.push(p.value().map_err(|e| e.to_string())?.into()),
            Long("crl") => a.crl.push(p.value().map_err(|e| e.to_string())?.into()),
            Long("ocsp") => a.ocsp.push(p.value().map_err(|e| e.to_string())?.into()),
            Long("at") => {
                let v = p.value().map_err(|e| e.to_string())?;
                let s = v.to_string_lossy();
                a.at = Some(parse_rfc3339(&s).ok_or(format!("--at: not an RFC 3339 time: {s}"))?);
            }
            Long("revocation") => {
                let v = p.value().map_err(|e| e.to_string())?;
                a.revocation_optional = match v.to_string_lossy().as_ref() {
                    "required" => false,
                    "optional" => true,
                    o => return Err(format!("--revocation: expected required|optional, got {o}")),
                };
            }
            Long("format") => {
                let v = p.value().map_err(|e| e.to_string())?;
                a.json = match v.to_string_lossy().as_ref() {
                    "json" => true,
                    "text" => false,
                    o => return Err(format!("--format: expected text|json, got {o}")),
                };
            }
            Long("lang") => {
                let v = p.value().map_err(|e| e.to_string())?;
                a.lang = Some(match v.to_string_lossy().as_ref() {
                    "ja" => Lang::Ja,
                    "en" => Lang::En,
                    o => return Err(format!("--lang: expected ja|en, got {o}")),
                });
            }
            Value(v) if a.sig.is_none() => a.sig = Some(v.into()),
            Long("policy") => {
                let v = p.value().map_err(|e| e.to_string())?;
                let s = v.to_str().ok_or("--policy: not an OID")?;
                let o = const_oid::ObjectIdentifier::new(s)
                    .map_err(|_| format!("--policy {s}: not a dotted OID"))?;
                a.policies.push(o);
            }
            Long("help") | Short('h') => return Err(String::new()),
            Long("version") | Short('V') => return Err(VERSION_REQUEST.into()),
            other => return Err(other.unexpected().to_string()),
        }
    }
    if a.sig.is_none() {
        return Err("missing SIGNATURE_FILE".into());
    }
    Ok(a)
}

fn read(p: &PathBuf) -> Result<Vec<u8>, u8> {
    let meta = std::fs::metadata(p).map_err(|e| {
        eprintln!("inkan-verify: cannot read {}: {e}", p.display());
        EXIT_NOINPUT
    })?;
    if meta.len() > crate::input::MAX_INPUT as u64 {
        eprintln!("inkan-verify: {} is too large", p.display());
        return Err(EXIT_NOINPUT);
    }
    std::fs::read(p).map_err(|e| {
        eprintln!("inkan-verify: cannot read {}: {e}", p.display());
        EXIT_NOINPUT
    })
}

fn locale_lang() -> Lang {
    for k in ["LC_ALL", "LC_MESSAGES", "LANG"] {
        if let Ok(v) = std::env::var(k)
            && !v.is_empty()
        {
            return if v.starts_with("ja") {
                Lang::Ja
            } else {
                Lang::En
            };
        }
    }
    Lang::En
}

/// Writes `text` to standard output. A reader that went away (`inkan-verify … | head`) is
/// not an error: as ripgrep does, the broken pipe is caught where the output is written and
/// the command ends quietly (no panic, no message). Its exit status stays the verdict's
/// (`Err(None)`: the caller returns the status it has), so that `set -o pipefail` never
/// turns an invalid signature into success. Any other write error is reported (`Err(Some(70))`).
fn emit(text: &str) -> Result<(), Option<u8>> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(None),
        Err(e) => {
            eprintln!("inkan-verify: cannot write the report: {e}");
            Err(Some(EXIT_SOFTWARE))
        }
    }
}

/// Runs the command; returns the exit status.
pub fn run(args: Vec<OsString>) -> u8 {
    let a = match parse(args) {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            return emit(HELP).map_or_else(|c| c.unwrap_or(0), |()| 0);
        }
        Err(e) if e == VERSION_REQUEST => {
            return emit(&format!("inkan-verify {}\n", env!("CARGO_PKG_VERSION")))
                .map_or_else(|c| c.unwrap_or(0), |()| 0);
        }
        Err(e) => {
            if !e.is_empty() {
                eprintln!("inkan-verify: {e}");
            }
            eprintln!("{USAGE}");
            return if e.is_empty() { 0 } else { EXIT_USAGE };
        }
    };
    let Some(sig) = a.sig.as_ref() else {
        return EXIT_USAGE;
    };
    let bytes = match read(sig) {
        Ok(b) => b,
        Err(c) => return c,
    };
    let mut options = Options {
        revocation_required: !a.revocation_optional,
        required_policies: a.policies.clone(),
        ..Options::default()
    };
    if let Some(d) = &a.data {
        if let Err(e) = std::fs::File::open(d) {
            eprintln!("inkan-verify: cannot read {}: {e}", d.display());
            return EXIT_NOINPUT;
        }
        options.data = Data::File(d.clone());
    }
    for (list, out) in [
        (&a.trust, &mut options.trust),
        (&a.crl, &mut options.crls),
        (&a.ocsp, &mut options.ocsps),
    ] {
        for p in list {
            match read(p) {
                Ok(b) => out.push(b),
                Err(c) => return c,
            }
        }
    }
    let at = match a.at {
        Some(t) if t >= 0 => UnixTime::from_secs(t as u64),
        Some(_) => {
            eprintln!("inkan-verify: --at before 1970 is not supported");
            return EXIT_USAGE;
        }
        None => match SystemClock.now() {
            Some(t) => t,
            None => {
                eprintln!("inkan-verify: the system clock is unreadable; give --at");
                return EXIT_SOFTWARE;
            }
        },
    };
    let report = match crate::verify(&Input { bytes }, &options, at) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("inkan-verify: {e}");
            return EXIT_SOFTWARE;
        }
    };
    let code = report.indication.exit_code();
    let text = if a.json {
        format!("{}\n", report.to_json())
    } else {
        report.to_text(a.lang.unwrap_or_else(locale_lang))
    };
    match emit(&text) {
        Ok(()) | Err(None) => code,
        Err(Some(c)) => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2017-03-17T13:00:00Z"), Some(1_489_755_600));
        assert_eq!(
            parse_rfc3339("2017-03-17T22:00:00+09:00"),
            Some(1_489_755_600)
        );
        assert_eq!(parse_rfc3339("garbage"), None);
    }

    #[test]
    fn policy_option() {
        let args = |v: &[&str]| parse(v.iter().map(OsString::from).collect());
        let a = args(&[
            "s.p7s",
            "--policy",
            "1.2.392.200091",
            "--policy",
            "2.5.29.32.0",
        ])
        .unwrap();
        assert_eq!(a.policies.len(), 2);
        assert!(args(&["s.p7s", "--policy", "not-an-oid"]).is_err());
        assert!(args(&["s.p7s", "--policy"]).is_err());
    }
}
