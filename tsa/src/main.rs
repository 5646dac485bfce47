//! The `inkan-tsa` command: parse arguments, set up logging, load the configuration, run.
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use inkan_profiles::clock::{Clock, SystemClock};
use inkan_tsa::cli::{self, Command, EXIT_FAILURE, EXIT_USAGE};
use inkan_tsa::notify::Notifier;
use inkan_tsa::{app, config, records};

fn main() -> ExitCode {
    let cmd = match cli::parse(std::env::args_os().skip(1)) {
        Ok(c) => c,
        Err(stop) => return ExitCode::from(stop.finish()),
    };
    match cmd {
        Command::Records {
            config,
            data_dir,
            store,
            query,
        } => records_cmd(config, data_dir, store, &query),
        Command::VerifyChain {
            config,
            data_dir,
            store,
        } => verify_chain_cmd(config, data_dir, store),
        Command::Events {
            config,
            data_dir,
            store,
            from,
            to,
        } => events_cmd(config, data_dir, store, from, to),
        Command::Serve(o) => serve(&o),
        Command::Check(o) => check_cmd(&o),
        Command::Backup {
            config,
            data_dir,
            store,
            out,
        } => backup_cmd(config, data_dir, store, &out),
    }
}

/// `inkan-tsa check`: the start-up checks of `serve`, without the store or the port.
fn check_cmd(o: &config::Overrides) -> ExitCode {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match inkan_tsa::check::run(o, &SystemClock, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(r) => {
            eprintln!("inkan-tsa: {}", r.reason);
            ExitCode::from(r.status)
        }
    }
}

/// `inkan-tsa backup`: a consistent copy of the embedded records store, taken beside the
/// server. A shared PostgreSQL store is the database's to back up: refused with what to do.
fn backup_cmd(
    config: Option<std::path::PathBuf>,
    data_dir: Option<std::path::PathBuf>,
    store: Option<String>,
    out: &std::path::Path,
) -> ExitCode {
    let store = match store_of(store, config.as_deref()) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Some(url) = store {
        eprintln!("inkan-tsa: {}", inkan_tsa::pgstore::backup_advice(&url));
        return ExitCode::from(EXIT_USAGE);
    }
    let reader = match open_reader(config, data_dir, None) {
        Ok(r) => r,
        Err(code) => return code,
    };
    match reader.backup(out) {
        Ok(r) => {
            println!(
                "backup written to {}: {} records, {} events, {} serial prefixes; chain head {} (record #{})",
                out.display(),
                r.records,
                r.events,
                r.prefixes,
                r.chain.head_hex(),
                r.chain.next
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("inkan-tsa: backup failed: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// The data directory of `records`/`events`: `--data-dir`, else the config file's, else the
/// default.
fn data_dir_of(
    config: Option<std::path::PathBuf>,
    data_dir: Option<std::path::PathBuf>,
) -> Result<std::path::PathBuf, ExitCode> {
    match (data_dir, config) {
        (Some(d), _) => Ok(d),
        (None, Some(c)) => match config::FileConfig::load(&c) {
            Ok(f) => Ok(f
                .data_dir
                .unwrap_or_else(|| config::DEFAULT_DATA_DIR.into())),
            Err(e) => {
                eprintln!("inkan-tsa: {e}");
                Err(ExitCode::from(EXIT_USAGE))
            }
        },
        (None, None) => Ok(config::DEFAULT_DATA_DIR.into()),
    }
}

/// The shared store named by `--store`, else by the configuration's `store`; `None`: the
/// embedded store.
fn store_of(
    store: Option<String>,
    config: Option<&std::path::Path>,
) -> Result<Option<String>, ExitCode> {
    match (store, config) {
        (Some(s), _) => Ok(Some(s)),
        (None, Some(c)) => match config::FileConfig::load(c) {
            Ok(f) => Ok(f.store),
            Err(e) => {
                eprintln!("inkan-tsa: {e}");
                Err(ExitCode::from(EXIT_USAGE))
            }
        },
        (None, None) => Ok(None),
    }
}

fn open_reader(
    config: Option<std::path::PathBuf>,
    data_dir: Option<std::path::PathBuf>,
    store: Option<String>,
) -> Result<records::Reader, ExitCode> {
    // `--store`, else the configuration's `store`, else the embedded store.
    let store = store_of(store, config.as_deref())?;
    let dir = data_dir_of(config, data_dir)?;
    records::Reader::open_configured(store.as_deref(), &dir).map_err(|e| {
        eprintln!("inkan-tsa: {e}");
        ExitCode::from(EXIT_FAILURE)
    })
}

/// Prints JSON lines through `run`; exit 0 when some were printed, 1 (with `none` on
/// standard error) when none, 70 on a store or output failure.
fn print_lines(
    none: &str,
    run: impl FnOnce(&mut dyn FnMut(&str) -> std::io::Result<()>) -> Result<u64, records::StoreError>,
) -> ExitCode {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = run(&mut |line| writeln!(out, "{line}"));
    if out.flush().is_err() {
        return ExitCode::from(EXIT_FAILURE);
    }
    match result {
        Ok(0) => {
            eprintln!("inkan-tsa: {none}");
            ExitCode::from(1)
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("inkan-tsa: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn records_cmd(
    config: Option<std::path::PathBuf>,
    data_dir: Option<std::path::PathBuf>,
    store: Option<String>,
    query: &records::Query,
) -> ExitCode {
    let reader = match open_reader(config, data_dir, store) {
        Ok(r) => r,
        Err(code) => return code,
    };
    print_lines("no records", |out| reader.query(query, out))
}

fn events_cmd(
    config: Option<std::path::PathBuf>,
    data_dir: Option<std::path::PathBuf>,
    store: Option<String>,
    from: inkan_profiles::time::UnixTime,
    to: inkan_profiles::time::UnixTime,
) -> ExitCode {
    let reader = match open_reader(config, data_dir, store) {
        Ok(r) => r,
        Err(code) => return code,
    };
    print_lines("no events", |out| reader.events_between(from, to, out))
}

fn verify_chain_cmd(
    config: Option<std::path::PathBuf>,
    data_dir: Option<std::path::PathBuf>,
    store: Option<String>,
) -> ExitCode {
    let reader = match open_reader(config, data_dir, store) {
        Ok(r) => r,
        Err(code) => return code,
    };
    match reader.verify_chain() {
        Ok(Ok(report)) => {
            println!(
                "chain intact: {} records linked{}; head {} (record #{})",
                report.records,
                if report.legacy > 0 {
                    format!(
                        ", after {} earlier records covered by the genesis hash",
                        report.legacy
                    )
                } else {
                    String::new()
                },
                report.chain.head_hex(),
                report.chain.next
            );
            // A shared store: every instance number's chain and head, for the auditor to
            // keep outside the database (docs/deployment.md).
            for (n, c) in &report.instances {
                println!(
                    "instance {n}: {} records, head {} (record #{})",
                    c.next,
                    c.head_hex(),
                    c.next
                );
            }
            ExitCode::SUCCESS
        }
        Ok(Err(broken)) => {
            println!("chain broken: {broken}");
            eprintln!("inkan-tsa: records chain broken: {broken}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("inkan-tsa: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Logging to standard error: `INKAN_LOG` is an `EnvFilter` directive (default
/// `warn,inkan_tsa=info`); a value that does not parse is an error, never silence. Colour only
/// when standard error is a terminal and `NO_COLOR` is unset, so that files and journald get
/// plain text; `INKAN_LOG_FORMAT=json` gives one JSON object per line.
fn init_tracing() -> Result<(), String> {
    use std::io::IsTerminal as _;
    let filter = match std::env::var("INKAN_LOG") {
        Ok(v) if !v.trim().is_empty() => tracing_subscriber::EnvFilter::try_new(&v)
            .map_err(|e| format!("INKAN_LOG={v:?} is not a valid log filter ({e}); e.g. INKAN_LOG=info or INKAN_LOG=warn,inkan_tsa=debug"))?,
        Ok(_) | Err(std::env::VarError::NotPresent) => {
            tracing_subscriber::EnvFilter::new("warn,inkan_tsa=info")
        }
        Err(std::env::VarError::NotUnicode(_)) => return Err("INKAN_LOG is not UTF-8".into()),
    };
    let format = std::env::var("INKAN_LOG_FORMAT").unwrap_or_default();
    let json = match format.as_str() {
        "json" => true,
        "" | "text" => false,
        other => {
            return Err(format!("INKAN_LOG_FORMAT={other:?}: use json or text"));
        }
    };
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    if json {
        b.json().init();
    } else {
        b.init();
    }
    Ok(())
}

fn serve(o: &config::Overrides) -> ExitCode {
    if let Err(e) = init_tracing() {
        eprintln!("inkan-tsa: {e}");
        return ExitCode::from(EXIT_USAGE);
    }
    let settings = match config::load(o) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("inkan-tsa: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(settings.runtime_threads)
        .enable_all()
        .max_blocking_threads(settings.signing_threads.max(2) * 4)
        .thread_name("inkan-tsa")
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("inkan-tsa: cannot start the runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let dev = settings.dev;
    let data_dir = settings.data_dir.clone();
    let notifier = Arc::new(Notifier::from_socket(
        std::env::var_os("NOTIFY_SOCKET").as_deref(),
    ));
    let sd = move |state: &str| {
        if let Err(e) = notifier.notify(state) {
            tracing::warn!(error = %e, state, "cannot notify the service manager (NOTIFY_SOCKET)");
        }
    };
    let code = rt.block_on(async move {
        use tokio::signal::unix::{SignalKind, signal};
        // Installed before anything else, so that a SIGHUP during start-up (a log rotation
        // hook, a closed terminal) never takes the default action, which is to terminate.
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) else {
            eprintln!("inkan-tsa: cannot install the signal handlers");
            return ExitCode::from(EXIT_FAILURE);
        };
        let mut running = match app::start(settings, clock).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("inkan-tsa: {e}");
                return ExitCode::from(EXIT_USAGE);
            }
        };
        if dev {
            print_dev_help(running.addr, &data_dir);
        }
        sd("READY=1\nSTATUS=listening");
        let stop = running.stop_handle();
        let reloader = running.reloader();
        loop {
            tokio::select! {
                _ = term.recv() => break,
                _ = int.recv() => break,
                _ = hup.recv() => {
                    // SIGHUP: reload the key and certificate chain the configuration names
                    // (the configuration file is read again; flags still override it).
                    tracing::info!("SIGHUP: reloading the key and certificate chain");
                    sd("RELOADING=1\nSTATUS=reloading the key and certificate");
                    let next = config::load(o).map_err(|e| e.to_string());
                    // In its own task, so that SIGTERM is still answered while a slow HSM
                    // loads the new key (reloads run one at a time, see app::Reloader).
                    let (reloader, sd) = (reloader.clone(), sd.clone());
                    tokio::spawn(async move {
                        let status = match reloader.reload(next).await {
                            Ok(r) => format!("STATUS=listening; certificate sha256 {}", r.certificate_sha256),
                            Err(_) => "STATUS=listening; the last reload was refused (see the log)".to_owned(),
                        };
                        sd(&format!("READY=1\n{status}"));
                    });
                }
            }
        }
        tracing::info!("signal received: shutting down");
        sd("STOPPING=1\nSTATUS=finishing requests in flight");
        if let Some(s) = stop {
            let _ = s.send(());
        }
        running.wait().await;
        ExitCode::SUCCESS
    });
    // The records are flushed; a reload still waiting on the key (a hung HSM) must not hold
    // the exit.
    rt.shutdown_timeout(std::time::Duration::from_secs(5));
    code
}

fn print_dev_help(addr: std::net::SocketAddr, data_dir: &std::path::Path) {
    let root = inkan_tsa::dev::paths(data_dir).root;
    println!(
        "inkan-tsa --dev: DEVELOPMENT TSA on http://{addr}/ (development CA, NOT FOR PRODUCTION)
Try it:
  echo hello > hello.txt
  openssl ts -query -data hello.txt -sha256 -cert -out hello.tsq
  curl -s --data-binary @hello.tsq -H 'Content-Type: application/timestamp-query' http://{addr}/ -o hello.tsr
  openssl ts -reply -in hello.tsr -text
  openssl ts -verify -data hello.txt -in hello.tsr -CAfile {root}
Or in one line:
  openssl ts -query -data hello.txt -sha256 -cert | curl -s --data-binary @- -H 'Content-Type: application/timestamp-query' http://{addr}/ | openssl ts -reply -in - -text",
        root = root.display()
    );
}
