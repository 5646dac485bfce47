//! Load generator and benchmark for inkan-tsa.
//!
//! ```text
//! inkan-tsa-load [--key p256|p384|rsa3072|softhsm-p256|KEYREF] [--cert-chain PEM]
//!                [--connections N[,N...]] [--depth D] [--h2 [--streams S]] [--seconds S]
//!                [--signing-threads N] [--runtime-threads N] [--commit-interval-ms MS]
//!                [--stores embedded,pg,pgN [--pg-url URL]] [--url http://HOST:PORT/]
//! ```
//!
//! Without `--url` it starts an in-process TSA on 127.0.0.1:0 with durable records in a fresh
//! temporary data directory (settings resolved exactly as `inkan-tsa serve` resolves its
//! configuration file, on the same kind of runtime) and drives it; in the same run it
//! measures the raw signing rate of the same key (the same `Signer`, as many threads as cores;
//! for a `pkcs11:` key that is as many sessions) before and after the load, and prints
//! tokens/s, p50/p99 latency, the raw rate and the ratio.
//!
//! `--connections` takes a list: the generator sweeps it, one point after the other, each
//! against a fresh server with a fresh data directory, and ends with one table of all points
//! (tokens/s, p50/p99, the ratio to the raw rate, CPU per token, the cores the point got,
//! records per commit). Over HTTP/1.1 the default is the sweep `16,64,256` (a TSA's load is
//! many independent clients with one request in flight each; 16 or 64 is the common case).
//!
//! `--stores` compares records stores in the same run, at each point of the `--connections`
//! sweep one after the other (so that the machine's other load drifts little between the
//! points compared), with the same key: `embedded` (the default, `records.redb`), `pg` (one instance on a
//! shared PostgreSQL store), `pgN` (N instances on one shared store behind a round-robin
//! split of the connections, each instance with its own runtime, signing threads, writer and
//! lease, as N processes would have). Without `--pg-url` the generator starts a private
//! PostgreSQL server (Debian's `postgresql`; as the `postgres` user when run as root) with a
//! fresh database per point, on the same cores: the figures include the database. The table
//! gives each point's ratio to the embedded store at the same concurrency (`x embedded`), and
//! the same by CPU per token, database included (`x emb CPU`: the ratio had both points got
//! the same cores, which a machine shared with other work does not give them).
//!
//! `--peer hyper` measures, the same way, a lean hyper HTTP/1.1 server in this process (a
//! canned response, no parsing, signing or records): its `http runtime` CPU per request is the
//! floor of the HTTP path, to hold the TSA's runtime part against.
//!
//! `--peer bc` measures, at each concurrency right after the embedded store's point, the
//! Bouncy Castle TSA peer (`benches/peer/BcTsa.java`: BC 1.72's `TimeStampResponseGenerator`
//! behind the JDK's `HttpServer`, Debian's `libbcpkix-java`; compiled with `javac` at run time)
//! with the same key, certificate and requests, and ends with our rate over the peer's. The
//! peer keeps no records at all; its JVM is warmed up for 15 s once (its JIT compiles the hot
//! paths after some ten thousand calls: after 5 s its CPU per token was still falling), and its
//! server sockets have `TCP_NODELAY` (`sun.net.httpserver.nodelay`; without it every response
//! waits for the client's delayed ACK). HTTP/1.1 only.
//!
//! * `p256`, `p384`: a fresh software key made with `inkan_hsm::devpki`; `rsa3072`: made with
//!   `openssl genpkey`; `softhsm-p256`: a P-256 key generated on a private SoftHSM2 token (the
//!   generator re-runs itself with `SOFTHSM2_CONF` pointing at it). Any KEYREF works too; without
//!   `--cert-chain` a development CA (NOT FOR PRODUCTION) issues the TSA certificate over the
//!   key's public key.
//! * The generator is lean, because it shares the cores with the server: one thread, one
//!   current-thread runtime, raw TCP connections, requests precomputed, responses parsed only
//!   as far as the status, the length and the first bytes of the body (granted or not).
//!   Latency is measured per request from the write that sent it to its response.
//! * Two modes, reported separately:
//!   - HTTP/1.1 keep-alive (default): N connections (default the sweep 16, 64, 256), one request in flight on
//!     each. `--depth D` > 1 writes D requests at once per connection (HTTP/1.1 pipelining);
//!     the header line then says PIPELINING, and such figures are their own mode. hyper serves
//!     the requests of one connection one after the other, so depth adds latency, not
//!     throughput.
//!   - `--h2`: HTTP/2 with prior knowledge, N connections (default 4) with S streams in flight
//!     on each (default 64, at most the server's 256). The client side is written by hand: a
//!     fixed HPACK header block (static table and literals only, so no encoder state), the
//!     `:status 200` check on the first byte of the response header block (HPACK static index
//!     8), flow-control windows opened wide once, SETTINGS and PING acknowledged. New requests
//!     go out as responses arrive, all the frames of one round in one write.
//! * It prints the CPU the whole process used while measuring (`cores` and µs of CPU per
//!   token, from `/proc/self/stat`) and the same split by part, from the per-thread counters
//!   in `/proc/self/task/*/stat`: the generator thread, the HTTP runtime (`inkan-tsa*`
//!   threads), the signing threads and the records writer. Then the raw signing rate with the
//!   cores it kept busy, and the group-commit figures from `/metrics`. On a machine shared with
//!   other work, `cores` shows how much of it the run actually got, and CPU per token is the
//!   figure to compare between runs. `tsa/raw by CPU` divides the raw CPU per signature by
//!   the TSA's CPU per token: what `tsa/raw` would be if both phases had kept the same cores
//!   busy (on a quiet machine the two agree; on a busy one the wall-clock ratio swings with
//!   whichever phase the other work left more room to).
//!
//! ```text
//! cargo build --release -p inkan-tsa --bins
//! target/release/inkan-tsa-load --key p256 --seconds 10
//! target/release/inkan-tsa-load --key p256 --seconds 10 --h2
//! target/release/inkan-tsa-load --key rsa3072 --connections 64 --seconds 10
//! target/release/inkan-tsa-load --key softhsm-p256 --seconds 10
//! target/release/inkan-tsa-load --key softhsm-p256 --seconds 10 --h2
//! target/release/inkan-tsa-load --key p256 --seconds 5 --stores embedded,pg,pg2
//! target/release/inkan-tsa-load --key p256 --seconds 10 --peer bc
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
    /// The concurrency points of the sweep.
    connections: Vec<usize>,
    depth: usize,
    h2: bool,
    streams: usize,
    seconds: u64,
    url: Option<String>,
    signing_threads: Option<usize>,
    runtime_threads: Option<usize>,
    commit_interval_ms: Option<u64>,
    /// The stores compared: `None` the embedded store, `Some(n)` n instances on PostgreSQL.
    stores: Vec<Option<usize>>,
    /// An existing PostgreSQL database for the shared store (else a private server).
    pg_url: Option<String>,
    /// `--peer bc`: measure the Bouncy Castle TSA peer at each point too.
    peer: bool,
    /// `--peer hyper`: measure a lean hyper HTTP/1.1 server (a canned response, no work) at
    /// each point: the floor of the HTTP path's cost.
    lean: bool,
}

const USAGE: &str = "  inkan-tsa-load [--key p256|p384|rsa3072|softhsm-p256|KEYREF] [--cert-chain PEM] [--connections N[,N...]] [--depth D] [--h2 [--streams S]] [--seconds S] [--signing-threads N] [--runtime-threads N] [--commit-interval-ms MS] [--stores embedded,pg,pgN [--pg-url URL]] [--peer bc,hyper] [--url URL]";

/// The command line as given (clap, as the product binaries; checked into [`Opts`] by
/// [`parse`]).
#[derive(clap::Parser)]
#[command(
    name = "inkan-tsa-load",
    about = "inkan-tsa-load: the load generator of inkan-tsa (a benchmark tool)",
    override_usage = USAGE,
    next_help_heading = "OPTIONS"
)]
struct Raw {
    #[arg(long, default_value = "p256")]
    key: String,
    #[arg(long)]
    cert_chain: Option<PathBuf>,
    #[arg(long)]
    connections: Option<String>,
    #[arg(long, default_value_t = 1)]
    depth: usize,
    #[arg(long)]
    h2: bool,
    #[arg(long, default_value_t = 64)]
    streams: usize,
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    #[arg(long)]
    url: Option<String>,
    #[arg(long)]
    signing_threads: Option<usize>,
    #[arg(long)]
    runtime_threads: Option<usize>,
    #[arg(long)]
    commit_interval_ms: Option<u64>,
    #[arg(long)]
    stores: Option<String>,
    #[arg(long)]
    pg_url: Option<String>,
    #[arg(long)]
    peer: Option<String>,
}

fn parse() -> Result<Opts, inkan_profiles::cli::Stop> {
    use clap::CommandFactory as _;
    let cmd = inkan_profiles::cli::convention(Raw::command());
    let r: Raw = inkan_profiles::cli::parse(cmd, std::env::args_os().skip(1))?;
    check(r).map_err(|e| {
        inkan_profiles::cli::Stop::Usage(inkan_profiles::cli::usage_line("inkan-tsa-load", &e))
    })
}

fn check(r: Raw) -> Result<Opts, String> {
    let mut o = Opts {
        key: r.key,
        chain: r.cert_chain,
        connections: Vec::new(),
        depth: r.depth,
        h2: r.h2,
        streams: r.streams,
        seconds: r.seconds,
        url: r.url,
        signing_threads: r.signing_threads,
        runtime_threads: r.runtime_threads,
        commit_interval_ms: r.commit_interval_ms,
        stores: Vec::new(),
        pg_url: r.pg_url,
        peer: false,
        lean: false,
    };
    if let Some(c) = r.connections {
        o.connections = c
            .split(',')
            .map(|n| match n.trim().parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!("--connections: {n:?} is not a positive number")),
            })
            .collect::<Result<_, _>>()?;
    }
    if let Some(s) = r.stores {
        o.stores = s
            .split(',')
            .map(|k| match k.trim() {
                "embedded" => Ok(None),
                "pg" => Ok(Some(1)),
                pg => match pg.strip_prefix("pg").and_then(|n| n.parse::<usize>().ok()) {
                    Some(n) if (1..=16).contains(&n) => Ok(Some(n)),
                    _ => Err(format!(
                        "--stores: {k:?} is not embedded, pg or pgN (N instances, 1..=16)"
                    )),
                },
            })
            .collect::<Result<_, _>>()?;
    }
    for k in r.peer.as_deref().unwrap_or_default().split(',') {
        match k.trim() {
            "" => {}
            "bc" => o.peer = true,
            "hyper" => o.lean = true,
            other => return Err(format!("--peer: {other:?} is not bc or hyper")),
        }
    }
    if o.connections.is_empty() {
        o.connections = if o.h2 { vec![4] } else { vec![16, 64, 256] };
    }
    if o.stores.is_empty() {
        o.stores = vec![None];
    }
    if (o.peer || o.lean) && (o.h2 || o.depth > 1 || o.url.is_some()) {
        return Err("--peer is compared over HTTP/1.1 keep-alive, one request in flight per connection, with in-process servers".into());
    }
    if o.url.is_some() && o.stores != [None] {
        return Err("--url drives a running server: --stores is for in-process servers".into());
    }
    o.streams = o.streams.clamp(1, 256);
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
    // Owner-only, as inkan-tsa requires of a key file.
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| e.to_string())?;
    }
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
        o.connections
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(","),
        "--depth".into(),
        o.depth.to_string(),
        "--seconds".into(),
        o.seconds.to_string(),
        "--streams".into(),
        o.streams.to_string(),
    ];
    if o.h2 {
        args.push("--h2".into());
    }
    if let Some(u) = &o.url {
        args.extend(["--url".to_owned(), u.clone()]);
    }
    if let Some(n) = o.signing_threads {
        args.extend(["--signing-threads".to_owned(), n.to_string()]);
    }
    if let Some(n) = o.runtime_threads {
        args.extend(["--runtime-threads".to_owned(), n.to_string()]);
    }
    if let Some(n) = o.commit_interval_ms {
        args.extend(["--commit-interval-ms".to_owned(), n.to_string()]);
    }
    let stores: Vec<String> = o
        .stores
        .iter()
        .map(|k| k.map_or_else(|| "embedded".to_owned(), |n| format!("pg{n}")))
        .collect();
    args.extend(["--stores".to_owned(), stores.join(",")]);
    if let Some(u) = &o.pg_url {
        args.extend(["--pg-url".to_owned(), u.clone()]);
    }
    let peers: Vec<&str> = [(o.peer, "bc"), (o.lean, "hyper")]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
    if !peers.is_empty() {
        args.extend(["--peer".to_owned(), peers.join(",")]);
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

/// The DER TimeStampReq of request `i`: a SHA-256 imprint and a nonce, 64 bytes.
fn tsq_body(i: u64) -> Vec<u8> {
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

/// The HTTP/1.1 bytes of request `i`.
fn http_request(i: u64) -> Vec<u8> {
    let r = tsq_body(i);
    let mut h = format!(
        "POST / HTTP/1.1\r\nHost: tsa\r\nContent-Type: application/timestamp-query\r\nContent-Length: {}\r\n\r\n",
        r.len()
    )
    .into_bytes();
    h.extend_from_slice(&r);
    h
}

/// HTTP/2 frame types and flags used here (RFC 9113 §6).
mod h2f {
    pub const DATA: u8 = 0;
    pub const HEADERS: u8 = 1;
    pub const RST_STREAM: u8 = 3;
    pub const SETTINGS: u8 = 4;
    pub const PING: u8 = 6;
    pub const GOAWAY: u8 = 7;
    pub const WINDOW_UPDATE: u8 = 8;
    pub const CONTINUATION: u8 = 9;
    pub const END_STREAM: u8 = 0x1;
    pub const ACK: u8 = 0x1;
    pub const END_HEADERS: u8 = 0x4;
    pub const PADDED: u8 = 0x8;
    pub const PRIORITY: u8 = 0x20;
}

fn h2_frame(out: &mut Vec<u8>, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
    let n = payload.len() as u32;
    out.extend_from_slice(&n.to_be_bytes()[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
}

/// The HTTP/2 frames of request `i` (HEADERS, then DATA with END_STREAM) for stream 0; the
/// caller patches the stream ids where [`h2_id_at`] says. The header block uses only the HPACK static
/// table and literals without indexing, so it needs no encoder state.
fn h2_request(i: u64) -> Vec<u8> {
    let body = tsq_body(i);
    let mut hb = vec![0x83, 0x86, 0x84]; // :method POST, :scheme http, :path /
    hb.extend_from_slice(&[0x01, 3]); // :authority (static 1), literal
    hb.extend_from_slice(b"tsa");
    hb.extend_from_slice(&[0x0f, 0x10, 27]); // content-type (static 31)
    hb.extend_from_slice(b"application/timestamp-query");
    let len = body.len().to_string();
    hb.extend_from_slice(&[0x0f, 0x0d, len.len() as u8]); // content-length (static 28)
    hb.extend_from_slice(len.as_bytes());
    let mut out = Vec::new();
    h2_frame(&mut out, h2f::HEADERS, h2f::END_HEADERS, 0, &hb);
    h2_frame(&mut out, h2f::DATA, h2f::END_STREAM, 0, &body);
    out
}

/// Where the stream ids sit in [`h2_request`]'s bytes: the HEADERS frame's and the DATA
/// frame's.
fn h2_id_at(req: &[u8]) -> (usize, usize) {
    let hlen = usize::from(req[0]) << 16 | usize::from(req[1]) << 8 | usize::from(req[2]);
    (5, 9 + hlen + 5)
}

/// One stream in flight.
#[derive(Clone, Copy)]
struct Stream {
    id: u32,
    sent: Instant,
    status_ok: bool,
    head: [u8; 16],
    got: usize,
}

/// One HTTP/2 connection with up to `streams` requests in flight: as responses complete, new
/// requests go out, all frames of one round in one write.
async fn connection_h2(
    addr: String,
    reqs: Arc<Vec<Vec<u8>>>,
    first: usize,
    streams: usize,
    sh: Arc<Shared>,
) -> Result<Vec<u32>, String> {
    const SLOTS: usize = 1 << 16;
    let mut lat = Vec::with_capacity(1 << 16);
    let mut s = tokio::net::TcpStream::connect(&addr)
        .await
        .map_err(|e| e.to_string())?;
    let _ = s.set_nodelay(true);
    let mut out = Vec::with_capacity(streams * 160 + 64);
    // Preface; SETTINGS: no push, the largest stream window; the largest connection window.
    out.extend_from_slice(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    let mut settings = Vec::new();
    settings.extend_from_slice(&[0, 2, 0, 0, 0, 0]);
    settings.extend_from_slice(&[0, 4, 0x7f, 0xff, 0xff, 0xff]);
    h2_frame(&mut out, h2f::SETTINGS, 0, 0, &settings);
    h2_frame(
        &mut out,
        h2f::WINDOW_UPDATE,
        0,
        0,
        &(0x7fff_ffffu32 - 65_535).to_be_bytes(),
    );
    s.write_all(&out).await.map_err(|e| e.to_string())?;
    let mut slots: Vec<Option<Stream>> = vec![None; SLOTS];
    let mut buf = vec![0u8; 256 * 1024];
    let (mut have, mut next, mut next_id) = (0usize, first, 1u32);
    let mut in_flight = 0usize;
    let mut send_window: i64 = 65_535;
    let mut recv_consumed: u64 = 0;
    let mut server_settings = false;
    loop {
        out.clear();
        if server_settings && !sh.stop.load(Relaxed) {
            while in_flight < streams && send_window >= 64 {
                let req = &reqs[next % reqs.len()];
                next += 1;
                let (a, b) = h2_id_at(req);
                let at = out.len();
                out.extend_from_slice(req);
                out[at + a..at + a + 4].copy_from_slice(&next_id.to_be_bytes());
                out[at + b..at + b + 4].copy_from_slice(&next_id.to_be_bytes());
                send_window -= 64;
                slots[(next_id as usize >> 1) % SLOTS] = Some(Stream {
                    id: next_id,
                    sent: Instant::now(),
                    status_ok: false,
                    head: [0; 16],
                    got: 0,
                });
                next_id += 2;
                in_flight += 1;
            }
        }
        if recv_consumed > 1 << 30 {
            h2_frame(
                &mut out,
                h2f::WINDOW_UPDATE,
                0,
                0,
                &(recv_consumed as u32).to_be_bytes(),
            );
            recv_consumed = 0;
        }
        if !out.is_empty() {
            s.write_all(&out).await.map_err(|e| e.to_string())?;
        }
        if sh.stop.load(Relaxed) && in_flight == 0 {
            return Ok(lat);
        }
        if have == buf.len() {
            return Err("HTTP/2 frame larger than the read buffer".into());
        }
        let n = s.read(&mut buf[have..]).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("server closed the HTTP/2 connection".into());
        }
        have += n;
        let mut pos = 0;
        let mut replies = Vec::new();
        while have - pos >= 9 {
            let f = &buf[pos..have];
            let len = usize::from(f[0]) << 16 | usize::from(f[1]) << 8 | usize::from(f[2]);
            if f.len() < 9 + len {
                break;
            }
            let (kind, flags) = (f[3], f[4]);
            let id = u32::from_be_bytes([f[5], f[6], f[7], f[8]]) & 0x7fff_ffff;
            let mut p = &f[9..9 + len];
            pos += 9 + len;
            if flags & h2f::PADDED != 0 && (kind == h2f::DATA || kind == h2f::HEADERS) {
                let pad = usize::from(*p.first().ok_or("bad padding")?);
                p = p.get(1..p.len().saturating_sub(pad)).ok_or("bad padding")?;
            }
            match kind {
                h2f::SETTINGS if flags & h2f::ACK == 0 => {
                    server_settings = true;
                    h2_frame(&mut replies, h2f::SETTINGS, h2f::ACK, 0, &[]);
                }
                h2f::PING if flags & h2f::ACK == 0 => {
                    h2_frame(&mut replies, h2f::PING, h2f::ACK, 0, p);
                }
                h2f::WINDOW_UPDATE if id == 0 && p.len() == 4 => {
                    send_window += i64::from(u32::from_be_bytes([p[0], p[1], p[2], p[3]]));
                }
                h2f::GOAWAY => return Err("server sent GOAWAY".into()),
                h2f::RST_STREAM => return Err(format!("server reset stream {id}")),
                h2f::HEADERS | h2f::CONTINUATION | h2f::DATA => {
                    let slot = &mut slots[(id as usize >> 1) % SLOTS];
                    let Some(st) = slot.as_mut().filter(|st| st.id == id) else {
                        return Err(format!("frame for unknown stream {id}"));
                    };
                    if kind == h2f::HEADERS {
                        if flags & h2f::PRIORITY != 0 {
                            p = p.get(5..).ok_or("bad priority")?;
                        }
                        // Skip dynamic table size updates; `:status 200` is static index 8.
                        let first = p.iter().find(|&&b| b & 0xe0 != 0x20);
                        if !st.status_ok && st.got == 0 {
                            st.status_ok = first == Some(&0x88);
                        }
                    } else if kind == h2f::DATA {
                        recv_consumed += len as u64;
                        let take = p.len().min(16 - st.got);
                        st.head[st.got..st.got + take].copy_from_slice(&p[..take]);
                        st.got += take;
                    }
                    if flags & h2f::END_STREAM != 0 {
                        let st = *st;
                        *slot = None;
                        in_flight -= 1;
                        if sh.measuring.load(Relaxed) {
                            let granted = st.status_ok
                                && st.head[..st.got]
                                    .windows(5)
                                    .take(5)
                                    .any(|w| w == [0x30, 0x03, 0x02, 0x01, 0x00]);
                            if granted {
                                sh.tokens.fetch_add(1, Relaxed);
                                lat.push(
                                    u32::try_from(st.sent.elapsed().as_micros())
                                        .unwrap_or(u32::MAX),
                                );
                            } else {
                                sh.errors.fetch_add(1, Relaxed);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        buf.copy_within(pos..have, 0);
        have -= pos;
        if !replies.is_empty() {
            s.write_all(&replies).await.map_err(|e| e.to_string())?;
        }
    }
}

/// Whether a DER `TimeStampResp` says granted or grantedWithMods (RFC 3161 §2.4.2):
/// SEQUENCE { PKIStatusInfo SEQUENCE { status INTEGER, statusString ... }, ... }; the status
/// info may carry a statusString (Bouncy Castle sends "Operation Okay").
fn granted(body: &[u8]) -> bool {
    /// The offset of the contents of the TLV at `at` with tag `tag`.
    fn inside(b: &[u8], at: usize, tag: u8) -> Option<usize> {
        if *b.get(at)? != tag {
            return None;
        }
        let l = *b.get(at + 1)?;
        Some(if l < 0x80 {
            at + 2
        } else {
            at + 2 + usize::from(l & 0x7f)
        })
    }
    let Some(info) = inside(body, 0, 0x30).and_then(|i| inside(body, i, 0x30)) else {
        return false;
    };
    matches!(body.get(info..info + 3), Some([0x02, 0x01, 0 | 1]))
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
    Some(Ok((end + 4 + len, granted(body))))
}

/// How the generator talks HTTP.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// HTTP/1.1 keep-alive, `depth` requests written at once per connection (1: no
    /// pipelining).
    H1 { depth: usize },
    /// HTTP/2 (prior knowledge), `streams` requests in flight per connection.
    H2 { streams: usize },
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

/// What one drive measured.
struct Driven {
    /// Tokens per second.
    rate: u64,
    /// Sorted latencies, µs.
    lat: Vec<u32>,
    errors: u64,
    /// CPU of the whole process per token, µs.
    cpu_per_token_us: Option<f64>,
    /// Cores the process kept busy while measuring.
    cores: Option<f64>,
}

/// Drives `addrs` for `secs` after a 1 s warm-up, from one thread (connection `c` goes to
/// `addrs[c % len]`, as a round-robin load balancer would place it); returns (tokens, sorted
/// latencies in µs, errors).
///
/// `db_cpu` reads the CPU seconds of a database server on this machine (a private
/// PostgreSQL): it is added to the CPU per token and the cores, and shown as its own part.
fn drive(
    addrs: &[String],
    conns: usize,
    mode: Mode,
    secs: u64,
    db_cpu: Option<&dyn Fn() -> Option<f64>>,
) -> Result<Driven, String> {
    let reqs: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..4096u64)
            .map(match mode {
                Mode::H1 { .. } => http_request,
                Mode::H2 { .. } => h2_request,
            })
            .collect(),
    );
    let sh = Arc::new(Shared {
        measuring: AtomicBool::new(false),
        stop: AtomicBool::new(false),
        tokens: AtomicU64::new(0),
        errors: AtomicU64::new(0),
    });
    let addrs = addrs.to_vec();
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
                        let (addr, reqs, sh) =
                            (addrs[c % addrs.len()].clone(), reqs.clone(), sh2.clone());
                        tokio::spawn(async move {
                            match mode {
                                Mode::H1 { depth } => {
                                    Ok(connection(addr, reqs, c * 131, depth, sh).await)
                                }
                                Mode::H2 { streams } => {
                                    connection_h2(addr, reqs, c * 131, streams, sh).await
                                }
                            }
                        })
                    })
                    .collect();
                let mut all = Vec::new();
                for t in tasks {
                    match t.await.map_err(|e| e.to_string())? {
                        Ok(l) => all.extend(l),
                        Err(e) => {
                            eprintln!("inkan-tsa-load: {e}");
                            sh2.errors.fetch_add(1, Relaxed);
                        }
                    }
                }
                Ok::<_, String>(all)
            })
        })
        .map_err(|e| e.to_string())?;
    std::thread::sleep(Duration::from_secs(1));
    sh.measuring.store(true, Relaxed);
    let t = Instant::now();
    let cpu0 = process_cpu_secs();
    let db0 = db_cpu.and_then(|f| f());
    let parts0 = thread_cpu_by_part();
    std::thread::sleep(Duration::from_secs(secs));
    sh.measuring.store(false, Relaxed);
    let n = sh.tokens.load(Relaxed);
    let elapsed = t.elapsed().as_secs_f64();
    let parts1 = thread_cpu_by_part();
    let db = db0.zip(db_cpu.and_then(|f| f())).map(|(a, b)| b - a);
    let mut cpu_per_token_us = None;
    let mut cores = None;
    if let (Some(a), Some(b)) = (cpu0, process_cpu_secs()) {
        let cpu = b - a + db.unwrap_or(0.0);
        cpu_per_token_us = Some(cpu * 1e6 / (n.max(1) as f64));
        cores = Some(cpu / elapsed);
        println!(
            "cpu:  {cpu:.2} CPU-seconds in {elapsed:.2} s ({:.2} cores) = {:.1} us of CPU per token, server and generator{}",
            cpu / elapsed,
            cpu * 1e6 / (n.max(1) as f64),
            match db {
                Some(d) => format!(
                    " and the other server process ({:.1} us of it: PostgreSQL or the peer)",
                    d * 1e6 / (n.max(1) as f64)
                ),
                None => String::new(),
            }
        );
        let per = |part: &str| {
            let get = |v: &[(&'static str, f64)]| {
                v.iter().find(|(p, _)| *p == part).map_or(0.0, |(_, s)| *s)
            };
            (get(&parts1) - get(&parts0)) * 1e6 / (n.max(1) as f64)
        };
        println!(
            "cpu/token by part (us): generator {:.1}, http runtime {:.1}, signing threads {:.1}, records writer {:.1}, other {:.1}",
            per("generator"),
            per("runtime"),
            per("signing"),
            per("records"),
            per("other")
        );
    }
    sh.stop.store(true, Relaxed);
    let mut lat = generator.join().map_err(|_| "generator panicked")??;
    lat.sort_unstable();
    let rate = (n as f64 / elapsed).round() as u64;
    Ok(Driven {
        rate,
        lat,
        errors: sh.errors.load(Relaxed),
        cpu_per_token_us,
        cores,
    })
}

/// Group-commit figures from `/metrics`, summed over the instances: the line to print
/// (commits, records, average batch, time per commit) and the records per commit.
fn metrics_line(addrs: &[String]) -> Option<(String, f64)> {
    use std::io::{Read, Write};
    let (mut commits, mut records, mut secs) = (0.0, 0.0, 0.0);
    for addr in addrs {
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
        commits += get("inkan_tsa_records_commits_total")?;
        records += get("inkan_tsa_records_total")?;
        secs += get("inkan_tsa_records_commit_seconds_total")?;
    }
    let per_commit = records / commits.max(1.0);
    Some((
        format!(
            "{commits} group commits, {records} token records, {per_commit:.1} records per commit, {:.2} ms per commit",
            secs * 1000.0 / commits.max(1.0)
        ),
        per_commit,
    ))
}

/// User + system CPU seconds of this process's threads so far, summed by part (thread name:
/// `load-generator`, `inkan-tsa*` (the HTTP runtime), `signing-*`, `records-writer`, other),
/// from `/proc/self/task/*/stat` (Linux; 100 ticks per second); empty elsewhere. Threads that
/// ended are not counted.
fn thread_cpu_by_part() -> Vec<(&'static str, f64)> {
    let mut parts: Vec<(&'static str, f64)> =
        ["generator", "runtime", "signing", "records", "other"]
            .into_iter()
            .map(|p| (p, 0.0))
            .collect();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return parts;
    };
    for e in dir.flatten() {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        let Some((head, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let name = head.split_once(" (").map_or("", |(_, n)| n);
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks = f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
            + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        let part = if name.starts_with("load-generator") {
            "generator"
        } else if name.starts_with("inkan-tsa") && name != "inkan-tsa-load" {
            "runtime"
        } else if name.starts_with("signing-") {
            "signing"
        } else if name.starts_with("records-writer") {
            "records"
        } else {
            "other"
        };
        if let Some(p) = parts.iter_mut().find(|(p, _)| *p == part) {
            p.1 += ticks / 100.0;
        }
    }
    parts
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
fn raw_signing_rate(keyref: &str, secs: u64) -> Result<(f64, String, Option<f64>), String> {
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
    let n = count.load(Relaxed);
    let cpu_end = process_cpu_secs();
    let per_sig = match (cpu0, cpu_end) {
        (Some(a), Some(b)) => Some((b - a) * 1e6 / (n.max(1) as f64)),
        _ => None,
    };
    let cores = match (cpu0, cpu_end) {
        (Some(a), Some(b)) => format!(
            ", {:.2} cores busy, {:.1} us of CPU per signature",
            (b - a) / start.elapsed().as_secs_f64(),
            (b - a) * 1e6 / (n.max(1) as f64)
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
    Ok((n as f64 / start.elapsed().as_secs_f64(), what, per_sig))
}

fn main() -> ExitCode {
    let o = match parse() {
        Ok(o) => o,
        Err(stop) => return ExitCode::from(stop.finish()),
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

/// A private PostgreSQL server for `--stores pg...` without `--pg-url`: Debian's `postgresql`
/// binaries, `initdb` in the run's temporary folder (as the `postgres` user when run as root,
/// since PostgreSQL refuses root), trust authentication on a free loopback port, the
/// database's defaults otherwise (`fsync` and `synchronous_commit` on: durable commits, as a
/// TSA needs). It shares the machine's cores with the TSA and the generator: the figures are
/// "database included". Stopped when dropped.
struct PrivatePg {
    data: PathBuf,
    bindir: PathBuf,
    port: u16,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Runs `cmd` with `sh -c`, as `postgres` when we are root.
fn pg_sh(cmd: &str) -> Result<(), String> {
    let line = if is_root() {
        format!("su postgres -s /bin/sh -c '{}'", cmd.replace('\'', "'\\''"))
    } else {
        cmd.to_owned()
    };
    run(Command::new("sh").args(["-c", &line]))
}

impl PrivatePg {
    fn start(base: &Path) -> Result<Self, String> {
        let mut bins: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|_| {
                "PostgreSQL is not installed (Debian: apt-get install postgresql), or pass --pg-url"
                    .to_owned()
            })?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("initdb").exists())
            .collect();
        bins.sort();
        let bindir = bins
            .pop()
            .ok_or("no /usr/lib/postgresql/*/bin/initdb (apt-get install postgresql)")?;
        let data = base.join("pg");
        if is_root() {
            run(Command::new("install")
                .args(["-d", "-o", "postgres", "-m", "700"])
                .arg(&data))?;
        }
        pg_sh(&format!(
            "{}/initdb -D {} -U inkan --auth=trust >/dev/null",
            bindir.display(),
            data.display()
        ))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        pg_sh(&format!(
            "{}/pg_ctl -D {d} -w -t 60 -l {d}/server.log -o \"-p {port} -k {d} -c listen_addresses=127.0.0.1\" start >/dev/null",
            bindir.display(),
            d = data.display()
        ))?;
        Ok(Self { data, bindir, port })
    }

    /// User + system CPU seconds of the server's processes so far (the postmaster and its
    /// children, from `/proc`; 100 ticks per second).
    fn cpu_secs(&self) -> Option<f64> {
        let pid: u32 = std::fs::read_to_string(self.data.join("postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()?;
        let mut ticks = 0.0;
        for e in std::fs::read_dir("/proc").ok()?.flatten() {
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            let Some((head, rest)) = stat.rsplit_once(") ") else {
                continue;
            };
            let f: Vec<&str> = rest.split_whitespace().collect();
            let me = head
                .split_once(' ')
                .and_then(|(p, _)| p.parse::<u32>().ok());
            let parent = f.get(1).and_then(|p| p.parse::<u32>().ok());
            if me == Some(pid) || parent == Some(pid) {
                ticks += f.get(11).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
                    + f.get(12).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            }
        }
        Some(ticks / 100.0)
    }

    /// A fresh database; returns its store URL.
    fn database(&self, name: &str) -> Result<String, String> {
        run(Command::new(self.bindir.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "inkan", "-d", "postgres", "-q", "-c"])
            .arg(format!("CREATE DATABASE {name}")))?;
        Ok(format!(
            "postgresql://inkan@127.0.0.1:{}/{name}?sslmode=disable",
            self.port
        ))
    }
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let _ = pg_sh(&format!(
            "{}/pg_ctl -D {} -w -m fast stop >/dev/null",
            self.bindir.display(),
            self.data.display()
        ));
    }
}

/// The Java peer's source (`benches/peer/BcTsa.java`), compiled with `javac` in the run's
/// folder.
const BC_PEER_JAVA: &str = include_str!("../../benches/peer/BcTsa.java");

/// Debian's Bouncy Castle 1.72 jars (`libbcpkix-java`).
const BC_CLASSPATH: &str =
    "/usr/share/java/bcprov.jar:/usr/share/java/bcpkix.jar:/usr/share/java/bcutil.jar";

/// The Bouncy Castle TSA peer (issue 17): BC's `TimeStampResponseGenerator` behind the JDK's
/// `HttpServer`, same key and certificate, no records. Killed when dropped.
struct BcPeer {
    child: std::process::Child,
    addr: String,
}

impl BcPeer {
    fn start(base: &Path, keyref: &str, chain: &Path, threads: usize) -> Result<Self, String> {
        use std::io::BufRead as _;
        for jar in BC_CLASSPATH.split(':') {
            if !Path::new(jar).exists() {
                return Err(format!(
                    "{jar} is missing: apt-get install libbcpkix-java default-jdk-headless"
                ));
            }
        }
        let dir = base.join("bc-peer");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let src = dir.join("BcTsa.java");
        std::fs::write(&src, BC_PEER_JAVA).map_err(|e| e.to_string())?;
        run(Command::new("javac")
            .args(["-cp", BC_CLASSPATH, "-d"])
            .arg(&dir)
            .arg(&src))?;
        // TCP_NODELAY on the server's sockets: without it the JDK server's separate header
        // and body writes meet the client's delayed ACK (about 40 ms per request), which would
        // compare us with a crippled peer.
        let mut child = Command::new("java")
            .arg("-Dsun.net.httpserver.nodelay=true")
            .args(["-cp", &format!("{BC_CLASSPATH}:{}", dir.display()), "BcTsa"])
            .arg(keyref)
            .arg(chain)
            .args(["1.2.3.4.1", &threads.to_string()])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("java: {e}"))?;
        let mut line = String::new();
        let out = child.stdout.take().ok_or("no stdout")?;
        std::io::BufReader::new(out)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let Some(addr) = line.trim().strip_prefix("listening ") else {
            let _ = child.kill();
            return Err(format!("the BC peer did not start: {line:?}"));
        };
        Ok(Self {
            addr: addr.to_owned(),
            child,
        })
    }

    /// User + system CPU seconds of the JVM so far.
    fn cpu_secs(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        let f: Vec<&str> = stat.rsplit_once(") ")?.1.split_whitespace().collect();
        Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / 100.0)
    }
}

impl Drop for BcPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A lean hyper HTTP/1.1 server on 127.0.0.1:0 (`--peer hyper`): it reads each request's
/// body and answers a canned 560-byte "granted" body, no parsing, signing or records. Its CPU
/// per request in the `http runtime` part is the floor of what hyper and tokio cost on this
/// path, to compare with the TSA's own runtime part. Runs until its runtime is dropped.
async fn lean_hyper() -> Result<String, String> {
    use http_body_util::BodyExt as _;
    let mut canned = vec![0x30, 0x82, 0x02, 0x2c, 0x30, 0x03, 0x02, 0x01, 0x00];
    canned.resize(560, 0x5a);
    let canned = bytes::Bytes::from(canned);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = l.local_addr().map_err(|e| e.to_string())?.to_string();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            let _ = s.set_nodelay(true);
            let canned = canned.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let canned = canned.clone();
                        async move {
                            let _ = req.into_body().collect().await;
                            Ok::<_, std::convert::Infallible>(
                                hyper::Response::builder()
                                    .header("content-type", "application/timestamp-reply")
                                    .body(http_body_util::Full::new(canned))
                                    .unwrap_or_default(),
                            )
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(s), svc)
                    .await;
            });
        }
    });
    Ok(addr)
}

/// One point of the sweep, for the closing table.
struct Point {
    /// `embedded`, or `pg` with the number of instances.
    store: String,
    connections: usize,
    rate: u64,
    p50: f64,
    p99: f64,
    errors: u64,
    cpu_per_token_us: Option<f64>,
    cores: Option<f64>,
    per_commit: Option<f64>,
}

impl Point {
    /// The point of `store` at `connections`, from what [`drive`] measured.
    fn new(store: String, connections: usize, d: &Driven, per_commit: Option<f64>) -> Self {
        Self {
            store,
            connections,
            rate: d.rate,
            p50: percentile(&d.lat, 0.50),
            p99: percentile(&d.lat, 0.99),
            errors: d.errors,
            cpu_per_token_us: d.cpu_per_token_us,
            cores: d.cores,
            per_commit,
        }
    }
}

fn bench(o: &Opts, base: &Path) -> Result<(), String> {
    let keyref = make_key(base, &o.key)?;
    let chain = match &o.chain {
        Some(c) => c.clone(),
        None => make_chain(base, &keyref)?,
    };
    // The server's settings, as `inkan-tsa serve` would resolve them from this file; each
    // point of the sweep gets a fresh data directory.
    let settings_for = |point: &str,
                        store: Option<&str>|
     -> Result<inkan_tsa::config::Settings, String> {
        let mut toml = format!(
            "listen = \"127.0.0.1:0\"\nkey = \"{keyref}\"\ncert_chain = \"{}\"\npolicy = \"1.2.3.4.1\"\ndata_dir = \"{}\"\n",
            chain.display(),
            base.join(format!("data-{point}")).display()
        );
        if let Some(u) = store {
            toml.push_str(&format!("store = \"{u}\"\n"));
        }
        if let Some(n) = o.signing_threads {
            toml.push_str(&format!("signing_threads = {n}\n"));
        }
        if let Some(n) = o.runtime_threads {
            toml.push_str(&format!("runtime_threads = {n}\n"));
        }
        if let Some(n) = o.commit_interval_ms {
            toml.push_str(&format!("commit_interval_ms = {n}\n"));
        }
        let file = inkan_tsa::config::FileConfig::parse(&toml).map_err(|e| e.to_string())?;
        inkan_tsa::config::resolve(file, &Default::default()).map_err(|e| e.to_string())
    };
    let label = if o.key.starts_with("pkcs11:") {
        "SoftHSM2/PKCS#11 P-256"
    } else {
        o.key.as_str()
    };
    let list = o
        .connections
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let mode = if o.h2 {
        println!(
            "inkan-tsa-load: key {label}, HTTP/2, {list} connections x {} streams, {} s per point, durable records",
            o.streams, o.seconds
        );
        Mode::H2 { streams: o.streams }
    } else {
        let pipe = if o.depth > 1 {
            format!(" x pipeline depth {} (HTTP/1.1 PIPELINING)", o.depth)
        } else {
            String::new()
        };
        println!(
            "inkan-tsa-load: key {label}, HTTP/1.1 keep-alive, {list} connections{pipe}, {} s per point, durable records",
            o.seconds
        );
        Mode::H1 { depth: o.depth }
    };
    // The raw rate before and after the load: on a machine shared with other work the two
    // differ, and their spread says how much the others' load moved under this run.
    let raw_secs = o.seconds.clamp(1, 5);
    let before = raw_signing_rate(&keyref, raw_secs)?;
    println!(
        "raw before: {:.0} signatures/s  ({}, same key, no HTTP/CMS/records)",
        before.0, before.1
    );
    // A private PostgreSQL server when a shared store is compared without --pg-url.
    let pg = match (o.stores.iter().any(Option::is_some), &o.pg_url) {
        (true, None) => Some(PrivatePg::start(base)?),
        _ => None,
    };
    // The peer runs through the whole sweep (one JVM, warmed up once: its JIT needs more than
    // the 1 s warm-up of each point).
    let peer = if o.peer {
        if keyref.starts_with("pkcs11:") {
            return Err("--peer bc needs a key file (the peer reads the PEM key)".into());
        }
        let threads = 2 * std::thread::available_parallelism().map_or(2, |n| n.get());
        let peer = BcPeer::start(base, &keyref, &chain, threads)?;
        println!(
            "peer: Bouncy Castle TSP behind the JDK HttpServer on {} ({threads} handler threads, same key and certificate, no records); JIT warm-up 15 s",
            peer.addr
        );
        let _ = drive(std::slice::from_ref(&peer.addr), 64, mode, 14, None)?;
        Some(peer)
    } else {
        None
    };
    let mut points = Vec::new();
    let mut i = 0usize;
    for &conns in &o.connections {
        for &kind in &o.stores {
            i += 1;
            let store_url = match (kind, &o.pg_url, &pg) {
                (None, _, _) => None,
                (Some(_), Some(u), _) => Some(u.clone()),
                (Some(_), None, Some(pg)) => Some(pg.database(&format!("bench_{i}"))?),
                (Some(_), None, None) => return Err("no PostgreSQL server".into()),
            };
            let store_label = kind.map_or_else(|| "embedded".to_owned(), |n| format!("pg x{n}"));
            println!("-- {store_label}, {conns} connections");
            // Each instance on a runtime of its own, as `inkan-tsa serve` builds it
            // (src/main.rs): two instances are two processes' worth of threads.
            let mut servers = Vec::new();
            let mut addrs = Vec::new();
            match &o.url {
                Some(u) => addrs.push(
                    u.trim_start_matches("http://")
                        .trim_end_matches('/')
                        .to_owned(),
                ),
                None => {
                    for k in 0..kind.unwrap_or(1) {
                        let s = settings_for(&format!("{i}-{k}"), store_url.as_deref())?;
                        if k == 0 {
                            println!(
                                "server: {} runtime threads, {} signing threads, commit interval {} ms{}",
                                s.runtime_threads,
                                s.signing_threads,
                                s.commit_interval.as_millis(),
                                match kind {
                                    Some(n) => format!(
                                        ", each of {n} instance(s) on the shared store {}",
                                        store_url.as_deref().unwrap_or_default()
                                    ),
                                    None => String::new(),
                                }
                            );
                        }
                        let rt = tokio::runtime::Builder::new_multi_thread()
                            .worker_threads(s.runtime_threads)
                            .enable_all()
                            .thread_name("inkan-tsa")
                            .build()
                            .map_err(|e| e.to_string())?;
                        let r = rt.block_on(inkan_tsa::app::start(s, Arc::new(SystemClock)))?;
                        addrs.push(r.addr.to_string());
                        servers.push((rt, r));
                    }
                }
            }
            let db_cpu = || pg.as_ref().and_then(PrivatePg::cpu_secs);
            let d = drive(
                &addrs,
                conns,
                mode,
                o.seconds,
                (kind.is_some() && pg.is_some()).then_some(&db_cpu as &dyn Fn() -> Option<f64>),
            )?;
            let store = metrics_line(&addrs);
            for (rt, r) in servers {
                rt.block_on(r.shutdown());
                drop(rt);
            }
            let p = Point::new(store_label, conns, &d, store.as_ref().map(|s| s.1));
            println!(
                "tsa:  {} tokens/s  p50 {:.2} ms  p99 {:.2} ms  ({} tokens, {} errors)",
                p.rate,
                p.p50,
                p.p99,
                d.lat.len(),
                p.errors
            );
            if let Some((s, _)) = &store {
                println!("store: {s}");
            }
            points.push(p);
            // The peer at the same concurrency, right after the embedded store's point.
            if let (Some(peer), None) = (&peer, kind) {
                println!("-- BC peer, {conns} connections");
                let cpu = || peer.cpu_secs();
                let d = drive(
                    std::slice::from_ref(&peer.addr),
                    conns,
                    mode,
                    o.seconds,
                    Some(&cpu as &dyn Fn() -> Option<f64>),
                )?;
                let p = Point::new("BC peer".into(), conns, &d, None);
                println!(
                    "peer: {} tokens/s  p50 {:.2} ms  p99 {:.2} ms  ({} tokens, {} errors)",
                    p.rate,
                    p.p50,
                    p.p99,
                    d.lat.len(),
                    p.errors
                );
                points.push(p);
            }
            if let (true, None) = (o.lean, kind) {
                println!("-- lean hyper, {conns} connections");
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(
                        // As `inkan-tsa serve` (configuration `runtime_threads`).
                        o.runtime_threads.unwrap_or_else(|| {
                            std::thread::available_parallelism()
                                .map_or(1, |n| n.get().div_ceil(2))
                                .max(1)
                        }),
                    )
                    .enable_all()
                    .thread_name("inkan-tsa")
                    .build()
                    .map_err(|e| e.to_string())?;
                let addr = rt.block_on(lean_hyper())?;
                let d = drive(std::slice::from_ref(&addr), conns, mode, o.seconds, None)?;
                drop(rt);
                let p = Point::new("hyper".into(), conns, &d, None);
                println!(
                    "hyper: {} responses/s  p50 {:.2} ms  p99 {:.2} ms",
                    p.rate, p.p50, p.p99
                );
                points.push(p);
            }
        }
    }
    drop(pg);
    drop(peer);
    let after = raw_signing_rate(&keyref, raw_secs)?;
    println!(
        "raw after:  {:.0} signatures/s  ({}, same key, no HTTP/CMS/records)",
        after.0, after.1
    );
    let raw = (before.0 + after.0) / 2.0;
    let raw_cpu = match (before.2, after.2) {
        (Some(a), Some(b)) => Some((a + b) / 2.0),
        (a, b) => a.or(b),
    };
    println!(
        "raw:  {raw:.0} signatures/s (mean of before and after; they differ by {:.0}%)",
        (before.0 - after.0).abs() / raw.max(1.0) * 100.0
    );
    // On a machine shared with other work the load and the raw phases may get different
    // shares of the cores; CPU per operation does not depend on that share (much), so
    // `by CPU` (raw CPU per signature / CPU per token) is the ratio if both had the same.
    let several = o.stores.len() > 1;
    println!(
        "{:>9} {:>11} {:>9} {:>8} {:>8} {:>8} {:>9} {:>9} {:>13} {:>11} {:>6} {:>9} {:>7}",
        "store",
        "connections",
        "tokens/s",
        "p50 ms",
        "p99 ms",
        "tsa/raw",
        "x embedded",
        "x emb CPU",
        "us CPU/token",
        "raw by CPU",
        "cores",
        "rec/commit",
        "errors"
    );
    for p in &points {
        let opt = |v: Option<f64>, digits: usize| {
            v.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
        };
        // The same concurrency on the embedded store, measured in this run.
        let same = points
            .iter()
            .find(|e| e.store == "embedded" && e.connections == p.connections)
            .filter(|_| several && p.store.starts_with("pg"));
        let embedded = same.map(|e| p.rate as f64 / e.rate.max(1) as f64);
        // The same by CPU per token (database included): the ratio if both points had had
        // the same cores, which a shared machine does not give them.
        let embedded_cpu = same
            .and_then(|e| e.cpu_per_token_us)
            .zip(p.cpu_per_token_us)
            .map(|(e, t)| e / t);
        println!(
            "{:>9} {:>11} {:>9} {:>8.2} {:>8.2} {:>8.3} {:>9} {:>9} {:>13} {:>11} {:>6} {:>9} {:>7}",
            p.store,
            p.connections,
            p.rate,
            p.p50,
            p.p99,
            p.rate as f64 / raw,
            opt(embedded, 2),
            opt(embedded_cpu, 2),
            opt(p.cpu_per_token_us, 1),
            opt(raw_cpu.zip(p.cpu_per_token_us).map(|(r, t)| r / t), 3),
            opt(p.cores, 2),
            opt(p.per_commit, 1),
            p.errors
        );
    }
    for p in points.iter().filter(|p| p.store == "embedded") {
        if let Some(b) = points
            .iter()
            .find(|b| b.store == "BC peer" && b.connections == p.connections)
        {
            println!(
                "{} connections: inkan-tsa (durable records) / BC peer (no records) = {:.2} ({} / {} tokens/s, same run)",
                p.connections,
                p.rate as f64 / b.rate.max(1) as f64,
                p.rate,
                b.rate
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::granted;

    #[test]
    fn granted_with_or_without_a_status_string() {
        // inkan-tsa: status info without statusString.
        assert!(granted(&[
            0x30, 0x82, 0x01, 0x00, 0x30, 0x03, 0x02, 0x01, 0x00
        ]));
        // Bouncy Castle: "Operation Okay".
        let mut bc = vec![
            0x30, 0x82, 0x02, 0x13, 0x30, 0x15, 0x02, 0x01, 0x00, 0x30, 0x10,
        ];
        bc.extend_from_slice(b"\x0c\x0eOperation Okay");
        assert!(granted(&bc));
        assert!(granted(&[0x30, 0x10, 0x30, 0x03, 0x02, 0x01, 0x01]));
        // A rejection, and junk.
        assert!(!granted(&[
            0x30, 0x08, 0x30, 0x06, 0x02, 0x01, 0x02, 0x03, 0x01, 0x00
        ]));
        assert!(!granted(&[0x30]));
        assert!(!granted(&[]));
    }
}
