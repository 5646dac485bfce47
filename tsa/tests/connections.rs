//! Connection slots and load: silent sockets and idle HTTP/2 connections give their slots
//! back after the deadlines; a request that runs out of time and a request that finds the
//! signing queue full both get a well-formed systemFailure `TimeStampResp`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use inkan_profiles::asn1::tsp::PkiFailureInfo;

use crate::common::*;

/// Reads until the server closes the socket (or 30 s pass, which fails the caller's check).
fn closed_by_server(mut s: TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut b = [0u8; 256];
    loop {
        match s.read(&mut b) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

/// An HTTP/2 connection (prior knowledge) that makes one request, then stays open and idle.
async fn idle_h2(addr: SocketAddr, i: u64) -> tokio::task::JoinHandle<()> {
    let (mut sender, driver) = h2_connect(addr).await;
    let req = hyper::Request::post(format!("http://{addr}/"))
        .header("content-type", "application/timestamp-query")
        .body(Full::new(bytes::Bytes::from(request(i))))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(failure_of(&body).is_none());
    // `sender` is kept by the driver's connection; the connection stays open, idle.
    std::mem::forget(sender);
    driver
}

#[test]
fn silent_sockets_and_idle_http2_connections_do_not_lock_out_other_clients() {
    let TestTsa {
        pki: _pki,
        data: _data,
        rt,
        tsa,
    } = start_tsa(
        KeyKind::P256,
        "max_connections = 4\nheader_read_timeout_ms = 400\nidle_timeout_ms = 400\n",
    );
    let addr = tsa.addr;
    // Every slot taken: two sockets that never send a byte, two HTTP/2 connections that made
    // a request and then went quiet.
    let silent: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
    let drivers = rt.block_on(async { vec![idle_h2(addr, 1).await, idle_h2(addr, 2).await] });
    // Another client: it waits in the accept backlog until the deadlines free a slot, then is
    // served.
    let mut c = Conn::open(addr).unwrap();
    let (status, body) = c.post(&request(3)).unwrap();
    assert_eq!(status, 200);
    assert!(failure_of(&body).is_none());
    // The silent sockets were closed by the server, and so were the idle HTTP/2 connections.
    for s in silent {
        assert!(closed_by_server(s), "a silent socket was never closed");
    }
    rt.block_on(async {
        for d in drivers {
            tokio::time::timeout(Duration::from_secs(30), d)
                .await
                .expect("an idle HTTP/2 connection was never closed")
                .unwrap();
        }
    });
    // An HTTP/1.1 keep-alive connection left idle after a response is closed too.
    let mut k = TcpStream::connect(addr).unwrap();
    let (headers, body) = exchange(&mut k, &request(4));
    assert!(headers.starts_with("http/1.1 200"), "{headers}");
    assert!(!headers.contains("connection: close"), "{headers}");
    assert!(failure_of(&body).is_none());
    assert!(
        closed_by_server(k),
        "an idle keep-alive connection was never closed"
    );
    rt.block_on(tsa.shutdown());
}

/// Writes one keep-alive timestamp request on `s`; returns the response's (lower-case)
/// headers and body, leaving the connection open.
fn exchange(s: &mut TcpStream, body: &[u8]) -> (String, Vec<u8>) {
    let head = format!(
        "POST / HTTP/1.1\r\nHost: tsa\r\nContent-Type: application/timestamp-query\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(&[head.as_bytes(), body].concat()).unwrap();
    read_response(s)
}

fn read_response(s: &mut TcpStream) -> (String, Vec<u8>) {
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "closed without a response");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let headers = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = headers
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .expect("content-length");
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk).unwrap();
                assert!(n > 0);
                buf.extend_from_slice(&chunk[..n]);
            }
            return (headers, buf[end + 4..end + 4 + len].to_vec());
        }
    }
}

/// One HTTP/2 frame (RFC 9113 §4.1).
fn h2_frame(out: &mut Vec<u8>, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
    out.push(kind);
    out.push(flags);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
}

#[test]
fn an_http2_peer_that_stops_answering_pings_is_dropped() {
    // Long request and idle limits: only the keep-alive PINGs can end this connection soon.
    let TestTsa {
        pki: _pki,
        data: _data,
        rt,
        tsa,
    } = start_tsa(
        KeyKind::P256,
        "http2_keep_alive_ms = 300\nidle_timeout_ms = 120000\nrequest_timeout_ms = 120000\n",
    );
    // Preface, SETTINGS, and a request whose body never comes; then silence (no SETTINGS
    // ACK, no PING answer), as from a peer that went away without closing.
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    h2_frame(&mut out, 0x4, 0, 0, &[]);
    // HPACK (RFC 7541): :method POST (static 3), :scheme http (6), :path / (4), then
    // content-type as a literal without indexing.
    let mut block = vec![0x83, 0x86, 0x84, 0x00, 12];
    block.extend_from_slice(b"content-type");
    block.push(27);
    block.extend_from_slice(b"application/timestamp-query");
    h2_frame(&mut out, 0x1, 0x4, 1, &block);
    let mut s = TcpStream::connect(tsa.addr).unwrap();
    s.write_all(&out).unwrap();
    assert!(
        closed_by_server(s),
        "a peer that never answers PINGs kept its connection"
    );
    rt.block_on(tsa.shutdown());
}

#[test]
fn a_request_that_times_out_gets_a_system_failure_timestamp_resp() {
    let TestTsa {
        pki: _pki,
        data: _data,
        rt,
        tsa,
    } = start_tsa(KeyKind::P256, "request_timeout_ms = 300\n");
    // Headers and half the body, then nothing: the request cannot complete in time.
    let mut s = TcpStream::connect(tsa.addr).unwrap();
    let body = request(9);
    let head = format!(
        "POST / HTTP/1.1\r\nHost: tsa\r\nContent-Type: application/timestamp-query\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&body[..body.len() / 2]).unwrap();
    let (headers, resp) = read_response(&mut s);
    assert!(headers.starts_with("http/1.1 200"), "{headers}");
    assert!(
        headers.contains("content-type: application/timestamp-reply"),
        "{headers}"
    );
    assert_eq!(failure_of(&resp), Some(PkiFailureInfo::SYSTEM_FAILURE));
    rt.block_on(tsa.shutdown());
}

#[test]
fn a_flood_past_the_queue_bound_gets_quick_well_formed_rejections() {
    // One signing thread with an RSA-3072 key (milliseconds per token) and room for two
    // waiting requests: 300 streams at once overflow the queue.
    let TestTsa {
        pki: _pki,
        data,
        rt,
        tsa,
    } = start_tsa(KeyKind::Rsa3072, "signing_threads = 1\nmax_queue = 2\n");
    let addr = tsa.addr;
    let bodies: Vec<(u16, Vec<u8>)> = rt.block_on(async move {
        let (sender, _driver) = h2_connect(addr).await;
        let tasks: Vec<_> = (0..300u64)
            .map(|i| {
                let mut sender = sender.clone();
                tokio::spawn(async move {
                    let req = hyper::Request::post(format!("http://{addr}/"))
                        .header("content-type", "application/timestamp-query")
                        .body(Full::new(bytes::Bytes::from(request(50_000 + i))))
                        .unwrap();
                    let resp = sender.send_request(req).await.unwrap();
                    let status = resp.status().as_u16();
                    let body = resp.into_body().collect().await.unwrap().to_bytes();
                    (status, body.to_vec())
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    let (mut granted, mut busy) = (0, 0);
    for (status, body) in &bodies {
        assert_eq!(*status, 200);
        match failure_of(body) {
            None => granted += 1,
            Some(f) => {
                assert_eq!(f, PkiFailureInfo::SYSTEM_FAILURE);
                busy += 1;
            }
        }
    }
    assert!(granted > 0, "nothing was granted");
    assert!(busy > 0, "the queue bound never rejected anything");
    let (_, _, metrics) = http(addr, "GET", "/metrics", None, b"");
    let metrics = String::from_utf8(metrics).unwrap();
    let line = metrics
        .lines()
        .find(|l| l.starts_with("inkan_tsa_overload_rejections_total "))
        .expect("overload metric");
    assert_eq!(line, format!("inkan_tsa_overload_rejections_total {busy}"));
    // Every granted token is recorded; the rejected ones never reached a signing thread.
    rt.block_on(tsa.shutdown());
    let r = inkan_tsa::records::Reader::open(data.path()).unwrap();
    assert_eq!(r.serials().unwrap().len(), granted);
}
