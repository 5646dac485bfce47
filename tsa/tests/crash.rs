//! `kill -9` of the real `inkan-tsa` binary under load: every serial a client received is in
//! the store afterwards, and the next start-up issues no serial twice.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::common::process::{TsaProcess, records};
use crate::common::*;

/// Client threads on keep-alive connections until the server dies; returns the serials of
/// every complete granted response.
fn load_until_killed(tsa: TsaProcess, threads: u64) -> Vec<u128> {
    let addr = tsa.addr;
    let got = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (got, stop) = (got.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut i = t << 32;
                let Ok(mut c) = Conn::open(addr) else { return };
                while !stop.load(SeqCst) {
                    i += 1;
                    match c.post(&request(i)) {
                        Ok((200, body)) => got.lock().unwrap().push(serial_of(&body)),
                        Ok((status, _)) => panic!("HTTP {status}"),
                        // The server died: whatever was in flight was never received.
                        Err(_) => return,
                    }
                }
            })
        })
        .collect();
    // Let the load run, then kill the server mid-flight.
    std::thread::sleep(Duration::from_millis(1500));
    tsa.kill9();
    stop.store(true, SeqCst);
    for h in handles {
        h.join().unwrap();
    }
    Arc::try_unwrap(got).unwrap().into_inner().unwrap()
}

#[test]
fn kill_9_under_load_loses_no_received_token() {
    let dir = tmp();
    let d = dir.path();
    let data = d.join("data");
    let data_s = data.to_str().unwrap();
    let args = ["--dev", "--listen", "127.0.0.1:0", "--data-dir", data_s];

    let received = load_until_killed(TsaProcess::start(&args, d), 6);
    assert!(received.len() > 100, "too little load: {}", received.len());
    let unique: HashSet<u128> = received.iter().copied().collect();
    assert_eq!(unique.len(), received.len(), "a serial was issued twice");

    // Every received serial is in the store (the store recovers on open after the crash).
    let r = inkan_tsa::records::Reader::open(&data).unwrap();
    let stored: HashSet<u128> = r.serials().unwrap().into_iter().collect();
    let missing: Vec<_> = unique.difference(&stored).collect();
    assert!(
        missing.is_empty(),
        "{} received serials not recorded: {missing:x?}",
        missing.len()
    );
    drop(r);
    // Spot-check through the CLI as an auditor would.
    for s in received.iter().step_by(received.len() / 5 + 1) {
        let (code, line) = records(&["--data-dir", data_s, "--serial", &format!("{s:x}")]);
        assert_eq!(code, 0, "{s:x}");
        assert!(line.contains(&format!("\"serial\":\"{s:x}\"")), "{line}");
    }

    // Restart on the same data directory, under load again, and kill again: no repeats.
    let second = load_until_killed(TsaProcess::start(&args, d), 4);
    assert!(!second.is_empty());
    for s in &second {
        assert!(
            !unique.contains(s),
            "serial {s:x} issued again after kill -9"
        );
    }
    // A clean third start still works and records.
    let tsa = TsaProcess::start(&args, d);
    let mut c = Conn::open(tsa.addr).unwrap();
    let (_, body) = c.post(&request(7)).unwrap();
    let third = serial_of(&body);
    assert!(!unique.contains(&third) && !second.contains(&third));
    assert!(tsa.stop());
    let r = inkan_tsa::records::Reader::open(&data).unwrap();
    let stored: HashSet<u128> = r.serials().unwrap().into_iter().collect();
    assert!(second.iter().all(|s| stored.contains(s)));
    assert!(stored.contains(&third));
}
