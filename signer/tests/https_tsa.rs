//! The TSA client over https with client authentication, against real parts: a real `inkan-tsa`
//! on 127.0.0.1:0 behind a real TLS-terminating front (tokio-rustls acceptor and hyper, in this
//! test) on 127.0.0.1:0, with server and client certificates made by `openssl` for test CAs;
//! the `inkan-sign` binary as the operator runs it; `openssl cms -verify` and inkan-verifier as
//! judges of the result.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use inkan_hsm::devpki::{DevPki, KeyAlg};
use inkan_profiles::clock::{Clock, SystemClock};

mod common;

use common::{
    Gate, TestTsa, assert_failed, b64, make_ca, make_empty_crl, make_eseal_with_crl_dp, make_leaf,
    start_front,
};

const PASSWORD: &str = "Tr0ub4dor&3-never-shown";
const PASSWORD_VAR: &str = "INKAN_TEST_TSA_PASSWORD";

struct Env {
    tsa: TestTsa,
    dir: tempfile::TempDir,
    pki: DevPki,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (pki, tsa) = common::dev_pki_with_tsa(d, KeyAlg::P256);
        // The TLS PKI of the test: a server CA and another one nobody trusts, a client CA.
        make_ca(d, "server-ca");
        make_ca(d, "other-ca");
        make_ca(d, "client-ca");
        let san = Some("IP:127.0.0.1,DNS:localhost");
        make_leaf(d, "server-ca", "server", "serverAuth", san);
        make_leaf(d, "other-ca", "stranger", "serverAuth", san);
        make_leaf(
            d,
            "server-ca",
            "misnamed",
            "serverAuth",
            Some("DNS:tsa.example"),
        );
        make_leaf(d, "client-ca", "client", "clientAuth", None);
        make_leaf(d, "other-ca", "rogue-client", "clientAuth", None);
        Self { tsa, dir, pki }
    }

    fn p(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn front(&self, cert: &str, gate: Gate) -> String {
        let (addr, _) = start_front(
            &self.tsa.rt,
            self.dir.path(),
            cert,
            gate,
            self.tsa.addr,
            None,
        );
        format!("https://{addr}/")
    }

    fn input(&self, name: &str) -> String {
        let p = self.p(name);
        std::fs::write(&p, format!("content of {name}")).unwrap();
        p
    }

    /// Runs `inkan-sign` with `args` (the password in its environment) and checks that the
    /// password, plain or Basic-encoded, appears in none of its output. Its "system" trust
    /// store is `other-ca.pem` (through `SSL_CERT_FILE`, which rustls-native-certs reads as
    /// OpenSSL does), so the tests do not depend on the machine's store.
    fn sign(&self, args: &[&str]) -> (Option<i32>, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_inkan-sign"))
            .args(args)
            .env(PASSWORD_VAR, PASSWORD)
            .env("WRONG_PASSWORD", "not-the-password")
            .env("SSL_CERT_FILE", self.p("other-ca.pem"))
            .env_remove("SSL_CERT_DIR")
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for secret in [
            PASSWORD.to_owned(),
            b64(format!("alice:{PASSWORD}").as_bytes()),
            "not-the-password".to_owned(),
        ] {
            assert!(!text.contains(&secret), "secret in output: {text}");
        }
        (out.status.code(), text)
    }

    /// Seals a new input `name` at B-B (no TSA); returns (input, .p7s).
    fn seal_bb(&self, name: &str) -> (String, String) {
        let input = self.input(name);
        let (code, text) = self.sign(&[
            "--key",
            "eseal.key",
            "--cert-chain",
            "eseal-chain.pem",
            &input,
        ]);
        assert_eq!(code, Some(0), "{text}");
        let p7s = format!("{input}.p7s");
        (input, p7s)
    }

    /// Seals a new input `name` at B-B, extends it to B-T through `tsa` with the extra flags,
    /// and checks that the result verifies.
    fn extend_bt_verified(&self, name: &str, tsa: &str, extra: &[&str]) {
        let (input, p7s) = self.seal_bb(name);
        let mut args = vec!["extend", "--level", "B-T", "--tsa", tsa];
        args.extend_from_slice(extra);
        args.push(&p7s);
        let (code, text) = self.sign(&args);
        assert_eq!(code, Some(0), "{text}");
        self.verify(&p7s, &input);
    }

    /// Signs `name` at `level` through `tsa` with the extra flags; returns (exit, output, .p7s).
    fn sign_bt(&self, name: &str, tsa: &str, extra: &[&str]) -> (Option<i32>, String, String) {
        let input = self.input(name);
        let mut args = vec![
            "--key",
            "eseal.key",
            "--cert-chain",
            "eseal-chain.pem",
            "--level",
            "B-T",
            "--tsa",
            tsa,
        ];
        args.extend_from_slice(extra);
        args.push(&input);
        let (code, text) = self.sign(&args);
        (code, text, format!("{input}.p7s"))
    }

    fn verify(&self, sig: &str, content: &str) {
        common::assert_openssl_accepts_b_t(self.dir.path(), sig, content);
        let opts = inkan_verifier::Options {
            data: inkan_verifier::Data::File(content.into()),
            trust: vec![self.pki.root_pem().into_bytes()],
            crls: vec![self.pki.crl_der.clone()],
            ocsps: Vec::new(),
            revocation_required: true,
            ..Default::default()
        };
        let input = inkan_verifier::Input {
            bytes: std::fs::read(sig).unwrap(),
        };
        let report = inkan_verifier::verify(&input, &opts, SystemClock.now().unwrap()).unwrap();
        assert_eq!(
            report.indication,
            inkan_verifier::report::Indication::TotalPassed,
            "{report:?}"
        );
    }
}

#[test]
fn https_tsa_server_certificate_checks() {
    let env = Env::new();
    let good = env.front("server", Gate::Open);
    let ca = env.p("server-ca.pem");

    // B-T through https, the front's CA given with --tsa-ca: verified by openssl and inkan.
    let (code, text, p7s) = env.sign_bt("a.txt", &good, &["--tsa-ca", &ca]);
    assert_eq!(code, Some(0), "{text}");
    env.verify(&p7s, &env.p("a.txt"));
    // The DNS name in the certificate works as well as the IP address.
    let by_name = good.replace("127.0.0.1", "localhost");
    let (code, text, p7s) = env.sign_bt("b.txt", &by_name, &["--tsa-ca", &ca]);
    assert_eq!(code, Some(0), "{text}");
    env.verify(&p7s, &env.p("b.txt"));

    // extend B-B -> B-T through https.
    env.extend_bt_verified("c.txt", &good, &["--tsa-ca", &ca]);

    // Without --tsa-ca the system store is used, and it does not hold the test CA.
    let (code, text, p7s) = env.sign_bt("d.txt", &good, &[]);
    assert_failed(code, 69, &text, &p7s, "certificate is not trusted");
    assert!(text.contains("among the system trust store"), "{text}");
    // The wrong CA given.
    let (code, text, p7s) = env.sign_bt("e.txt", &good, &["--tsa-ca", &env.p("other-ca.pem")]);
    assert_failed(code, 69, &text, &p7s, "certificate is not trusted");
    assert!(text.contains("other-ca.pem"), "{text}");
    // A server whose certificate another CA issued.
    let stranger = env.front("stranger", Gate::Open);
    let (code, text, p7s) = env.sign_bt("f.txt", &stranger, &["--tsa-ca", &ca]);
    assert_failed(code, 69, &text, &p7s, "certificate is not trusted");
    // A trusted certificate for another host name.
    let misnamed = env.front("misnamed", Gate::Open);
    let (code, text, p7s) = env.sign_bt("g.txt", &misnamed, &["--tsa-ca", &ca]);
    assert_failed(code, 69, &text, &p7s, "not valid for this host name");
    // extend fails the same way and leaves the signature as it was.
    let before = std::fs::read(env.p("c.txt.p7s")).unwrap();
    let (code, text) = env.sign(&[
        "extend",
        "--level",
        "B-LTA",
        "--tsa",
        &misnamed,
        "--tsa-ca",
        &ca,
        "--crl",
        "crl.der",
        "--no-fetch",
        "--data",
        "c.txt",
        "c.txt.p7s",
    ]);
    assert_eq!(code, Some(69), "{text}");
    assert!(text.contains("not valid for this host name"), "{text}");
    assert_eq!(std::fs::read(env.p("c.txt.p7s")).unwrap(), before);
    // A CA file that is not PEM stops the run before anything is signed (exit 66).
    let (code, text, p7s) = env.sign_bt("h.txt", &good, &["--tsa-ca", &env.p("h.txt")]);
    assert_eq!(code, Some(66), "{text}");
    assert!(text.contains("no -----BEGIN CERTIFICATE-----"), "{text}");
    assert!(!Path::new(&p7s).exists());
}

#[test]
fn https_tsa_basic_authentication() {
    let env = Env::new();
    let url = env.front("server", Gate::Basic("alice", PASSWORD));
    let ca = env.p("server-ca.pem");
    let tls = ["--tsa-ca", ca.as_str()];

    // No credentials: the TSA's 401 is explained.
    let (code, text, p7s) = env.sign_bt("a.txt", &url, &tls);
    assert_failed(code, 77, &text, &p7s, "requires authentication (HTTP 401");
    assert!(text.contains("Basic realm"), "{text}");

    // The right password: signed, and the result verifies.
    // Basic authentication as alice with the password in the environment variable `var`.
    let basic = |var| {
        [
            "--tsa-ca",
            &ca,
            "--tsa-user",
            "alice",
            "--tsa-password-env",
            var,
        ]
    };
    let right = basic(PASSWORD_VAR);
    let (code, text, p7s) = env.sign_bt("b.txt", &url, &right);
    assert_eq!(code, Some(0), "{text}");
    env.verify(&p7s, &env.p("b.txt"));

    // The same for extend.
    env.extend_bt_verified("c.txt", &url, &right);

    // A wrong password: refused, clearly, and neither password is shown (checked in `sign`).
    let wrong = basic("WRONG_PASSWORD");
    let (code, text, p7s) = env.sign_bt("d.txt", &url, &wrong);
    assert_failed(code, 77, &text, &p7s, "refused the credentials (HTTP 401)");

    // The variable named is not set: stops before signing (usage, 64), naming the variable.
    let unset = basic("INKAN_TEST_NOT_SET");
    let (code, text, _) = env.sign_bt("e.txt", &url, &unset);
    assert_eq!(code, Some(64), "{text}");
    assert!(
        text.contains("INKAN_TEST_NOT_SET") && text.contains("not set"),
        "{text}"
    );

    // Basic over plain http to a host that is not loopback: refused before connecting.
    let (code, text, _) = env.sign_bt(
        "f.txt",
        "http://192.0.2.1/",
        &["--tsa-user", "alice", "--tsa-password-env", PASSWORD_VAR],
    );
    assert_eq!(code, Some(64), "{text}");
    assert!(text.contains("over https:// only"), "{text}");

    // A password given on the command line is refused and not echoed.
    let (code, text, _) = env.sign_bt("g.txt", &url, &["--tsa-password", PASSWORD]);
    assert_eq!(code, Some(64), "{text}");
    assert!(text.contains("--tsa-password-env"), "{text}");
}

#[test]
fn https_tsa_client_certificate() {
    let env = Env::new();
    let url = env.front(
        "server",
        Gate::ClientCert(env.dir.path().join("client-ca.pem")),
    );
    let ca = env.p("server-ca.pem");

    // A TLS client certificate and its key (files in the directory).
    let client = |cert, key| {
        [
            "--tsa-ca",
            &ca,
            "--tsa-client-cert",
            cert,
            "--tsa-client-key",
            key,
        ]
    };
    let with_cert = client("client.pem", "client.key");
    let (code, text, p7s) = env.sign_bt("a.txt", &url, &with_cert);
    assert_eq!(code, Some(0), "{text}");
    env.verify(&p7s, &env.p("a.txt"));

    // extend with the client certificate.
    env.extend_bt_verified("b.txt", &url, &with_cert);

    // Without a client certificate.
    let (code, text, p7s) = env.sign_bt("c.txt", &url, &["--tsa-ca", &ca]);
    assert_failed(code, 69, &text, &p7s, "requires a TLS client certificate");

    // A client certificate from a CA the server does not accept.
    let rogue = client("rogue-client.pem", "rogue-client.key");
    let (code, text, p7s) = env.sign_bt("d.txt", &url, &rogue);
    assert_failed(code, 69, &text, &p7s, "refused our TLS client certificate");

    // A key that does not match the certificate stops the run before signing (exit 66).
    let mismatched = client("client.pem", "rogue-client.key");
    let (code, text, _) = env.sign_bt("e.txt", &url, &mismatched);
    assert_eq!(code, Some(66), "{text}");
    assert!(text.contains("not usable together"), "{text}");
    assert!(!text.contains("BEGIN PRIVATE KEY"), "{text}");

    // A client certificate over plain http is a usage error.
    let (code, text, _) = env.sign_bt(
        "f.txt",
        &format!("http://{}/", env.tsa.addr),
        &[
            "--tsa-client-cert",
            "client.pem",
            "--tsa-client-key",
            "client.key",
        ],
    );
    assert_eq!(code, Some(64), "{text}");
    assert!(text.contains("needs an https:// TSA URL"), "{text}");
}

/// A CRL distribution point reached over https (the signer's CRL fetch shares the TLS client):
/// an e-seal certificate made by openssl names `https://127.0.0.1:PORT/ca.crl`; B-LT fetches
/// that CRL through the TLS front, trusting the "system" store, which `SSL_CERT_FILE` points at
/// the test server CA for the child process; the B-T token comes through the same front.
#[test]
fn crl_distribution_point_over_https() {
    let env = Env::new();
    let d = env.dir.path();
    make_ca(d, "eseal-ca");
    let crl = Bytes::from(make_empty_crl(d, "eseal-ca"));
    let (addr, _) = start_front(
        &env.tsa.rt,
        d,
        "server",
        Gate::Open,
        env.tsa.addr,
        Some(crl),
    );
    // The e-seal chain ends with the root of the TSA's certificate, for its B-LT path.
    make_eseal_with_crl_dp(d, "eseal2", &format!("https://{addr}/ca.crl"));
    let input = env.input("doc.txt");
    let url = format!("https://{addr}/");
    let run = |extra: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_inkan-sign"));
        c.args([
            "--key",
            "eseal2.key",
            "--cert-chain",
            "eseal2-chain.pem",
            "--level",
            "B-LT",
            "--tsa",
            &url,
            "--crl",
            "crl.der",
            &input,
        ])
        .current_dir(d)
        .env_remove("SSL_CERT_DIR");
        for (k, v) in extra {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // A system store without the test server CA.
    let other = env.p("other-ca.pem");
    let (code, text) = run(&[("SSL_CERT_FILE", other.as_str())]);
    assert_eq!(code, Some(69), "{text}");
    assert!(text.contains("not trusted"), "{text}");
    // With the "system" store holding the test server CA: token and CRL both over https.
    let ca = env.p("server-ca.pem");
    let (code, text) = run(&[("SSL_CERT_FILE", ca.as_str())]);
    assert_eq!(code, Some(0), "{text}");
    let p7s = format!("{input}.p7s");
    let der = std::fs::read(&p7s).unwrap();
    let fetched = std::fs::read(d.join("eseal-ca.crl")).unwrap();
    assert!(
        der.windows(fetched.len()).any(|w| w == fetched.as_slice()),
        "the CRL fetched over https is embedded"
    );
    common::assert_openssl_cms_verify(d, &p7s, &input, "eseal-ca.pem");
    let opts = inkan_verifier::Options {
        data: inkan_verifier::Data::File(input.clone().into()),
        trust: vec![
            std::fs::read(d.join("eseal-ca.pem")).unwrap(),
            env.pki.root_pem().into_bytes(),
        ],
        crls: Vec::new(),
        ocsps: Vec::new(),
        revocation_required: true,
        ..Default::default()
    };
    let report = inkan_verifier::verify(
        &inkan_verifier::Input { bytes: der },
        &opts,
        SystemClock.now().unwrap(),
    )
    .unwrap();
    assert_eq!(
        report.indication,
        inkan_verifier::report::Indication::TotalPassed,
        "{report:?}"
    );
}

/// TLS 1.2 works (a front that speaks only TLS 1.2); TLS 1.1 is refused with a clear message
/// (`openssl s_server -tls1_1` as the peer).
#[test]
fn tls_versions() {
    let env = Env::new();
    let ca = env.p("server-ca.pem");
    let tls12 = env.front("server", Gate::Tls12Only);
    let (code, text, p7s) = env.sign_bt("a.txt", &tls12, &["--tsa-ca", &ca]);
    assert_eq!(code, Some(0), "{text}");
    env.verify(&p7s, &env.p("a.txt"));

    let mut server = Command::new("openssl")
        .args([
            "s_server",
            "-accept",
            "127.0.0.1:0",
            "-cert",
            "server.pem",
            "-key",
            "server.key",
            "-tls1_1",
            "-cipher",
            "DEFAULT@SECLEVEL=0",
            "-www",
        ])
        .current_dir(env.dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The reader stays open until the server is stopped (no SIGPIPE on its log lines).
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(server.stdout.take().unwrap()));
    let port = loop {
        let line = lines
            .next()
            .expect("openssl s_server says where it listens")
            .unwrap();
        if let Some(a) = line.strip_prefix("ACCEPT ") {
            break a.rsplit(':').next().unwrap().parse::<u16>().unwrap();
        }
    };
    let url = format!("https://127.0.0.1:{port}/");
    let (code, text, p7s) = env.sign_bt("b.txt", &url, &["--tsa-ca", &ca]);
    let _ = server.kill();
    let _ = server.wait();
    drop(lines);
    assert_failed(code, 69, &text, &p7s, "shares no TLS version (1.2, 1.3)");
}

/// A batch at B-T through an https TSA with Basic authentication: every file is signed, and
/// the connections are reused (far fewer TLS handshakes than tokens).
#[test]
fn batch_over_https_reuses_connections() {
    let env = Env::new();
    let (addr, handshakes) = start_front(
        &env.tsa.rt,
        env.dir.path(),
        "server",
        Gate::Basic("alice", PASSWORD),
        env.tsa.addr,
        None,
    );
    let url = format!("https://{addr}/");
    let ca = env.p("server-ca.pem");
    const FILES: usize = 60;
    let inputs: Vec<String> = (0..FILES)
        .map(|i| env.input(&format!("f{i}.txt")))
        .collect();
    let mut args = vec![
        "--key",
        "eseal.key",
        "--cert-chain",
        "eseal-chain.pem",
        "--level",
        "B-T",
        "--tsa",
        &url,
        "--tsa-ca",
        &ca,
        "--tsa-user",
        "alice",
        "--tsa-password-env",
        PASSWORD_VAR,
    ];
    args.extend(inputs.iter().map(String::as_str));
    let (code, text) = env.sign(&args);
    assert_eq!(code, Some(0), "{text}");
    for i in [0, FILES / 2, FILES - 1] {
        env.verify(&format!("{}.p7s", inputs[i]), &inputs[i]);
    }
    let n = handshakes.load(Ordering::Relaxed);
    let workers = inkan_signer::sign::default_workers(inkan_signer::cades::Level::BT);
    eprintln!("{n} TLS handshakes for {FILES} tokens ({workers} workers)");
    assert!(
        n >= 1 && n <= 2 * workers && n < FILES,
        "{n} TLS handshakes for {FILES} tokens with {workers} workers"
    );
}
