//! Serial numbers over real HTTP: 500 concurrent requests get 500 distinct serials, all in the
//! store; a restart on the same data directory never repeats one.

use std::collections::HashSet;
use std::sync::{Arc, Barrier};

use crate::common::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `n` clients, each on its own connection, all sending at once; returns the serials.
fn burst(addr: std::net::SocketAddr, n: u64, base: u64) -> Vec<u128> {
    let barrier = Arc::new(Barrier::new(n as usize));
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let mut c = Conn::open(addr).unwrap();
                barrier.wait();
                let (status, body) = c.post(&request(base + i)).unwrap();
                assert_eq!(status, 200);
                serial_of(&body)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
fn five_hundred_concurrent_requests_get_unique_recorded_serials() {
    let pki = tmp();
    let data = tmp();
    make_pki(pki.path(), KeyKind::P256);
    let rt = runtime();
    let tsa = rt.block_on(start(settings(pki.path(), data.path(), "")));
    let serials = burst(tsa.addr, 500, 0);
    let unique: HashSet<_> = serials.iter().copied().collect();
    assert_eq!(unique.len(), 500, "a serial was repeated");
    // Every serial a client holds is already in the store, read while the server runs.
    let r = inkan_tsa::records::Reader::open(data.path()).unwrap();
    let stored: HashSet<_> = r.serials().unwrap().into_iter().collect();
    assert!(
        unique.is_subset(&stored),
        "a client holds an unrecorded serial"
    );
    rt.block_on(tsa.shutdown());
}

#[test]
fn restart_keeps_serials_unique() {
    let pki = tmp();
    let data = tmp();
    make_pki(pki.path(), KeyKind::P256);
    let rt = runtime();
    let mut all = HashSet::new();
    for round in 0..3u64 {
        let tsa = rt.block_on(start(settings(pki.path(), data.path(), "")));
        let serials = burst(tsa.addr, 50, round * 1000);
        rt.block_on(tsa.shutdown());
        for s in serials {
            assert!(
                all.insert(s),
                "serial {s:x} repeated after a restart (round {round})"
            );
        }
    }
    let r = inkan_tsa::records::Reader::open(data.path()).unwrap();
    let stored: HashSet<_> = r.serials().unwrap().into_iter().collect();
    assert_eq!(stored, all);
    // Three start-ups, three epochs: the serials differ in bits 64..96.
    let epochs: HashSet<_> = all.iter().map(|s| (s >> 64) as u32).collect();
    assert_eq!(epochs.len(), 3, "{epochs:?}");
}
