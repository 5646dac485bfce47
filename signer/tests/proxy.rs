//! Proxy support against real parts: a real forwarding/CONNECT HTTP proxy written here (tokio,
//! 127.0.0.1:0) that counts what it relays and can require `Proxy-Authorization`; a real
//! `inkan-tsa` on 127.0.0.1:0, reached over http directly and over https behind a real
//! TLS-terminating front (tokio-rustls and hyper) whose certificate names `tsa.test`; the
//! `inkan-sign` binary as the operator runs it; `openssl cms -verify` as judge.
//!
//! The TSA is addressed as `tsa.test`, a name only the proxy resolves (to 127.0.0.1): a request
//! that gets through proves it went through the proxy, and loopback addresses are never proxied.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use inkan_hsm::devpki::KeyAlg;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;

use common::{
    Gate, TestTsa, assert_failed, b64, make_ca, make_empty_crl, make_eseal_with_crl_dp, make_leaf,
    start_front,
};

const PROXY_USER: &str = "agency";
const PROXY_PASSWORD: &str = "Pr0xy-pa55-never-shown";
/// Every variable that could route the child's requests.
const PROXY_VARS: [&str; 7] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "no_proxy",
    "NO_PROXY",
    "REQUEST_METHOD",
];

fn proxy_basic() -> String {
    format!(
        "Basic {}",
        b64(format!("{PROXY_USER}:{PROXY_PASSWORD}").as_bytes())
    )
}

/// What the proxy saw.
#[derive(Default)]
struct Seen {
    /// Request lines, in order.
    lines: Vec<String>,
    /// The `Proxy-Authorization` of each request.
    auth: Vec<Option<String>>,
    /// Bytes the client sent into CONNECT tunnels (the first 64 KiB).
    tunnelled: Vec<u8>,
}

impl Seen {
    fn count(&self, prefix: &str) -> usize {
        self.lines.iter().filter(|l| l.starts_with(prefix)).count()
    }
}

/// The proxy's name resolution: `*.test` is 127.0.0.1, else an IP address.
fn resolve(authority: &str) -> Option<SocketAddr> {
    let (host, port) = authority.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let ip = if host.ends_with(".test") {
        std::net::IpAddr::from([127, 0, 0, 1])
    } else {
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok()?
    };
    Some(SocketAddr::new(ip, port))
}

/// Reads an HTTP head; returns it and the bytes read after it.
async fn read_head(c: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = c.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(i + 4);
            return Some((String::from_utf8_lossy(&buf).into_owned(), rest));
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
    }
}

/// A forwarding (absolute-form) and CONNECT proxy on 127.0.0.1:0, one request per connection;
/// with `require`, answers 407 unless `Proxy-Authorization` is exactly that.
fn start_proxy(
    rt: &tokio::runtime::Runtime,
    require: Option<String>,
) -> (SocketAddr, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let s = seen.clone();
    rt.spawn(async move {
        loop {
            let Ok((c, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(handle(c, s.clone(), require.clone()));
        }
    });
    (addr, seen)
}

async fn handle(mut c: TcpStream, seen: Arc<Mutex<Seen>>, require: Option<String>) {
    let Some((head, mut rest)) = read_head(&mut c).await else {
        return;
    };
    let mut lines = head.split("\r\n");
    let line = lines.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let auth = header("proxy-authorization");
    {
        let mut s = seen.lock().unwrap();
        s.lines.push(line.clone());
        s.auth.push(auth.clone());
    }
    if require.is_some() && auth != require {
        let _ = c
            .write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                  Proxy-Authenticate: Basic realm=\"agency proxy\"\r\n\
                  Content-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .await;
        return;
    }
    let mut parts = line.split(' ');
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    if method == "CONNECT" {
        let Some(up) = resolve(target) else { return };
        let Ok(up) = TcpStream::connect(up).await else {
            let _ = c
                .write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                .await;
            return;
        };
        c.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
            .unwrap();
        let (mut cr, mut cw) = c.into_split();
        let (mut ur, mut uw) = up.into_split();
        let upward = async {
            let mut buf = [0u8; 8192];
            loop {
                let n = match cr.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                {
                    let mut s = seen.lock().unwrap();
                    if s.tunnelled.len() < 64 * 1024 {
                        s.tunnelled.extend_from_slice(&buf[..n]);
                    }
                }
                if uw.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
            let _ = uw.shutdown().await;
        };
        let downward = async {
            let _ = tokio::io::copy(&mut ur, &mut cw).await;
            let _ = cw.shutdown().await;
        };
        tokio::join!(upward, downward);
        return;
    }
    // Absolute form: METHOD http://host:port/path HTTP/1.1.
    let Some(url) = target.strip_prefix("http://") else {
        return;
    };
    let (authority, path) = match url.find('/') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, "/"),
    };
    let Some(up) = resolve(authority) else { return };
    let Ok(mut up) = TcpStream::connect(up).await else {
        return;
    };
    let len: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while rest.len() < len {
        let mut chunk = [0u8; 4096];
        match c.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => rest.extend_from_slice(&chunk[..n]),
        }
    }
    let mut fwd = format!("{method} {path} HTTP/1.1\r\n");
    for (k, v) in &headers {
        if k != "proxy-authorization" && k != "connection" {
            fwd.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    fwd.push_str("connection: close\r\n\r\n");
    let mut bytes = fwd.into_bytes();
    bytes.extend_from_slice(&rest[..len]);
    if up.write_all(&bytes).await.is_err() {
        return;
    }
    let _ = tokio::io::copy(&mut up, &mut c).await;
    let _ = c.shutdown().await;
}

/// An https front on 127.0.0.1:0 with `server.pem` (for `tsa.test`), forwarding POSTs to the
/// TSA at `backend`.
struct Env {
    tsa: TestTsa,
    front: SocketAddr,
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (_pki, tsa) = common::dev_pki_with_tsa(d, KeyAlg::P256);
        // The front's TLS certificate: for tsa.test only, from a CA of the test.
        make_ca(d, "server-ca");
        make_leaf(d, "server-ca", "server", "serverAuth", Some("DNS:tsa.test"));
        let (front, _) = start_front(&tsa.rt, d, "server", Gate::Open, tsa.addr, None);
        Self { tsa, front, dir }
    }

    fn p(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    /// The TSA over http, by a name only the proxy resolves.
    fn http_url(&self) -> String {
        format!("http://tsa.test:{}/", self.tsa.addr.port())
    }

    /// The TSA over https (the front), by a name only the proxy resolves.
    fn https_url(&self) -> String {
        format!("https://tsa.test:{}/", self.front.port())
    }

    fn input(&self, name: &str) -> String {
        let p = self.p(name);
        std::fs::write(&p, format!("content of {name}")).unwrap();
        p
    }

    /// Seals a new input `name` at B-B (no TSA, no proxy variables); returns (input, .p7s).
    fn seal_bb(&self, name: &str) -> (String, String) {
        let input = self.input(name);
        let (code, text) = self.run(
            &[
                "--key",
                "eseal.key",
                "--cert-chain",
                "eseal-chain.pem",
                &input,
            ],
            &[],
        );
        assert_eq!(code, Some(0), "{text}");
        let sig = format!("{input}.p7s");
        (input, sig)
    }

    /// Runs `inkan-sign` with `args` and exactly the proxy variables `vars`; checks that the
    /// proxy password, plain or encoded, appears nowhere in its output.
    fn run(&self, args: &[&str], vars: &[(&str, &str)]) -> (Option<i32>, String) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_inkan-sign"));
        cmd.args(args).current_dir(self.dir.path());
        for v in PROXY_VARS {
            cmd.env_remove(v);
        }
        cmd.envs(vars.iter().copied());
        let out = cmd.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let encoded = b64(format!("{PROXY_USER}:{PROXY_PASSWORD}").as_bytes());
        assert!(
            !text.contains(PROXY_PASSWORD) && !text.contains(&encoded),
            "proxy credentials in output: {text}"
        );
        (out.status.code(), text)
    }

    /// Signs a new file `name` at B-T through `tsa`; returns (exit, output, .p7s path).
    fn sign_bt(
        &self,
        name: &str,
        tsa: &str,
        extra: &[&str],
        vars: &[(&str, &str)],
    ) -> (Option<i32>, String, String) {
        let input = self.input(name);
        let ca = self.p("server-ca.pem");
        let mut args = vec![
            "--key",
            "eseal.key",
            "--cert-chain",
            "eseal-chain.pem",
            "--level",
            "B-T",
            "--tsa",
            tsa,
        ];
        if tsa.starts_with("https") {
            args.extend(["--tsa-ca", ca.as_str()]);
        }
        args.extend_from_slice(extra);
        args.push(&input);
        let (code, text) = self.run(&args, vars);
        (code, text, format!("{input}.p7s"))
    }

    /// `openssl cms -verify` accepts the signature, and it carries a signature-time-stamp.
    fn verify(&self, sig: &str, content: &str) {
        common::assert_openssl_accepts_b_t(self.dir.path(), sig, content);
    }
}

#[test]
fn b_t_through_a_proxy_over_http_and_https() {
    let env = Env::new();
    let (proxy, seen) = start_proxy(&env.tsa.rt, None);
    let purl = format!("http://{proxy}");

    // http:// TSA, proxy from HTTP_PROXY (not a CGI context): absolute form.
    let (code, text, p7s) = env.sign_bt("a.txt", &env.http_url(), &[], &[("HTTP_PROXY", &purl)]);
    assert_eq!(code, Some(0), "{text}");
    env.verify(&p7s, &env.p("a.txt"));
    assert_eq!(
        seen.lock().unwrap().lines,
        [format!("POST {} HTTP/1.1", env.http_url())]
    );

    // https:// TSA, proxy from https_proxy: one CONNECT, then only ciphertext.
    let (code, text, p7s) = env.sign_bt("b.txt", &env.https_url(), &[], &[("https_proxy", &purl)]);
    assert_eq!(code, Some(0), "{text}");
    env.verify(&p7s, &env.p("b.txt"));
    {
        let s = seen.lock().unwrap();
        assert_eq!(s.lines.len(), 2, "{:?}", s.lines);
        assert_eq!(
            s.lines[1],
            format!("CONNECT tsa.test:{} HTTP/1.1", env.front.port())
        );
        assert_eq!(s.tunnelled.first(), Some(&0x16), "a TLS handshake record");
        for plain in [&b"POST"[..], b"timestamp-query", b"tsa.test:"] {
            assert!(
                !s.tunnelled.windows(plain.len()).any(|w| w == plain),
                "plaintext {:?} in the tunnel",
                String::from_utf8_lossy(plain)
            );
        }
    }

    // The TLS checks hold through the tunnel: a CA that did not issue the front's certificate.
    let (code, text, p7s) = env.sign_bt(
        "c.txt",
        &env.https_url(),
        &["--tsa-ca", &env.p("root.pem")],
        &[("HTTPS_PROXY", &purl)],
    );
    assert_failed(code, 69, &text, &p7s, "certificate is not trusted");

    // extend B-B -> B-T with an explicit --proxy and no variable at all.
    let (input, sig) = env.seal_bb("d.txt");
    let (code, text) = env.run(
        &[
            "extend",
            "--level",
            "B-T",
            "--tsa",
            &env.https_url(),
            "--tsa-ca",
            &env.p("server-ca.pem"),
            "--proxy",
            &purl,
            &sig,
        ],
        &[],
    );
    assert_eq!(code, Some(0), "{text}");
    env.verify(&sig, &input);
    assert_eq!(seen.lock().unwrap().count("CONNECT "), 3);

    // A batch through the tunnel reuses its connections: far fewer CONNECTs than tokens.
    const FILES: usize = 30;
    let inputs: Vec<String> = (0..FILES)
        .map(|i| env.input(&format!("f{i}.txt")))
        .collect();
    let https = env.https_url();
    let ca = env.p("server-ca.pem");
    let mut args = vec![
        "--key",
        "eseal.key",
        "--cert-chain",
        "eseal-chain.pem",
        "--level",
        "B-T",
        "--tsa",
        &https,
        "--tsa-ca",
        &ca,
    ];
    args.extend(inputs.iter().map(String::as_str));
    let (code, text) = env.run(&args, &[("https_proxy", &purl)]);
    assert_eq!(code, Some(0), "{text}");
    env.verify(&format!("{}.p7s", inputs[FILES - 1]), &inputs[FILES - 1]);
    let connects = seen.lock().unwrap().count("CONNECT ") - 3;
    let workers = inkan_signer::sign::default_workers(inkan_signer::cades::Level::BT);
    assert!(
        connects >= 1 && connects <= 2 * workers && connects < FILES,
        "{connects} CONNECTs for {FILES} tokens with {workers} workers"
    );
}

#[test]
fn no_proxy_loopback_and_proxy_none() {
    let env = Env::new();
    let (proxy, seen) = start_proxy(&env.tsa.rt, None);
    let purl = format!("http://{proxy}");
    let count = || seen.lock().unwrap().lines.len();

    // Loopback is reached directly whatever the variables say.
    let loopback = format!("http://127.0.0.1:{}/", env.tsa.addr.port());
    let vars = [("http_proxy", purl.as_str()), ("HTTP_PROXY", purl.as_str())];
    let (code, text, p7s) = env.sign_bt("a.txt", &loopback, &[], &vars);
    assert_eq!(code, Some(0), "{text}");
    env.verify(&p7s, &env.p("a.txt"));
    let localhost = format!("https://localhost:{}/", env.front.port());
    let (code, text, p7s) = env.sign_bt("b.txt", &localhost, &[], &[("https_proxy", &purl)]);
    // Direct, so the front's certificate (for tsa.test) is checked against "localhost".
    assert_failed(code, 69, &text, &p7s, "not valid for this host name");
    assert_eq!(count(), 0);

    // NO_PROXY in its forms: the client goes directly, and tsa.test has no address outside
    // the proxy, so the attempt fails naming the TSA, never the proxy.
    for (i, no_proxy) in [
        "tsa.test",
        ".test",
        "test",
        "other.example, *",
        "10.0.0.0/8,tsa.test",
    ]
    .into_iter()
    .enumerate()
    {
        for (j, (var, url)) in [
            ("http_proxy", env.http_url()),
            ("https_proxy", env.https_url()),
        ]
        .into_iter()
        .enumerate()
        {
            let name = format!("np{i}{j}.txt");
            let (code, text, p7s) =
                env.sign_bt(&name, &url, &[], &[(var, &purl), ("NO_PROXY", no_proxy)]);
            assert_failed(code, 69, &text, &p7s, "could not reach the TSA");
            assert!(
                text.contains("tsa.test") && !text.contains("proxy"),
                "{text}"
            );
        }
    }
    assert_eq!(count(), 0);
    // An entry that does not match leaves the proxy in use.
    let (code, text, _) = env.sign_bt(
        "c.txt",
        &env.http_url(),
        &[],
        &[("http_proxy", &purl), ("no_proxy", "nottsa.test,10.1.2.3")],
    );
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(count(), 1);

    // --proxy none: the variables are ignored.
    let (code, text, p7s) = env.sign_bt(
        "d.txt",
        &env.https_url(),
        &["--proxy", "none"],
        &[("https_proxy", &purl), ("HTTPS_PROXY", &purl)],
    );
    assert_failed(code, 69, &text, &p7s, "could not reach the TSA");
    assert_eq!(count(), 1);
    // --proxy URL overrides the variables (which name a proxy that is not there).
    let (code, text, _) = env.sign_bt(
        "e.txt",
        &env.https_url(),
        &["--proxy", &purl],
        &[("https_proxy", "http://127.0.0.1:1")],
    );
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(count(), 2);
    // HTTP_PROXY is not trusted in a CGI context (REQUEST_METHOD set): direct, so it fails.
    let (code, text, p7s) = env.sign_bt(
        "f.txt",
        &env.http_url(),
        &[],
        &[("HTTP_PROXY", &purl), ("REQUEST_METHOD", "GET")],
    );
    assert_failed(code, 69, &text, &p7s, "could not reach the TSA");
    assert_eq!(count(), 2);
}

#[test]
fn proxy_authentication() {
    let env = Env::new();
    let (proxy, seen) = start_proxy(&env.tsa.rt, Some(proxy_basic()));
    let anonymous = format!("http://{proxy}");
    let with_creds = format!("http://{PROXY_USER}:{PROXY_PASSWORD}@{proxy}");
    let wrong = format!("http://{PROXY_USER}:wrong-{PROXY_PASSWORD}@{proxy}");
    let name = format!("proxy http://{proxy}");

    for url in [env.http_url(), env.https_url()] {
        let tag = if url.starts_with("https") { "s" } else { "p" };
        // Without credentials: the 407 is explained and names the proxy.
        let (code, text, p7s) =
            env.sign_bt(&format!("a{tag}.txt"), &url, &["--proxy", &anonymous], &[]);
        assert_failed(code, 69, &text, &p7s, "requires authentication (HTTP 407)");
        assert!(text.contains(&name), "{text}");
        // Wrong credentials (from the environment this time).
        let var = if tag == "s" {
            "HTTPS_PROXY"
        } else {
            "http_proxy"
        };
        let (code, text, p7s) = env.sign_bt(&format!("b{tag}.txt"), &url, &[], &[(var, &wrong)]);
        assert_failed(
            code,
            69,
            &text,
            &p7s,
            "refused the credentials of the proxy URL",
        );
        assert!(!text.contains("wrong-"), "{text}");
        // The right ones.
        let (code, text, p7s) =
            env.sign_bt(&format!("c{tag}.txt"), &url, &["--proxy", &with_creds], &[]);
        assert_eq!(code, Some(0), "{text}");
        env.verify(&p7s, &env.p(&format!("c{tag}.txt")));
    }
    let s = seen.lock().unwrap();
    let good = Some(proxy_basic());
    assert_eq!(
        s.auth.iter().filter(|a| **a == good).count(),
        2,
        "{:?}",
        s.lines
    );
    // The credentials went to the proxy only: not inside the tunnel.
    let encoded = b64(format!("{PROXY_USER}:{PROXY_PASSWORD}").as_bytes());
    assert!(
        !s.tunnelled
            .windows(encoded.len())
            .any(|w| w == encoded.as_bytes())
    );
}

#[test]
fn proxy_down() {
    let env = Env::new();
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = format!("http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{port}/");
    for (i, url) in [env.http_url(), env.https_url()].into_iter().enumerate() {
        let (code, text, p7s) = env.sign_bt(&format!("a{i}.txt"), &url, &["--proxy", &down], &[]);
        assert_failed(
            code,
            69,
            &text,
            &p7s,
            &format!("proxy http://127.0.0.1:{port}: cannot connect"),
        );
        assert!(!text.contains(PROXY_USER), "{text}");
    }
    // extend leaves the signature as it was.
    let (_, sig) = env.seal_bb("e.txt");
    let before = std::fs::read(&sig).unwrap();
    let (code, text) = env.run(
        &["extend", "--level", "B-T", "--tsa", &env.http_url(), &sig],
        &[("http_proxy", &down)],
    );
    assert_eq!(code, Some(69), "{text}");
    assert!(text.contains("cannot connect"), "{text}");
    assert_eq!(std::fs::read(&sig).unwrap(), before);
    // Proxy URLs that are not usable stop the run before anything is signed (exit 64).
    for bad in [
        format!("https://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{port}"),
        format!("socks5://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{port}"),
    ] {
        let (code, text, p7s) =
            env.sign_bt("f.txt", &env.http_url(), &[], &[("https_proxy", &bad)]);
        assert_eq!(code, Some(64), "{text}");
        assert!(text.contains("only http:// proxies"), "{text}");
        assert!(!Path::new(&p7s).exists());
        let (code, text, _) = env.sign_bt("g.txt", &env.http_url(), &["--proxy", &bad], &[]);
        assert_eq!(code, Some(64), "{text}");
        assert!(!text.contains(PROXY_USER), "{text}");
    }
}

/// A plain HTTP server on 127.0.0.1:0: `GET /ca.crl` answers `crl`; `POST /` with
/// `application/ocsp-request` answers the body reversed (a stand-in OCSP responder).
fn start_repository(rt: &tokio::runtime::Runtime, crl: Bytes) -> SocketAddr {
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let crl = crl.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let crl = crl.clone();
                    async move {
                        let ocsp = req
                            .headers()
                            .get(hyper::header::CONTENT_TYPE)
                            .is_some_and(|v| v == "application/ocsp-request");
                        let get =
                            req.method() == hyper::Method::GET && req.uri().path() == "/ca.crl";
                        let body = req.into_body().collect().await?.to_bytes();
                        let out = if get {
                            crl
                        } else if ocsp {
                            body.iter().rev().copied().collect::<Vec<u8>>().into()
                        } else {
                            Bytes::from_static(b"?")
                        };
                        Ok::<_, hyper::Error>(Response::new(Full::new(out)))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), svc)
                    .await;
            });
        }
    });
    addr
}

/// B-LT: the CRL of the signer's CA fetched from its distribution point through the proxy
/// (absolute-form GET with Proxy-Authorization), the token through the CONNECT tunnel; and
/// OCSP requests through the proxy too.
#[test]
fn b_lt_fetches_through_the_proxy() {
    let env = Env::new();
    let d = env.dir.path();
    let (proxy, seen) = start_proxy(&env.tsa.rt, Some(proxy_basic()));
    let with_creds = format!("http://{PROXY_USER}:{PROXY_PASSWORD}@{proxy}");
    // The signer's CA and its (empty) CRL.
    make_ca(d, "eseal-ca");
    let crl = make_empty_crl(d, "eseal-ca");
    let repo = start_repository(&env.tsa.rt, Bytes::from(crl.clone()));
    let crl_url = format!("http://crl.test:{}/ca.crl", repo.port());
    // The signer's certificate names the distribution point by a name only the proxy resolves.
    make_eseal_with_crl_dp(d, "seal", &crl_url);
    let https = env.https_url();
    let ca = env.p("server-ca.pem");
    let loopback = format!("http://127.0.0.1:{}/", env.tsa.addr.port());
    let run = |input: &str, tsa: &str, proxy: &str| {
        let mut args = vec![
            "--key",
            "seal.key",
            "--cert-chain",
            "seal-chain.pem",
            "--level",
            "B-LT",
            "--tsa",
            tsa,
            "--crl",
            "crl.der",
            "--proxy",
            proxy,
        ];
        if tsa.starts_with("https") {
            args.extend(["--tsa-ca", ca.as_str()]);
        }
        args.push(input);
        env.run(&args, &[])
    };

    // Without a proxy, the distribution point cannot be reached: nothing written.
    let input = env.input("a.txt");
    // (The TSA on loopback is reached directly.)
    let (code, text) = run(&input, &loopback, "none");
    assert_ne!(code, Some(0), "{text}");
    assert!(text.contains(&crl_url), "{text}");
    assert!(!Path::new(&format!("{input}.p7s")).exists());

    // Through the proxy: the CRL is fetched, validated and embedded.
    let input = env.input("b.txt");
    let (code, text) = run(&input, &https, &with_creds);
    assert_eq!(code, Some(0), "{text}");
    let p7s = format!("{input}.p7s");
    let der = std::fs::read(&p7s).unwrap();
    let sd = inkan_profiles::asn1::cms::RawSignedData::parse(&der).unwrap();
    assert!(sd.crls.contains(&crl), "the fetched CRL is embedded");
    common::assert_openssl_cms_verify(d, &p7s, &input, "eseal-ca.pem");
    {
        let s = seen.lock().unwrap();
        let get = format!("GET {crl_url} HTTP/1.1");
        let i = s
            .lines
            .iter()
            .position(|l| *l == get)
            .expect("the CRL went through the proxy");
        assert_eq!(s.auth[i], Some(proxy_basic()));
        assert!(s.count("CONNECT tsa.test:") >= 1, "{:?}", s.lines);
    }

    // OCSP requests take the same path (absolute-form POST with the proxy's credentials).
    let ocsp_url = format!("http://ocsp.test:{}/", repo.port());
    let proxies = Arc::new(
        inkan_signer::proxy::Proxies::resolve_with(
            &inkan_signer::proxy::ProxyChoice::Url(inkan_signer::proxy::ProxyUrlText(
                with_creds.clone(),
            )),
            &|_| None,
        )
        .unwrap(),
    );
    let t = std::time::Duration::from_secs(10);
    let got = env
        .tsa
        .rt
        .block_on(inkan_signer::revocation::post_ocsp(
            &ocsp_url,
            vec![1, 2, 3],
            t,
            &proxies,
        ))
        .unwrap();
    assert_eq!(got, [3, 2, 1]);
    let s = seen.lock().unwrap();
    assert_eq!(
        s.lines.last().unwrap(),
        &format!("POST {ocsp_url} HTTP/1.1")
    );
    assert_eq!(s.auth.last().unwrap(), &Some(proxy_basic()));
    drop(s);
    // A 407 on the OCSP path says so.
    let anonymous = Arc::new(
        inkan_signer::proxy::Proxies::resolve_with(
            &inkan_signer::proxy::ProxyChoice::Url(inkan_signer::proxy::ProxyUrlText(format!(
                "http://{proxy}"
            ))),
            &|_| None,
        )
        .unwrap(),
    );
    let e = env
        .tsa
        .rt
        .block_on(inkan_signer::revocation::post_ocsp(
            &ocsp_url,
            vec![1],
            t,
            &anonymous,
        ))
        .unwrap_err();
    assert!(e.contains("requires authentication (HTTP 407)"), "{e}");
}
