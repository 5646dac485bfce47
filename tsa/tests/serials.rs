//! Serial numbers over real HTTP: 500 concurrent requests get 500 distinct serials, all in the
//! store; a restart on the same data directory never repeats one.

use std::collections::HashSet;
use std::sync::{Arc, Barrier};

use crate::common::*;

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
    let TestTsa {
        pki: _pki,
        data,
        rt,
        tsa,
    } = start_tsa(KeyKind::P256, "");
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

/// HTTP/2 (prior knowledge) through hyper's own client: 300 streams at once on one connection,
/// every third with certReq (with the chain included: a token over 1 KiB, which hyper's HTTP/2
/// hands to the server's write coalescing as a separate write), all granted, all serials distinct and recorded, the certificate present
/// exactly when asked for.
#[test]
fn http2_one_connection_many_concurrent_streams() {
    use http_body_util::{BodyExt, Full};
    let TestTsa {
        pki: _pki,
        data,
        rt,
        tsa,
    } = start_tsa(KeyKind::P256, "include_chain = true\n");
    let addr = tsa.addr;
    let results: Vec<(bool, usize, Vec<u8>)> = rt.block_on(async move {
        let (sender, _driver) = h2_connect(addr).await;
        let tasks: Vec<_> = (0..300u64)
            .map(|i| {
                let mut sender = sender.clone();
                tokio::spawn(async move {
                    let cert_req = i % 3 == 0;
                    let mut body = request(10_000 + i);
                    if cert_req {
                        // certReq BOOLEAN TRUE at the end of the SEQUENCE.
                        body.extend_from_slice(&[0x01, 0x01, 0xff]);
                        body[1] += 3;
                    }
                    let req = hyper::Request::post(format!("http://{addr}/"))
                        .header("content-type", "application/timestamp-query")
                        .body(Full::new(bytes::Bytes::from(body)))
                        .unwrap();
                    let resp = sender.send_request(req).await.unwrap();
                    assert_eq!(resp.status(), 200);
                    assert_eq!(resp.version(), hyper::Version::HTTP_2);
                    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
                    (cert_req, bytes.len(), bytes.to_vec())
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    let mut serials = HashSet::new();
    for (cert_req, len, tsr) in &results {
        assert!(failure_of(tsr).is_none(), "refused: {:?}", failure_of(tsr));
        assert!(serials.insert(serial_of(tsr)), "a serial was repeated");
        if *cert_req {
            assert!(*len > 1024, "certReq token of {len} bytes");
        } else {
            assert!(*len < 1024, "token without certificate of {len} bytes");
        }
    }
    let r = inkan_tsa::records::Reader::open(data.path()).unwrap();
    let stored: HashSet<_> = r.serials().unwrap().into_iter().collect();
    assert!(
        serials.is_subset(&stored),
        "a client holds an unrecorded serial"
    );
    rt.block_on(tsa.shutdown());
}
