//! `inkan-tsa serve --dev` as a real process: the development PKI is made once under the data
//! directory, reused on the next start, its tokens verify with `openssl ts -verify`, and with
//! `--dev` alone it listens on 127.0.0.1:3161 and prints how to try it.

use crate::common::process::{TsaProcess, records};
use crate::common::*;

fn stamp_and_verify(d: &std::path::Path, tsa: &TsaProcess, root: &std::path::Path) -> String {
    write(d, "hello.txt", b"hello\n");
    openssl_ok(
        d,
        &[
            "ts",
            "-query",
            "-data",
            "hello.txt",
            "-sha256",
            "-cert",
            "-out",
            "q.tsq",
        ],
    );
    let tsr = post_tsq(tsa.addr, &std::fs::read(d.join("q.tsq")).unwrap());
    write(d, "r.tsr", &tsr);
    let out = openssl(
        d,
        &[
            "ts",
            "-verify",
            "-data",
            "hello.txt",
            "-in",
            "r.tsr",
            "-CAfile",
            root.to_str().unwrap(),
        ],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Verification: OK"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = reply_text(d, &tsr);
    let serial = text
        .lines()
        .find_map(|l| l.strip_prefix("Serial number: "))
        .expect("serial")
        .trim()
        .to_owned();
    assert!(
        text.contains("Policy OID: 1.2.3.4.1") || text.contains("tsa_policy1"),
        "{text}"
    );
    serial
}

#[test]
fn dev_pki_made_once_reused_and_verifies() {
    let dir = tmp();
    let d = dir.path();
    let data = d.join("data");
    let data_s = data.to_str().unwrap();
    let tsa = TsaProcess::start(
        &["--dev", "--listen", "127.0.0.1:0", "--data-dir", data_s],
        d,
    );
    let root = data.join("dev-root.pem");
    let root_pem = std::fs::read_to_string(&root).unwrap();
    assert!(data.join("DEV-NOT-FOR-PRODUCTION.txt").exists());
    let s1 = stamp_and_verify(d, &tsa, &root);
    // The help names the address, openssl and curl; the logs say NOT FOR PRODUCTION.
    let out = tsa.stdout();
    assert!(out.contains(&format!("http://{}/", tsa.addr)), "{out}");
    assert!(
        out.contains("openssl ts -verify") && out.contains("curl "),
        "{out}"
    );
    assert!(out.contains("NOT FOR PRODUCTION"), "{out}");
    assert!(
        tsa.stderr().contains("NOT FOR PRODUCTION"),
        "{}",
        tsa.stderr()
    );
    assert!(tsa.stop(), "SIGTERM exits 0");

    // Second start: the same root, a new serial, still verifying.
    let tsa = TsaProcess::start(
        &["--dev", "--listen", "127.0.0.1:0", "--data-dir", data_s],
        d,
    );
    assert_eq!(
        std::fs::read_to_string(&root).unwrap(),
        root_pem,
        "dev PKI reused"
    );
    let s2 = stamp_and_verify(d, &tsa, &root);
    assert_ne!(s1, s2);
    assert!(tsa.stop());
    for s in [&s1, &s2] {
        let (code, line) = records(&["--data-dir", data_s, "--serial", s]);
        assert_eq!(code, 0, "serial {s} recorded");
        assert!(line.contains("\"imprint_alg\":\"sha256\""), "{line}");
    }
    // Both tokens stamped the same data: the imprint finds both.
    let imprint: String = inkan_profiles::alg::DigestAlgorithm::Sha256
        .digest(b"hello\n")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let (code, lines) = records(&["--data-dir", data_s, "--imprint", &imprint]);
    assert_eq!(code, 0);
    assert_eq!(lines.lines().count(), 2, "{lines}");
    assert!(
        lines.contains(&format!("\"imprint\":\"{imprint}\"")),
        "{lines}"
    );
    let (code, _) = records(&["--data-dir", data_s, "--imprint", &"00".repeat(32)]);
    assert_eq!(code, 1, "no match: exit 1");
    let events = inkan_tsa::records::Reader::open(&data)
        .unwrap()
        .events()
        .unwrap();
    let dev: Vec<_> = events.iter().filter(|e| e.contains("dev_pki")).collect();
    assert_eq!(dev.len(), 2, "{events:?}");
    assert!(
        dev[0].contains("made") && dev[1].contains("reused"),
        "{dev:?}"
    );
}

#[test]
fn dev_alone_listens_on_3161_with_a_default_data_dir() {
    let dir = tmp();
    let d = dir.path();
    let tsa = TsaProcess::start(&["--dev"], d);
    assert_eq!(tsa.addr.to_string(), "127.0.0.1:3161");
    let root = d.join("inkan-tsa-data").join("dev-root.pem");
    assert!(root.exists());
    stamp_and_verify(d, &tsa, &root);
    let out = tsa.stdout();
    assert!(
        out.contains("http://127.0.0.1:3161/") && out.contains("curl "),
        "{out}"
    );
    assert!(tsa.stop());
}
