//! Command-line handling of `inkan-verify`: arguments (clap, in the
//! convention of [`inkan_profiles::cli`]), files, exit codes.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use inkan_profiles::clock::{Clock, SystemClock};
use inkan_profiles::time::UnixTime;

use crate::{Data, Input, Options};

pub use inkan_profiles::cli::{EXIT_NOINPUT, EXIT_SOFTWARE, EXIT_USAGE};
use inkan_profiles::cli::{OPTIONS, Stop, usage_line};

/// The language of the report and the messages: chosen where the program meets its user
/// (`--lang`, the locale, the page), rendered in by `report`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// 日本語
    Ja,
    /// English
    En,
}

/// `--revocation` (EN 319 102-1 §5.2.5 needs revocation information by default).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Revocation {
    /// every certificate on a path needs revocation information at hand
    #[default]
    Required,
    /// a certificate without any is not held against the signature (the report says so)
    Optional,
}

/// `--format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// the report for people
    #[default]
    Text,
    /// one JSON object (per file)
    Json,
}

/// The notes after the options of `--help`.
const NOTES: &str = "\
Several SIGNATURE_FILEs (or --data-dir): a detached NAME.p7s (also .p7m) or a time-stamp
NAME.tsr (also .tst) is checked against NAME beside it, or DIR/NAME with --data-dir; an
encapsulated signature needs nothing. Text output gives one verdict per file and a
summary; --format json one JSON object per line, with \"file\" and \"data\".

Exit status: 0 TOTAL-PASSED, 1 TOTAL-FAILED, 2 INDETERMINATE, 64 usage, 66 input unreadable,
70 internal error. With several files, the worst: 66 when a file could not be read, else
1 when one is TOTAL-FAILED, else 2 when one is INDETERMINATE, else 0.";

/// The `inkan-verify` command line (`--help` is generated from it; see [`command`]).
#[derive(Debug, clap::Parser)]
#[command(
    name = "inkan-verify",
    version,
    about = "inkan-verify: offline verification of CMS/CAdES signatures and RFC 3161 time-stamp tokens,
judged as ETSI EN 319 102-1 prescribes, under the CRYPTREC LS-0001-2022 policy.",
    override_usage = "  inkan-verify SIGNATURE_FILE... [--data CONTENT_FILE | --data-dir DIR] [--trust PEM]...
               [--crl FILE]... [--ocsp FILE]... [--at RFC3339_TIME]
               [--revocation required|optional] [--format text|json] [--lang ja|en]
               [--policy OID]...
  inkan-verify ui [--listen 127.0.0.1:PORT] [--trust PEM]... [--open]   (a page in the
               browser on this computer; inkan-verify ui --help)",
    after_help = NOTES,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub struct CommandLine {
    /// `inkan-verify ui`.
    #[command(subcommand)]
    pub ui: Option<Ui>,
    /// Verify these files.
    #[command(flatten)]
    pub verify: Args,
}

/// The subcommand of `inkan-verify`.
#[derive(Debug, clap::Subcommand)]
pub enum Ui {
    /// the verifier as a page in your browser, served on this computer only
    #[command(
        override_usage = "  inkan-verify ui [--listen 127.0.0.1:PORT] [--trust PEM]... [--crl FILE]... [--ocsp FILE]...
                  [--revocation required|optional] [--open]",
        after_help = UI_NOTES,
        next_help_heading = OPTIONS
    )]
    Ui(UiArgs),
}

const UI_NOTES: &str = "\
The first line printed is the page's address, with a random token that every request must
carry: open it in a browser on this computer (--open does it for you). Nothing is sent
anywhere; the files chosen on the page are checked in memory and forgotten. --trust, --crl
and --ocsp apply to every verification on the page; more can be added on the page for one.";

/// The flags of `inkan-verify ui` (served by the binary: the library links no network code).
#[derive(Debug, Default, clap::Args)]
#[command(next_help_heading = OPTIONS)]
pub struct UiArgs {
    /// a loopback address and port (default 127.0.0.1:0, a free port); any other address is
    /// refused
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Trust anchors, CRLs and OCSP responses for every verification (more can be added on
    /// the page for one verification), and the revocation rule.
    #[command(flatten)]
    pub material: Material,
    /// start the desktop's browser on the page (xdg-open)
    #[arg(long)]
    pub open: bool,
}

/// The validation material given on the command line, shared by a verification and
/// `inkan-verify ui`: trust anchors, CRLs, OCSP responses and whether revocation information
/// is required (EN 319 102-1 §5.2.5).
#[derive(Debug, Default, clap::Args)]
pub struct Material {
    /// trust anchors; repeatable
    #[arg(long, value_name = "PEM")]
    pub trust: Vec<PathBuf>,
    /// CRL (DER or PEM); repeatable
    #[arg(long, value_name = "FILE")]
    pub crl: Vec<PathBuf>,
    /// OCSP response (DER); repeatable
    #[arg(long, value_name = "FILE")]
    pub ocsp: Vec<PathBuf>,
    /// required (default) or optional
    #[arg(
        long,
        value_name = "R",
        value_enum,
        default_value_t,
        hide_default_value = true,
        hide_possible_values = true
    )]
    pub revocation: Revocation,
}

impl Material {
    /// Options with this material read from its files (each bounded by
    /// [`crate::input::MAX_INPUT`]); the exit status when one cannot be read, after saying
    /// why on standard error.
    pub fn options(&self) -> Result<Options, u8> {
        let mut options = Options {
            revocation_required: self.revocation == Revocation::Required,
            ..Options::default()
        };
        for (list, out) in [
            (&self.trust, &mut options.trust),
            (&self.crl, &mut options.crls),
            (&self.ocsp, &mut options.ocsps),
        ] {
            for p in list {
                out.push(read(p)?);
            }
        }
        Ok(options)
    }
}

/// The arguments of a verification.
#[derive(Debug, Default, clap::Args)]
#[command(next_help_heading = OPTIONS)]
pub struct Args {
    /// signatures (CMS/CAdES, DER or PEM), time-stamp tokens or responses, PDFs
    #[arg(
        value_name = "SIGNATURE_FILE",
        required = true,
        help_heading = "ARGUMENTS"
    )]
    sigs: Vec<PathBuf>,
    /// the signed data (detached signatures, time-stamp tokens); one SIGNATURE_FILE only
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// where the data of detached signatures and time-stamps is (NAME for NAME.p7s /
    /// NAME.tsr)
    #[arg(long, value_name = "DIR", conflicts_with = "data")]
    data_dir: Option<PathBuf>,
    /// Trust anchors, CRLs, OCSP responses and the revocation rule.
    #[command(flatten)]
    material: Material,
    /// validation time (RFC 3339), default now
    #[arg(long, value_name = "TIME", value_parser = at_time)]
    at: Option<i64>,
    /// text (default) or json (fields: verifier/README.md)
    #[arg(
        long,
        value_name = "F",
        value_enum,
        default_value_t,
        hide_default_value = true,
        hide_possible_values = true
    )]
    format: Format,
    /// ja or en (default: from the locale)
    #[arg(long, value_name = "L", value_enum, hide_possible_values = true)]
    lang: Option<Lang>,
    /// the signer's certificate must be issued under this certificate policy (RFC 5280 path
    /// validation with this initial policy set and an explicit policy required); repeatable:
    /// any one of them will do
    #[arg(long = "policy", value_name = "OID", value_parser = policy_oid)]
    policies: Vec<const_oid::ObjectIdentifier>,
}

/// The command-line definition of `inkan-verify` (with `ui`) in the house layout
/// ([`inkan_profiles::cli::convention`]): what `--help`, the shell completions and the manual
/// page are generated from.
pub fn command() -> clap::Command {
    use clap::CommandFactory as _;
    inkan_profiles::cli::convention(CommandLine::command())
}

/// `--at`: seconds since the epoch.
fn at_time(s: &str) -> Result<i64, String> {
    parse_rfc3339(s).ok_or_else(|| "not an RFC 3339 time".to_owned())
}

/// `--policy`: a dotted OID.
fn policy_oid(s: &str) -> Result<const_oid::ObjectIdentifier, String> {
    const_oid::ObjectIdentifier::new(s).map_err(|_| "not a dotted OID".to_owned())
}

/// Parses an RFC 3339 time (`2024-01-02T03:04:05Z`, offsets and fractions allowed) to whole
/// seconds since the epoch, by the workspace's one strict parser
/// ([`inkan_profiles::time::parse_rfc3339`]: dates that do not exist, such as 2024-02-31, are
/// refused).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    inkan_profiles::time::parse_rfc3339(s.trim()).and_then(|t| i64::try_from(t.secs()).ok())
}

/// Parses the command line (without the program name): a verification or `ui`, or the
/// help, the version or a usage error to print ([`Stop::finish`]).
pub fn parse(args: Vec<OsString>) -> Result<CommandLine, Stop> {
    let c: CommandLine = inkan_profiles::cli::parse(command(), args)?;
    if c.ui.is_none() && c.verify.data.is_some() && c.verify.sigs.len() > 1 {
        return Err(Stop::Usage(usage_line(
            "inkan-verify",
            "--data names the data of one SIGNATURE_FILE; with several, NAME.p7s is checked against NAME beside it (or under --data-dir)",
        )));
    }
    Ok(c)
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

/// Runs a verification; returns the exit status.
pub fn run(a: &Args) -> u8 {
    let batch = a.sigs.len() > 1 || a.data_dir.is_some();
    let Some(sig) = a.sigs.first() else {
        return EXIT_USAGE;
    };
    // One file: exactly as before (its unreadability is the command's exit status at once).
    let bytes = if batch {
        Vec::new()
    } else {
        match read(sig) {
            Ok(b) => b,
            Err(c) => return c,
        }
    };
    let mut options = match a.material.options() {
        Ok(o) => Options {
            required_policies: a.policies.clone(),
            ..o
        },
        Err(c) => return c,
    };
    if let Some(d) = &a.data {
        if let Err(e) = std::fs::File::open(d) {
            eprintln!("inkan-verify: cannot read {}: {e}", d.display());
            return EXIT_NOINPUT;
        }
        options.data = Data::File(d.clone());
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
    if batch {
        return run_batch(a, &options, at);
    }
    let report = match crate::verify(&Input { bytes }, &options, at) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("inkan-verify: {e}");
            return EXIT_SOFTWARE;
        }
    };
    let code = report.indication.exit_code();
    let text = if a.format == Format::Json {
        format!("{}\n", report.to_json())
    } else {
        report.to_text(a.lang.unwrap_or_else(locale_lang))
    };
    match emit(&text) {
        Ok(()) | Err(None) => code,
        Err(Some(c)) => c,
    }
}

/// Suffixes of signature files whose data is the file named without them (the contract:
/// `NAME.p7s`, `NAME.tsr`; also `.p7m` and `.tst`), compared without regard to case.
const PAIRED_SUFFIXES: [&str; 4] = [".p7s", ".p7m", ".tsr", ".tst"];

/// Where the data of the detached signature or time-stamp `sig` is: `NAME` for `NAME.p7s`
/// (`.p7s`, `.p7m`, `.tsr`, `.tst`) beside it, or in `data_dir`. `None` when the name has no such
/// suffix.
pub fn paired_data(sig: &Path, data_dir: Option<&Path>) -> Option<PathBuf> {
    let name = sig.file_name()?.to_str()?;
    let lower = name.to_ascii_lowercase();
    let suffix = PAIRED_SUFFIXES.iter().find(|x| lower.ends_with(*x))?;
    let stem = &name[..name.len() - suffix.len()];
    if stem.is_empty() {
        return None;
    }
    let dir = match data_dir {
        Some(d) => d.to_path_buf(),
        None => sig
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
    };
    Some(dir.join(stem))
}

/// Several signature files in one call: each paired with its data, one
/// verdict per file (text, then a summary) or one JSON object per line; the exit status is
/// the worst (66 when a file could not be read, then TOTAL-FAILED, then INDETERMINATE). One
/// [`crate::Validator`] serves every file, so the trust anchors, CRLs and OCSP responses are
/// parsed once and their signatures verified once.
fn run_batch(a: &Args, base: &Options, at: UnixTime) -> u8 {
    use crate::checks::Indication;
    let lang = a.lang.unwrap_or_else(locale_lang);
    let ja = lang == Lang::Ja;
    let validator = crate::Validator::default();
    let mut counts = [0usize; 3];
    let mut unreadable = 0usize;
    let mut worst: Option<Indication> = None;
    for sig in &a.sigs {
        let bytes = match read_quietly(sig) {
            Ok(b) => b,
            Err(why) => {
                unreadable += 1;
                eprintln!("inkan-verify: {}: {why}", sig.display());
                let line = if a.format == Format::Json {
                    format!(
                        "{}\n",
                        serde_json::json!({"file": sig.display().to_string(), "error": why})
                    )
                } else {
                    format!(
                        "== {}\n{}: {why}\n\n",
                        sig.display(),
                        if ja {
                            "読み取れません"
                        } else {
                            "cannot be read"
                        }
                    )
                };
                if let Err(c) = emit(&line) {
                    return c.unwrap_or(EXIT_NOINPUT);
                }
                continue;
            }
        };
        let wanted = if crate::needs_data(&bytes) {
            paired_data(sig, a.data_dir.as_deref())
        } else {
            None
        };
        let found = wanted.as_ref().filter(|p| p.is_file()).cloned();
        let mut options = base.clone();
        options.data = found.clone().map_or(Data::None, Data::File);
        let report = match validator.verify(&Input { bytes }, &options, at) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("inkan-verify: {}: {e}", sig.display());
                return EXIT_SOFTWARE;
            }
        };
        let i = report.indication;
        counts[usize::from(i.severity())] += 1;
        if worst.is_none_or(|w| i.severity() > w.severity()) {
            worst = Some(i);
        }
        let text = if a.format == Format::Json {
            let mut v = serde_json::to_value(&report).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("file".into(), sig.display().to_string().into());
                o.insert(
                    "data".into(),
                    found
                        .as_ref()
                        .map_or(serde_json::Value::Null, |p| p.display().to_string().into()),
                );
            }
            format!("{v}\n")
        } else {
            let data = match (&found, &wanted) {
                (Some(p), _) => format!(
                    " ({} {})",
                    if ja { "データ:" } else { "data:" },
                    p.display()
                ),
                (None, Some(p)) => format!(
                    " ({} {})",
                    if ja {
                        "データが見つかりません:"
                    } else {
                        "data not found:"
                    },
                    p.display()
                ),
                (None, None) => String::new(),
            };
            format!("== {}{data}\n{}\n", sig.display(), report.to_text(lang))
        };
        let code = worst_code(unreadable, worst);
        if let Err(c) = emit(&text) {
            return c.unwrap_or(code);
        }
    }
    let code = worst_code(unreadable, worst);
    if a.format != Format::Json {
        let [passed, indeterminate, failed] = counts;
        let n = a.sigs.len();
        let summary = if ja {
            format!(
                "集計: {n} 件 — 有効 (TOTAL-PASSED) {passed} 件、無効 (TOTAL-FAILED) {failed} 件、判定不能 (INDETERMINATE) {indeterminate} 件、読み取れない {unreadable} 件\n"
            )
        } else {
            format!(
                "Summary: {n} files: {passed} TOTAL-PASSED, {failed} TOTAL-FAILED, {indeterminate} INDETERMINATE, {unreadable} unreadable\n"
            )
        };
        if let Err(Some(c)) = emit(&summary) {
            return c;
        }
    }
    code
}

/// The exit status of a batch: 66 when a file could not be read, else the worst verdict's.
fn worst_code(unreadable: usize, worst: Option<crate::checks::Indication>) -> u8 {
    if unreadable > 0 {
        EXIT_NOINPUT
    } else {
        worst.map_or(0, |w| w.exit_code())
    }
}

/// As [`read`], returning the reason instead of printing it.
fn read_quietly(p: &Path) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(p).map_err(|e| e.to_string())?;
    if meta.len() > crate::input::MAX_INPUT as u64 {
        return Err("too large".into());
    }
    std::fs::read(p).map_err(|e| e.to_string())
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
        assert_eq!(parse_rfc3339("2024-02-31T00:00:00Z"), None);
    }

    #[test]
    fn policy_option() {
        let args = |v: &[&str]| parse(v.iter().map(OsString::from).collect()).map(|c| c.verify);
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

    #[test]
    fn several_files_and_pairing() {
        let args = |v: &[&str]| parse(v.iter().map(OsString::from).collect()).map(|c| c.verify);
        assert_eq!(args(&["a.p7s", "b.tsr"]).unwrap().sigs.len(), 2);
        assert!(args(&["a.p7s", "b.p7s", "--data", "a"]).is_err());
        assert!(args(&["a.p7s", "--data", "a", "--data-dir", "d"]).is_err());
        assert!(args(&["a.p7s", "--data-dir", "d"]).is_ok());
        let p = |s: &str, d: Option<&str>| {
            paired_data(Path::new(s), d.map(Path::new)).map(|p| p.display().to_string())
        };
        assert_eq!(p("x/doc.pdf.p7s", None).as_deref(), Some("x/doc.pdf"));
        assert_eq!(p("doc.pdf.P7S", None).as_deref(), Some("./doc.pdf"));
        assert_eq!(
            p("x/doc.txt.tsr", Some("data")).as_deref(),
            Some("data/doc.txt")
        );
        assert_eq!(p("x/doc.sig", None), None);
        assert_eq!(p(".p7s", None), None);
    }
}
