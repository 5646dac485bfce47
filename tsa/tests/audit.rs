//! The audit trail and serial uniqueness without operator care, with the real binary where an
//! auditor would use it: separate stores and restored or copied data directories never
//! repeat a serial; a token is found by its own genTime; `records --verify-chain` finds an
//! edit made to the store file; `events` exports the service events.

use std::collections::HashSet;
use std::path::Path;

use crate::common::process::{TsaProcess, bin, records};
use crate::common::*;

/// `n` requests on one keep-alive connection; the serials.
fn issue(addr: std::net::SocketAddr, n: u64, base: u64) -> Vec<u128> {
    let mut c = Conn::open(addr).unwrap();
    (0..n)
        .map(|i| {
            let (status, body) = c.post(&request(base + i)).unwrap();
            assert_eq!(status, 200);
            serial_of(&body)
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn independent_stores_and_restored_or_copied_data_dirs_never_repeat_a_serial() {
    let pki = tmp();
    make_pki(pki.path(), KeyKind::P256);
    let rt = runtime();
    let (a, b) = (tmp(), tmp());
    // Two instances, default settings (instance_id 0 for both), separate stores, side by side.
    let ta = rt.block_on(start(settings(pki.path(), a.path(), "")));
    let tb = rt.block_on(start(settings(pki.path(), b.path(), "")));
    let sa = issue(ta.addr, 20, 0);
    let sb = issue(tb.addr, 20, 100);
    rt.block_on(ta.shutdown());
    rt.block_on(tb.shutdown());
    let mut all: HashSet<u128> = sa.iter().copied().collect();
    for s in &sb {
        assert!(all.insert(*s), "serial {s:x} issued by two separate stores");
    }

    // A backup of A's data directory, then rapid restarts of A (each takes the next epoch,
    // running ahead of the clock), then the backup restored and started: and a copy of the
    // data directory started beside the original.
    let backup = tmp();
    copy_dir(a.path(), backup.path());
    for round in 0..3 {
        let t = rt.block_on(start(settings(pki.path(), a.path(), "")));
        for s in issue(t.addr, 10, 1000 + round * 100) {
            assert!(all.insert(s), "serial {s:x} repeated after a restart");
        }
        rt.block_on(t.shutdown());
    }
    let copy = tmp();
    copy_dir(a.path(), copy.path());
    let restored = rt.block_on(start(settings(pki.path(), backup.path(), "")));
    let original = rt.block_on(start(settings(pki.path(), a.path(), "")));
    let copied = rt.block_on(start(settings(pki.path(), copy.path(), "")));
    for (t, base) in [(&restored, 5000), (&original, 6000), (&copied, 7000)] {
        for s in issue(t.addr, 10, base) {
            assert!(
                all.insert(s),
                "serial {s:x} repeated by a restored or copied store"
            );
        }
    }
    for t in [restored, original, copied] {
        rt.block_on(t.shutdown());
    }
    // Every serial is a positive INTEGER of at most 128 bits (checked by serial_of's fold) and
    // the 64-bit prefixes of the ten start-ups all differ.
    let prefixes: HashSet<u64> = all.iter().map(|s| (s >> 64) as u64).collect();
    assert_eq!(prefixes.len(), 2 + 3 + 3, "{prefixes:x?}");
}

/// `records` with the real binary: (exit code, stdout, stderr).
fn records_full(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(bin())
        .arg("records")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn gen_time_rfc3339(tsr: &[u8]) -> String {
    // genTime as the token carries it: YYYYMMDDhhmmss[.f]Z, as RFC 3339.
    let g = tst_info(tsr).generalized_time().unwrap().to_string();
    let g = g.trim_end_matches('Z');
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        &g[0..4],
        &g[4..6],
        &g[6..8],
        &g[8..10],
        &g[10..12],
        &g[12..]
    )
}

#[test]
fn audit_trail_lookup_by_gen_time_chain_and_events() {
    let dir = tmp();
    let d = dir.path();
    let data = d.join("data");
    let data_s = data.to_str().unwrap();
    let conf = d.join("tsa.toml");
    std::fs::write(&conf, "keep_tokens = true\n").unwrap();
    let args = [
        "--dev",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        data_s,
        "--config",
        conf.to_str().unwrap(),
    ];
    // Two runs of the real binary: the chain spans the restart.
    let mut responses = Vec::new();
    for round in 0..2u64 {
        let tsa = TsaProcess::start(&args, d);
        let mut c = Conn::open(tsa.addr).unwrap();
        for i in 0..5 {
            let (status, body) = c.post(&request(round * 100 + i)).unwrap();
            assert_eq!(status, 200);
            responses.push(body);
        }
        assert!(tsa.stop());
    }

    // Each token is found by the genTime it carries, with the token kept beside its record.
    for tsr in &responses {
        let t = gen_time_rfc3339(tsr);
        let (code, out, _) = records_full(&["--data-dir", data_s, "--from", &t, "--to", &t]);
        assert_eq!(code, 0, "no record at {t}");
        let serial = format!("{:x}", serial_of(tsr));
        let line = out
            .lines()
            .find(|l| l.contains(&format!("\"serial\":\"{serial}\"")))
            .unwrap_or_else(|| panic!("{serial} not at {t}: {out}"));
        let rec: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(rec["gen_time"], t.as_str());
        let resp = inkan_profiles::asn1::tsp::TimeStampResp::parse(tsr).unwrap();
        assert_eq!(
            rec["token"].as_str().unwrap(),
            inkan_tsa::records::hex(&resp.token_der().unwrap())
        );
    }
    // A date-only range covers the day; an empty one says so.
    let day = &gen_time_rfc3339(&responses[0])[..10];
    let (code, out, _) = records_full(&["--data-dir", data_s, "--from", day, "--to", day]);
    assert_eq!(code, 0);
    assert!(out.lines().count() >= responses.len() - 1);
    let (code, out, err) = records_full(&[
        "--data-dir",
        data_s,
        "--from",
        "2001-01-01",
        "--to",
        "2001-01-02",
    ]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("no records"), "{err}");

    // The chain is intact across the restart.
    let (code, out, _) = records_full(&["--data-dir", data_s, "--verify-chain"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("chain intact: 10 records"), "{out}");

    // The service events: two starts and two stops, the stop carrying the chain head.
    let ev = std::process::Command::new(bin())
        .args([
            "events",
            "--data-dir",
            data_s,
            "--from",
            "1970-01-01",
            "--to",
        ])
        .arg("2100-01-01T00:00:00Z")
        .output()
        .unwrap();
    assert!(ev.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&ev.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = lines.iter().map(|v| v["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "start").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "stop").count(),
        2,
        "{kinds:?}"
    );
    let last_stop = lines.iter().rev().find(|v| v["kind"] == "stop").unwrap();
    assert_eq!(last_stop["data"]["chain_records"], 10);
    assert_eq!(last_stop["data"]["rejections"]["systemFailure"], 0);
    let first_start = lines.iter().find(|v| v["kind"] == "start").unwrap();
    assert_eq!(first_start["data"]["chain_records"], 0);
    assert_eq!(
        first_start["data"]["serial_prefix"].as_str().unwrap().len(),
        16
    );
    assert!(out.contains(last_stop["data"]["chain_head"].as_str().unwrap()));
    let (code, _, err) = {
        let o = std::process::Command::new(bin())
            .args(["events", "--data-dir", data_s, "--from", "2001-01-01"])
            .args(["--to", "2001-01-01"])
            .output()
            .unwrap();
        (
            o.status.code().unwrap(),
            (),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    assert_eq!(code, 1);
    assert!(err.contains("no events"), "{err}");

    // Someone edits the store file: one byte of the fourth record (in commit order).
    let fourth = serial_of(&responses[3]);
    {
        let db = redb::Database::open(data.join("records.redb")).unwrap();
        let table: redb::TableDefinition<'_, u128, &[u8]> =
            redb::TableDefinition::new("token_records");
        let w = db.begin_write().unwrap();
        {
            use redb::ReadableTable;
            let mut t = w.open_table(table).unwrap();
            let mut v = t.get(fourth).unwrap().unwrap().value().to_vec();
            // The last byte of the genTime nanoseconds field: the time is moved by 1 ns.
            v[12] ^= 1;
            t.insert(fourth, v.as_slice()).unwrap();
        }
        w.commit().unwrap();
    }
    let (code, out, _) = records_full(&["--data-dir", data_s, "--verify-chain"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("serial {fourth:x}")) && out.contains("changed"),
        "{out}"
    );
    // And the other spot checks still read.
    let (code, _) = records(&["--data-dir", data_s, "--serial", &format!("{fourth:x}")]);
    assert_eq!(code, 0);
}

#[test]
fn clock_measurements_and_rejection_counts_are_recorded_at_the_configured_interval() {
    let TestTsa {
        pki: _pki,
        data,
        rt,
        tsa,
    } = start_tsa(KeyKind::P256, "clock_record_interval_s = 1\n");
    // Two rejections (not DER) and a granted token.
    for _ in 0..2 {
        let (status, _, body) = http(
            tsa.addr,
            "POST",
            "/",
            Some("application/timestamp-query"),
            b"junk",
        );
        assert_eq!(status, 200);
        assert!(failure_of(&body).is_some());
    }
    post_tsq(tsa.addr, &request(1));
    // Wait (polling the store as an auditor would, beside the running server) until a
    // measurement and a rejection count have been written.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let measurement = loop {
        let r = inkan_tsa::records::Reader::open(data.path()).unwrap();
        let events: Vec<serde_json::Value> = r
            .events()
            .unwrap()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let m = events
            .iter()
            .find(|v| v["kind"] == "clock_measurement")
            .cloned();
        // The two rejections may fall into one interval or two.
        let counted: u64 = events
            .iter()
            .filter(|v| v["kind"] == "rejections")
            .filter_map(|v| v["data"]["badDataFormat"].as_u64())
            .sum();
        if let (Some(m), 2) = (m, counted) {
            break m;
        }
        assert!(
            counted <= 2 && std::time::Instant::now() < deadline,
            "periodic events missing or wrong: {events:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert_eq!(measurement["data"]["source"], "host");
    assert_eq!(measurement["data"]["synchronised"], true);
    assert_eq!(measurement["data"]["accuracy_s"], 0.5);
    rt.block_on(tsa.shutdown());
}
