//! Load generator and benchmark for inkan-tsa.
//!
//! ```text
//! inkan-tsa-load [--key p256|p384|rsa3072|softhsm-p256|KEYREF] [--cert-chain PEM]
//!                [--connections N] [--depth D] [--seconds S] [--signing-threads N]
//!                [--url http://HOST:PORT/]
//! ```
//!
//! Without `--url` it starts an in-process TSA on 127.0.0.1:0 with durable records in a fresh
//! temporary data directory and drives it; then, in the same run, it measures the raw signing
//! rate of the same key (the same `Signer`, as many threads as cores; for a `pkcs11:` key that
//! is as many sessions) and prints tokens/s, p50/p99 latency, the raw rate and the ratio.
//!
//! * `p256`, `p384`: a fresh software key made with `inkan_hsm::devpki`; `rsa3072`: made with
//!   `openssl genpkey`; `softhsm-p256`: a P-256 key generated on a private SoftHSM2 token (the
//!   generator re-runs itself with `SOFTHSM2_CONF` pointing at it). Any KEYREF works too; without
//!   `--cert-chain` a development CA (NOT FOR PRODUCTION) issues the TSA certificate over the
//!   key's public key.
//! * The generator is lean, because it shares the cores with the server: one thread, one
//!   current-thread runtime, N raw TCP connections with HTTP/1.1 keep-alive and pipelining
//!   (D requests written at once per connection, then their D responses read), requests
//!   precomputed. Latency is measured per request from the write of its batch to its response.
//! * Concurrency comes from connections, not from pipelining depth: hyper serves the requests
//!   of one HTTP/1.1 connection one after the other, and each waits for its group commit (two
//!   `fdatasync`s in redb's multi-process mode), so a depth above 1 adds latency, not
//!   throughput. The default is 256 connections, depth 1.
//! * Besides tokens/s it prints the CPU the whole process used while measuring (server and
//!   generator: `cores` and µs of CPU per token, from `/proc/self/stat`), the raw signing rate
//!   with the cores it kept busy, and the group-commit figures from `/metrics`. On a machine
//!   shared with other work, `cores` shows how much of it the run actually got.
//!
//! ```text
//! cargo build --release -p inkan-tsa --bins
//! target/release/inkan-tsa-load --key p256 --seconds 10
//! target/release/inkan-tsa-load --key rsa3072 --connections 64 --seconds 10
//! target/release/inkan-tsa-load --key softhsm-p256 --seconds 10
//! ```
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use inkan_profiles::clock::{Clock, SystemClock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Opts {
    key: String,
    chain: Option<PathBuf>,
    connections: usize,
    depth: usize,
    seconds: u64,
    url: Option<String>,
    signing_threads: Option<usize>,
}

const USAGE: &str = "inkan-tsa-load [--key p256|p384|rsa3072|softhsm-p256|KEYREF] [--cert-chain PEM] [--connections N] [--depth D] [--seconds S] [--signing-threads N] [--url URL]";

fn parse() -> Result<Opts, String> {
    use lexopt::prelude::*;
    let mut o = Opts {
        key: "p256".into(),
        chain: None,
        connections: 256,
        depth: 1,
        seconds: 10,
        url: None,
        signing_threads: None,
    };
    let mut p = lexopt::Parser::from_env();
    fn val(p: &mut lexopt::Parser) -> Result<String, String> {
        p.value()
            .map_err(|e| e.to_string())?
            .into_string()
            .map_err(|_| "not UTF-8".to_string())
    }
    fn num<T: std::str::FromStr>(p: &mut lexopt::Parser, flag: &str) -> Result<T, String> {
        val(p)?.parse().map_err(|_| format!("{flag}: not a number"))
    }
    while let Some(a) = p.next().map_err(|e| e.to_string())? {
        match a {
            Long("key") => o.key = val(&mut p)?,
            Long("cert-chain") => o.chain = Some(val(&mut p)?.into()),
            Long("connections") => o.connections = num(&mut p, "--connections")?,
            Long("depth") => o.depth = num(&mut p, "--depth")?,
            Long("seconds") => o.seconds = num(&mut p, "--seconds")?,
            Long("url") => o.url = Some(val(&mut p)?),
            Long("signing-threads") => o.signing_threads = Some(num(&mut p, "--signing-threads")?),
            Long("help") | Short('h') => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(other.unexpected().to_string()),
        }
    }
    o.connections = o.connections.max(1);
    o.depth = o.depth.max(1);
    Ok(o)
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?}: {}", String::from_utf8_lossy(&out.stderr)))
    }
}

/// Writes the key for `kind` under `dir` (software kinds) and returns its KEYREF.
fn make_key(dir: &Path, kind: &str) -> Result<String, String> {
    let path = dir.join("tsa-key.pem");
    let alg = match kind {
        "p256" => inkan_hsm::devpki::KeyAlg::P256,
        "p384" => inkan_hsm::devpki::KeyAlg::P384,
        "rsa3072" => {
            run(Command::new("openssl")
                .args([
                    "genpkey",
                    "-algorithm",
                    "RSA",
                    "-pkeyopt",
                    "rsa_keygen_bits:3072",
                    "-out",
                ])
                .arg(&path))?;
            return Ok(path.display().to_string());
        }
        other => return Ok(other.to_owned()),
    };
    let (pem, _) = inkan_hsm::devpki::generate_key(alg).map_err(|e| e.to_string())?;
    std::fs::write(&path, pem.as_bytes()).map_err(|e| e.to_string())?;
    Ok(path.display().to_string())
}

/// A development CA (NOT FOR PRODUCTION) certifies `keyref`'s public key for time-stamping;
/// returns the chain file.
fn make_chain(dir: &Path, keyref: &str) -> Result<PathBuf, String> {
    use inkan_hsm::devpki::{self, CertProfile, DevPki, KeyAlg, Validity};
    let now = SystemClock.now().ok_or("no clock")?;
    let kr = inkan_hsm::KeyRef::parse(keyref).map_err(|e| e.to_string())?;
    let key =
        inkan_hsm::load(&kr, &inkan_hsm::Policy::cryptrec(), now).map_err(|e| e.to_string())?;
    let pki = DevPki::generate(now, KeyAlg::P256).map_err(|e| e.to_string())?;
    let cn = const_oid::ObjectIdentifier::new_unwrap("2.5.4.3");
    let cert = pki
        .issuer
        .issue(
            CertProfile::TimeStamping,
            &inkan_hsm::name::DistinguishedName::new(&[(
                cn,
                "inkan-tsa-load TSA - NOT FOR PRODUCTION",
            )]),
            key.public_key_der(),
            Validity::around(now, 3600, 86_400),
        )
        .map_err(|e| e.to_string())?;
    let path = dir.join("tsa-chain.pem");
    std::fs::write(&path, devpki::cert_pem(&cert) + &pki.root_pem()).map_err(|e| e.to_string())?;
    Ok(path)
}

/// A directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> Result<Self, String> {
        let p = std::env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
        std::fs::create_dir_all(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        Ok(Self(p))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `--key softhsm-p256`: a private SoftHSM2 token with a P-256 key, then this program again
/// with `SOFTHSM2_CONF` set and the key's URI.
fn softhsm_reexec(o: &Opts) -> Result<ExitCode, String> {
    let dir = TempDir::new("inkan-tsa-load-softhsm")?;
    let label = "inkan-load";
    inkan_hsm::softhsm::init_dir(dir.path(), &[label]);
    let conf = dir.path().join("softhsm2.conf");
    let module = inkan_hsm::softhsm::module_path();
    run(Command::new("pkcs11-tool")
        .env("SOFTHSM2_CONF", &conf)
        .arg("--module")
        .arg(&module)
        .args([
            "--token-label",
            label,
            "--login",
            "--pin",
            inkan_hsm::softhsm::USER_PIN,
        ])
        .args([
            "--keypairgen",
            "--key-type",
            "EC:prime256v1",
            "--label",
            "tsa",
            "--id",
            "01",
            "--usage-sign",
        ]))?;
    let uri = format!(
        "pkcs11:token={label};object=tsa?module-path={}&pin-source=env:INKAN_LOAD_PIN",
        module.display()
    );
    let mut args = vec![
        "--key".to_owned(),
        uri,
        "--connections".into(),
        o.connections.to_string(),
        "--depth".into(),
        o.depth.to_string(),
        "--seconds".into(),
        o.seconds.to_string(),
    ];
    if let Some(u) = &o.url {
        args.extend(["--url".to_owned(), u.clone()]);
    }
    if let Some(n) = o.signing_threads {
        args.extend(["--signing-threads".to_owned(), n.to_string()]);
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let status = Command::new(exe)
        .args(&args)
        .env("SOFTHSM2_CONF", &conf)
        .env("INKAN_LOAD_PIN", inkan_hsm::softhsm::USER_PIN)
        .status()
        .map_err(|e| e.to_string())?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(70)
    })
}

/// The HTTP bytes of request `i`: a DER TimeStampReq with a SHA-256 imprint and a nonce.
fn http_request(i: u64) -> Vec<u8> {
    let mut r = vec![
        0x30, 0x3e, 0x02, 0x01, 0x01, 0x30, 0x2f, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
        0x65, 0x03, 0x04, 0x02, 0x01, 0x04, 0x20,
    ];
    r.extend_from_slice(&[0x5a; 24]);
    r.extend_from_slice(&i.to_be_bytes());
    r.extend_from_slice(&[0x02, 0x08]);
    r.extend_from_slice(&(i | 0x0100_0000_0000_0000).to_be_bytes());
    let mut h = format!(
        "POST / HTTP/1.1\r\nHost: tsa\r\nContent-Type: application/timestamp-query\r\nContent-Length: {}\r\n\r\n",
        r.len()
    )
    .into_bytes();
    h.extend_from_slice(&r);
    h
}

/// Parses one HTTP/1.1 response at the start of `buf`: (bytes used, granted).
fn parse_response(buf: &[u8]) -> Option<Result<(usize, bool), String>> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = &buf[..end];
    if head.len() < 12 || &head[9..12] != b"200" {
        return Some(Err(format!(
            "HTTP {}",
            String::from_utf8_lossy(&head[..head.len().min(40)])
        )));
    }
    let mut len = None;
    for line in head.split(|&b| b == b'\n') {
        if line.len() > 15 && line[..15].eq_ignore_ascii_case(b"content-length:") {
            len = std::str::from_utf8(&line[15..])
                .ok()
                .and_then(|s| s.trim().parse::<usize>().ok());
        }
    }
    let Some(len) = len else {
        return Some(Err("no content-length".into()));
    };
    let body = buf.get(end + 4..end + 4 + len)?;
    // A granted TimeStampResp: SEQUENCE { SEQUENCE { INTEGER 0 } ...}, after a 2..4-byte
    // outer header.
    let granted = body
        .windows(5)
        .take(5)
        .any(|w| w == [0x30, 0x03, 0x02, 0x01, 0x00]);
    Some(Ok((end + 4 + len, granted)))
}

struct Shared {
    measuring: AtomicBool,
    stop: AtomicBool,
    tokens: AtomicU64,
    errors: AtomicU64,
}

/// One connection: write `depth` requests, read their responses, repeat.
async fn connection(
    addr: String,
    reqs: Arc<Vec<Vec<u8>>>,
    first: usize,
    depth: usize,
    sh: Arc<Shared>,
) -> Vec<u32> {
    let mut lat = Vec::with_capacity(1 << 16);
    let Ok(mut s) = tokio::net::TcpStream::connect(&addr).await else {
        sh.errors.fetch_add(1, Relaxed);
        return lat;
    };
    let _ = s.set_nodelay(true);
    let mut out = Vec::with_capacity(depth * 160);
    let mut buf = vec![0u8; 64 * 1024];
    let (mut have, mut next) = (0usize, first);
    while !sh.stop.load(Relaxed) {
        out.clear();
        for _ in 0..depth {
            out.extend_from_slice(&reqs[next % reqs.len()]);
            next += 1;
        }
        let t = Instant::now();
        if s.write_all(&out).await.is_err() {
            sh.errors.fetch_add(1, Relaxed);
            return lat;
        }
        let mut done = 0;
        while done < depth {
            match parse_response(&buf[..have]) {
                Some(Ok((used, granted))) => {
                    buf.copy_within(used..have, 0);
                    have -= used;
                    done += 1;
                    if sh.measuring.load(Relaxed) {
                        if granted {
                            sh.tokens.fetch_add(1, Relaxed);
                            lat.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                        } else {
                            sh.errors.fetch_add(1, Relaxed);
                        }
                    }
                }
                Some(Err(e)) => {
                    eprintln!("inkan-tsa-load: {e}");
                    sh.errors.fetch_add(1, Relaxed);
                    return lat;
                }
                None => {
                    if have == buf.len() {
                        buf.resize(buf.len() * 2, 0);
                    }
                    match s.read(&mut buf[have..]).await {
                        Ok(0) | Err(_) => {
                            sh.errors.fetch_add(1, Relaxed);
                            return lat;
                        }
                        Ok(n) => have += n,
                    }
                }
            }
        }
    }
    lat
}

/// Drives `addr` for `secs` after a 1 s warm-up, from one thread; returns (tokens, sorted
/// latencies in µs, errors).
fn drive(
    addr: &str,
    conns: usize,
    depth: usize,
    secs: u64,
) -> Result<(u64, Vec<u32>, u64), String> {
    let reqs: Arc<Vec<Vec<u8>>> = Arc::new((0..4096u64).map(http_request).collect());
    let sh = Arc::new(Shared {
        measuring: AtomicBool::new(false),
        stop: AtomicBool::new(false),
        tokens: AtomicU64::new(0),
        errors: AtomicU64::new(0),
    });
    let addr = addr.to_owned();
    let sh2 = sh.clone();
    let generator = std::thread::Builder::new()
        .name("load-generator".into())
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let tasks: Vec<_> = (0..conns)
                    .map(|c| {
                        tokio::spawn(connection(
                            addr.clone(),
                            reqs.clone(),
                            c * 131,
                            depth,
                            sh2.clone(),
                        ))
                    })
                    .collect();
                let mut all = Vec::new();
                for t in tasks {
                    all.extend(t.await.map_err(|e| e.to_string())?);
                }
                Ok::<_, String>(all)
            })
        })
        .map_err(|e| e.to_string())?;
    std::thread::sleep(Duration::from_secs(1));
    sh.measuring.store(true, Relaxed);
    let t = Instant::now();
    let cpu0 = process_cpu_secs();
    std::thread::sleep(Duration::from_secs(secs));
    sh.measuring.store(false, Relaxed);
    let n = sh.tokens.load(Relaxed);
    let elapsed = t.elapsed().as_secs_f64();
    if let (Some(a), Some(b)) = (cpu0, process_cpu_secs()) {
        let cpu = b - a;
        println!(
            "cpu:  {cpu:.2} CPU-seconds in {elapsed:.2} s ({:.2} cores) = {:.1} us of CPU per token, server and generator",
            cpu / elapsed,
            cpu * 1e6 / (n.max(1) as f64)
        );
    }
    sh.stop.store(true, Relaxed);
    let mut lat = generator.join().map_err(|_| "generator panicked")??;
    lat.sort_unstable();
    let rate = (n as f64 / elapsed).round() as u64;
    Ok((rate, lat, sh.errors.load(Relaxed)))
}

/// Group-commit figures from `/metrics`: commits, records, average batch, time per commit.
fn metrics_line(addr: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: tsa\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let get = |name: &str| -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))?
            .trim()
            .parse()
            .ok()
    };
    let commits = get("inkan_tsa_records_commits_total")?;
    let records = get("inkan_tsa_records_total")?;
    let secs = get("inkan_tsa_records_commit_seconds_total")?;
    Some(format!(
        "{commits} group commits, {records} token records, {:.1} records per commit, {:.2} ms per commit",
        records / commits.max(1.0),
        secs * 1000.0 / commits.max(1.0)
    ))
}

/// User + system CPU time of this process so far, from `/proc/self/stat` (Linux; 100 ticks
/// per second), `None` elsewhere.
fn process_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(") ")?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

/// Signatures per second of the TSA's own signer over 120-byte messages (about the size of
/// the signed attributes), on as many threads as cores (PKCS#11: as many sessions).
fn raw_signing_rate(keyref: &str, secs: u64) -> Result<(f64, String), String> {
    let now = SystemClock.now().ok_or("no clock")?;
    let kr = inkan_hsm::KeyRef::parse(keyref).map_err(|e| e.to_string())?;
    let key =
        inkan_hsm::load(&kr, &inkan_hsm::Policy::cryptrec(), now).map_err(|e| e.to_string())?;
    let prefs = inkan_tsa::startup::preferences(&key.kind(), inkan_tsa::config::RsaScheme::Pkcs1);
    let signer = key.choose(&prefs).ok_or("no algorithm")?;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let count = AtomicU64::new(0);
    let msg = [0x31u8; 120];
    let cpu0 = process_cpu_secs();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    std::thread::scope(|s| {
        for _ in 0..threads {
            let signer = signer.clone();
            let count = &count;
            s.spawn(move || {
                while Instant::now() < deadline {
                    if signer.sign(&msg).is_ok() {
                        count.fetch_add(1, Relaxed);
                    }
                }
            });
        }
    });
    let cores = match (cpu0, process_cpu_secs()) {
        (Some(a), Some(b)) => format!(
            ", {:.2} cores busy",
            (b - a) / start.elapsed().as_secs_f64()
        ),
        _ => String::new(),
    };
    let what = if keyref.starts_with("pkcs11:") {
        format!(
            "{:?} on {threads} threads / PKCS#11 sessions{cores}",
            signer.algorithm()
        )
    } else {
        format!("{:?} on {threads} threads{cores}", signer.algorithm())
    };
    Ok((
        count.load(Relaxed) as f64 / start.elapsed().as_secs_f64(),
        what,
    ))
}

fn main() -> ExitCode {
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("inkan-tsa-load: {e}\n{USAGE}");
            return ExitCode::from(64);
        }
    };
    if o.key == "softhsm-p256" {
        return match softhsm_reexec(&o) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("inkan-tsa-load: {e}");
                ExitCode::from(70)
            }
        };
    }
    let base = match TempDir::new("inkan-tsa-load") {
        Ok(d) => d,
        Err(e) => {
            eprintln!("inkan-tsa-load: {e}");
            return ExitCode::from(70);
        }
    };
    match bench(&o, base.path()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("inkan-tsa-load: {e}");
            ExitCode::from(70)
        }
    }
}

fn bench(o: &Opts, base: &Path) -> Result<(), String> {
    let keyref = make_key(base, &o.key)?;
    let chain = match &o.chain {
        Some(c) => c.clone(),
        None => make_chain(base, &keyref)?,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("inkan-tsa")
        .build()
        .map_err(|e| e.to_string())?;
    let (addr, running) = match &o.url {
        Some(u) => (
            u.trim_start_matches("http://")
                .trim_end_matches('/')
                .to_owned(),
            None,
        ),
        None => {
            let mut toml = format!(
                "listen = \"127.0.0.1:0\"\nkey = \"{keyref}\"\ncert_chain = \"{}\"\npolicy = \"1.2.3.4.1\"\ndata_dir = \"{}\"\n",
                chain.display(),
                base.join("data").display()
            );
            if let Some(n) = o.signing_threads {
                toml.push_str(&format!("signing_threads = {n}\n"));
            }
            let file = inkan_tsa::config::FileConfig::parse(&toml).map_err(|e| e.to_string())?;
            let s =
                inkan_tsa::config::resolve(file, &Default::default()).map_err(|e| e.to_string())?;
            let r = rt.block_on(inkan_tsa::app::start(s, Arc::new(SystemClock)))?;
            (r.addr.to_string(), Some(r))
        }
    };
    let label = if o.key.starts_with("pkcs11:") {
        "SoftHSM2/PKCS#11 P-256"
    } else {
        o.key.as_str()
    };
    println!(
        "inkan-tsa-load: key {label}, {} connections x pipeline depth {}, {} s, durable records",
        o.connections, o.depth, o.seconds
    );
    let (rate, lat, errors) = drive(&addr, o.connections, o.depth, o.seconds)?;
    let store = metrics_line(&addr);
    if let Some(r) = running {
        rt.block_on(r.shutdown());
    }
    drop(rt);
    let (raw, what) = raw_signing_rate(&keyref, o.seconds.min(5))?;
    println!(
        "tsa:  {rate} tokens/s  p50 {:.2} ms  p99 {:.2} ms  ({} tokens, {errors} errors)",
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        lat.len()
    );
    println!("raw:  {raw:.0} signatures/s  ({what}, same key, no HTTP/CMS/records)");
    println!("tsa/raw: {:.1}%", rate as f64 / raw * 100.0);
    if let Some(s) = store {
        println!("store: {s}");
    }
    Ok(())
}
