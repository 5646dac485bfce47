//! The `inkan-tsa` command: parse arguments, set up logging, load the configuration, run.
#![forbid(unsafe_code)]

use std::io::Write as _;
use std::process::ExitCode;
use std::sync::Arc;

use inkan_profiles::clock::{Clock, SystemClock};
use inkan_tsa::cli::{self, Command, EXIT_FAILURE, EXIT_USAGE};
use inkan_tsa::{app, config, records};

fn main() -> ExitCode {
    let cmd = match cli::parse(std::env::args_os().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("inkan-tsa: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match cmd {
        Command::Help => {
            print!("{}", cli::HELP);
            ExitCode::SUCCESS
        }
        Command::Version => {
            println!("inkan-tsa {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
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

fn open_reader(
    config: Option<std::path::PathBuf>,
    data_dir: Option<std::path::PathBuf>,
    store: Option<String>,
) -> Result<records::Reader, ExitCode> {
    // `--store`, else the configuration's `store`, else the embedded store.
    let store = match (store, &config) {
        (Some(s), _) => Some(s),
        (None, Some(c)) => config::FileConfig::load(c).ok().and_then(|f| f.store),
        (None, None) => None,
    };
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
    rt.block_on(async move {
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
        let stop = running.stop_handle();
        let signals = async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
            }
        };
        signals.await;
        tracing::info!("signal received: shutting down");
        if let Some(s) = stop {
            let _ = s.send(());
        }
        running.wait().await;
        ExitCode::SUCCESS
    })
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
