//! SIGHUP with the real binary: a key and certificate rollover without downtime (tokens after it
//! carry the new certificate and `openssl ts -verify` accepts them), a broken pair refused
//! with the old one left live, repeated SIGHUPs under load never stop the service, and the
//! systemd readiness datagrams (`READY=1`, `RELOADING=1`, `STOPPING=1`) on `NOTIFY_SOCKET`.

use std::collections::HashSet;
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::{Duration, Instant};

use sha2::Digest as _;

use crate::common::process::{TsaProcess, bin};
use crate::common::*;

/// A second TSA key and certificate from the same test root: tsa2.key, tsa2.pem, chain2.pem.
fn second_pair(dir: &Path) {
    openssl_ok(
        dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "tsa2.key",
        ],
    );
    new_csr(
        dir,
        "tsa2.key",
        "/C=JP/O=inkan test/CN=inkan test TSA 2027",
        "tsa2.csr",
    );
    sign_csr(
        dir,
        "tsa2.csr",
        "root",
        "4343",
        &["-days", "30"],
        "tsa2.pem",
    );
    write_chain(dir, "chain2.pem", &["tsa2.pem", "root.pem"]);
    for k in ["tsa.key", "tsa2.key"] {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir.join(k), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// SHA-256 of a PEM certificate's DER (what ESSCertIDv2 carries, RFC 5816 §2.2.1).
fn cert_hash(dir: &Path, pem: &str) -> [u8; 32] {
    let der = openssl_ok(dir, &["x509", "-in", pem, "-outform", "DER"]);
    sha2::Sha256::digest(&der).into()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn write_config(dir: &Path, data: &Path, key: &str, chain: &str) {
    std::fs::write(
        dir.join("tsa.toml"),
        format!(
            "listen = \"127.0.0.1:0\"\nkey = \"{key}\"\ncert_chain = \"{chain}\"\npolicy = \"1.2.3.4.1\"\ndata_dir = \"{}\"\naccuracy_ms = 500\n",
            data.display()
        ),
    )
    .unwrap();
}

fn hup(t: &TsaProcess) {
    let ok = std::process::Command::new("kill")
        .args(["-HUP", &t.child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

/// Waits until standard error holds `n` lines containing `what`.
fn wait_log(t: &TsaProcess, what: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while t.stderr().matches(what).count() < n {
        assert!(
            Instant::now() < deadline,
            "no {n}th {what:?} in the log:\n{}",
            t.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `openssl ts -query -cert` for data.txt, POSTed; `openssl ts -verify` against the root; the
/// token bytes.
fn stamp_and_verify(dir: &Path, addr: std::net::SocketAddr) -> Vec<u8> {
    openssl_ok(
        dir,
        &[
            "ts", "-query", "-data", "data.txt", "-sha256", "-cert", "-out", "q.tsq",
        ],
    );
    let tsr = post_tsq(addr, &std::fs::read(dir.join("q.tsq")).unwrap());
    write(dir, "v.tsr", &tsr);
    let out = openssl(
        dir,
        &[
            "ts",
            "-verify",
            "-in",
            "v.tsr",
            "-queryfile",
            "q.tsq",
            "-CAfile",
            "root.pem",
        ],
    );
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Verification: OK"),
        "verify failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    tsr
}

fn next_datagram(rx: &UnixDatagram) -> String {
    let mut buf = [0u8; 512];
    let n = rx.recv(&mut buf).expect("a readiness datagram");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

#[test]
fn sighup_rolls_the_key_and_certificate_over_without_downtime() {
    let pki = tmp();
    let d = pki.path();
    make_pki(d, KeyKind::P256);
    second_pair(d);
    write(d, "data.txt", b"rollover\n");
    let (old, new) = (cert_hash(d, "tsa.pem"), cert_hash(d, "tsa2.pem"));
    let data = tmp();
    // Relative paths in the configuration resolve from its folder.
    write_config(d, data.path(), "tsa.key", "chain.pem");
    let sock_path = d.join("notify.sock");
    let rx = UnixDatagram::bind(&sock_path).unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let cfg = d.join("tsa.toml");
    // Started from another folder: the configuration's relative paths must not depend on it.
    let t = TsaProcess::start_env(
        &["--config", cfg.to_str().unwrap()],
        data.path(),
        &[("NOTIFY_SOCKET", sock_path.to_str().unwrap())],
    );
    assert!(next_datagram(&rx).starts_with("READY=1"));

    let before = stamp_and_verify(d, t.addr);
    assert!(contains(&before, &old) && !contains(&before, &new));

    // The rollover: the configuration now names the new pair.
    write_config(d, data.path(), "tsa2.key", "chain2.pem");
    hup(&t);
    assert!(next_datagram(&rx).starts_with("RELOADING=1"));
    assert!(next_datagram(&rx).starts_with("READY=1"));
    wait_log(&t, "\"identity_reloaded\"", 1);
    let after = stamp_and_verify(d, t.addr);
    assert!(
        contains(&after, &new) && !contains(&after, &old),
        "the token after SIGHUP does not name the new certificate"
    );
    assert!(
        reply_text(d, &after).contains("Status: Granted"),
        "{}",
        reply_text(d, &after)
    );

    // A broken pair (the old key with the new certificate), then an unreadable configuration:
    // both refused, the new pair stays live.
    write_config(d, data.path(), "tsa.key", "chain2.pem");
    hup(&t);
    assert!(next_datagram(&rx).starts_with("RELOADING=1"));
    assert!(next_datagram(&rx).starts_with("READY=1"));
    wait_log(&t, "\"identity_reload_failed\"", 1);
    assert!(
        t.stderr().contains("does not match the key"),
        "{}",
        t.stderr()
    );
    std::fs::write(&cfg, "key = [unclosed\n").unwrap();
    hup(&t);
    assert!(next_datagram(&rx).starts_with("RELOADING=1"));
    assert!(next_datagram(&rx).contains("refused"));
    wait_log(&t, "\"identity_reload_failed\"", 2);
    let still = stamp_and_verify(d, t.addr);
    assert!(contains(&still, &new) && !contains(&still, &old));

    // SIGHUP after SIGHUP while a client keeps asking, switching between the two pairs: never
    // a refusal, never a stop, no serial twice, and every token made with one pair from start
    // to record (its ESSCertIDv2 names the certificate its record names).
    let addr = t.addr;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut c = Conn::open(addr).unwrap();
            let mut tokens = Vec::new();
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) || i < 50 {
                let (status, body) = c.post(&request(i)).unwrap();
                assert_eq!(status, 200);
                assert_eq!(
                    failure_of(&body),
                    None,
                    "a request was refused during a reload"
                );
                tokens.push(body);
                i += 1;
            }
            tokens
        })
    };
    for n in 0..5 {
        let (key, chain) = if n % 2 == 0 {
            ("tsa.key", "chain.pem")
        } else {
            ("tsa2.key", "chain2.pem")
        };
        write_config(d, data.path(), key, chain);
        hup(&t);
        assert!(next_datagram(&rx).starts_with("RELOADING=1"));
        assert!(next_datagram(&rx).starts_with("READY=1"));
        wait_log(&t, "\"identity_reloaded\"", 2 + n);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let tokens = load.join().unwrap();
    let mut seen: HashSet<u128> = [serial_of(&before), serial_of(&after), serial_of(&still)]
        .into_iter()
        .collect();
    let mut signed_by = Vec::new();
    for tsr in &tokens {
        let s = serial_of(tsr);
        assert!(seen.insert(s), "serial {s:x} issued twice");
        let by = match (contains(tsr, &old), contains(tsr, &new)) {
            (true, false) => old,
            (false, true) => new,
            other => panic!("token {s:x} names {other:?} of the two certificates"),
        };
        signed_by.push((s, by));
    }
    assert!(
        signed_by.iter().any(|x| x.1 == old) && signed_by.iter().any(|x| x.1 == new),
        "the load did not span a rollover"
    );
    let mut t = t;
    assert!(t.child.try_wait().unwrap().is_none(), "SIGHUP stopped it");

    assert!(t.stop(), "graceful stop after the reloads");
    // Each token's record names the certificate the token was signed with.
    let reader = inkan_tsa::records::Reader::open(data.path()).unwrap();
    for (s, by) in &signed_by {
        let mut line = String::new();
        reader
            .query(&inkan_tsa::records::Query::Serial(*s), |l| {
                line = l.to_owned();
                Ok(())
            })
            .unwrap();
        let rec: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(rec["cert_sha256"], records_hex(by), "token {s:x}");
    }
    drop(reader);
    assert!(next_datagram(&rx).starts_with("STOPPING=1"));
    // The audit trail has both outcomes.
    let out = std::process::Command::new(bin())
        .args(["events", "--data-dir"])
        .arg(data.path())
        .args(["--from", "2000-01-01", "--to", "2200-01-01"])
        .output()
        .unwrap();
    let events = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        events.matches("\"identity_reloaded\"").count(),
        6,
        "{events}"
    );
    assert_eq!(
        events.matches("\"identity_reload_failed\"").count(),
        2,
        "{events}"
    );
    assert!(events.contains(&records_hex(&new)), "{events}");
}

fn records_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A rollover between two keys on one SoftHSM2 token, in process: the second PKCS#11 key
/// (same module, already logged in) is loaded and checked while the first keeps signing, the
/// tokens after it verify with the new certificate, and a mismatched pair is refused.
#[test]
fn rollover_between_two_keys_on_a_softhsm2_token() {
    use inkan_hsm::devpki::{self, CertProfile, DevPki, KeyAlg, Validity};
    use inkan_hsm::name::DistinguishedName;
    use inkan_hsm::{KeyRef, Policy};
    use inkan_profiles::clock::{Clock, SystemClock};

    let Some(hsm) = inkan_test_support::softhsm::isolate() else {
        return;
    };
    let now = SystemClock.now().unwrap();
    let pki = DevPki::generate(now, KeyAlg::P256).unwrap();
    let dir = tmp();
    let d = dir.path();
    write(d, "root.pem", pki.root_pem().as_bytes());
    let cn = const_oid::ObjectIdentifier::new_unwrap("2.5.4.3");
    let mut uris = Vec::new();
    for (i, label) in ["tsa-2026", "tsa-2027"].iter().enumerate() {
        let uri = hsm.keygen(label, "EC:prime256v1");
        let spki = inkan_hsm::load(&KeyRef::parse(&uri).unwrap(), &Policy::cryptrec(), now)
            .unwrap()
            .public_key_der()
            .to_vec();
        let cert = pki
            .issuer
            .issue(
                CertProfile::TimeStamping,
                &DistinguishedName::new(&[(cn, &format!("inkan test TSA {label}") as &str)]),
                &spki,
                Validity::around(now, 3600, 30 * 86_400),
            )
            .unwrap();
        let pem = devpki::cert_pem(&cert);
        write(
            d,
            &format!("chain{i}.pem"),
            format!("{pem}{}", pki.root_pem()).as_bytes(),
        );
        write(d, &format!("tsa{i}.pem"), pem.as_bytes());
        uris.push(uri);
    }
    let data = tmp();
    let settings_for = |key: &str, chain: &str| {
        let toml = format!(
            "listen = \"127.0.0.1:0\"\nkey = \"{key}\"\ncert_chain = \"{}\"\npolicy = \"1.2.3.4.1\"\ndata_dir = \"{}\"\n",
            d.join(chain).display(),
            data.path().display()
        );
        inkan_tsa::config::resolve(
            inkan_tsa::config::FileConfig::parse(&toml).unwrap(),
            &Default::default(),
        )
        .unwrap()
    };
    let rt = runtime();
    let tsa = rt.block_on(start(settings_for(&uris[0], "chain0.pem")));
    write(d, "data.txt", b"rollover on a token\n");
    let (h0, h1) = (cert_hash(d, "tsa0.pem"), cert_hash(d, "tsa1.pem"));
    let first = stamp_and_verify(d, tsa.addr);
    assert!(contains(&first, &h0));

    let reloader = tsa.reloader();
    let r = rt
        .block_on(reloader.reload(Ok(settings_for(&uris[1], "chain1.pem"))))
        .unwrap();
    assert!(!r.unchanged);
    assert!(r.subject.contains("tsa-2027"), "{r:?}");
    let second = stamp_and_verify(d, tsa.addr);
    assert!(contains(&second, &h1) && !contains(&second, &h0));

    // The 2026 key with the 2027 certificate: refused, the 2027 pair stays.
    let e = rt
        .block_on(reloader.reload(Ok(settings_for(&uris[0], "chain1.pem"))))
        .unwrap_err();
    assert!(e.contains("does not match the key"), "{e}");
    let third = stamp_and_verify(d, tsa.addr);
    assert!(contains(&third, &h1));
    rt.block_on(tsa.shutdown());
}
