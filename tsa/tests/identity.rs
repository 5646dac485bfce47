//! The signing identity, all the time: start-up refuses a certificate or key file that would
//! make tokens unverifiable or the key exposed; while running, every token is checked against
//! the certificate's notAfter and the key's CRYPTREC period (systemFailure, /readyz 503, an
//! event; a warning 30 days ahead in the log, the events and /metrics).

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::time::{Duration, Instant};

use inkan_hsm::devpki::{self, CertProfile, DevPki, DevPkiOptions, KeyAlg, Validity};
use inkan_hsm::name::DistinguishedName;
use inkan_profiles::clock::{Clock, SystemClock};
use inkan_profiles::time::UnixTime;

use crate::common::*;

/// Re-issues `tsa.pem` from `tsa.csr` (or a new CSR for `key`) under `root`, with the
/// extensions `ext` and the digest `digest`, and rewrites `chain.pem` (TSA, root).
fn reissue(dir: &Path, key: &str, ext: &str, digest: &str) {
    std::fs::write(dir.join("ext2.cnf"), ext).unwrap();
    new_csr(
        dir,
        key,
        "/C=JP/O=inkan test/CN=inkan test TSA 2",
        "tsa2.csr",
    );
    let opts = ["-days", "30", digest, "-extfile", "ext2.cnf"];
    sign_csr(dir, "tsa2.csr", "root", "4343", &opts, "tsa.pem");
    write_chain(dir, "chain.pem", &["tsa.pem", "root.pem"]);
}

const TSA_EXT: &str =
    "extendedKeyUsage=critical,timeStamping\nkeyUsage=critical,digitalSignature\n";

fn start_err(pki: &Path, data: &Path) -> String {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = settings(pki, data, "");
    match rt.block_on(inkan_tsa::app::start(s, std::sync::Arc::new(SystemClock))) {
        Ok(_) => panic!("started"),
        Err(e) => e,
    }
}

#[test]
fn start_up_refuses_what_verifiers_or_auditors_would() {
    let pki = tmp();
    let d = pki.path();
    make_pki(d, KeyKind::P256);

    // An ecdsa-with-SHA1-signed TSA certificate: every token would fail verification.
    reissue(d, "tsa.key", TSA_EXT, "-sha1");
    let e = start_err(d, tmp().path());
    assert!(e.contains("SHA-1") && e.contains("CRYPTREC"), "{e}");

    // keyUsage without digitalSignature.
    reissue(
        d,
        "tsa.key",
        "extendedKeyUsage=critical,timeStamping\nkeyUsage=critical,nonRepudiation\n",
        "-sha256",
    );
    let e = start_err(d, tmp().path());
    assert!(e.contains("digitalSignature"), "{e}");

    // A good certificate again; the chain given CA-first is named as such.
    reissue(d, "tsa.key", TSA_EXT, "-sha256");
    let good_chain = std::fs::read(d.join("chain.pem")).unwrap();
    let reversed = [
        std::fs::read(d.join("root.pem")).unwrap(),
        std::fs::read(d.join("tsa.pem")).unwrap(),
    ]
    .concat();
    std::fs::write(d.join("chain.pem"), reversed).unwrap();
    let e = start_err(d, tmp().path());
    assert!(e.contains("CA first"), "{e}");

    // The next certificate is not the issuer: another root.
    let other = tmp();
    make_pki(other.path(), KeyKind::P256);
    let wrong = [
        std::fs::read(d.join("tsa.pem")).unwrap(),
        std::fs::read(other.path().join("root.pem")).unwrap(),
    ]
    .concat();
    std::fs::write(d.join("chain.pem"), wrong).unwrap();
    let e = start_err(d, tmp().path());
    assert!(e.contains("not issued by the next certificate"), "{e}");
    std::fs::write(d.join("chain.pem"), &good_chain).unwrap();

    // A key file others can read: refused, naming the fix; accepted with --dev.
    std::fs::set_permissions(d.join("tsa.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = start_err(d, tmp().path());
    assert!(e.contains("chmod 600") && e.contains("644"), "{e}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let data = tmp();
    let mut s = settings(d, data.path(), "");
    s.dev = true;
    let tsa = rt
        .block_on(inkan_tsa::app::start(s, std::sync::Arc::new(SystemClock)))
        .expect("--dev accepts it");
    rt.block_on(tsa.shutdown());
}

/// An Ed25519 TSA key starts, with a warning (log and event) that OpenSSL 3.0 clients cannot
/// verify its tokens.
#[test]
fn ed25519_key_warns() {
    let pki = tmp();
    let d = pki.path();
    make_pki(d, KeyKind::P256);
    openssl_ok(d, &["genpkey", "-algorithm", "ED25519", "-out", "tsa.key"]);
    reissue(d, "tsa.key", TSA_EXT, "-sha256");
    let data = tmp();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let tsa = rt.block_on(start(settings(d, data.path(), "")));
    rt.block_on(tsa.shutdown());
    let events = inkan_tsa::records::Reader::open(data.path())
        .unwrap()
        .events()
        .unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.contains("certificate_warning") && e.contains("OpenSSL 3.0")),
        "{events:?}"
    );
}

/// A devpki root and a TSA certificate for the SPKI `spki` valid `validity`; writes
/// `root.pem` and `chain.pem` into `dir`.
fn devpki_chain(dir: &Path, at: UnixTime, spki: &[u8], validity: Validity) {
    let pki = DevPki::generate_with(&DevPkiOptions::new(at, KeyAlg::P256)).unwrap();
    let cert = pki
        .issuer
        .issue(
            CertProfile::TimeStamping,
            &DistinguishedName::parse("/C=JP/O=inkan test (NOT FOR PRODUCTION)/CN=short TSA")
                .unwrap(),
            spki,
            validity,
        )
        .unwrap();
    std::fs::write(dir.join("root.pem"), pki.root_pem()).unwrap();
    std::fs::write(
        dir.join("chain.pem"),
        devpki::cert_pem(&cert) + &pki.root_pem(),
    )
    .unwrap();
}

fn write_key(dir: &Path, pem: &str) {
    let p = dir.join("tsa.key");
    std::fs::write(&p, pem).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn event_lines(data: &Path) -> Vec<String> {
    inkan_tsa::records::Reader::open(data)
        .unwrap()
        .events()
        .unwrap()
}

/// A TSA certificate that expires while the server runs: warned about at start (log, event,
/// /metrics), tokens until notAfter minus the accuracy, then systemFailure for every request,
/// /readyz 503 naming the certificate, and an identity_ended event (EN 319 421 TIS-7.7.1-09).
#[test]
fn certificate_expiring_while_running() {
    let pki = tmp();
    let d = pki.path();
    let now = SystemClock.now().unwrap();
    let (pem, key) = devpki::generate_key(KeyAlg::P256).unwrap();
    write_key(d, &pem);
    devpki_chain(
        d,
        now,
        key.public_key_der(),
        Validity {
            not_before: UnixTime::from_secs(now.secs() - 60),
            not_after: UnixTime::from_secs(now.secs() + 4),
        },
    );
    let data = tmp();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let tsa = rt.block_on(start(settings(d, data.path(), "")));
    let addr = tsa.addr;
    let m = String::from_utf8(http(addr, "GET", "/metrics", None, b"").2).unwrap();
    assert!(m.contains("inkan_tsa_identity_expiry_warning 1"), "{m}");
    let mut c = Conn::open(addr).unwrap();
    let (_, body) = c.post(&request(1)).unwrap();
    assert_eq!(failure_of(&body), None, "valid now: a token");
    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        let (status, _, body) = http(addr, "GET", "/readyz", None, b"");
        if status == 503 {
            break String::from_utf8(body).unwrap();
        }
        assert!(Instant::now() < deadline, "never expired");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(text.contains("certificate expired"), "{text}");
    let mut c = Conn::open(addr).unwrap();
    for i in 0..3 {
        let (_, body) = c.post(&request(10 + i)).unwrap();
        assert_eq!(
            failure_of(&body).map(|f| f.names().join(",")).as_deref(),
            Some("systemFailure")
        );
    }
    // The last token's genTime plus the accuracy is within the validity.
    rt.block_on(tsa.shutdown());
    let events = event_lines(data.path());
    let kinds: Vec<&str> = events
        .iter()
        .filter_map(|e| e.split("\"kind\":\"").nth(1)?.split('"').next())
        .collect();
    assert!(kinds.contains(&"certificate_warning"), "{events:?}");
    assert!(kinds.contains(&"identity_expiring"), "{events:?}");
    assert!(kinds.contains(&"identity_ended"), "{events:?}");
}

const LIBFAKETIME: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

/// An RSA-2048 key (112-bit) may sign before 2031-01-01 under the CRYPTREC policy. The real
/// inkan-tsa process under libfaketime starts at 2030-12-31T23:59:48 (its monotonic clock
/// real): tokens until 23:59:59.5 (the accuracy's 500 ms before the policy date), then
/// systemFailure, /readyz 503 naming the key, /metrics at zero days, an identity_ended event.
#[test]
fn rsa2048_stops_at_the_end_of_2030() {
    assert!(Path::new(LIBFAKETIME).exists(), "libfaketime is missing");
    let pki = tmp();
    let d = pki.path();
    openssl_ok(
        d,
        &[
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
            "-out",
            "tsa.key",
        ],
    );
    let spki = openssl_ok(d, &["pkey", "-in", "tsa.key", "-pubout", "-outform", "DER"]);
    // 2030-12-31T23:59:48Z.
    let target = UnixTime::from_secs(1_924_991_988);
    devpki_chain(
        d,
        target,
        &spki,
        Validity::around(target, 86_400, 365 * 86_400),
    );
    let offset = target.secs() as i64 - SystemClock.now().unwrap().secs() as i64;
    std::fs::write(d.join("faketime.rc"), format!("+{offset}s\n")).unwrap();
    let data = tmp();
    let rc = d.join("faketime.rc");
    let tsa = process::TsaProcess::start_with_pki(
        d,
        data.path(),
        &[
            ("LD_PRELOAD", LIBFAKETIME),
            ("FAKETIME_TIMESTAMP_FILE", rc.to_str().unwrap()),
            ("FAKETIME_NO_CACHE", "1"),
            ("FAKETIME_DONT_FAKE_MONOTONIC", "1"),
        ],
    );
    let addr = tsa.addr;
    let mut c = Conn::open(addr).unwrap();
    let (_, body) = c.post(&request(1)).unwrap();
    assert_eq!(failure_of(&body), None, "2030: a token");
    let stamped = tst_info(&body).generalized_time().unwrap().to_unix();
    assert!(stamped.secs() < 1_924_992_000, "{stamped:?}");
    let deadline = Instant::now() + Duration::from_secs(60);
    let text = loop {
        let (status, _, body) = http(addr, "GET", "/readyz", None, b"");
        if status == 503 {
            break String::from_utf8(body).unwrap();
        }
        assert!(Instant::now() < deadline, "still ready in 2031");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(text.contains("CRYPTREC"), "{text}");
    // A new connection: the first one may have been closed as idle meanwhile.
    let (_, body) = Conn::open(addr).unwrap().post(&request(2)).unwrap();
    assert_eq!(
        failure_of(&body).map(|f| f.names().join(",")).as_deref(),
        Some("systemFailure")
    );
    let m = String::from_utf8(http(addr, "GET", "/metrics", None, b"").2).unwrap();
    let days: f64 = m
        .lines()
        .find_map(|l| l.strip_prefix("inkan_tsa_key_policy_days_left "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(days <= 0.0001, "{m}");
    assert!(tsa.stop());
    let events = event_lines(data.path());
    assert!(
        events
            .iter()
            .any(|e| e.contains("identity_ended") && e.contains("key policy")),
        "{events:?}"
    );
}
