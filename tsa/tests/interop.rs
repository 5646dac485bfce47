//! `openssl ts -query` → POST → `openssl ts -verify`, every failure code, HTTP limits.

use crate::common::*;

fn verify(dir: &std::path::Path, tsr: &[u8], tsq: &str, cert_req: bool) {
    write(dir, "v.tsr", tsr);
    let mut args = vec![
        "ts",
        "-verify",
        "-in",
        "v.tsr",
        "-queryfile",
        tsq,
        "-CAfile",
        "root.pem",
    ];
    if !cert_req {
        args.extend_from_slice(&["-untrusted", "tsa.pem"]);
    }
    let out = openssl(dir, &args);
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Verification: OK"),
        "verify failed: {} {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_round_trips_p256() {
    round_trips(KeyKind::P256).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_round_trips_rsa3072() {
    round_trips(KeyKind::Rsa3072).await;
}

async fn round_trips(kind: KeyKind) {
    let pki = tmp();
    let data = tmp();
    let d = pki.path().to_path_buf();
    make_pki(&d, kind);
    let tsa = start(settings(&d, data.path(), "include_tsa_name = true\n")).await;
    let addr = tsa.addr;
    write(&d, "data.txt", b"hello inkan\n");
    let d2 = d.clone();
    tokio::task::spawn_blocking(move || {
        let d = d2;
        for (i, digest) in ["-sha256", "-sha384", "-sha512"].iter().enumerate() {
            for (nonce, cert) in [(true, true), (false, false), (true, false), (false, true)] {
                let mut args = vec!["ts", "-query", "-data", "data.txt", digest, "-out", "q.tsq"];
                if !nonce {
                    args.push("-no_nonce");
                }
                if cert {
                    args.push("-cert");
                }
                if i == 1 && nonce {
                    args.extend_from_slice(&["-tspolicy", "1.2.3.4.2"]);
                }
                openssl_ok(&d, &args);
                let tsq = std::fs::read(d.join("q.tsq")).unwrap();
                let tsr = post_tsq(addr, &tsq);
                verify(&d, &tsr, "q.tsq", cert);
                let text = reply_text(&d, &tsr);
                assert!(text.contains("Status: Granted"), "{text}");
                assert!(text.contains("0x01F4 millis"), "{text}");
                assert!(text.contains("TSA: DirName:"), "{text}");
                if i == 1 && nonce {
                    assert!(
                        text.contains("Policy OID: tsa_policy2")
                            || text.contains("Policy OID: 1.2.3.4.2"),
                        "{text}"
                    );
                } else {
                    assert!(
                        text.contains("Policy OID: tsa_policy1")
                            || text.contains("Policy OID: 1.2.3.4.1"),
                        "{text}"
                    );
                }
                if !nonce {
                    assert!(text.contains("Nonce: unspecified"), "{text}");
                }
            }
        }
    })
    .await
    .unwrap();
    tsa.shutdown().await;
    // Every token is on record.
    let r = inkan_tsa::records::Reader::open(data.path()).unwrap();
    assert_eq!(r.serials().unwrap().len(), 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failure_codes_and_http_errors() {
    let pki = tmp();
    let data = tmp();
    let d = pki.path().to_path_buf();
    make_pki(&d, KeyKind::P256);
    let tsa = start(settings(&d, data.path(), "max_body_bytes = 1024\n")).await;
    let addr = tsa.addr;
    tokio::task::spawn_blocking(move || {
        write(&d, "data.txt", b"x");
        let status_of = |tsq: &[u8]| reply_text(&d, &post_tsq(addr, tsq)).to_lowercase();
        // badAlg: SHA-1 (openssl can still make such a query).
        openssl_ok(
            &d,
            &[
                "ts", "-query", "-data", "data.txt", "-sha1", "-out", "sha1.tsq",
            ],
        );
        let t = status_of(&std::fs::read(d.join("sha1.tsq")).unwrap());
        assert!(
            t.contains("status: rejected")
                && t.contains("failure info: unrecognized or unsupported algorithm identifier"),
            "{t}"
        );
        // unacceptedPolicy.
        openssl_ok(
            &d,
            &[
                "ts",
                "-query",
                "-data",
                "data.txt",
                "-sha256",
                "-tspolicy",
                "1.2.3.9",
                "-out",
                "pol.tsq",
            ],
        );
        let t = status_of(&std::fs::read(d.join("pol.tsq")).unwrap());
        assert!(
            t.contains("failure info: the requested tsa policy is not supported"),
            "{t}"
        );
        // badDataFormat: garbage, and trailing data.
        let t = status_of(b"\x30\x03\x02\x01\x01");
        assert!(
            t.contains("failure info: the data submitted has the wrong format"),
            "{t}"
        );
        openssl_ok(
            &d,
            &[
                "ts", "-query", "-data", "data.txt", "-sha256", "-out", "ok.tsq",
            ],
        );
        let mut trailing = std::fs::read(d.join("ok.tsq")).unwrap();
        trailing.push(0);
        let t = status_of(&trailing);
        assert!(
            t.contains("failure info: the data submitted has the wrong format"),
            "{t}"
        );
        // badRequest: version 2.
        let mut v2 = std::fs::read(d.join("ok.tsq")).unwrap();
        let pos = v2.windows(3).position(|w| w == [2, 1, 1]).unwrap();
        v2[pos + 2] = 2;
        let t = status_of(&v2);
        assert!(
            t.contains("failure info: transaction not permitted or supported"),
            "{t}"
        );
        // unacceptedExtension: append [0] extensions inside the request SEQUENCE.
        let ok = std::fs::read(d.join("ok.tsq")).unwrap();
        let ext = [
            0xa0, 0x09, 0x30, 0x07, 0x06, 0x02, 0x2a, 0x03, 0x04, 0x01, 0x00,
        ];
        let mut with_ext = vec![0x30, (ok.len() - 2 + ext.len()) as u8];
        with_ext.extend_from_slice(&ok[2..]);
        with_ext.extend_from_slice(&ext);
        let t = status_of(&with_ext);
        assert!(
            t.contains("failure info: the requested extension is not supported"),
            "{t}"
        );
        // HTTP: 405, 415, 413, 404, health endpoints.
        assert_eq!(http(addr, "GET", "/", None, b"").0, 405);
        assert_eq!(http(addr, "POST", "/", Some("text/plain"), &ok).0, 415);
        assert_eq!(
            http(
                addr,
                "POST",
                "/",
                Some("application/timestamp-query"),
                &[0u8; 2048]
            )
            .0,
            413
        );
        assert_eq!(http(addr, "GET", "/nope", None, b"").0, 404);
        assert_eq!(http(addr, "GET", "/healthz", None, b"").0, 200);
        assert_eq!(http(addr, "GET", "/readyz", None, b"").0, 200);
        let (s, _, m) = http(addr, "GET", "/metrics", None, b"");
        assert_eq!(s, 200);
        let m = String::from_utf8(m).unwrap();
        assert!(
            m.contains("inkan_tsa_requests_total{status=\"rejection\",reason=\"badAlg\"} 1"),
            "{m}"
        );
        assert!(
            m.contains("inkan_tsa_http_responses_total{code=\"413\"} 1"),
            "{m}"
        );
        assert!(
            m.contains("inkan_tsa_clock_source{source=\"host\"} 1"),
            "{m}"
        );
    })
    .await
    .unwrap();
    tsa.shutdown().await;
    let r = inkan_tsa::records::Reader::open(data.path()).unwrap();
    let rej = r.rejections().unwrap();
    assert!(rej.contains(&("badAlg".to_owned(), 1)), "{rej:?}");
}
