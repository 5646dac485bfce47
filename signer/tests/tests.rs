//! Integration tests: real keys, a real `inkan-tsa` on 127.0.0.1:0, `openssl cms -verify` as the
//! judge.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use inkan_hsm::devpki::{self, DevPki, KeyAlg};
use inkan_profiles::asn1::cms::RawSignedData;
use inkan_profiles::clock::{Clock, SystemClock};
use inkan_signer::cades::Level;
use inkan_signer::sign::{self, ExtendOptions, Options};

mod common;

use common::Env;

use inkan_test_support::{openssl, openssl_cades_sign};

impl Env {
    fn new(alg: KeyAlg) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let now = SystemClock.now().unwrap();
        let pki = DevPki::generate(now, alg).unwrap();
        std::fs::write(dir.path().join("eseal.key"), pki.eseal_key_pem.as_bytes()).unwrap();
        std::fs::write(dir.path().join("tsa.key"), pki.tsa_key_pem.as_bytes()).unwrap();
        let keyref = dir.path().join("eseal.key").display().to_string();
        Self::build(dir, pki, keyref)
    }

    fn file(&self, name: &str, data: &[u8]) -> PathBuf {
        let p = self.p(name);
        std::fs::write(&p, data).unwrap();
        p
    }

    fn opts(&self, level: Level) -> Options {
        let mut o = Options::new(&self.keyref, &self.p("eseal-chain.pem"));
        o.level = level;
        o.progress = false;
        o.fetch = false;
        if level >= Level::BT {
            o.tsa = Some(self.tsa_url.clone());
        }
        if level >= Level::BLT {
            o.crls = vec![self.p("crl.der")];
        }
        o
    }

    fn openssl_verify(&self, sig: &Path, content: Option<&Path>) {
        let mut args = vec![
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            sig.to_str().unwrap(),
            "-CAfile",
            "root.pem",
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ];
        if let Some(c) = content {
            args.extend(["-content", c.to_str().unwrap()]);
        }
        let out = openssl(self.dir.path(), &args);
        assert!(
            out.status.success(),
            "openssl cms -verify failed on {}: {}",
            sig.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn unsigned_oids(der: &[u8]) -> Vec<String> {
    let sd = RawSignedData::parse(der).unwrap();
    sd.signer_infos[0]
        .unsigned_attrs
        .iter()
        .map(|a| a.oid.to_string())
        .collect()
}

const SIG_TST: &str = "1.2.840.113549.1.9.16.2.14";
const ATS_V3: &str = "0.4.0.1733.2.4";

fn every_level(alg: KeyAlg) {
    every_level_in(&Env::new(alg));
}

fn every_level_in(env: &Env) {
    for attached in [false, true] {
        for level in [Level::BB, Level::BT, Level::BLT, Level::BLTA] {
            let name = format!("doc-{level}-{attached}.txt");
            let input = env.file(&name, format!("content for {level}").as_bytes());
            let mut o = env.opts(level);
            o.attached = attached;
            let s = sign::sign_files(&o, std::slice::from_ref(&input), &SystemClock).unwrap();
            assert_eq!(s.failed(), 0, "{:?}", s.files);
            let out = env.p(&format!("{name}.p7s"));
            env.openssl_verify(&out, (!attached).then_some(input.as_path()));
            env.inkan_verify(&out, (!attached).then_some(input.as_path()), true);
            let der = std::fs::read(&out).unwrap();
            let oids = unsigned_oids(&der);
            assert_eq!(
                oids.contains(&SIG_TST.to_string()),
                level >= Level::BT,
                "{level}"
            );
            assert_eq!(
                oids.contains(&ATS_V3.to_string()),
                level == Level::BLTA,
                "{level}"
            );
            let sd = RawSignedData::parse(&der).unwrap();
            if level >= Level::BLT {
                assert!(!sd.crls.is_empty(), "B-LT carries the CRL");
                // signer, TSA, root; no duplicates.
                assert!(sd.certificates.len() >= 3);
            }
        }
    }
}

#[test]
fn every_level_p256() {
    every_level(KeyAlg::P256);
}

#[test]
fn every_level_p384() {
    every_level(KeyAlg::P384);
}

/// An RSA-3072 software key made by `openssl genpkey` (ring cannot generate RSA).
fn openssl_rsa_env(algorithm: &str) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("eseal.key");
    let out = openssl(
        dir.path(),
        &[
            "genpkey",
            "-algorithm",
            algorithm,
            "-pkeyopt",
            "rsa_keygen_bits:3072",
            "-out",
            key.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keyref = key.display().to_string();
    let loaded = inkan_hsm::load(
        &inkan_hsm::KeyRef::parse(&keyref).unwrap(),
        &inkan_hsm::Policy::cryptrec(),
        SystemClock.now().unwrap(),
    )
    .unwrap();
    Env::with_eseal(dir, &*loaded, keyref)
}

#[test]
fn every_level_rsa3072_pkcs1() {
    every_level_in(&openssl_rsa_env("RSA"));
}

/// SoftHSM2 keys (P-256 and RSA-3072) on a private token: every level through the pkcs11: URI;
/// a wrong PIN stops the run with a clear message and writes nothing.
#[test]
fn softhsm_keys() {
    let Some(hsm) = inkan_test_support::softhsm::isolate() else {
        return;
    };
    for (label, key_type) in [("seal-p256", "EC:prime256v1"), ("seal-rsa", "rsa:3072")] {
        let uri = hsm.keygen(label, key_type);
        let key = inkan_hsm::load(
            &inkan_hsm::KeyRef::parse(&uri).unwrap(),
            &inkan_hsm::Policy::cryptrec(),
            SystemClock.now().unwrap(),
        )
        .unwrap();
        let env = Env::with_eseal(tempfile::tempdir().unwrap(), &*key, uri.clone());
        drop(key);
        every_level_in(&env);

        // Wrong PIN: nothing signed, nothing written, the message says so.
        let wrong = uri.replace(
            &format!("pin-source=env:{}", inkan_test_support::softhsm::PIN_ENV),
            "pin-value=9999",
        );
        assert_ne!(wrong, uri);
        let input = env.file("pin.txt", b"x");
        let mut o = env.opts(Level::BB);
        o.key = wrong;
        let e = sign::sign_files(&o, std::slice::from_ref(&input), &SystemClock).unwrap_err();
        let msg = e.to_string();
        assert!(msg.to_lowercase().contains("pin"), "{msg}");
        assert!(
            !msg.contains("9999"),
            "the PIN never reaches a message: {msg}"
        );
        assert!(!env.p("pin.txt.p7s").exists());
    }
}

/// A re-run in which every output exists and is kept loads no key: nothing to sign needs no
/// PIN or token (here a key file that does not exist), and no TSA.
#[test]
fn nothing_to_sign_needs_no_key() {
    let env = Env::new(KeyAlg::P256);
    let a = env.file("kept.txt", b"a");
    let s = sign::sign_files(&env.opts(Level::BB), std::slice::from_ref(&a), &SystemClock).unwrap();
    assert_eq!(s.signed(), 1);
    let mut o = env.opts(Level::BT);
    o.key = env.p("no-such.key").display().to_string();
    o.tsa = Some("http://127.0.0.1:1/".into());
    o.existing = sign::Existing::Skip;
    let s = sign::sign_files(&o, std::slice::from_ref(&a), &SystemClock).unwrap();
    assert_eq!((s.signed(), s.skipped(), s.failed()), (0, 1, 0));
    // With something to sign, the key is loaded and refused as before.
    std::fs::remove_file(env.p("kept.txt.p7s")).unwrap();
    assert!(sign::sign_files(&o, std::slice::from_ref(&a), &SystemClock).is_err());
}

#[test]
fn batch_with_an_unreadable_file() {
    let env = Env::new(KeyAlg::P256);
    let a = env.file("a.txt", b"a");
    let b = env.p("missing.txt");
    let c = env.file("c.txt", b"c");
    let s = sign::sign_files(&env.opts(Level::BB), &[a, b.clone(), c], &SystemClock).unwrap();
    assert_eq!(s.signed(), 2);
    assert_eq!(s.failed(), 1);
    let bad = &s.files[1];
    assert_eq!(bad.input, b);
    assert!(bad.error().unwrap().contains("cannot read"));
    assert!(!env.p("missing.txt.p7s").exists());
    env.openssl_verify(&env.p("c.txt.p7s"), Some(&env.p("c.txt")));
}

/// `--commitment-type`: the commitment-type-indication is a signed attribute of every file of
/// the batch, at B-B and B-LTA (which keeps the signed attributes as they are), and OpenSSL
/// and inkan-verify accept the result; inkan-verify reports it by name.
#[test]
fn commitment_type_is_signed() {
    let env = Env::new(KeyAlg::P256);
    for level in [Level::BB, Level::BLTA] {
        let name = format!("minutes-{level}.txt");
        let doc = env.file(&name, "議事録: approved by the board\n".as_bytes());
        let mut o = env.opts(level);
        o.commitment = inkan_signer::commitment::Commitment::parse("approval");
        assert!(o.commitment.is_some());
        let s = sign::sign_files(&o, std::slice::from_ref(&doc), &SystemClock).unwrap();
        assert_eq!(s.failed(), 0, "{:?}", s.files);
        let out = env.p(&format!("{name}.p7s"));
        env.openssl_verify(&out, Some(&doc));
        env.inkan_verify(&out, Some(&doc), true);
        let report = inkan_verifier::verify(
            &inkan_verifier::Input {
                bytes: std::fs::read(&out).unwrap(),
            },
            &inkan_verifier::Options {
                data: inkan_verifier::Data::File(doc.clone()),
                trust: vec![env.pki.root_pem().into_bytes()],
                ..Default::default()
            },
            SystemClock.now().unwrap(),
        )
        .unwrap();
        assert_eq!(report.commitment_types, ["proof-of-approval"], "{level}");
    }
}

/// Workers take inputs in bursts (read and hash several, sign them, write them): every
/// result still lands on its own input, unreadable inputs anywhere in a burst are reported
/// and the rest signed, whatever the burst size, detached or attached (attached contents
/// also end a burst by size).
#[test]
fn batch_bursts_keep_every_result() {
    let env = Env::new(KeyAlg::P256);
    let n = 300;
    let bad = [0usize, 6, 7, 129, 299];
    let inputs: Vec<PathBuf> = (0..n)
        .map(|i| {
            let name = format!("in{i:03}.txt");
            if bad.contains(&i) {
                env.p(&name)
            } else {
                // 40 KiB each: an attached burst holds about 25 of them before 1 MiB.
                env.file(&name, format!("{i}").repeat(10_000).as_bytes())
            }
        })
        .collect();
    for (k, (burst, attached)) in [
        (1, false),
        (3, false),
        (sign::DEFAULT_BURST, false),
        (sign::DEFAULT_BURST, true),
    ]
    .into_iter()
    .enumerate()
    {
        sign::set_burst(burst);
        let out = env.p(&format!("out{k}"));
        std::fs::create_dir(&out).unwrap();
        let mut o = env.opts(Level::BB);
        o.out_dir = Some(out.clone());
        o.attached = attached;
        o.workers = 3;
        let s = sign::sign_files(&o, &inputs, &SystemClock).unwrap();
        sign::set_burst(sign::DEFAULT_BURST);
        assert_eq!(s.failed(), bad.len(), "burst {burst}: {:?}", s.files);
        for (i, f) in s.files.iter().enumerate() {
            assert_eq!(f.input, inputs[i]);
            let target = out.join(format!("in{i:03}.txt.p7s"));
            if bad.contains(&i) {
                assert!(f.error().unwrap().contains("cannot read"));
                assert!(!target.exists());
            } else {
                assert_eq!(f.written().unwrap(), target);
                // The signature covers this input, not a neighbour in the burst.
                let sd = RawSignedData::parse(&std::fs::read(&target).unwrap()).unwrap();
                let si = &sd.signer_infos[0];
                let md = inkan_signer::cades::message_digest(si).unwrap();
                let content = std::fs::read(&inputs[i]).unwrap();
                assert_eq!(
                    md,
                    inkan_profiles::alg::DigestAlgorithm::Sha256.digest(&content)
                );
                assert_eq!(sd.econtent.is_some(), attached);
            }
        }
        assert_eq!(std::fs::read_dir(&out).unwrap().count(), n - bad.len());
        let last = out.join(format!("in{:03}.txt.p7s", n - 2));
        env.openssl_verify(&last, (!attached).then_some(inputs[n - 2].as_path()));
    }
}

/// An HTTP TSA front on the test TSA's runtime that answers `503 Service Unavailable` to the
/// first `fail_first` requests and forwards the rest to the TSA; returns its URL and the
/// number of requests it saw.
fn busy_front(env: &Env, fail_first: usize) -> (String, Arc<AtomicUsize>) {
    use bytes::Bytes;
    use http_body_util::Full;
    let backend = env._tsa.addr;
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let rt = &env._tsa.rt;
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    async move {
                        if n < fail_first {
                            Ok(hyper::Response::builder()
                                .status(503)
                                .body(Full::new(Bytes::new()))
                                .unwrap())
                        } else {
                            common::forward(req, backend, None, None).await
                        }
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tcp), svc)
                    .await;
            });
        }
    });
    (format!("http://{addr}/"), seen)
}

/// A TSA that answers 503 to the first request is asked once more (after a pause) and the
/// signature is made; one that keeps answering 503 is asked twice for the first input, then
/// the batch stops with one problem and no other input is started.
#[test]
fn busy_tsa_is_retried_once_then_stops_the_batch() {
    let env = Env::new(KeyAlg::P256);
    let (url, seen) = busy_front(&env, 1);
    let a = env.file("busy.txt", b"a");
    let mut o = env.opts(Level::BT);
    o.tsa = Some(url);
    let s = sign::sign_files(&o, std::slice::from_ref(&a), &SystemClock).unwrap();
    assert_eq!(s.failed(), 0, "{:?}", s.files);
    assert!(s.stopped.is_none());
    assert_eq!(
        seen.load(Ordering::SeqCst),
        2,
        "the first request and its retry"
    );
    env.openssl_verify(&env.p("busy.txt.p7s"), Some(&a));

    let (url, seen) = busy_front(&env, usize::MAX);
    let inputs: Vec<PathBuf> = (0..5)
        .map(|i| env.file(&format!("b{i}.txt"), b"b"))
        .collect();
    o.tsa = Some(url);
    o.workers = 1;
    let s = sign::sign_files(&o, &inputs, &SystemClock).unwrap();
    let stop = s.stopped.clone().expect("the batch stopped");
    assert_eq!(stop.problem, inkan_signer::cades::Problem::Unavailable);
    assert!(
        stop.message.contains("HTTP status 503") && stop.message.contains("tried twice"),
        "{}",
        stop.message
    );
    assert_eq!(s.failed(), 5);
    assert!(s.files.iter().all(|f| f.by_stop), "{:?}", s.files);
    assert!(
        s.files[1]
            .error()
            .unwrap()
            .starts_with("not signed: the batch stopped")
    );
    assert_eq!(
        seen.load(Ordering::SeqCst),
        2,
        "one input asked twice, no other asked"
    );
    assert!(inputs.iter().all(|i| !i.with_extension("txt.p7s").exists()));
}

#[test]
fn tsa_down_and_garbage() {
    let env = Env::new(KeyAlg::P256);
    let a = env.file("a.txt", b"a");
    let mut o = env.opts(Level::BT);
    o.tsa = Some("http://127.0.0.1:1/".into());
    let s = sign::sign_files(&o, std::slice::from_ref(&a), &SystemClock).unwrap();
    let e = s.files[0].error().unwrap();
    assert!(e.contains("could not reach the TSA"), "{e}");
    assert!(!env.p("a.txt.p7s").exists(), "nothing half-written");

    // A server answering 200 with garbage.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for s in listener.incoming().take(1) {
            let mut s = s.unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let body = b"this is not DER";
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(body);
        }
    });
    o.tsa = Some(format!("http://{addr}/"));
    let s = sign::sign_files(&o, std::slice::from_ref(&a), &SystemClock).unwrap();
    let e = s.files[0].error().unwrap();
    assert!(e.contains("not a TimeStampResp"), "{e}");
    assert!(!env.p("a.txt.p7s").exists());
}

#[test]
fn crl_missing_for_b_lt() {
    let env = Env::new(KeyAlg::P256);
    let a = env.file("a.txt", b"a");
    let mut o = env.opts(Level::BLT);
    o.crls.clear();
    let s = sign::sign_files(&o, std::slice::from_ref(&a), &SystemClock).unwrap();
    let e = s.files[0].error().unwrap();
    assert!(e.contains("no valid revocation data"), "{e}");
    assert!(!env.p("a.txt.p7s").exists());
}

#[test]
fn revoked_certificate_refused_for_b_lt() {
    let env = Env::new(KeyAlg::P256);
    // The second e-seal certificate (same key) is on the CRL.
    let chain = format!(
        "{}{}",
        devpki::cert_pem(&env.pki.revoked_eseal_cert_der),
        env.pki.root_pem()
    );
    let chain_path = env.file("revoked-chain.pem", chain.as_bytes());
    let a = env.file("a.txt", b"a");
    let mut o = env.opts(Level::BLT);
    o.cert_chain = chain_path;
    let s = sign::sign_files(&o, std::slice::from_ref(&a), &SystemClock).unwrap();
    let e = s.files[0].error().unwrap();
    assert!(e.contains("revoked"), "{e}");
}

#[test]
fn wrong_certificate_stops_before_signing() {
    let env = Env::new(KeyAlg::P256);
    let a = env.file("a.txt", b"a");
    let mut o = env.opts(Level::BB);
    o.cert_chain = env.p("tsa-chain.pem");
    let e = sign::sign_files(&o, std::slice::from_ref(&a), &SystemClock).unwrap_err();
    assert!(e.to_string().contains("matches the key"), "{e}");
    assert!(!env.p("a.txt.p7s").exists());
}

#[test]
fn extend_openssl_cades_to_b_lta_and_renew() {
    let env = Env::new(KeyAlg::P256);
    let d = env.dir.path();
    env.file("doc.txt", b"signed by openssl");
    std::fs::write(
        d.join("eseal.pem"),
        devpki::cert_pem(&env.pki.eseal_cert_der),
    )
    .unwrap();
    let extra = ["-certfile", "root.pem"];
    openssl_cades_sign(d, "doc.txt", "eseal.pem", "eseal.key", "o.p7s", &extra);
    let original = std::fs::read(d.join("o.p7s")).unwrap();
    let before = RawSignedData::parse(&original).unwrap().signer_infos[0]
        .signed_part
        .clone();

    let mut o = ExtendOptions::new(Level::BLTA);
    o.tsa = Some(env.tsa_url.clone());
    o.crls = vec![env.p("crl.der")];
    o.data = Some(env.p("doc.txt"));
    o.fetch = false;
    let now = SystemClock.now().unwrap();
    sign::extend(&o, &env.p("o.p7s"), now).unwrap();
    let der = std::fs::read(d.join("o.p7s")).unwrap();
    let sd = RawSignedData::parse(&der).unwrap();
    assert_eq!(
        sd.signer_infos[0].signed_part, before,
        "signed part kept byte for byte"
    );
    assert_eq!(unsigned_oids(&der), [SIG_TST, ATS_V3]);
    env.openssl_verify(&env.p("o.p7s"), Some(&env.p("doc.txt")));

    // Renew: a second archive time stamp.
    sign::extend(&o, &env.p("o.p7s"), now).unwrap();
    let der = std::fs::read(d.join("o.p7s")).unwrap();
    assert_eq!(unsigned_oids(&der), [SIG_TST, ATS_V3, ATS_V3]);
    env.openssl_verify(&env.p("o.p7s"), Some(&env.p("doc.txt")));

    // Wrong content is refused and the file is left as it was.
    env.file("other.txt", b"something else");
    o.data = Some(env.p("other.txt"));
    let e = sign::extend(&o, &env.p("o.p7s"), now).unwrap_err();
    assert!(e.message.contains("does not match"), "{e}");
    assert_eq!(e.problem, None, "the input's own failure");
    assert_eq!(std::fs::read(d.join("o.p7s")).unwrap(), der);
}
