//! The command-line convention shared by the four binaries (`inkan-tsa`, `inkan-sign`,
//! `inkan-verify`, `inkan-hsm`): exit statuses in one place (BSD `sysexits.h`, as the
//! contract names them), one look for the help that clap generates ([`convention`]), and
//! one way to end on bad usage ([`parse`], [`usage_line`]).
//!
//! A usage error is one line on standard error, `PROG: MESSAGE; see PROG --help`, with
//! `(did you mean --NAME?)` when clap found an option (or command, or value) close to the one
//! given. `--help` and `--version` print to standard output and exit 0; a reader that went
//! away (`inkan-sign --help | head -1`) ends the command quietly.
//!
//! The argument parser is `clap` (derive), the convention Rust users know, without its
//! `color` feature (no terminal styling crates): the same definitions also give the shell
//! completions and manual pages (`docs/completions`, `docs/man`).

use std::ffi::OsString;
use std::io::Write as _;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, Command, FromArgMatches};

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

/// The heading of the options in every help text.
pub const OPTIONS: &str = "OPTIONS";

/// The layout of every help text: the summary, the synopsis, the options by section, the
/// notes (exit statuses and the like).
const TEMPLATE: &str = "{about-with-newline}\nUSAGE:\n{usage}\n\n{all-args}{after-help}";

/// `cmd` (and its subcommands) in the house layout: summary, USAGE, options, notes; headings in
/// capitals, `-h, --help` ("this text") and, where the command has a version,
/// `-V, --version` listed last under [`OPTIONS`], no `help` subcommand.
pub fn convention(cmd: Command) -> Command {
    let version = cmd.get_version().is_some();
    let mut cmd = cmd
        .help_template(TEMPLATE)
        .subcommand_help_heading("COMMANDS")
        .subcommand_value_name("COMMAND")
        .disable_help_subcommand(true)
        // A missing command is a one-line usage error like any other, not the whole help.
        .arg_required_else_help(false)
        // A flag given twice: the last one counts (as the binaries always did), except
        // where a command checks it itself (inkan-sign --commitment-type).
        .args_override_self(true)
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help("this text")
                .help_heading(OPTIONS),
        );
    if version {
        cmd = cmd.arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help("the version")
                .help_heading(OPTIONS),
        );
    }
    cmd.mut_subcommands(convention)
}

/// Why a command line ends before any work: it asked for the help or the version, or it is
/// bad usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// `--help` or `--version`: this text goes to standard output, exit 0.
    Print(String),
    /// Bad usage: this one line goes to standard error, exit 64 ([`EXIT_USAGE`]).
    Usage(String),
}

impl Stop {
    /// Writes the text where it belongs and returns the exit status. A closed standard output
    /// is no error for `--help` (as for any report: the reader went away).
    pub fn finish(&self) -> u8 {
        match self {
            Self::Print(text) => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
                EXIT_OK
            }
            Self::Usage(line) => {
                eprintln!("{line}");
                EXIT_USAGE
            }
        }
    }

    /// The exit status: 0 for the help or the version, 64 for bad usage.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Print(_) => EXIT_OK,
            Self::Usage(_) => EXIT_USAGE,
        }
    }
}

/// The text to print: the help, the version or the usage line.
impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Print(t) | Self::Usage(t) => f.write_str(t),
        }
    }
}

/// Parses `args` (without the program name) by `cmd` into `T`. The program name is `cmd`'s.
pub fn parse<T: FromArgMatches>(
    mut cmd: Command,
    args: impl IntoIterator<Item = OsString>,
) -> Result<T, Stop> {
    let args: Vec<OsString> = args.into_iter().collect();
    let prog = cmd.get_name().to_owned();
    let argv = std::iter::once(OsString::from(&prog)).chain(args.iter().cloned());
    cmd.try_get_matches_from_mut(argv)
        .and_then(|m| T::from_arg_matches(&m))
        .map_err(|e| match e.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                Stop::Print(e.render().to_string())
            }
            _ => Stop::Usage(error_line(&prog, &e, &command_path(&cmd, &args))),
        })
}

/// The one-line usage error of `prog` for the clap error `e`: clap's own words (the option
/// named, the value refused and why), its suggestion as the hint, and the `--help` to read
/// (`see`: `prog` or `prog COMMAND`).
pub fn error_line(prog: &str, e: &clap::Error, see: &str) -> String {
    let rendered = e.render().to_string();
    // clap's message is its first paragraph; later lines of it (`\n  --key <KEYREF>`,
    // `\n  [possible values: ...]`) are joined into the line.
    let message: Vec<&str> = rendered
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let message = message.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    let hint = match (
        e.get(ContextKind::SuggestedArg),
        e.get(ContextKind::SuggestedSubcommand),
        e.get(ContextKind::SuggestedValue),
    ) {
        (Some(ContextValue::String(s)), _, _) => Some(s.clone()),
        (_, Some(ContextValue::Strings(s)), _) => s.first().cloned(),
        (_, _, Some(ContextValue::String(s))) => Some(s.clone()),
        _ => None,
    };
    line(prog, message, hint.as_deref(), see)
}

/// The one-line usage error of `prog` for a problem found after parsing (flags that
/// exclude each other in a way clap does not express, a value a later check refuses).
pub fn usage_line(prog: &str, message: &str) -> String {
    line(prog, message, None, prog)
}

fn line(prog: &str, message: &str, hint: Option<&str>, see: &str) -> String {
    let message = message.lines().next().unwrap_or_default().trim_end();
    match hint {
        Some(h) => format!("{prog}: {message} (did you mean {h}?); see {see} --help"),
        None => format!("{prog}: {message}; see {see} --help"),
    }
}

/// `inkan-tsa serve` when the first argument names a command of `cmd`, else `inkan-tsa`:
/// the (sub)command whose `--help` explains the usage (the commands of the four binaries
/// come first on the command line).
fn command_path(cmd: &Command, args: &[OsString]) -> String {
    let prog = cmd.get_name();
    args.first()
        .and_then(|a| a.to_str())
        .and_then(|a| cmd.find_subcommand(a))
        .map_or_else(
            || prog.to_owned(),
            |sub| format!("{prog} {}", sub.get_name()),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd() -> Command {
        convention(
            Command::new("x")
                .version("1.0")
                .about("x: a test command")
                .override_usage("  x [--data FILE] [--trust PEM]... FILE\n  x sub [--level L]")
                .next_help_heading(OPTIONS)
                .arg(Arg::new("data").long("data").value_name("FILE"))
                .arg(Arg::new("data-dir").long("data-dir").value_name("DIR"))
                .arg(
                    Arg::new("trust")
                        .long("trust")
                        .action(ArgAction::Append)
                        .help("trust anchors; repeatable"),
                )
                .arg(
                    Arg::new("revocation")
                        .long("revocation")
                        .value_parser(["required", "optional"]),
                )
                .arg(Arg::new("file").required(true))
                .args_conflicts_with_subcommands(true)
                .subcommand_negates_reqs(true)
                .subcommand(
                    Command::new("sub")
                        .override_usage("  x sub [--level L]")
                        .arg(Arg::new("level").long("level").required(true)),
                ),
        )
    }

    fn usage(args: &[&str]) -> String {
        match parse::<()>(cmd(), args.iter().map(OsString::from)) {
            Err(Stop::Usage(l)) => l,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn one_line_with_a_hint() {
        assert_eq!(
            usage(&["--trsut", "a", "f"]),
            "x: unexpected argument '--trsut' found (did you mean --trust?); see x --help"
        );
        assert_eq!(
            usage(&["--bogus", "f"]),
            "x: unexpected argument '--bogus' found; see x --help"
        );
        assert_eq!(
            usage(&["f", "--data"]),
            "x: a value is required for '--data <FILE>' but none was supplied; see x --help"
        );
        assert_eq!(
            usage(&["f", "--revocation", "optinal"]),
            "x: invalid value 'optinal' for '--revocation <revocation>' [possible values: \
             required, optional] (did you mean optional?); see x --help"
        );
        // In a subcommand: its --help is the one to read; missing flags are named.
        assert_eq!(
            usage(&["sub"]),
            "x: the following required arguments were not provided: --level <level>; \
             see x sub --help"
        );
        assert_eq!(
            usage(&["sub", "--levl", "2"]),
            "x: unexpected argument '--levl' found (did you mean --level?); see x sub --help"
        );
        assert_eq!(usage_line("x", "bad\nmore"), "x: bad; see x --help");
    }

    #[test]
    fn help_and_version_go_to_standard_output() {
        let help = |a: &str| match parse::<()>(cmd(), [OsString::from(a)]) {
            Err(s @ Stop::Print(_)) => s,
            other => panic!("{other:?}"),
        };
        let Stop::Print(text) = help("--help") else {
            unreachable!()
        };
        assert!(
            text.starts_with("x: a test command\n\nUSAGE:\n  x [--data FILE]"),
            "{text}"
        );
        assert!(text.contains("OPTIONS:"), "{text}");
        assert!(
            text.contains("--trust <trust>            trust anchors; repeatable"),
            "{text}"
        );
        assert_eq!(text.matches("OPTIONS:").count(), 1, "{text}");
        assert!(text.contains("-h, --help"), "{text}");
        assert_eq!(help("-h"), Stop::Print(text.clone()));
        assert_eq!(help("-V"), Stop::Print("x 1.0\n".into()));
        assert_eq!(help("--version").exit_code(), EXIT_OK);
        assert_eq!(Stop::Usage(String::new()).exit_code(), EXIT_USAGE);
    }
}
