//! Shared helpers: a throw-away PKI made with the real `openssl`, an in-process TSA on
//! 127.0.0.1:0, a minimal HTTP/1.1 client, and `openssl ts` wrappers.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use inkan_profiles::clock::SystemClock;
use inkan_tsa::config::{self, Overrides, Settings};

pub mod process;

pub fn openssl(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs")
}

pub fn openssl_ok(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = openssl(dir, args);
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

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
    openssl_ok(
        dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "root.key",
            "-subj",
            "/CN=inkan test root",
            "-days",
            "30",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-out",
            "root.pem",
        ],
    );
    match kind {
        KeyKind::P256 => openssl_ok(
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
        ),
        KeyKind::Rsa3072 => openssl_ok(
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
        ),
    };
    std::fs::write(
        dir.join("ext.cnf"),
        "extendedKeyUsage=critical,timeStamping\nkeyUsage=critical,digitalSignature\n",
    )
    .unwrap();
    openssl_ok(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "tsa.key",
            "-subj",
            "/C=JP/O=inkan test/CN=inkan test TSA",
            "-out",
            "tsa.csr",
        ],
    );
    openssl_ok(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "tsa.csr",
            "-CA",
            "root.pem",
            "-CAkey",
            "root.key",
            "-days",
            "30",
            "-set_serial",
            "4242",
            "-extfile",
            "ext.cnf",
            "-out",
            "tsa.pem",
        ],
    );
    let chain = [
        std::fs::read(dir.join("tsa.pem")).unwrap(),
        std::fs::read(dir.join("root.pem")).unwrap(),
    ]
    .concat();
    std::fs::write(dir.join("chain.pem"), chain).unwrap();
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
