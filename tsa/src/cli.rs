//! Command-line parsing for `inkan-tsa serve`, `check`, `records`, `events` and `backup`
//! (clap, in the convention of [`inkan_profiles::cli`]).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};
use inkan_profiles::cli::{OPTIONS, Stop, usage_line};
use inkan_profiles::time::UnixTime;

use crate::config::Overrides;
use crate::records::Query;

/// Exit status for a usage or configuration error (BSD `EX_USAGE`).
pub const EXIT_USAGE: u8 = inkan_profiles::cli::EXIT_USAGE;
/// Exit status for a failure at run time (BSD `EX_SOFTWARE`).
pub const EXIT_FAILURE: u8 = inkan_profiles::cli::EXIT_SOFTWARE;

/// The notes after the commands in `--help`.
const NOTES: &str = "\
records: prints matching issuance records as JSON lines; exit 1 when none match (`no
  records` on standard error). TIME is RFC 3339 (2026-12-07T09:00:00+09:00) or a UTC date
  (2026-12-07: --from takes its first instant, --to its last).
  --verify-chain checks the hash chain over every record (each carries the hash of the one
  before it): exit 0 when intact, 1 naming the first record changed, removed or inserted.
events: prints the service events (start and stop, clock measurements, clock lost and
  regained, certificate and key warnings, store outages, rejection counts) between the two
  times as JSON lines; exit 1 when there are none.

check: runs every start-up check of serve (configuration, key, certificate chain and policy,
  one query to each SNTP server) without opening the records store or the port, so it runs
  beside a production TSA; prints what it found; exit 0 when serve would start, 64 with the
  reason otherwise. A shared store (--store) is checked read-only over the network
  (connection, TLS, schema version, privileges, instance leases, synchronous_commit). Relative paths in a config file resolve from the file's folder.
backup: copies the records store (records, events, serial bookkeeping) in one read
  transaction while the TSA runs, to a new file; restore by stopping the TSA and putting the
  copy back as DATA_DIR/records.redb (see docs/operations.md; serials never repeat). A shared
  PostgreSQL store (--store or the config's store) is backed up with PostgreSQL's own tools
  (pg_basebackup with WAL archiving, pg_dump): backup says so and exits 64
  (docs/deployment.md).
SIGHUP: reloads the key and certificate chain the configuration names (the new pair must pass
  every start-up check, or the old one stays); never stops the server.

Endpoints: POST / (application/timestamp-query), GET /healthz, /readyz, /metrics.
Exit status: 0 success, 1 no record found, 64 usage or configuration error (or a start-up
  check failed), 70 failure.";

/// The `inkan-tsa` command line (`--help` is generated from it; see [`command`]).
#[derive(Debug, Parser)]
#[command(
    name = "inkan-tsa",
    version,
    about = "inkan-tsa: an RFC 3161 time-stamp authority (HTTP, CRYPTREC policy, durable records)",
    override_usage = "  inkan-tsa serve [--config FILE] [--listen ADDR:PORT] [--key KEYREF] [--cert-chain PEM]
                  [--policy OID] [--accuracy-ms N] [--data-dir DIR] [--store URL] [--dev]
                  [--ntp HOST[:PORT]]... [--ntp-poll-ms N]
  inkan-tsa records [--config FILE] [--data-dir DIR | --store URL]
                    (--serial HEX | --imprint HEX | --from TIME --to TIME | --verify-chain)
  inkan-tsa events [--config FILE] [--data-dir DIR | --store URL] --from TIME --to TIME
  inkan-tsa check [flags as for serve]
  inkan-tsa backup [--config FILE] [--data-dir DIR] --out FILE
  inkan-tsa COMMAND --help | inkan-tsa --help | --version",
    after_help = NOTES
)]
struct CommandLine {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, Subcommand)]
enum Sub {
    /// run the time-stamp authority (flags override the configuration file)
    #[command(
        override_usage = "  inkan-tsa serve [--config FILE] [--listen ADDR:PORT] [--key KEYREF] [--cert-chain PEM]
                  [--policy OID] [--accuracy-ms N] [--data-dir DIR] [--store URL] [--dev]
                  [--ntp HOST[:PORT]]... [--ntp-poll-ms N]"
    )]
    Serve(ServeArgs),
    /// run every start-up check of serve, without the records store or the port
    #[command(override_usage = "  inkan-tsa check [flags as for serve]")]
    Check(ServeArgs),
    /// print matching issuance records as JSON lines, or check their hash chain
    #[command(
        override_usage = "  inkan-tsa records [--config FILE] [--data-dir DIR | --store URL]
                    (--serial HEX | --imprint HEX | --from TIME --to TIME | --verify-chain)"
    )]
    Records(RecordsArgs),
    /// print the service events between two times as JSON lines
    #[command(
        override_usage = "  inkan-tsa events [--config FILE] [--data-dir DIR | --store URL] --from TIME --to TIME"
    )]
    Events(EventsArgs),
    /// copy the records store while the TSA runs, to a new file
    #[command(override_usage = "  inkan-tsa backup [--config FILE] [--data-dir DIR] --out FILE")]
    Backup(BackupArgs),
}

/// The flags of `serve` and `check`.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = OPTIONS)]
struct ServeArgs {
    /// TOML configuration (see inkan-tsa.example.toml); flags override it
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// listen address (default 127.0.0.1:3161)
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<String>,
    /// PKCS#8 PEM file or pkcs11: URI (PIN via pin-source, never a flag)
    #[arg(long, value_name = "KEYREF")]
    key: Option<String>,
    /// TSA certificate first, then its issuers
    #[arg(long, value_name = "PEM")]
    cert_chain: Option<PathBuf>,
    /// default TSA policy
    #[arg(long, value_name = "OID")]
    policy: Option<String>,
    /// declared accuracy, 1..=1000 (default 1000)
    #[arg(long, value_name = "N")]
    accuracy_ms: Option<u64>,
    /// records store and dev PKI (default ./inkan-tsa-data)
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// shared records store postgresql://USER@HOST[:PORT]/DB (password from PGPASSWORD or
    /// ?password-source=env:NAME|FILE; sslmode, sslrootcert)
    #[arg(long, value_name = "URL")]
    store: Option<String>,
    /// development TSA: makes a dev CA, TSA certificate and P-256 key once under the data dir
    /// (NOT FOR PRODUCTION), policy 1.2.3.4.1
    #[arg(long)]
    dev: bool,
    /// SNTP server to check the clock against (repeatable); without any, the host clock is
    /// trusted; `--ntp none` means no servers (it overrides the config file's ntp_servers)
    #[arg(long, value_name = "HOST[:PORT]")]
    ntp: Vec<String>,
    /// SNTP poll interval (default 16000)
    #[arg(long, value_name = "N")]
    ntp_poll_ms: Option<u64>,
}

impl From<ServeArgs> for Overrides {
    fn from(a: ServeArgs) -> Self {
        Self {
            config: a.config,
            listen: a.listen,
            key: a.key,
            cert_chain: a.cert_chain,
            policy: a.policy,
            accuracy_ms: a.accuracy_ms,
            data_dir: a.data_dir,
            store: a.store,
            dev: a.dev,
            ntp: a.ntp,
            ntp_poll_ms: a.ntp_poll_ms,
        }
    }
}

/// Where the records are: `--config`, `--data-dir`, `--store`.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = OPTIONS)]
struct StoreArgs {
    /// TOML configuration (its data_dir and store)
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// the records store of a TSA (default ./inkan-tsa-data)
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// a shared records store postgresql://USER@HOST[:PORT]/DB
    #[arg(long, value_name = "URL")]
    store: Option<String>,
}

/// The flags of `records`.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = OPTIONS)]
struct RecordsArgs {
    #[command(flatten)]
    at: StoreArgs,
    /// the record of this serial number (hex)
    #[arg(long, value_name = "HEX")]
    serial: Option<String>,
    /// the records of this message imprint (hex)
    #[arg(long, value_name = "HEX")]
    imprint: Option<String>,
    /// the records issued from this time (RFC 3339, or a UTC date: its first instant)
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// the records issued up to this time (RFC 3339, or a UTC date: its last instant)
    #[arg(long, value_name = "TIME")]
    to: Option<String>,
    /// check the hash chain over every record: exit 0 when intact, 1 naming the first record
    /// changed, removed or inserted
    #[arg(long)]
    verify_chain: bool,
}

/// The flags of `events`.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = OPTIONS)]
struct EventsArgs {
    #[command(flatten)]
    at: StoreArgs,
    /// the events from this time (RFC 3339, or a UTC date: its first instant)
    #[arg(long, value_name = "TIME", required = true)]
    from: String,
    /// the events up to this time (RFC 3339, or a UTC date: its last instant)
    #[arg(long, value_name = "TIME", required = true)]
    to: String,
}

/// The flags of `backup`.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = OPTIONS)]
struct BackupArgs {
    #[command(flatten)]
    at: StoreArgs,
    /// the copy: a new file (it must not exist)
    #[arg(long, value_name = "FILE", required = true)]
    out: PathBuf,
}

/// The command-line definition of `inkan-tsa` in the house layout
/// ([`inkan_profiles::cli::convention`]): what `--help`, the shell completions and the manual
/// page are generated from.
pub fn command() -> clap::Command {
    inkan_profiles::cli::convention(CommandLine::command())
}

/// A parsed command line.
#[derive(Debug)]
pub enum Command {
    /// `serve`.
    Serve(Overrides),
    /// `check`: the start-up checks of `serve` with the same flags, without the store or port.
    Check(Overrides),
    /// `backup`: a consistent copy of the records store while the TSA runs.
    Backup {
        /// `--config`.
        config: Option<PathBuf>,
        /// `--data-dir`.
        data_dir: Option<PathBuf>,
        /// `--store URL`: refused with what to do instead (PostgreSQL's own backups).
        store: Option<String>,
        /// `--out`: the copy (must not exist).
        out: PathBuf,
    },
    /// `records`.
    Records {
        /// `--config`.
        config: Option<PathBuf>,
        /// `--data-dir`.
        data_dir: Option<PathBuf>,
        /// `--store URL`.
        store: Option<String>,
        /// The query.
        query: Query,
    },
    /// `records --verify-chain`.
    VerifyChain {
        /// `--config`.
        config: Option<PathBuf>,
        /// `--data-dir`.
        data_dir: Option<PathBuf>,
        /// `--store URL`.
        store: Option<String>,
    },
    /// `events`.
    Events {
        /// `--config`.
        config: Option<PathBuf>,
        /// `--data-dir`.
        data_dir: Option<PathBuf>,
        /// `--store URL`.
        store: Option<String>,
        /// `--from`.
        from: UnixTime,
        /// `--to`.
        to: UnixTime,
    },
}

/// Parses a `--from`/`--to` value: RFC 3339, or a date `YYYY-MM-DD` (UTC) meaning its first
/// instant (`end_of_day` false) or its last (`end_of_day` true), so that `--from D --to D`
/// covers the whole day.
pub fn parse_time_bound(s: &str, end_of_day: bool, flag: &str) -> Result<UnixTime, String> {
    let s = s.trim();
    let bad = || format!("{flag}: not an RFC 3339 time or a YYYY-MM-DD date: {s:?}");
    if s.len() == 10 {
        let start = crate::timefmt::parse_rfc3339(&format!("{s}T00:00:00Z")).ok_or_else(bad)?;
        return Ok(if end_of_day {
            UnixTime::new(start.secs() + 86_399, 999_999_999)
        } else {
            start
        });
    }
    crate::timefmt::parse_rfc3339(s).ok_or_else(bad)
}

/// Parses arguments (without the program name): a command, or the help, the version or a
/// usage error to print ([`Stop::finish`]).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, Stop> {
    let usage = |m: String| Stop::Usage(usage_line("inkan-tsa", &m));
    let c: CommandLine = inkan_profiles::cli::parse(command(), args)?;
    Ok(match c.command {
        Sub::Serve(a) => Command::Serve(a.into()),
        Sub::Check(a) => Command::Check(a.into()),
        Sub::Backup(a) => Command::Backup {
            config: a.at.config,
            data_dir: a.at.data_dir,
            store: a.at.store,
            out: a.out,
        },
        Sub::Events(a) => Command::Events {
            config: a.at.config,
            data_dir: a.at.data_dir,
            store: a.at.store,
            from: parse_time_bound(&a.from, false, "--from").map_err(usage)?,
            to: parse_time_bound(&a.to, true, "--to").map_err(usage)?,
        },
        Sub::Records(a) => {
            let StoreArgs {
                config,
                data_dir,
                store,
            } = a.at;
            if a.verify_chain {
                if a.serial.is_some() || a.imprint.is_some() || a.from.is_some() || a.to.is_some() {
                    return Err(usage(
                        "--verify-chain takes no query (it checks every record)".into(),
                    ));
                }
                return Ok(Command::VerifyChain {
                    config,
                    data_dir,
                    store,
                });
            }
            let query = match (a.serial, a.imprint, a.from, a.to) {
                (Some(s), None, None, None) => Query::Serial(
                    crate::serial::from_hex(&s)
                        .ok_or_else(|| usage(format!("--serial: not hex: {s:?}")))?,
                ),
                (None, Some(i), None, None) => Query::Imprint(
                    crate::records::unhex(&i)
                        .ok_or_else(|| usage(format!("--imprint: not hex: {i:?}")))?,
                ),
                (None, None, Some(f), Some(t)) => Query::Range(
                    parse_time_bound(&f, false, "--from").map_err(usage)?,
                    parse_time_bound(&t, true, "--to").map_err(usage)?,
                ),
                _ => {
                    return Err(usage(
                        "records needs exactly one of --serial HEX, --imprint HEX, --from and \
                         --to, or --verify-chain"
                            .into(),
                    ));
                }
            };
            Command::Records {
                config,
                data_dir,
                store,
                query,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<OsString> {
        s.iter().map(OsString::from).collect()
    }

    #[test]
    fn serve_flags() {
        let Command::Serve(o) = parse(args(&[
            "serve",
            "--dev",
            "--ntp",
            "a",
            "--ntp",
            "b:124",
            "--accuracy-ms",
            "200",
            "--listen",
            "127.0.0.1:0",
        ]))
        .unwrap() else {
            panic!()
        };
        assert!(o.dev);
        assert_eq!(o.ntp, vec!["a", "b:124"]);
        assert_eq!(o.accuracy_ms, Some(200));
    }

    #[test]
    fn records_queries() {
        assert!(matches!(
            parse(args(&["records", "--serial", "0x1f"])).unwrap(),
            Command::Records {
                query: Query::Serial(0x1f),
                ..
            }
        ));
        assert!(parse(args(&["records"])).is_err());
        assert!(parse(args(&["records", "--serial", "1", "--imprint", "00"])).is_err());
        assert!(parse(args(&["records", "--from", "2026-01-01T00:00:00Z"])).is_err());
        assert!(matches!(
            parse(args(&[
                "records",
                "--from",
                "2026-01-01T00:00:00Z",
                "--to",
                "2027-01-01T00:00:00Z"
            ]))
            .unwrap(),
            Command::Records {
                query: Query::Range(..),
                ..
            }
        ));
    }

    #[test]
    fn dates_cover_whole_days_and_verify_and_events_parse() {
        let Command::Records {
            query: Query::Range(from, to),
            ..
        } = parse(args(&[
            "records",
            "--from",
            "2026-12-07",
            "--to",
            "2026-12-07",
        ]))
        .unwrap()
        else {
            panic!()
        };
        // 2026-12-07T00:00:00Z .. 2026-12-07T23:59:59.999999999Z
        assert_eq!(from, UnixTime::from_secs(1_796_601_600));
        assert_eq!(to, UnixTime::new(1_796_601_600 + 86_399, 999_999_999));
        assert!(
            parse(args(&[
                "records",
                "--from",
                "2026-13-07",
                "--to",
                "2026-12-07"
            ]))
            .is_err()
        );
        assert!(matches!(
            parse(args(&["records", "--verify-chain", "--data-dir", "d"])).unwrap(),
            Command::VerifyChain { .. }
        ));
        assert!(parse(args(&["records", "--verify-chain", "--serial", "1"])).is_err());
        assert!(matches!(
            parse(args(&[
                "events",
                "--from",
                "2026-12-01",
                "--to",
                "2026-12-07T10:00:00+09:00"
            ]))
            .unwrap(),
            Command::Events { .. }
        ));
        assert!(parse(args(&["events", "--from", "2026-12-01"])).is_err());
    }

    #[test]
    fn check_takes_the_serve_flags_and_backup_needs_out() {
        let Command::Check(o) =
            parse(args(&["check", "--config", "c.toml", "--ntp", "none"])).unwrap()
        else {
            panic!()
        };
        assert_eq!(o.config.as_deref(), Some(std::path::Path::new("c.toml")));
        assert_eq!(o.ntp, vec!["none"]);
        assert!(matches!(
            parse(args(&["backup", "--data-dir", "d", "--out", "b.redb"])).unwrap(),
            Command::Backup { .. }
        ));
        assert!(parse(args(&["backup", "--data-dir", "d"])).is_err());
    }

    #[test]
    fn usage_errors() {
        assert!(parse(args(&[])).is_err());
        assert!(parse(args(&["frobnicate"])).is_err());
        assert!(parse(args(&["serve", "--bogus"])).is_err());
        assert!(parse(args(&["serve", "--accuracy-ms", "x"])).is_err());
        assert!(matches!(parse(args(&["--version"])), Err(Stop::Print(_))));
        assert!(matches!(
            parse(args(&["serve", "--help"])),
            Err(Stop::Print(_))
        ));
        // The one usage line names the flag and the command whose help to read.
        let Err(Stop::Usage(line)) = parse(args(&["serve", "--listne", "127.0.0.1:0"])) else {
            panic!()
        };
        assert_eq!(
            line,
            "inkan-tsa: unexpected argument '--listne' found (did you mean --listen?); \
             see inkan-tsa serve --help"
        );
    }
}
