//! The TSA client over https with client authentication, against real parts: a real `inkan-tsa`
//! on 127.0.0.1:0 behind a real TLS-terminating front (tokio-rustls acceptor and hyper, in this
//! test) on 127.0.0.1:0, with server and client certificates made by `openssl` for test CAs;
//! the `inkan-sign` binary as the operator runs it; `openssl cms -verify` and inkan-verifier as
//! judges of the result.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use inkan_hsm::devpki::{DevPki, KeyAlg};
use inkan_profiles::clock::{Clock, SystemClock};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

const PASSWORD: &str = "Tr0ub4dor&3-never-shown";
const PASSWORD_VAR: &str = "INKAN_TEST_TSA_PASSWORD";

fn openssl(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A CA made by openssl: `NAME.pem`, `NAME.key` in `dir`.
fn make_ca(dir: &Path, name: &str) {
    let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &pem,
            "-subj",
            &format!("/CN=inkan test {name}"),
            "-days",
            "2",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// An end-entity certificate `NAME.pem` with PKCS#8 key `NAME.key` issued by CA `ca`, with
/// extended key usage `eku` and, when given, subjectAltName `san`.
fn make_leaf(dir: &Path, ca: &str, name: &str, eku: &str, san: Option<&str>) {
    let (key, csr, pem, ext) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
        format!("{name}.ext"),
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &csr,
            "-subj",
            &format!("/CN=inkan test {name}"),
        ],
    );
    let mut e = format!(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         extendedKeyUsage={eku}\n"
    );
    if let Some(s) = san {
        e.push_str(&format!("subjectAltName={s}\n"));
    }
    std::fs::write(dir.join(&ext), e).unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &format!("{ca}.pem"),
            "-CAkey",
            &format!("{ca}.key"),
            "-set_serial",
            &format!("{}", std::process::id() + name.len() as u32),
            "-days",
            "2",
            "-extfile",
            &ext,
            "-out",
            &pem,
        ],
    );
    let text = std::fs::read_to_string(dir.join(&key)).unwrap();
    assert!(text.starts_with("-----BEGIN PRIVATE KEY-----"), "PKCS#8");
}

/// What the front asks of a client before it forwards to the TSA.
#[derive(Clone)]
enum Gate {
    /// Nothing.
    Open,
    /// Nothing, but the front speaks TLS 1.2 only.
    Tls12Only,
    /// HTTP Basic with this user and password (else 401).
    Basic(&'static str, &'static str),
    /// A TLS client certificate issued by the CA in this PEM file (else the handshake fails).
    ClientCert(PathBuf),
}

/// An https front on 127.0.0.1:0 that terminates TLS with `NAME.pem`/`NAME.key` and forwards
/// POSTs to the TSA at `backend` over plain HTTP; with `crl`, it answers `GET /ca.crl` with it.
fn start_front(
    rt: &tokio::runtime::Runtime,
    dir: &Path,
    name: &str,
    gate: Gate,
    backend: SocketAddr,
    crl: Option<Bytes>,
) -> (SocketAddr, Arc<AtomicUsize>) {
    let handshakes = Arc::new(AtomicUsize::new(0));
    let counter = handshakes.clone();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let certs = CertificateDer::pem_file_iter(dir.join(format!("{name}.pem")))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join(format!("{name}.key"))).unwrap();
    let versions: &[&rustls::SupportedProtocolVersion] = match gate {
        Gate::Tls12Only => &[&rustls::version::TLS12],
        _ => &[&rustls::version::TLS13, &rustls::version::TLS12],
    };
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .unwrap();
    let builder = match &gate {
        Gate::ClientCert(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            roots
                .add(CertificateDer::from_pem_file(ca).unwrap())
                .unwrap();
            let verifier =
                rustls::server::WebPkiClientVerifier::builder_with_provider(roots.into(), provider)
                    .build()
                    .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        _ => builder.with_no_client_auth(),
    };
    let config = builder.with_single_cert(certs, key).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let expected = match gate {
        Gate::Basic(u, p) => Some(format!("Basic {}", b64(format!("{u}:{p}").as_bytes()))),
        _ => None,
    };
    rt.spawn(async move {
        let handshakes = counter;
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let expected = expected.clone();
            let crl = crl.clone();
            let handshakes = handshakes.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                handshakes.fetch_add(1, Ordering::Relaxed);
                let svc = hyper::service::service_fn(move |req| {
                    forward(req, backend, expected.clone(), crl.clone())
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    (addr, handshakes)
}

async fn forward(
    req: Request<Incoming>,
    backend: SocketAddr,
    expected: Option<String>,
    crl: Option<Bytes>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    if req.method() == hyper::Method::GET {
        return Ok(match (req.uri().path(), crl) {
            ("/ca.crl", Some(c)) => Response::builder()
                .header(hyper::header::CONTENT_TYPE, "application/pkix-crl")
                .body(Full::new(c)),
            _ => Response::builder()
                .status(StatusCode::NOT_FOUND)
                .body(Full::new(Bytes::new())),
        }
        .unwrap());
    }
    if let Some(want) = expected {
        let got = req
            .headers()
            .get(hyper::header::AUTHORIZATION)
            .map(|v| v.as_bytes().to_vec());
        if got.as_deref() != Some(want.as_bytes()) {
            return Ok(Response::builder()
                .status(StatusCode::UNAUTHORIZED)
                .header("www-authenticate", "Basic realm=\"inkan test TSA\"")
                .body(Full::new(Bytes::from_static(b"authentication required")))
                .unwrap());
        }
    }
    let content_type = req.headers().get(hyper::header::CONTENT_TYPE).cloned();
    let body = req.into_body().collect().await?.to_bytes();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let mut fwd = Request::post(format!("http://{backend}/"))
        .body(Full::new(body))
        .unwrap();
    if let Some(ct) = content_type {
        fwd.headers_mut().insert(hyper::header::CONTENT_TYPE, ct);
    }
    let resp = client.request(fwd).await.unwrap();
    let status = resp.status();
    let ct = resp.headers().get(hyper::header::CONTENT_TYPE).cloned();
    let body = resp.into_body().collect().await?.to_bytes();
    let mut out = Response::builder().status(status);
    if let Some(ct) = ct {
        out = out.header(hyper::header::CONTENT_TYPE, ct);
    }
    Ok(out.body(Full::new(body)).unwrap())
}

/// Base64 written out here, independent of the client's own encoder.
fn b64(input: &[u8]) -> String {
    let a = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in input.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            s.push(if i <= c.len() {
                char::from(a[((n >> (18 - 6 * i)) & 63) as usize])
            } else {
                '='
            });
        }
    }
    s
}

struct Env {
    dir: tempfile::TempDir,
    pki: DevPki,
    rt: tokio::runtime::Runtime,
    tsa: SocketAddr,
    _running: inkan_tsa::app::Running,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let pki = DevPki::generate(SystemClock.now().unwrap(), KeyAlg::P256).unwrap();
        std::fs::write(d.join("eseal.key"), pki.eseal_key_pem.as_bytes()).unwrap();
        std::fs::write(d.join("tsa.key"), pki.tsa_key_pem.as_bytes()).unwrap();
        std::fs::write(d.join("eseal-chain.pem"), pki.eseal_chain_pem()).unwrap();
        std::fs::write(d.join("root.pem"), pki.root_pem()).unwrap();
        std::fs::write(d.join("tsa-chain.pem"), pki.tsa_chain_pem()).unwrap();
        std::fs::write(d.join("crl.der"), &pki.crl_der).unwrap();
        std::fs::create_dir(d.join("tsa-data")).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let toml = format!(
            "listen = \"127.0.0.1:0\"\nkey = \"{}\"\ncert_chain = \"{}\"\npolicy = \"1.2.3.4.1\"\ndata_dir = \"{}\"\naccuracy_ms = 500\n",
            d.join("tsa.key").display(),
            d.join("tsa-chain.pem").display(),
            d.join("tsa-data").display()
        );
        let file = inkan_tsa::config::FileConfig::parse(&toml).unwrap();
        let settings =
            inkan_tsa::config::resolve(file, &inkan_tsa::config::Overrides::default()).unwrap();
        let running = rt
            .block_on(inkan_tsa::app::start(settings, Arc::new(SystemClock)))
            .unwrap();
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
        Self {
            tsa: running.addr,
            dir,
            pki,
            rt,
            _running: running,
        }
    }

    fn p(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn front(&self, cert: &str, gate: Gate) -> String {
        let (addr, _) = start_front(&self.rt, self.dir.path(), cert, gate, self.tsa, None);
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
        let out = Command::new("openssl")
            .args([
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "DER",
                "-in",
                sig,
                "-content",
                content,
                "-CAfile",
                "root.pem",
                "-purpose",
                "any",
                "-out",
                "/dev/null",
            ])
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "openssl cms -verify {sig}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let opts = inkan_verifier::Options {
            data: inkan_verifier::Data::File(content.into()),
            trust: vec![self.pki.root_pem().into_bytes()],
            crls: vec![self.pki.crl_der.clone()],
            ocsps: Vec::new(),
            revocation_required: true,
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
        let der = std::fs::read(sig).unwrap();
        let sd = inkan_signer::cms_raw::RawSignedData::parse(&der).unwrap();
        assert!(
            sd.signer_infos[0]
                .unsigned_attrs
                .iter()
                .any(|a| a.oid.to_string() == "1.2.840.113549.1.9.16.2.14"),
            "a signature-time-stamp is embedded"
        );
    }
}

fn assert_failed(code: Option<i32>, text: &str, p7s: &str, needle: &str) {
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains(needle), "expected {needle:?} in: {text}");
    assert!(!Path::new(p7s).exists(), "nothing written on failure");
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
    let input = env.input("c.txt");
    let (code, text) = env.sign(&[
        "--key",
        "eseal.key",
        "--cert-chain",
        "eseal-chain.pem",
        &input,
    ]);
    assert_eq!(code, Some(0), "{text}");
    let p7s = format!("{input}.p7s");
    let (code, text) = env.sign(&[
        "extend", "--level", "B-T", "--tsa", &good, "--tsa-ca", &ca, &p7s,
    ]);
    assert_eq!(code, Some(0), "{text}");
    env.verify(&p7s, &input);

    // Without --tsa-ca the system store is used, and it does not hold the test CA.
    let (code, text, p7s) = env.sign_bt("d.txt", &good, &[]);
    assert_failed(code, &text, &p7s, "certificate is not trusted");
    assert!(text.contains("among the system trust store"), "{text}");
    // The wrong CA given.
    let (code, text, p7s) = env.sign_bt("e.txt", &good, &["--tsa-ca", &env.p("other-ca.pem")]);
    assert_failed(code, &text, &p7s, "certificate is not trusted");
    assert!(text.contains("other-ca.pem"), "{text}");
    // A server whose certificate another CA issued.
    let stranger = env.front("stranger", Gate::Open);
    let (code, text, p7s) = env.sign_bt("f.txt", &stranger, &["--tsa-ca", &ca]);
    assert_failed(code, &text, &p7s, "certificate is not trusted");
    // A trusted certificate for another host name.
    let misnamed = env.front("misnamed", Gate::Open);
    let (code, text, p7s) = env.sign_bt("g.txt", &misnamed, &["--tsa-ca", &ca]);
    assert_failed(code, &text, &p7s, "not valid for this host name");
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
    assert_eq!(code, Some(1), "{text}");
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
    assert_failed(code, &text, &p7s, "requires authentication (HTTP 401");
    assert!(text.contains("Basic realm"), "{text}");

    // The right password: signed, and the result verifies.
    let right = [
        "--tsa-ca",
        &ca,
        "--tsa-user",
        "alice",
        "--tsa-password-env",
        PASSWORD_VAR,
    ];
    let (code, text, p7s) = env.sign_bt("b.txt", &url, &right);
    assert_eq!(code, Some(0), "{text}");
    env.verify(&p7s, &env.p("b.txt"));

    // The same for extend.
    let input = env.input("c.txt");
    let (code, text) = env.sign(&[
        "--key",
        "eseal.key",
        "--cert-chain",
        "eseal-chain.pem",
        &input,
    ]);
    assert_eq!(code, Some(0), "{text}");
    let p7s = format!("{input}.p7s");
    let mut args = vec!["extend", "--level", "B-T", "--tsa", &url];
    args.extend_from_slice(&right);
    args.push(&p7s);
    let (code, text) = env.sign(&args);
    assert_eq!(code, Some(0), "{text}");
    env.verify(&p7s, &input);

    // A wrong password: refused, clearly, and neither password is shown (checked in `sign`).
    let wrong = [
        "--tsa-ca",
        &ca,
        "--tsa-user",
        "alice",
        "--tsa-password-env",
        "WRONG_PASSWORD",
    ];
    let (code, text, p7s) = env.sign_bt("d.txt", &url, &wrong);
    assert_failed(code, &text, &p7s, "refused the credentials (HTTP 401)");

    // The variable named is not set: stops before signing (usage, 64), naming the variable.
    let unset = [
        "--tsa-ca",
        &ca,
        "--tsa-user",
        "alice",
        "--tsa-password-env",
        "INKAN_TEST_NOT_SET",
    ];
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

    let with_cert = [
        "--tsa-ca",
        &ca,
        "--tsa-client-cert",
        "client.pem",
        "--tsa-client-key",
        "client.key",
    ];
    let (code, text, p7s) = env.sign_bt("a.txt", &url, &with_cert);
    assert_eq!(code, Some(0), "{text}");
    env.verify(&p7s, &env.p("a.txt"));

    // extend with the client certificate.
    let input = env.input("b.txt");
    let (code, text) = env.sign(&[
        "--key",
        "eseal.key",
        "--cert-chain",
        "eseal-chain.pem",
        &input,
    ]);
    assert_eq!(code, Some(0), "{text}");
    let p7s = format!("{input}.p7s");
    let mut args = vec!["extend", "--level", "B-T", "--tsa", &url];
    args.extend_from_slice(&with_cert);
    args.push(&p7s);
    let (code, text) = env.sign(&args);
    assert_eq!(code, Some(0), "{text}");
    env.verify(&p7s, &input);

    // Without a client certificate.
    let (code, text, p7s) = env.sign_bt("c.txt", &url, &["--tsa-ca", &ca]);
    assert_failed(code, &text, &p7s, "requires a TLS client certificate");

    // A client certificate from a CA the server does not accept.
    let rogue = [
        "--tsa-ca",
        &ca,
        "--tsa-client-cert",
        "rogue-client.pem",
        "--tsa-client-key",
        "rogue-client.key",
    ];
    let (code, text, p7s) = env.sign_bt("d.txt", &url, &rogue);
    assert_failed(code, &text, &p7s, "refused our TLS client certificate");

    // A key that does not match the certificate stops the run before signing (exit 66).
    let mismatched = [
        "--tsa-ca",
        &ca,
        "--tsa-client-cert",
        "client.pem",
        "--tsa-client-key",
        "rogue-client.key",
    ];
    let (code, text, _) = env.sign_bt("e.txt", &url, &mismatched);
    assert_eq!(code, Some(66), "{text}");
    assert!(text.contains("not usable together"), "{text}");
    assert!(!text.contains("BEGIN PRIVATE KEY"), "{text}");

    // A client certificate over plain http is a usage error.
    let (code, text, _) = env.sign_bt(
        "f.txt",
        &format!("http://{}/", env.tsa),
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
    std::fs::write(
        d.join("ca.cnf"),
        "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\ncrlnumber = crlnumber\n\
         default_md = sha256\ndefault_crl_days = 2\n",
    )
    .unwrap();
    std::fs::write(d.join("index.txt"), "").unwrap();
    std::fs::write(d.join("crlnumber"), "01\n").unwrap();
    openssl(
        d,
        &[
            "ca",
            "-gencrl",
            "-config",
            "ca.cnf",
            "-keyfile",
            "eseal-ca.key",
            "-cert",
            "eseal-ca.pem",
            "-out",
            "eseal-ca.crl.pem",
        ],
    );
    openssl(
        d,
        &[
            "crl",
            "-in",
            "eseal-ca.crl.pem",
            "-outform",
            "DER",
            "-out",
            "eseal-ca.crl",
        ],
    );
    let crl = Bytes::from(std::fs::read(d.join("eseal-ca.crl")).unwrap());
    let (addr, _) = start_front(&env.rt, d, "server", Gate::Open, env.tsa, Some(crl));
    make_leaf(
        d,
        "eseal-ca",
        "eseal2",
        "emailProtection",
        Some(&format!(
            "email:seal@example.jp\ncrlDistributionPoints=URI:https://{addr}/ca.crl"
        )),
    );
    // The e-seal chain, and the root of the TSA's certificate for its B-LT path.
    let chain = format!(
        "{}{}{}",
        std::fs::read_to_string(d.join("eseal2.pem")).unwrap(),
        std::fs::read_to_string(d.join("eseal-ca.pem")).unwrap(),
        env.pki.root_pem()
    );
    std::fs::write(d.join("eseal2-chain.pem"), chain).unwrap();
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
    assert_eq!(code, Some(1), "{text}");
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
    let out = Command::new("openssl")
        .args([
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            &p7s,
            "-content",
            &input,
            "-CAfile",
            "eseal-ca.pem",
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let opts = inkan_verifier::Options {
        data: inkan_verifier::Data::File(input.clone().into()),
        trust: vec![
            std::fs::read(d.join("eseal-ca.pem")).unwrap(),
            env.pki.root_pem().into_bytes(),
        ],
        crls: Vec::new(),
        ocsps: Vec::new(),
        revocation_required: true,
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
    assert_failed(code, &text, &p7s, "shares no TLS version (1.2, 1.3)");
}

/// A batch at B-T through an https TSA with Basic authentication: every file is signed, and
/// the connections are reused (far fewer TLS handshakes than tokens).
#[test]
fn batch_over_https_reuses_connections() {
    let env = Env::new();
    let (addr, handshakes) = start_front(
        &env.rt,
        env.dir.path(),
        "server",
        Gate::Basic("alice", PASSWORD),
        env.tsa,
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
