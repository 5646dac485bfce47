//! Parts shared by the signer's end-to-end tests: OpenSSL as a tool, test CAs and TLS
//! certificates made by it, an in-process `inkan-tsa` on 127.0.0.1:0, a real TLS-terminating
//! front before it, and the checks every signed result gets.
//!
//! Each test file compiles this module on its own and uses only part of it, hence the
//! `dead_code` allowance (the usual shape of `tests/common/mod.rs`).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use inkan_hsm::devpki::DevPki;
use inkan_profiles::clock::SystemClock;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The development PKI's public files in `d` (`eseal-chain.pem`, `root.pem`, `tsa-chain.pem`,
/// `crl.der`) and the TSA's empty data directory `tsa-data`; the keys are the caller's.
pub fn write_pki_files(d: &Path, pki: &DevPki) {
    std::fs::write(d.join("eseal-chain.pem"), pki.eseal_chain_pem()).unwrap();
    std::fs::write(d.join("root.pem"), pki.root_pem()).unwrap();
    std::fs::write(d.join("tsa-chain.pem"), pki.tsa_chain_pem()).unwrap();
    std::fs::write(d.join("crl.der"), &pki.crl_der).unwrap();
    std::fs::create_dir(d.join("tsa-data")).unwrap();
}

/// A development PKI with `alg` keys in `d`: its e-seal and TSA keys (`eseal.key`, `tsa.key`)
/// and public files ([`write_pki_files`]); and its TSA, started.
pub fn dev_pki_with_tsa(d: &Path, alg: inkan_hsm::devpki::KeyAlg) -> (DevPki, TestTsa) {
    use inkan_profiles::clock::Clock as _;
    let pki = DevPki::generate(SystemClock.now().unwrap(), alg).unwrap();
    std::fs::write(d.join("eseal.key"), pki.eseal_key_pem.as_bytes()).unwrap();
    std::fs::write(d.join("tsa.key"), pki.tsa_key_pem.as_bytes()).unwrap();
    write_pki_files(d, &pki);
    let tsa = TestTsa::start(d);
    (pki, tsa)
}

/// A signing test's world: a temporary directory holding a development PKI's files (see
/// [`write_pki_files`]), the e-seal key reference and an in-process TSA of that PKI.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub pki: DevPki,
    pub keyref: String,
    pub tsa_url: String,
    pub _tsa: TestTsa,
}

impl Env {
    /// A development PKI (P-256 root and TSA) whose e-seal certificate certifies `eseal` (a
    /// software key made by openssl, or a key on a SoftHSM2 token), used through `keyref`.
    pub fn with_eseal(
        dir: tempfile::TempDir,
        eseal: &dyn inkan_hsm::SigningKey,
        keyref: String,
    ) -> Self {
        use inkan_hsm::devpki::{self, KeyAlg};
        use inkan_profiles::clock::Clock as _;
        let now = SystemClock.now().unwrap();
        let (_, root) = devpki::generate_key(KeyAlg::P256).unwrap();
        let (tsa_pem, tsa) = devpki::generate_key(KeyAlg::P256).unwrap();
        let pki = DevPki::with_keys(
            &devpki::DevPkiOptions::new(now, KeyAlg::P256),
            &*root,
            None,
            &*tsa,
            eseal,
        )
        .unwrap();
        std::fs::write(dir.path().join("tsa.key"), tsa_pem.as_bytes()).unwrap();
        Self::build(dir, pki, keyref)
    }

    /// Writes the files of `pki` (its TSA key already in `dir`) and starts its TSA.
    pub fn build(dir: tempfile::TempDir, pki: DevPki, keyref: String) -> Self {
        let d = dir.path();
        write_pki_files(d, &pki);
        let tsa = TestTsa::start(d);
        let tsa_url = tsa.url();
        Self {
            dir,
            pki,
            keyref,
            tsa_url,
            _tsa: tsa,
        }
    }

    /// The path of `name` in the directory.
    pub fn p(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `inkan-verify` (the library) must give TOTAL-PASSED for `sig` over `content` (none:
    /// attached) against this PKI's root and CRL, with revocation information required or not.
    pub fn inkan_verify(&self, sig: &Path, content: Option<&Path>, revocation_required: bool) {
        use inkan_profiles::clock::Clock as _;
        let input = inkan_verifier::Input {
            bytes: std::fs::read(sig).unwrap(),
        };
        let opts = inkan_verifier::Options {
            data: match content {
                Some(c) => inkan_verifier::Data::File(c.to_owned()),
                None => inkan_verifier::Data::None,
            },
            trust: vec![self.pki.root_pem().into_bytes()],
            crls: vec![self.pki.crl_der.clone()],
            ocsps: Vec::new(),
            revocation_required,
            ..Default::default()
        };
        let report = inkan_verifier::verify(&input, &opts, SystemClock.now().unwrap()).unwrap();
        assert_eq!(
            report.indication,
            inkan_verifier::report::Indication::TotalPassed,
            "inkan-verify on {}: {report:?}",
            sig.display()
        );
    }
}

/// An `inkan-tsa` running in this process on 127.0.0.1:0.
pub struct TestTsa {
    /// Where it listens.
    pub addr: SocketAddr,
    // Dropped before the runtime it runs on.
    _running: inkan_tsa::app::Running,
    /// Its runtime, free for the test's own servers.
    pub rt: tokio::runtime::Runtime,
}

impl TestTsa {
    /// Starts a TSA with `d/tsa.key`, `d/tsa-chain.pem` and data in `d/tsa-data` (see
    /// [`write_pki_files`]).
    pub fn start(d: &Path) -> Self {
        // inkan-tsa refuses a key file others can read (outside --dev): owner-only.
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(d.join("tsa.key"), std::fs::Permissions::from_mode(0o600))
                .unwrap();
        }
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
        Self {
            addr: running.addr,
            _running: running,
            rt,
        }
    }

    /// The TSA's URL.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

/// A signing stopped by a TSA problem: exit status 69 (the TSA or the proxy unavailable or
/// unusable) or 77 (the TSA refused our credentials), as `status` says, `needle` in the
/// output, and no `p7s` written.
pub fn assert_failed(code: Option<i32>, status: i32, text: &str, p7s: &str, needle: &str) {
    assert_eq!(code, Some(status), "{text}");
    assert!(text.contains(needle), "expected {needle:?} in: {text}");
    assert!(!Path::new(p7s).exists(), "nothing written on failure");
}

/// `openssl cms -verify` (run in `dir`, trusting `ca`, a file in `dir`) accepts the detached
/// signature `sig` over `content`.
pub use inkan_test_support::openssl_cms_verify as assert_openssl_cms_verify;

/// `openssl cms -verify` (run in `dir`, trusting `dir/root.pem`) accepts the detached signature
/// `sig` over `content`, and the signature carries a signature-time-stamp.
pub fn assert_openssl_accepts_b_t(dir: &Path, sig: &str, content: &str) {
    assert_openssl_cms_verify(dir, sig, content, "root.pem");
    let der = std::fs::read(sig).unwrap();
    let sd = inkan_profiles::asn1::cms::RawSignedData::parse(&der).unwrap();
    assert!(
        sd.signer_infos[0]
            .unsigned_attrs
            .iter()
            .any(|a| a.oid.to_string() == "1.2.840.113549.1.9.16.2.14"),
        "a signature-time-stamp is embedded"
    );
}

#[allow(unused_imports)] // Not every test binary that includes this module uses it.
pub use inkan_test_support::{openssl_ok, openssl_p256_ca, openssl_p256_req};

/// A CA made by openssl: `NAME.pem`, `NAME.key` in `dir`.
pub fn make_ca(dir: &Path, name: &str) {
    let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
    openssl_p256_ca(dir, &key, &pem, &format!("/CN=inkan test {name}"));
}

/// An empty CRL of CA `ca` (made by [`make_ca`]), valid two days, written as `CA.crl.pem`
/// and `CA.crl` (DER) in `dir`; returns the DER.
pub fn make_empty_crl(dir: &Path, ca: &str) -> Vec<u8> {
    std::fs::write(
        dir.join("ca.cnf"),
        "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\ncrlnumber = crlnumber\n\
         default_md = sha256\ndefault_crl_days = 2\n",
    )
    .unwrap();
    std::fs::write(dir.join("index.txt"), "").unwrap();
    std::fs::write(dir.join("crlnumber"), "01\n").unwrap();
    let (key, pem, crl_pem, crl) = (
        format!("{ca}.key"),
        format!("{ca}.pem"),
        format!("{ca}.crl.pem"),
        format!("{ca}.crl"),
    );
    openssl_ok(
        dir,
        &[
            "ca", "-gencrl", "-config", "ca.cnf", "-keyfile", &key, "-cert", &pem, "-out", &crl_pem,
        ],
    );
    openssl_ok(
        dir,
        &["crl", "-in", &crl_pem, "-outform", "DER", "-out", &crl],
    );
    std::fs::read(dir.join(&crl)).unwrap()
}

/// An end-entity certificate `NAME.pem` with PKCS#8 key `NAME.key` issued by CA `ca`, with
/// extended key usage `eku` and, when given, subjectAltName `san`.
pub fn make_leaf(dir: &Path, ca: &str, name: &str, eku: &str, san: Option<&str>) {
    let (key, csr, pem, ext) = (
        format!("{name}.key"),
        format!("{name}.csr"),
        format!("{name}.pem"),
        format!("{name}.ext"),
    );
    openssl_p256_req(dir, &key, &csr, &format!("/CN=inkan test {name}"), &[]);
    let mut e = format!(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         extendedKeyUsage={eku}\n"
    );
    if let Some(s) = san {
        e.push_str(&format!("subjectAltName={s}\n"));
    }
    std::fs::write(dir.join(&ext), e).unwrap();
    openssl_ok(
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

/// An e-seal `NAME.pem` (key `NAME.key`) issued by the CA `eseal-ca` (made by [`make_ca`])
/// whose certificate names the CRL distribution point `crl_url` (RFC 5280 §4.2.1.13), and its
/// chain `NAME-chain.pem`: the e-seal, `eseal-ca.pem`, then `root.pem` (the root of the TSA's
/// certificate, for a B-LT path; see [`write_pki_files`]).
pub fn make_eseal_with_crl_dp(dir: &Path, name: &str, crl_url: &str) {
    let san = format!("email:seal@example.jp\ncrlDistributionPoints=URI:{crl_url}");
    make_leaf(dir, "eseal-ca", name, "emailProtection", Some(&san));
    let chain: String = [
        format!("{name}.pem"),
        "eseal-ca.pem".into(),
        "root.pem".into(),
    ]
    .iter()
    .map(|f| std::fs::read_to_string(dir.join(f)).unwrap())
    .collect();
    std::fs::write(dir.join(format!("{name}-chain.pem")), chain).unwrap();
}

/// What the front asks of a client before it forwards to the TSA.
#[derive(Clone)]
pub enum Gate {
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
pub fn start_front(
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

pub async fn forward(
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
pub fn b64(input: &[u8]) -> String {
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
