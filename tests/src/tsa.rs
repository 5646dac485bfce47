//! A real `inkan-tsa` process on 127.0.0.1:0 for end-to-end tests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `inkan-tsa serve` child process; killed on drop.
#[derive(Debug)]
pub struct TsaProcess {
    child: Child,
    /// The address it listens on.
    pub addr: SocketAddr,
}

impl TsaProcess {
    /// Starts `inkan-tsa serve --listen 127.0.0.1:0` with `args` added, and waits until it
    /// logs its bound address.
    pub fn start(args: &[&str], data_dir: &Path) -> Self {
        Self::start_with_env(args, data_dir, &[])
    }

    /// As [`TsaProcess::start`], with extra environment variables for the child (for example
    /// `SOFTHSM2_CONF` and the PIN variable of a `pkcs11:` URI).
    pub fn start_with_env(args: &[&str], data_dir: &Path, env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(crate::bin("inkan-tsa"))
            .envs(env.iter().copied())
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(args)
            .env("INKAN_LOG_FORMAT", "json")
            .env("INKAN_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn inkan-tsa");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent && line.contains("inkan-tsa listening") {
                    if let Some(addr) = find_addr(&line) {
                        let _ = tx.send(Ok(addr));
                        sent = true;
                    }
                } else if !sent {
                    let _ = tx.send(Err(line));
                }
            }
        });
        let mut log = String::new();
        let addr = loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(Ok(addr)) => break addr,
                Ok(Err(line)) => {
                    log.push_str(&line);
                    log.push('\n');
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!("inkan-tsa did not start:\n{log}");
                }
            }
        };
        Self { child, addr }
    }

    /// The URL to give `inkan-sign --tsa`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// POSTs a DER `TimeStampReq` and returns the HTTP status and body.
    pub fn post(&self, body: &[u8]) -> (u16, Vec<u8>) {
        http_post(self.addr, "application/timestamp-query", body)
    }
}

impl Drop for TsaProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_addr(line: &str) -> Option<SocketAddr> {
    let start = line.find("127.0.0.1:")?;
    let rest = &line[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ':'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// A minimal HTTP/1.1 POST (Connection: close) returning the status and body.
pub fn http_post(addr: SocketAddr, content_type: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).expect("write head");
    s.write_all(body).expect("write body");
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).expect("read response");
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&resp[..split]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let mut body = resp[split + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = b.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        out.extend_from_slice(&b[start..start + size]);
        b = &b[start + size + 2..];
    }
    out
}
