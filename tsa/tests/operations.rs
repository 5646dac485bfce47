//! What an operator runs day to day, with the real binary: `inkan-tsa check` beside a TSA that
//! holds the store and the port, the start-up line, SNTP failures reported once per server and
//! change of state, the clock metrics (offset absent while unknown), and `backup` taken while
//! the TSA issues, restored, with no serial repeated and the chain intact.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::clock::{Responder, metric};
use crate::common::process::{TsaProcess, bin, records};
use crate::common::*;

fn run(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin())
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn cert_sha256_hex(dir: &Path, pem: &str) -> String {
    use sha2::Digest as _;
    let der = openssl_ok(dir, &["x509", "-in", pem, "-outform", "DER"]);
    sha2::Sha256::digest(&der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn check_runs_beside_production_and_the_start_up_line_names_the_identity() {
    let pki = tmp();
    let d = pki.path();
    make_pki(d, KeyKind::P256);
    let data = tmp();
    let elsewhere = tmp();
    // Relative paths, resolved from the configuration's folder.
    std::fs::write(
        d.join("tsa.toml"),
        format!(
            "listen = \"127.0.0.1:0\"\nkey = \"tsa.key\"\ncert_chain = \"chain.pem\"\npolicy = \"1.2.3.4.1\"\ndata_dir = \"{}\"\naccuracy_ms = 500\n",
            data.path().display()
        ),
    )
    .unwrap();
    let cfg = d.join("tsa.toml");
    let cfg = cfg.to_str().unwrap();
    let t = TsaProcess::start(&["--config", cfg], elsewhere.path());
    let hash = cert_sha256_hex(d, "tsa.pem");

    // The start-up line: key, certificate subject and SHA-256, policy, accuracy, clock mode,
    // data dir and store.
    let err = t.stderr();
    let line: serde_json::Value = err
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["fields"]["message"] == "inkan-tsa listening")
        .unwrap();
    let f = &line["fields"];
    assert_eq!(f["key"], d.join("tsa.key").display().to_string(), "{f}");
    assert!(
        f["certificate_subject"]
            .as_str()
            .unwrap()
            .contains("CN=inkan test TSA"),
        "{f}"
    );
    assert_eq!(f["certificate_sha256"], hash.as_str(), "{f}");
    assert_eq!(f["policy"], "1.2.3.4.1");
    assert_eq!(f["accuracy_ms"], 500);
    assert!(f["clock"].as_str().unwrap().contains("host clock"), "{f}");
    assert_eq!(f["data_dir"], data.path().display().to_string());
    assert!(f["store"].as_str().unwrap().ends_with("records.redb"));

    // check while the TSA holds the store and the port: exit 0, the identity named.
    let (code, out, err) = run(elsewhere.path(), &["check", "--config", cfg]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&hash), "{out}");
    assert!(out.contains("not opened by check"), "{out}");
    assert!(out.trim_end().ends_with("serve would start"), "{out}");

    // A chain given CA-first is reported as such.
    let rev = [
        std::fs::read(d.join("root.pem")).unwrap(),
        std::fs::read(d.join("tsa.pem")).unwrap(),
    ]
    .concat();
    std::fs::write(d.join("rev.pem"), rev).unwrap();
    let rev_path = d.join("rev.pem");
    let (code, out, _) = run(
        elsewhere.path(),
        &[
            "check",
            "--config",
            cfg,
            "--cert-chain",
            rev_path.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 64, "{out}");
    assert!(out.contains("lists the CA first"), "{out}");

    // A configuration error names the key.
    std::fs::write(
        d.join("bad.toml"),
        "key = \"tsa.key\"\ncert_chain = \"chain.pem\"\npolicy = \"1.2.3\"\naccuracy_ms = 5000\n",
    )
    .unwrap();
    let bad = d.join("bad.toml");
    let (code, out, err) = run(
        elsewhere.path(),
        &["check", "--config", bad.to_str().unwrap()],
    );
    assert_eq!(code, 64);
    assert!(
        out.contains("accuracy_ms") && err.contains("accuracy_ms"),
        "{out}{err}"
    );

    // SNTP: one answering, one silent, one name that does not resolve; `--ntp none` none.
    let good = Responder::start();
    let silent = Responder::start();
    silent.silence();
    let (g, s) = (good.addr.to_string(), silent.addr.to_string());
    let (code, out, _) = run(
        elsewhere.path(),
        &[
            "check",
            "--config",
            cfg,
            "--ntp",
            &g,
            "--ntp",
            &s,
            "--ntp",
            "no-such-host.invalid",
        ],
    );
    assert_eq!(code, 0, "serve would start (and wait for the clock): {out}");
    assert!(out.contains(&format!("ok    SNTP {g}: offset")), "{out}");
    assert!(
        out.contains(&format!("WARN  SNTP {s}: no measurement")),
        "{out}"
    );
    assert!(
        out.contains("WARN  SNTP no-such-host.invalid: the name does not resolve"),
        "{out}"
    );
    assert!(
        out.contains("1 of 3 servers within accuracy (need 2)"),
        "{out}"
    );
    let (code, out, _) = run(
        elsewhere.path(),
        &["check", "--config", cfg, "--ntp", "none"],
    );
    assert_eq!(code, 0);
    assert!(out.contains("no SNTP servers"), "{out}");
    good.finish();
    silent.finish();

    // The TSA was never disturbed.
    assert!(t.stop());
}

#[test]
fn sntp_failures_are_reported_once_per_server_and_the_offset_is_absent_while_unknown() {
    let pki = tmp();
    make_pki(pki.path(), KeyKind::P256);
    let data = tmp();
    let (a, b) = (Responder::start(), Responder::start());
    b.silence();
    let extra = format!(
        "ntp_servers = [\"{}\", \"{}\", \"no-such-host.invalid\"]\nntp_poll_ms = 100\nntp_freshness_ms = 600\nntp_timeout_ms = 50\n",
        a.addr, b.addr
    );
    let rt = runtime();
    let tsa = rt.block_on(start(settings(pki.path(), data.path(), &extra)));
    let addr = tsa.addr;
    let metrics = || String::from_utf8(http(addr, "GET", "/metrics", None, b"").2).unwrap();
    // One server of three answers: not synchronised (no majority), but its fresh offset is
    // known and its measurement is within accuracy.
    std::thread::sleep(Duration::from_millis(1500));
    let m = metrics();
    assert!(m.contains("\ninkan_tsa_clock_synchronised 0"), "{m}");
    assert!(m.contains("\ninkan_tsa_clock_offset_seconds "), "{m}");
    assert!(metric(addr, "inkan_tsa_clock_last_good_measurement_age_seconds") < 5.0);
    // A majority again: synchronised, a good measurement with its age.
    b.good();
    wait_for_status(addr, "/readyz", 200, 30);
    let m = metrics();
    assert!(m.contains("\ninkan_tsa_clock_synchronised 1"), "{m}");
    assert!(metric(addr, "inkan_tsa_clock_last_good_measurement_age_seconds") < 5.0);
    // Every server silent: unknown offset (absent), not 0.
    a.silence();
    b.silence();
    wait_for_status(addr, "/readyz", 503, 30);
    let deadline = Instant::now() + Duration::from_secs(30);
    while metrics().contains("\ninkan_tsa_clock_offset_seconds ") {
        assert!(Instant::now() < deadline, "{}", metrics());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(metrics().contains("\ninkan_tsa_clock_last_good_measurement_age_seconds "));
    a.good();
    b.good();
    wait_for_status(addr, "/readyz", 200, 30);
    rt.block_on(tsa.shutdown());
    a.finish();
    b.finish();

    // About 40 polls of each server: one failure event per server and change of state.
    let events: Vec<serde_json::Value> = inkan_tsa::records::Reader::open(data.path())
        .unwrap()
        .events()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    let of = |kind: &str, who: &str| {
        events
            .iter()
            .filter(|e| e["kind"] == kind && e["detail"].as_str().unwrap().contains(who))
            .count()
    };
    assert_eq!(
        of(
            "sntp_server_failing",
            "no-such-host.invalid: the name does not resolve"
        ),
        1
    );
    let b_fail = of(
        "sntp_server_failing",
        &format!("{}: no answer", b_addr(&extra)),
    );
    let b_back = of("sntp_server_answering", &b_addr(&extra));
    assert_eq!((b_fail, b_back), (2, 2), "{events:#?}");
    let a_fail = of(
        "sntp_server_failing",
        &format!("{}: no answer", a_addr(&extra)),
    );
    assert_eq!(a_fail, 1, "{events:#?}");
}

fn a_addr(extra: &str) -> String {
    extra.split('"').nth(1).unwrap().to_owned()
}

fn b_addr(extra: &str) -> String {
    extra.split('"').nth(3).unwrap().to_owned()
}

/// `n` requests on one connection; every serial must be new to `all`.
fn issue(all: &mut HashSet<u128>, n: u64, base: u64, addr: std::net::SocketAddr) {
    let mut c = Conn::open(addr).unwrap();
    for i in 0..n {
        let (status, body) = c.post(&request(base + i)).unwrap();
        assert_eq!(status, 200);
        let s = serial_of(&body);
        assert!(all.insert(s), "serial {s:x} issued twice");
    }
}

#[test]
fn backup_while_serving_then_restore_repeats_no_serial_and_keeps_the_chain() {
    let pki = tmp();
    let d = pki.path();
    make_pki(d, KeyKind::P256);
    let data = tmp();
    let (key, chain) = (d.join("tsa.key"), d.join("chain.pem"));
    let args = [
        "--listen",
        "127.0.0.1:0",
        "--key",
        key.to_str().unwrap(),
        "--cert-chain",
        chain.to_str().unwrap(),
        "--policy",
        "1.2.3.4.1",
        "--data-dir",
        data.path().to_str().unwrap(),
    ];
    let t = TsaProcess::start(&args, d);
    let addr = t.addr;
    let mut all = HashSet::new();
    issue(&mut all, 30, 0, addr);
    // The backup is taken while a client keeps asking.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut c = Conn::open(addr).unwrap();
            let mut serials = Vec::new();
            let mut i = 10_000;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (status, body) = c.post(&request(i)).unwrap();
                assert_eq!(status, 200);
                serials.push(serial_of(&body));
                i += 1;
            }
            serials
        })
    };
    let backups = tmp();
    let copy = backups.path().join("records-backup.redb");
    let (code, out, err) = run(
        d,
        &[
            "backup",
            "--data-dir",
            data.path().to_str().unwrap(),
            "--out",
            copy.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("backup written to"), "{out}");
    // Never over an existing file.
    let (code, _, err) = run(
        d,
        &[
            "backup",
            "--data-dir",
            data.path().to_str().unwrap(),
            "--out",
            copy.to_str().unwrap(),
        ],
    );
    assert_ne!(code, 0);
    assert!(err.contains("exists"), "{err}");
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for s in load.join().unwrap() {
        assert!(all.insert(s), "serial {s:x} issued twice");
    }
    issue(&mut all, 30, 20_000, addr);
    assert!(t.stop());

    // The restore procedure of docs/operations.md: stop, put the copy in place, start.
    let restored = tmp();
    std::fs::copy(&copy, restored.path().join("records.redb")).unwrap();
    let (code, out) = records(&[
        "--verify-chain",
        "--data-dir",
        restored.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let mut args2 = args;
    args2[9] = restored.path().to_str().unwrap();
    let t = TsaProcess::start(&args2, d);
    issue(&mut all, 50, 30_000, t.addr);
    assert!(t.stop());
    let (code, out) = records(&[
        "--verify-chain",
        "--data-dir",
        restored.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
}
