//! Shared helpers: a throw-away PKI made with the real `openssl`, an in-process TSA on
//! 127.0.0.1:0, a minimal HTTP/1.1 client, and `openssl ts` wrappers.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use inkan_profiles::clock::SystemClock;
use inkan_tsa::config::{self, Overrides, Settings};

pub mod process;

pub use inkan_test_support::{CA_EXTENSIONS, openssl, openssl_ok, openssl_p256_req};

/// Which key the TSA gets.
#[derive(Clone, Copy, Debug)]
pub enum KeyKind {
    P256,
    Rsa3072,
}

/// root.pem, tsa.key (PKCS#8), tsa.pem, chain.pem in `dir`.
pub fn make_pki(dir: &Path, kind: KeyKind) {
    openssl_ok(
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
    );
    root_cert(dir, "30");
    let key_type = match kind {
        KeyKind::P256 => ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        KeyKind::Rsa3072 => ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"],
    };
    let mut genpkey = vec!["genpkey"];
    genpkey.extend(key_type);
    genpkey.extend(["-out", "tsa.key"]);
    openssl_ok(dir, &genpkey);
    std::fs::write(
        dir.join("ext.cnf"),
        "extendedKeyUsage=critical,timeStamping\nkeyUsage=critical,digitalSignature\n",
    )
    .unwrap();
    new_csr(
        dir,
        "tsa.key",
        "/C=JP/O=inkan test/CN=inkan test TSA",
        "tsa.csr",
    );
    sign_csr(dir, "tsa.csr", "root", "4242", &["-days", "30"], "tsa.pem");
    write_chain(dir, "chain.pem", &["tsa.pem", "root.pem"]);
}

/// (Re)writes the self-signed test root `root.pem` in `dir` for `root.key`, valid for `days`
/// days (RFC 5280 §4.2.1.9 and §4.2.1.3: a CA that signs certificates and CRLs).
pub fn root_cert(dir: &Path, days: &str) {
    let mut args = vec!["req", "-x509", "-new", "-key", "root.key"];
    args.extend([
        "-subj",
        "/CN=inkan test root",
        "-days",
        days,
        "-out",
        "root.pem",
    ]);
    args.extend(CA_EXTENSIONS);
    openssl_ok(dir, &args);
}

/// `openssl req -new`: a certificate request `csr` in `dir` for the key file `key` with the
/// subject `subj`.
pub fn new_csr(dir: &Path, key: &str, subj: &str, csr: &str) {
    openssl_ok(
        dir,
        &["req", "-new", "-key", key, "-subj", subj, "-out", csr],
    );
}

/// `openssl x509 -req`: issues the request `csr` in `dir` as `out`, signed by the CA `ca`
/// (`{ca}.pem`, `{ca}.key`) with the serial number `serial`, the extensions of `ext.cnf`
/// unless `opts` names another `-extfile`, and the further options `opts` (`-days`, a digest).
pub fn sign_csr(dir: &Path, csr: &str, ca: &str, serial: &str, opts: &[&str], out: &str) {
    let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
    let mut args = vec![
        "x509", "-req", "-in", csr, "-CA", &ca_pem, "-CAkey", &ca_key,
    ];
    args.extend(["-set_serial", serial]);
    if !opts.contains(&"-extfile") {
        args.extend(["-extfile", "ext.cnf"]);
    }
    args.extend(opts);
    args.extend(["-out", out]);
    openssl_ok(dir, &args);
}

/// Writes the PEM file `out` in `dir`: the PEM files `parts` one after the other (a chain,
/// the signer's certificate first, RFC 3161 §2.4.2 `certificates`).
pub fn write_chain(dir: &Path, out: &str, parts: &[&str]) {
    let chain: Vec<u8> = parts
        .iter()
        .flat_map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
    std::fs::write(dir.join(out), chain).unwrap();
}

pub fn settings(pki: &Path, data: &Path, extra_toml: &str) -> Settings {
    let toml = format!(
        "listen = \"127.0.0.1:0\"\nkey = \"{}\"\ncert_chain = \"{}\"\npolicy = \"1.2.3.4.1\"\naccepted_policies = [\"1.2.3.4.2\"]\ndata_dir = \"{}\"\naccuracy_ms = 500\n{extra_toml}",
        pki.join("tsa.key").display(),
        pki.join("chain.pem").display(),
        data.display()
    );
    let file = config::FileConfig::parse(&toml).unwrap();
    config::resolve(file, &Overrides::default()).unwrap()
}

pub async fn start(s: Settings) -> inkan_tsa::app::Running {
    inkan_tsa::app::start(s, Arc::new(SystemClock))
        .await
        .unwrap()
}

/// A multi-threaded tokio runtime with two workers (the machine has two cores).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// An in-process TSA on 127.0.0.1:0 with its throw-away PKI and data directory, which live as
/// long as it does.
pub struct TestTsa {
    pub pki: tempfile::TempDir,
    pub data: tempfile::TempDir,
    pub rt: tokio::runtime::Runtime,
    pub tsa: inkan_tsa::app::Running,
}

/// Starts a [`TestTsa`]: a fresh PKI with a key of `kind`, an empty data directory, and the
/// [`settings`] with `extra_toml` added.
pub fn start_tsa(kind: KeyKind, extra_toml: &str) -> TestTsa {
    let pki = tmp();
    let data = tmp();
    make_pki(pki.path(), kind);
    let rt = runtime();
    let tsa = rt.block_on(start(settings(pki.path(), data.path(), extra_toml)));
    TestTsa { pki, data, rt, tsa }
}

/// An HTTP/2 connection with prior knowledge (RFC 9113 §3.3) to `addr`: its request sender
/// and the connection's driver, already spawned (it ends when the connection closes).
pub async fn h2_connect(
    addr: SocketAddr,
) -> (
    hyper::client::conn::http2::SendRequest<http_body_util::Full<bytes::Bytes>>,
    tokio::task::JoinHandle<()>,
) {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tcp),
    )
    .await
    .unwrap();
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    (sender, driver)
}

/// One HTTP/1.1 request; returns (status, headers text, body).
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    ctype: Option<&str>,
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(c) = ctype {
        head.push_str(&format!("Content-Type: {c}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers");
    let headers = String::from_utf8_lossy(&buf[..split]).to_string();
    let status: u16 = headers[9..12].parse().unwrap();
    (status, headers, buf[split + 4..].to_vec())
}

pub fn post_tsq(addr: SocketAddr, tsq: &[u8]) -> Vec<u8> {
    let (status, headers, body) = http(addr, "POST", "/", Some("application/timestamp-query"), tsq);
    assert_eq!(status, 200, "{headers}");
    assert!(
        headers
            .to_ascii_lowercase()
            .contains("content-type: application/timestamp-reply"),
        "{headers}"
    );
    body
}

pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

pub fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

/// `openssl ts -reply -text` of a response.
pub fn reply_text(dir: &Path, tsr: &[u8]) -> String {
    write(dir, "r.tsr", tsr);
    String::from_utf8(openssl_ok(dir, &["ts", "-reply", "-in", "r.tsr", "-text"])).unwrap()
}

/// The TSTInfo of a granted response, which must be DER (panics on a rejection).
pub fn tst_info(tsr: &[u8]) -> inkan_profiles::asn1::tsp::TstInfo {
    use der::Decode;
    let resp = inkan_profiles::asn1::tsp::TimeStampResp::parse(tsr).expect("TimeStampResp");
    let token = resp.token_der().expect("a granted response");
    let ci = cms::content_info::ContentInfo::from_der(&token).unwrap();
    let sd = ci
        .content
        .decode_as::<cms::signed_data::SignedData>()
        .unwrap();
    let ec = sd.encap_content_info.econtent.expect("eContent");
    let octets = ec.decode_as::<der::asn1::OctetString>().unwrap();
    inkan_profiles::asn1::tsp::TstInfo::parse_der(octets.as_bytes()).unwrap()
}

/// The serial of a granted response.
pub fn serial_of(tsr: &[u8]) -> u128 {
    let t = tst_info(tsr);
    // A positive INTEGER (RFC 3161 §2.4.2) that fits 128 bits, behind a sign octet if need be.
    let fits = t.serial.len() <= 16 || (t.serial.len() == 17 && t.serial[0] == 0);
    assert!(t.serial[0] & 0x80 == 0 && fits, "serial {}", t.serial_hex());
    t.serial
        .iter()
        .fold(0u128, |acc, b| (acc << 8) | u128::from(*b))
}

/// The failure bits of a rejection, `None` for a granted response.
pub fn failure_of(tsr: &[u8]) -> Option<inkan_profiles::asn1::tsp::PkiFailureInfo> {
    let resp = inkan_profiles::asn1::tsp::TimeStampResp::parse(tsr).expect("TimeStampResp");
    if resp.time_stamp_token.is_some() {
        None
    } else {
        Some(resp.status.fail_info.expect("failInfo on a rejection"))
    }
}

/// A DER TimeStampReq for a SHA-256 imprint derived from `i`, with a nonce, certReq false.
pub fn request(i: u64) -> Vec<u8> {
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

/// A keep-alive HTTP/1.1 client connection for timestamp queries.
pub struct Conn {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub fn open(addr: SocketAddr) -> std::io::Result<Self> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
        Ok(Self { s, buf: Vec::new() })
    }

    /// POSTs a query; returns (status, body), or an error when the connection breaks.
    pub fn post(&mut self, tsq: &[u8]) -> std::io::Result<(u16, Vec<u8>)> {
        let head = format!(
            "POST / HTTP/1.1\r\nHost: tsa\r\nContent-Type: application/timestamp-query\r\nContent-Length: {}\r\n\r\n",
            tsq.len()
        );
        self.s.write_all(&[head.as_bytes(), tsq].concat())?;
        self.buf.clear();
        let mut chunk = [0u8; 8192];
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let headers = String::from_utf8_lossy(&self.buf[..end]).to_ascii_lowercase();
                let len: usize = headers
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .ok_or_else(|| std::io::Error::other("no content-length"))?;
                let status: u16 = headers[9..12].parse().map_err(std::io::Error::other)?;
                while self.buf.len() < end + 4 + len {
                    let n = self.s.read(&mut chunk)?;
                    if n == 0 {
                        return Err(std::io::ErrorKind::UnexpectedEof.into());
                    }
                    self.buf.extend_from_slice(&chunk[..n]);
                }
                return Ok((status, self.buf[end + 4..end + 4 + len].to_vec()));
            }
            let n = self.s.read(&mut chunk)?;
            if n == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Polls `GET path` until it answers `status` (or panics after `secs`).
pub fn wait_for_status(addr: SocketAddr, path: &str, status: u16, secs: u64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if http(addr, "GET", path, None, b"").0 == status {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{path} never answered {status}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
