//! `inkan-verify ui` as a command: loopback only, the URL with its token as
//! the first line of standard output, `--open` hands that URL to the desktop's opener (and,
//! with no opener, says so and serves the page all the same).

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_inkan-verify");

#[test]
fn only_loopback_addresses_are_served() {
    for addr in ["0.0.0.0:0", "[::]:0", "192.0.2.1:8080", "localhost:0"] {
        let out = Command::new(BIN)
            .args(["ui", "--listen", addr])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(64), "{addr}");
        assert!(out.stdout.is_empty(), "{addr}: nothing served");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(addr), "{err}");
    }
    let out = Command::new(BIN)
        .args(["ui", "--trust", "/nonexistent/root.pem"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(66));
    let out = Command::new(BIN).args(["ui", "--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("--listen"));
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("inkan-verify ui"));
}

#[test]
fn the_url_comes_first_and_open_hands_it_to_the_desktop() {
    // A desktop whose opener writes down what it was asked to open.
    let dir = tempfile::tempdir().unwrap();
    let opened = dir.path().join("opened");
    let opener = dir.path().join("xdg-open");
    std::fs::write(
        &opener,
        format!(
            "#!/bin/sh\nprintf '%s' \"$1\" > '{}.tmp' && mv '{0}.tmp' '{0}'\n",
            opened.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&opener, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = Command::new(BIN)
        .args(["ui", "--listen", "127.0.0.1:0", "--open"])
        .env("PATH", path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first.trim_end().to_owned();
    let rest = url
        .strip_prefix("http://127.0.0.1:")
        .expect("a loopback URL");
    let (port, token) = rest.split_once("/?token=").expect("a token");
    assert!(port.parse::<u16>().is_ok_and(|p| p > 0), "{url}");
    assert!(
        token.len() == 64 && token.bytes().all(|c| c.is_ascii_hexdigit()),
        "{url}"
    );
    // Wait (a bounded number of tries) for the opener to have run.
    let mut seen = None;
    for _ in 0..200 {
        if let Ok(s) = std::fs::read_to_string(&opened) {
            seen = Some(s);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(seen.as_deref(), Some(url.as_str()));
    // Two servers never share a token.
    let mut other = Command::new(BIN)
        .arg("ui")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(other.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = other.kill();
    let _ = other.wait();
    assert!(line.contains("/?token=") && !line.contains(token), "{line}");
}

#[test]
fn open_without_a_desktop_says_so_and_serves_the_page() {
    // No opener on the PATH (a server, a minimal container): the person is told to open the
    // address, and the page is served all the same.
    let empty = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["ui", "--open"])
        .env("PATH", empty.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first.trim_end().to_owned();
    let (host, token) = url
        .strip_prefix("http://")
        .and_then(|r| r.split_once("/?token="))
        .expect("a loopback URL with its token");
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(s, "GET /?token={token} HTTP/1.1\r\nHost: {host}\r\n\r\n").unwrap();
    let mut page = String::new();
    s.read_to_string(&mut page).unwrap();
    let _ = child.kill();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let _ = child.wait();
    assert!(page.starts_with("HTTP/1.1 200 "), "{page}");
    assert!(
        err.contains("cannot start the browser") && err.contains("open the address yourself"),
        "{err}"
    );
}
