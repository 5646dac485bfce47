//! Load generator and benchmark for inkan-tsa.
//!
//! ```text
//! inkan-tsa-load [--key p256|rsa3072|KEYREF --cert-chain PEM] [--connections N]
//!                [--seconds S] [--url http://HOST:PORT/]
//! ```
//!
//! Without `--url` it starts an in-process TSA on 127.0.0.1:0 with durable records in a fresh
//! temporary data directory (the key and a throw-away PKI made with `openssl` unless
//! `--key KEYREF --cert-chain PEM` are given), drives it over N keep-alive HTTP/1.1
//! connections for S seconds, and prints tokens/s, p50/p99 latency and, in the same run, the
//! raw signing rate of the same key on as many threads as the machine has cores.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use inkan_profiles::clock::{Clock, SystemClock};

struct Opts {
    key: String,
    chain: Option<PathBuf>,
    connections: usize,
    seconds: u64,
    url: Option<String>,
}

fn parse() -> Result<Opts, String> {
    use lexopt::prelude::*;
    let mut o = Opts {
        key: "p256".into(),
        chain: None,
        connections: 64,
        seconds: 10,
        url: None,
    };
    let mut p = lexopt::Parser::from_env();
    while let Some(a) = p.next().map_err(|e| e.to_string())? {
        fn val(p: &mut lexopt::Parser) -> Result<String, String> {
            p.value()
                .map_err(|e| e.to_string())?
                .into_string()
                .map_err(|_| "not UTF-8".to_string())
        }
        match a {
            Long("key") => o.key = val(&mut p)?,
            Long("cert-chain") => o.chain = Some(val(&mut p)?.into()),
            Long("connections") => {
                o.connections = val(&mut p)?.parse().map_err(|_| "--connections")?
            }
            Long("seconds") => o.seconds = val(&mut p)?.parse().map_err(|_| "--seconds")?,
            Long("url") => o.url = Some(val(&mut p)?),
            Long("help") | Short('h') => {
                println!(
                    "inkan-tsa-load [--key p256|rsa3072|KEYREF --cert-chain PEM] [--connections N] [--seconds S] [--url URL]"
                );
                std::process::exit(0);
            }
            other => return Err(other.unexpected().to_string()),
        }
    }
    Ok(o)
}

fn openssl(dir: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("openssl: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A throw-away PKI (root + TSA certificate) for `kind` in `dir`; returns (key, chain).
fn make_pki(dir: &Path, kind: &str) -> Result<(PathBuf, PathBuf), String> {
    openssl(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "root.key",
        ],
    )?;
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "root.key",
            "-subj",
            "/CN=load root",
            "-days",
            "2",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-out",
            "root.pem",
        ],
    )?;
    match kind {
        "rsa3072" => openssl(
            dir,
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:3072",
                "-out",
                "tsa.key",
            ],
        )?,
        _ => openssl(
            dir,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                "tsa.key",
            ],
        )?,
    }
    std::fs::write(
        dir.join("ext.cnf"),
        "extendedKeyUsage=critical,timeStamping\n",
    )
    .map_err(|e| e.to_string())?;
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "tsa.key",
            "-subj",
            "/CN=load TSA",
            "-out",
            "tsa.csr",
        ],
    )?;
    openssl(
        dir,
        &[
            "x509", "-req", "-in", "tsa.csr", "-CA", "root.pem", "-CAkey", "root.key", "-days",
            "2", "-extfile", "ext.cnf", "-out", "tsa.pem",
        ],
    )?;
    Ok((dir.join("tsa.key"), dir.join("tsa.pem")))
}

/// A DER TimeStampReq: SHA-256 imprint, nonce, certReq false.
fn request(i: u64) -> Vec<u8> {
    let mut r = vec![
        0x30, 0x3e, 0x02, 0x01, 0x01, 0x30, 0x2f, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
        0x65, 0x03, 0x04, 0x02, 0x01, 0x04, 0x20,
    ];
    r.extend_from_slice(&[0x5a; 24]);
    r.extend_from_slice(&i.to_be_bytes());
    r.extend_from_slice(&[0x02, 0x08]);
    r.extend_from_slice(&(i | 0x0100_0000_0000_0000).to_be_bytes());
    r
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1e6
}

async fn drive(addr: String, conns: usize, secs: u64) -> Result<(u64, Vec<u64>, u64), String> {
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for c in 0..conns {
        let addr = addr.clone();
        let stop = stop.clone();
        let errors = errors.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(1 << 16);
            let Ok(stream) = tokio::net::TcpStream::connect(&addr).await else {
                errors.fetch_add(1, Relaxed);
                return lat;
            };
            let _ = stream.set_nodelay(true);
            let Ok((mut send, conn)) =
                hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(stream)).await
            else {
                errors.fetch_add(1, Relaxed);
                return lat;
            };
            tokio::spawn(conn);
            let mut i = (c as u64) << 40;
            while !stop.load(Relaxed) {
                i += 1;
                let req = hyper::Request::post("/")
                    .header("host", "load")
                    .header("content-type", "application/timestamp-query")
                    .body(Full::new(Bytes::from(request(i))));
                let Ok(req) = req else { break };
                let t = Instant::now();
                match send.send_request(req).await {
                    Ok(resp) if resp.status() == 200 => {
                        match resp.into_body().collect().await.map(|b| b.to_bytes()) {
                            // Granted responses start 30 82 .. 30 03 02 01 00.
                            Ok(b) if b.get(4..9) == Some(&[0x30u8, 3, 2, 1, 0][..]) => {
                                lat.push(u64::try_from(t.elapsed().as_nanos()).unwrap_or(u64::MAX));
                            }
                            _ => {
                                errors.fetch_add(1, Relaxed);
                            }
                        }
                    }
                    _ => {
                        errors.fetch_add(1, Relaxed);
                        break;
                    }
                }
            }
            lat
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.map_err(|e| e.to_string())?);
    }
    all.sort_unstable();
    let n = all.len() as u64;
    Ok((n, all, errors.load(Relaxed)))
}

fn raw_signing_rate(keyref: &str, secs: u64) -> Result<(f64, String), String> {
    let now = SystemClock.now().ok_or("no clock")?;
    let kr = inkan_hsm::KeyRef::parse(keyref).map_err(|e| e.to_string())?;
    let key =
        inkan_hsm::load(&kr, &inkan_hsm::Policy::cryptrec(), now).map_err(|e| e.to_string())?;
    let prefs = inkan_tsa::startup::preferences(&key.kind(), inkan_tsa::config::RsaScheme::Pkcs1);
    let signer = key.choose(&prefs).ok_or("no algorithm")?;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let msg = [0x31u8; 120]; // about the size of TSA signed attributes
    std::thread::scope(|s| {
        for _ in 0..threads {
            let signer = signer.clone();
            let count = count.clone();
            s.spawn(move || {
                while Instant::now() < deadline {
                    if signer.sign(&msg).is_ok() {
                        count.fetch_add(1, Relaxed);
                    }
                }
            });
        }
    });
    Ok((
        count.load(Relaxed) as f64 / secs as f64,
        format!("{:?} on {threads} threads", signer.algorithm()),
    ))
}

fn main() -> ExitCode {
    let o = match parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("inkan-tsa-load: {e}");
            return ExitCode::from(64);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("inkan-tsa-load: {e}");
            return ExitCode::from(70);
        }
    };
    let base = std::env::temp_dir().join(format!("inkan-tsa-load-{}", std::process::id()));
    let result = rt.block_on(async {
        std::fs::create_dir_all(&base).map_err(|e| e.to_string())?;
        let (keyref, chain) = match (o.key.as_str(), &o.chain) {
            (k, Some(c)) => (k.to_owned(), c.clone()),
            (kind, None) => {
                let (k, c) = make_pki(&base, kind)?;
                (k.display().to_string(), c)
            }
        };
        let (addr, running) = match &o.url {
            Some(u) => (
                u.trim_start_matches("http://").trim_end_matches('/').to_owned(),
                None,
            ),
            None => {
                let toml = format!(
                    "listen = \"127.0.0.1:0\"\nkey = \"{keyref}\"\ncert_chain = \"{}\"\npolicy = \"1.2.3.4.1\"\ndata_dir = \"{}\"\n",
                    chain.display(),
                    base.join("data").display()
                );
                let file = inkan_tsa::config::FileConfig::parse(&toml).map_err(|e| e.to_string())?;
                let s = inkan_tsa::config::resolve(file, &Default::default()).map_err(|e| e.to_string())?;
                let r = inkan_tsa::app::start(s, Arc::new(SystemClock)).await?;
                (r.addr.to_string(), Some(r))
            }
        };
        println!(
            "inkan-tsa-load: key {}, {} keep-alive connections, {} s, durable records",
            o.key, o.connections, o.seconds
        );
        // Warm up briefly, then measure.
        drive(addr.clone(), o.connections, 1).await?;
        let (n, lat, errors) = drive(addr, o.connections, o.seconds).await?;
        let rate = n as f64 / o.seconds as f64;
        if let Some(r) = running {
            r.shutdown().await;
        }
        let (raw, what) = tokio::task::spawn_blocking({
            let keyref = keyref.clone();
            let secs = o.seconds.min(5);
            move || raw_signing_rate(&keyref, secs)
        })
        .await
        .map_err(|e| e.to_string())??;
        println!(
            "tsa:  {rate:.0} tokens/s  p50 {:.2} ms  p99 {:.2} ms  ({n} tokens, {errors} errors)",
            percentile(&lat, 0.50),
            percentile(&lat, 0.99)
        );
        println!("raw:  {raw:.0} signatures/s  ({what}, same key, no HTTP/CMS/records)");
        println!("tsa/raw: {:.1}%", rate / raw * 100.0);
        Ok::<(), String>(())
    });
    let _ = std::fs::remove_dir_all(&base);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("inkan-tsa-load: {e}");
            ExitCode::from(70)
        }
    }
}
