//! Command-line parsing (lexopt) for `inkan-tsa serve`, `inkan-tsa records` and
//! `inkan-tsa events`.

use std::ffi::OsString;
use std::path::PathBuf;

use inkan_profiles::time::UnixTime;

use crate::config::Overrides;
use crate::records::Query;

/// Exit status for a usage or configuration error (BSD `EX_USAGE`).
pub const EXIT_USAGE: u8 = inkan_profiles::cli::EXIT_USAGE;
/// Exit status for a failure at run time (BSD `EX_SOFTWARE`).
pub const EXIT_FAILURE: u8 = inkan_profiles::cli::EXIT_SOFTWARE;

/// The help text.
pub const HELP: &str = "\
inkan-tsa: an RFC 3161 time-stamp authority (HTTP, CRYPTREC policy, durable records)

USAGE:
  inkan-tsa serve [--config FILE] [--listen ADDR:PORT] [--key KEYREF] [--cert-chain PEM]
                  [--policy OID] [--accuracy-ms N] [--data-dir DIR] [--store URL] [--dev]
                  [--ntp HOST[:PORT]]... [--ntp-poll-ms N]
  inkan-tsa records [--config FILE] [--data-dir DIR | --store URL]
                    (--serial HEX | --imprint HEX | --from TIME --to TIME | --verify-chain)
  inkan-tsa events [--config FILE] [--data-dir DIR | --store URL] --from TIME --to TIME
  inkan-tsa check [flags as for serve]
  inkan-tsa backup [--config FILE] [--data-dir DIR] --out FILE
  inkan-tsa --help | --version

serve:
  --config FILE       TOML configuration (see inkan-tsa.example.toml); flags override it
  --listen ADDR:PORT  listen address (default 127.0.0.1:3161)
  --key KEYREF        PKCS#8 PEM file or pkcs11: URI (PIN via pin-source, never a flag)
  --cert-chain PEM    TSA certificate first, then its issuers
  --policy OID        default TSA policy
  --accuracy-ms N     declared accuracy, 1..=1000 (default 1000)
  --data-dir DIR      records store and dev PKI (default ./inkan-tsa-data)
  --store URL         shared records store postgresql://USER@HOST[:PORT]/DB (password from
                      PGPASSWORD or ?password-source=env:NAME|FILE; sslmode, sslrootcert)
  --dev               development TSA: makes a dev CA, TSA certificate and P-256 key once
                      under the data dir (NOT FOR PRODUCTION), policy 1.2.3.4.1
  --ntp HOST[:PORT]   SNTP server to check the clock against (repeatable); without any,
                      the host clock is trusted; `--ntp none` means no servers (it
                      overrides the config file's ntp_servers)
  --ntp-poll-ms N     SNTP poll interval (default 16000)

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
  check failed), 70 failure.
";

/// A parsed command line.
#[derive(Debug)]
pub enum Command {
    /// `--help`.
    Help,
    /// `--version`.
    Version,
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

fn text(v: OsString, flag: &str) -> Result<String, String> {
    v.into_string()
        .map_err(|_| format!("{flag}: not valid UTF-8"))
}

fn number(v: OsString, flag: &str) -> Result<u64, String> {
    let s = text(v, flag)?;
    s.parse()
        .map_err(|_| format!("{flag}: not a number: {s:?}"))
}

/// Parses arguments (without the program name).
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, String> {
    use lexopt::prelude::*;
    let mut p = lexopt::Parser::from_args(args);
    let first = match p.next().map_err(|e| e.to_string())? {
        None => {
            return Err(
                "missing command: serve, check, records, events or backup (see --help)".into(),
            );
        }
        Some(Short('h') | Long("help")) => return Ok(Command::Help),
        Some(Short('V') | Long("version")) => return Ok(Command::Version),
        Some(Value(v)) => text(v, "command")?,
        Some(other) => return Err(other.unexpected().to_string()),
    };
    match first.as_str() {
        "serve" | "check" => {
            let mut o = Overrides::default();
            while let Some(arg) = p.next().map_err(|e| e.to_string())? {
                match arg {
                    Short('h') | Long("help") => return Ok(Command::Help),
                    Long("config") => o.config = Some(p.value().map_err(|e| e.to_string())?.into()),
                    Long("listen") => {
                        o.listen = Some(text(p.value().map_err(|e| e.to_string())?, "--listen")?)
                    }
                    Long("key") => {
                        o.key = Some(text(p.value().map_err(|e| e.to_string())?, "--key")?)
                    }
                    Long("cert-chain") => {
                        o.cert_chain = Some(p.value().map_err(|e| e.to_string())?.into());
                    }
                    Long("policy") => {
                        o.policy = Some(text(p.value().map_err(|e| e.to_string())?, "--policy")?)
                    }
                    Long("accuracy-ms") => {
                        o.accuracy_ms = Some(number(
                            p.value().map_err(|e| e.to_string())?,
                            "--accuracy-ms",
                        )?);
                    }
                    Long("data-dir") => {
                        o.data_dir = Some(p.value().map_err(|e| e.to_string())?.into())
                    }
                    Long("store") => {
                        o.store = Some(text(p.value().map_err(|e| e.to_string())?, "--store")?)
                    }
                    Long("dev") => o.dev = true,
                    Long("ntp") => o
                        .ntp
                        .push(text(p.value().map_err(|e| e.to_string())?, "--ntp")?),
                    Long("ntp-poll-ms") => {
                        o.ntp_poll_ms = Some(number(
                            p.value().map_err(|e| e.to_string())?,
                            "--ntp-poll-ms",
                        )?);
                    }
                    other => return Err(other.unexpected().to_string()),
                }
            }
            Ok(if first == "check" {
                Command::Check(o)
            } else {
                Command::Serve(o)
            })
        }
        "backup" => {
            let (mut config, mut data_dir, mut store, mut out) = (None, None, None, None);
            while let Some(arg) = p.next().map_err(|e| e.to_string())? {
                match arg {
                    Short('h') | Long("help") => return Ok(Command::Help),
                    Long("config") => config = Some(p.value().map_err(|e| e.to_string())?.into()),
                    Long("data-dir") => {
                        data_dir = Some(p.value().map_err(|e| e.to_string())?.into())
                    }
                    Long("store") => {
                        store = Some(text(p.value().map_err(|e| e.to_string())?, "--store")?)
                    }
                    Long("out") => out = Some(p.value().map_err(|e| e.to_string())?.into()),
                    other => return Err(other.unexpected().to_string()),
                }
            }
            let out = out.ok_or("backup needs --out FILE (a new file)")?;
            Ok(Command::Backup {
                config,
                data_dir,
                store,
                out,
            })
        }
        "records" => {
            let (mut config, mut data_dir, mut store) = (None, None, None);
            let (mut serial, mut imprint, mut from, mut to) = (None, None, None, None);
            let mut verify = false;
            while let Some(arg) = p.next().map_err(|e| e.to_string())? {
                match arg {
                    Short('h') | Long("help") => return Ok(Command::Help),
                    Long("verify-chain") => verify = true,
                    Long("store") => {
                        store = Some(text(p.value().map_err(|e| e.to_string())?, "--store")?)
                    }
                    Long("config") => config = Some(p.value().map_err(|e| e.to_string())?.into()),
                    Long("data-dir") => {
                        data_dir = Some(p.value().map_err(|e| e.to_string())?.into())
                    }
                    Long("serial") => {
                        serial = Some(text(p.value().map_err(|e| e.to_string())?, "--serial")?)
                    }
                    Long("imprint") => {
                        imprint = Some(text(p.value().map_err(|e| e.to_string())?, "--imprint")?)
                    }
                    Long("from") => {
                        from = Some(text(p.value().map_err(|e| e.to_string())?, "--from")?)
                    }
                    Long("to") => to = Some(text(p.value().map_err(|e| e.to_string())?, "--to")?),
                    other => return Err(other.unexpected().to_string()),
                }
            }
            if verify {
                if serial.is_some() || imprint.is_some() || from.is_some() || to.is_some() {
                    return Err("--verify-chain takes no query (it checks every record)".into());
                }
                return Ok(Command::VerifyChain {
                    config,
                    data_dir,
                    store,
                });
            }
            let query = match (serial, imprint, from, to) {
                (Some(s), None, None, None) => Query::Serial(
                    crate::serial::from_hex(&s)
                        .ok_or_else(|| format!("--serial: not hex: {s:?}"))?,
                ),
                (None, Some(i), None, None) => Query::Imprint(
                    crate::records::unhex(&i)
                        .ok_or_else(|| format!("--imprint: not hex: {i:?}"))?,
                ),
                (None, None, Some(f), Some(t)) => Query::Range(
                    parse_time_bound(&f, false, "--from")?,
                    parse_time_bound(&t, true, "--to")?,
                ),
                _ => {
                    return Err(
                        "records needs exactly one of --serial HEX, --imprint HEX, --from and --to, or --verify-chain"
                            .into(),
                    );
                }
            };
            Ok(Command::Records {
                config,
                data_dir,
                store,
                query,
            })
        }
        "events" => {
            let (mut config, mut data_dir, mut from, mut to) = (None, None, None, None);
            let mut store = None;
            while let Some(arg) = p.next().map_err(|e| e.to_string())? {
                match arg {
                    Short('h') | Long("help") => return Ok(Command::Help),
                    Long("store") => {
                        store = Some(text(p.value().map_err(|e| e.to_string())?, "--store")?)
                    }
                    Long("config") => config = Some(p.value().map_err(|e| e.to_string())?.into()),
                    Long("data-dir") => {
                        data_dir = Some(p.value().map_err(|e| e.to_string())?.into())
                    }
                    Long("from") => {
                        from = Some(text(p.value().map_err(|e| e.to_string())?, "--from")?)
                    }
                    Long("to") => to = Some(text(p.value().map_err(|e| e.to_string())?, "--to")?),
                    other => return Err(other.unexpected().to_string()),
                }
            }
            let (Some(f), Some(t)) = (from, to) else {
                return Err("events needs --from TIME and --to TIME".into());
            };
            Ok(Command::Events {
                config,
                data_dir,
                store,
                from: parse_time_bound(&f, false, "--from")?,
                to: parse_time_bound(&t, true, "--to")?,
            })
        }
        other => Err(format!(
            "unknown command {other:?}: serve, check, records, events or backup (see --help)"
        )),
    }
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
        assert!(matches!(
            parse(args(&["--version"])).unwrap(),
            Command::Version
        ));
    }
}
