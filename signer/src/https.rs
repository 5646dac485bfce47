//! HTTP and HTTPS transport for the signer's requests (RFC 3161 TSAs, CRL distribution points):
//! a hyper-util connector that opens TCP through hyper-util's `HttpConnector` and, for
//! `https://` URLs, runs TLS over it with tokio-rustls.
//!
//! # Choices
//! - **rustls on the `ring` provider.** `ring` is already in the tree (inkan-hsm, the signer's
//!   hashing); rustls and tokio-rustls are built with default features off so that aws-lc-rs
//!   (a C/assembly build) is never pulled. Protocol versions: TLS 1.3 and TLS 1.2, nothing
//!   older (rustls implements nothing older).
//! - **Our own connector over tokio-rustls rather than hyper-rustls.** hyper-rustls is a wrapper
//!   around the same tokio-rustls: using it would add one more crate (hyper-rustls itself) for
//!   about a hundred lines that are here, and this way the choices that matter are visible in one
//!   place (which roots, which versions, ALPN `http/1.1` only, TLS only where the URL says
//!   `https`). New crates: rustls, rustls-webpki, rustls-pki-types, tokio-rustls,
//!   rustls-native-certs, openssl-probe (tower-service was already in the tree).
//! - **Trust anchors.** Either the system store, read by rustls-native-certs (`SSL_CERT_FILE` /
//!   `SSL_CERT_DIR` when set, else the OpenSSL locations such as `/etc/ssl/certs`), or, with a
//!   PEM file of CA certificates (`--tsa-ca`), those CAs only, instead of the system store.
//! - **Always verified.** The server certificate is checked by rustls-webpki against the trust
//!   anchors and against the host of the URL (DNS name or IP address in subjectAltName). There is
//!   no switch to turn either check off.
//! - **Client certificate.** A certificate chain (PEM) and its PKCS#8 private key (PEM); rustls
//!   checks that the key matches the certificate when the settings are loaded. The key's bytes
//!   stay inside rustls and never reach an error message.
//! - **Not done.** The revocation status of the server's TLS certificate is not checked (no
//!   CRLs given to rustls-webpki, no OCSP stapling): TLS protects the credentials and the
//!   channel, while the time-stamp token itself is checked in full on receipt ([`crate::tst`])
//!   and its certificate's revocation data is embedded from B-LT up. Redirects are not
//!   followed.
//! - **Proxies** ([`crate::proxy`] says which URL goes through which): an `http://` target is
//!   asked through the proxy's TCP connection, and hyper-util, told the connection is proxied,
//!   writes the request in absolute form; an `https://` target gets a `CONNECT host:port`
//!   tunnel through the proxy, and the TLS handshake then runs over the tunnel exactly as over
//!   a direct connection (same trust anchors, same host name check; the proxy relays
//!   ciphertext). The proxy's `407` and a proxy that cannot be reached are [`ProxyFailure`]s
//!   that name the proxy as `http://host:port`, never its credentials.

use std::future::Future;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::Uri;

use crate::error::TlsSettingsError;
use crate::proxy::{Proxies, Proxy};
use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Largest PEM file read for trust anchors or a client certificate.
const MAX_PEM: u64 = 4 * 1024 * 1024;

/// Where the trust anchors for server certificates come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Roots<'a> {
    /// The system trust store.
    System,
    /// Only the CA certificates in this PEM file.
    Pem(&'a Path),
}

/// A client certificate (PEM, leaf first, then any intermediates) and its PKCS#8 key (PEM).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientCert<'a> {
    /// The certificate chain file.
    pub cert: &'a Path,
    /// The private key file (PKCS#8, `-----BEGIN PRIVATE KEY-----`).
    pub key: &'a Path,
}

fn read_pem(path: &Path, what: &'static str) -> Result<Vec<u8>, TlsSettingsError> {
    use std::io::Read as _;
    let unreadable = |e: io::Error| TlsSettingsError::Unreadable {
        what,
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let f = std::fs::File::open(path).map_err(unreadable)?;
    let mut b = Vec::new();
    f.take(MAX_PEM + 1)
        .read_to_end(&mut b)
        .map_err(unreadable)?;
    if b.len() as u64 > MAX_PEM {
        return Err(TlsSettingsError::TooLarge {
            what,
            path: path.to_owned(),
            limit: MAX_PEM,
        });
    }
    Ok(b)
}

fn certificates(
    pem: &[u8],
    path: &Path,
    what: &'static str,
) -> Result<Vec<CertificateDer<'static>>, TlsSettingsError> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsSettingsError::NotPem {
            what,
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsSettingsError::NoCertificate {
            what,
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// The system trust store, read once per process.
fn system_roots() -> Result<Arc<rustls::RootCertStore>, TlsSettingsError> {
    static ROOTS: OnceLock<Result<Arc<rustls::RootCertStore>, TlsSettingsError>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let found = rustls_native_certs::load_native_certs();
            let mut store = rustls::RootCertStore::empty();
            let (added, _ignored) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(TlsSettingsError::NoSystemRoots {
                    first_error: found.errors.first().map(ToString::to_string),
                });
            }
            Ok(Arc::new(store))
        })
        .clone()
}

/// TLS client settings, with words for the trust anchors they use (said in errors).
#[derive(Clone, Debug)]
pub struct Tls {
    /// The rustls settings.
    pub config: Arc<ClientConfig>,
    /// "the system trust store" or "the CAs in FILE".
    pub anchors: String,
}

/// The TLS client settings: the trust anchors, optionally a client certificate; TLS 1.3 and
/// 1.2 on the ring provider; ALPN `http/1.1`.
pub fn client_config(
    roots: Roots<'_>,
    client: Option<ClientCert<'_>>,
) -> Result<Tls, TlsSettingsError> {
    let anchors = match roots {
        Roots::System => "the system trust store".to_owned(),
        Roots::Pem(p) => format!("the CAs in {}", p.display()),
    };
    let store = match roots {
        Roots::System => system_roots()?,
        Roots::Pem(path) => {
            let pem = read_pem(path, "CA file")?;
            let mut store = rustls::RootCertStore::empty();
            for c in certificates(&pem, path, "CA file")? {
                store.add(c).map_err(|e| TlsSettingsError::BadAnchor {
                    path: path.to_owned(),
                    reason: e.to_string(),
                })?;
            }
            Arc::new(store)
        }
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsSettingsError::Protocol(e.to_string()))?
        .with_root_certificates(store);
    let mut config = match client {
        None => builder.with_no_client_auth(),
        Some(cc) => {
            let pem = read_pem(cc.cert, "client certificate")?;
            let chain = certificates(&pem, cc.cert, "client certificate")?;
            let key_pem = zeroize::Zeroizing::new(read_pem(cc.key, "client key")?);
            let key = PrivatePkcs8KeyDer::from_pem_slice(&key_pem).map_err(|_| {
                TlsSettingsError::NoPkcs8Key {
                    path: cc.key.to_owned(),
                }
            })?;
            builder
                .with_client_auth_cert(chain, PrivateKeyDer::Pkcs8(key))
                .map_err(|e| TlsSettingsError::ClientPair {
                    cert: cc.cert.to_owned(),
                    key: cc.key.to_owned(),
                    reason: e.to_string(),
                })?
        }
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls {
        config: Arc::new(config),
        anchors,
    })
}

/// A hyper-util connector: plain TCP for `http://`, TLS over TCP for `https://` (only when it
/// was given TLS settings; an `https://` URL without them is an error, never a plain fallback).
#[derive(Clone)]
pub struct Connector {
    http: HttpConnector,
    tls: Option<(TlsConnector, Arc<str>)>,
    proxies: Arc<Proxies>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("tls", &self.tls.is_some())
            .field("proxies", &self.proxies)
            .finish()
    }
}

impl Connector {
    /// A connector whose TCP connect is bounded by `timeout`, with TLS settings for `https://`.
    pub fn new(tls: Option<Tls>, timeout: Duration) -> Self {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(timeout));
        http.set_nodelay(true);
        http.enforce_http(false);
        Self {
            http,
            tls: tls.map(|t| (TlsConnector::from(t.config), t.anchors.into())),
            proxies: Arc::new(Proxies::none()),
        }
    }

    /// The same connector, going through `proxies` where they say so.
    pub fn with_proxies(mut self, proxies: Arc<Proxies>) -> Self {
        self.proxies = proxies;
        self
    }

    /// The proxies in use.
    pub fn proxies(&self) -> &Arc<Proxies> {
        &self.proxies
    }

    /// A connector for `http://` and for `https://` trusting the system store, without client
    /// authentication (CRL distribution points).
    pub fn system(timeout: Duration) -> Result<Self, TlsSettingsError> {
        Ok(Self::new(
            Some(client_config(Roots::System, None)?),
            timeout,
        ))
    }
}

/// A connection made by [`Connector`].
#[derive(Debug)]
pub enum Stream {
    /// Plain TCP.
    Plain(TokioIo<TcpStream>),
    /// Plain TCP to an HTTP proxy (requests go in absolute form).
    Proxied(TokioIo<TcpStream>),
    /// TLS over TCP.
    Tls(Box<TokioIo<TlsStream<TcpStream>>>),
}

impl hyper::rt::Read for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) | Self::Proxied(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(&mut **s).poll_read(cx, buf),
        }
    }
}

impl hyper::rt::Write for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) | Self::Proxied(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(&mut **s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) | Self::Proxied(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(&mut **s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) | Self::Proxied(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(&mut **s).poll_shutdown(cx),
        }
    }
}

impl Connection for Stream {
    fn connected(&self) -> Connected {
        match self {
            Self::Plain(s) => s.connected(),
            Self::Proxied(s) => s.connected().proxy(true),
            Self::Tls(s) => s.inner().get_ref().0.connected(),
        }
    }
}

/// Why a TLS handshake failed, in words an operator can act on.
#[derive(Debug)]
pub struct TlsFailure {
    /// The host of the URL.
    pub host: String,
    /// The explanation.
    pub detail: String,
}

impl std::fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TLS with {}: {}", self.host, self.detail)
    }
}

impl std::error::Error for TlsFailure {}

/// Why going through the proxy failed: it cannot be reached, it wants (other) credentials, or it
/// refused the tunnel. Names the proxy without its credentials.
#[derive(Debug)]
pub struct ProxyFailure {
    /// `http://host:port`.
    pub proxy: String,
    /// The explanation.
    pub detail: String,
}

impl std::fmt::Display for ProxyFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "proxy {}: {}", self.proxy, self.detail)
    }
}

impl std::error::Error for ProxyFailure {}

impl ProxyFailure {
    /// The failure for a `407 Proxy Authentication Required` from `proxy`.
    pub fn auth_required(proxy: &Proxy) -> Self {
        let detail = if proxy.authorization().is_some() {
            "refused the credentials of the proxy URL (HTTP 407)".to_owned()
        } else {
            "requires authentication (HTTP 407): give the proxy URL as \
             http://USER:PASSWORD@host:port"
                .to_owned()
        };
        Self {
            proxy: proxy.name(),
            detail,
        }
    }
}

/// Opens TCP to `proxy`.
async fn connect_proxy(
    http: &mut HttpConnector,
    proxy: &Proxy,
) -> Result<TokioIo<TcpStream>, ProxyFailure> {
    use tower_service::Service as _;
    http.call(proxy.uri().clone())
        .await
        .map_err(|e| ProxyFailure {
            proxy: proxy.name(),
            detail: format!("cannot connect: {}", describe(&e)),
        })
}

/// Opens a `CONNECT` tunnel (RFC 9110 §9.3.6) to `dst`'s `host:port` through `proxy` with
/// hyper-util's `Tunnel`, and returns the TCP stream, ready for the TLS handshake with the
/// target.
async fn tunnel(http: &HttpConnector, proxy: &Proxy, dst: &Uri) -> Result<TcpStream, ProxyFailure> {
    use hyper_util::client::legacy::connect::proxy::Tunnel;
    use tower_service::Service as _;
    let mut t = Tunnel::new(proxy.uri().clone(), http.clone());
    if let Some(a) = proxy.authorization() {
        t = t.with_auth(a.clone());
    }
    let e = match t.call(dst.clone()).await {
        Ok(io) => return Ok(io.into_inner()),
        Err(e) => e,
    };
    // hyper-util does not export its `TunnelError` type: its kinds are told apart by their
    // words (pinned by Cargo.lock, and by the test `connect_answers` below).
    let text = e.to_string();
    let cause = || std::error::Error::source(&e).map_or_else(String::new, describe);
    let detail = match text.strip_prefix("tunnel error: ").unwrap_or(&text) {
        "proxy authorization required" => return Err(ProxyFailure::auth_required(proxy)),
        "failed to create underlying connection" => format!("cannot connect: {}", cause()),
        "io error establishing tunnel" => format!("CONNECT failed: {}", cause()),
        "unexpected end of file" => "closed the connection instead of answering CONNECT".into(),
        "proxy response headers too long" => "its answer to CONNECT is longer than 8 KiB".into(),
        _ => format!(
            "refused a tunnel to {}:{} (no HTTP/1.x 200 answer)",
            dst.host().unwrap_or_default(),
            dst.port_u16().unwrap_or(443)
        ),
    };
    Err(ProxyFailure {
        proxy: proxy.name(),
        detail,
    })
}

/// The rustls error somewhere in `e`'s chain (directly, or inside an `io::Error`).
pub fn rustls_cause<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if let Some(r) = c.downcast_ref::<rustls::Error>() {
            return Some(r);
        }
        if let Some(r) = c
            .downcast_ref::<io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|i| i.downcast_ref::<rustls::Error>())
        {
            return Some(r);
        }
        cur = c.source();
    }
    None
}

/// `e` in words: the TLS failure when the handshake failed, else the chain of causes.
pub fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if let Some(t) = c.downcast_ref::<TlsFailure>() {
            return t.to_string();
        }
        if let Some(p) = c.downcast_ref::<ProxyFailure>() {
            return p.to_string();
        }
        cur = c.source();
    }
    error_chain(e)
}

/// `e` and its causes, joined by ": ".
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// Words for a rustls error met while talking to a server: which certificate check failed
/// (`anchors`: the trust anchors in use, in words), or what the server said about our client
/// certificate (`sent_client_cert`: whether we had one to offer).
pub fn explain(e: &rustls::Error, anchors: &str, sent_client_cert: bool) -> String {
    use rustls::{AlertDescription as A, CertificateError as C, Error as E};
    match e {
        E::InvalidCertificate(C::UnknownIssuer) => {
            format!("the server's certificate is not trusted (its issuer is not among {anchors})")
        }
        E::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
            format!("the server's certificate is not valid for this host name ({e})")
        }
        E::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
            format!("the server's certificate has expired ({e})")
        }
        E::InvalidCertificate(C::NotValidYet | C::NotValidYetContext { .. }) => {
            format!("the server's certificate is not valid yet ({e})")
        }
        E::InvalidCertificate(C::Revoked) => "the server's certificate is revoked".into(),
        E::InvalidCertificate(_) => format!("the server's certificate is refused ({e})"),
        E::AlertReceived(
            a @ (A::CertificateRequired
            | A::BadCertificate
            | A::UnknownCA
            | A::CertificateUnknown
            | A::AccessDenied),
        ) if !sent_client_cert => format!(
            "the server requires a TLS client certificate (alert {a:?}); give \
             --tsa-client-cert and --tsa-client-key"
        ),
        E::AlertReceived(
            a @ (A::CertificateRequired
            | A::BadCertificate
            | A::UnknownCA
            | A::CertificateUnknown
            | A::CertificateExpired
            | A::CertificateRevoked
            | A::UnsupportedCertificate
            | A::AccessDenied),
        ) => format!("the server refused our TLS client certificate (alert {a:?})"),
        // TLS 1.2 servers often answer a missing client certificate with a bare
        // handshake_failure, which also means "no common version or cipher suite".
        E::AlertReceived(A::HandshakeFailure) if !sent_client_cert => "the server ended the \
             handshake (alert HandshakeFailure): it may require a TLS client certificate \
             (--tsa-client-cert, --tsa-client-key), or share no TLS 1.2/1.3 cipher suite with us"
            .into(),
        E::AlertReceived(a @ (A::ProtocolVersion | A::InsufficientSecurity)) => format!(
            "the server shares no TLS version (1.2, 1.3) or cipher suite with us (alert {a:?})"
        ),
        E::PeerIncompatible(_) => {
            format!("the server shares no TLS version (1.2, 1.3) or cipher suite with us ({e})")
        }
        E::NoApplicationProtocol => "the server speaks no HTTP/1.1 over TLS (ALPN)".into(),
        _ => format!("the handshake failed: {e}"),
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl tower_service::Service<Uri> for Connector {
    type Response = Stream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Stream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let mut http = self.http.clone();
        let tls = self.tls.clone();
        let proxy = self.proxies.for_uri(&uri);
        Box::pin(async move {
            match uri.scheme_str() {
                Some("http") => match &proxy {
                    None => Ok(Stream::Plain(http.call(uri).await?)),
                    Some(p) => Ok(Stream::Proxied(connect_proxy(&mut http, p).await?)),
                },
                Some("https") => {
                    let (tls, anchors) = tls.ok_or("no TLS settings for an https:// URL")?;
                    let host = uri.host().ok_or("the URL names no host")?;
                    // An IPv6 literal comes bracketed in the URI.
                    let bare = host.trim_start_matches('[').trim_end_matches(']');
                    let name = ServerName::try_from(bare.to_owned())
                        .map_err(|e| format!("{host} is not a host name for TLS: {e}"))?;
                    let sent_client_cert = tls.config().client_auth_cert_resolver.has_certs();
                    let tcp = match &proxy {
                        None => http.call(uri.clone()).await?.into_inner(),
                        Some(p) => tunnel(&http, p, &uri).await?,
                    };
                    match tls.connect(name, tcp).await {
                        Ok(s) => Ok(Stream::Tls(Box::new(TokioIo::new(s)))),
                        Err(e) => {
                            let detail = match rustls_cause(&e) {
                                Some(r) => explain(r, &anchors, sent_client_cert),
                                None => format!("the handshake failed: {e}"),
                            };
                            Err(Box::new(TlsFailure {
                                host: host.to_owned(),
                                detail,
                            }) as BoxError)
                        }
                    }
                }
                other => Err(format!("unsupported URL scheme {other:?}").into()),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    fn temp(name: &str, data: &[u8]) -> std::path::PathBuf {
        let p =
            std::env::temp_dir().join(format!("inkan-signer-https-{}-{name}", std::process::id()));
        std::fs::write(&p, data).unwrap();
        p
    }

    #[test]
    fn system_store_loads() {
        // /etc/ssl/certs is present on this machine and on CI (ca-certificates).
        client_config(Roots::System, None).unwrap();
    }

    #[test]
    fn bad_pem_files_are_clear() {
        let not_pem = temp("notpem", b"hello");
        let e = client_config(Roots::Pem(&not_pem), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no -----BEGIN CERTIFICATE-----"), "{e}");
        let missing = Path::new("/nonexistent/ca.pem");
        let e = client_config(Roots::Pem(missing), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot read CA file"), "{e}");
        // A key file that is not PKCS#8: the error names the file, never its contents.
        let secret = b"-----BEGIN EC PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw==\n-----END EC PRIVATE KEY-----\n";
        let key = temp("sec1.key", secret);
        let e = client_config(
            Roots::System,
            Some(ClientCert {
                cert: &not_pem,
                key: &key,
            }),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("client certificate"), "{e}");
        let _ = std::fs::remove_file(not_pem);
        let _ = std::fs::remove_file(key);
    }

    /// What the tunnel makes of a proxy's answers to CONNECT (a real listener on 127.0.0.1:0
    /// that answers with the given bytes, then holds the connection open; closes it at once
    /// when there are none).
    #[test]
    fn connect_answers() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let answer = |bytes: Vec<u8>| -> Result<(), String> {
            rt.block_on(async {
                let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let port = l.local_addr().unwrap().port();
                tokio::spawn(async move {
                    let (mut c, _) = l.accept().await.unwrap();
                    let mut head = [0u8; 1024];
                    let _ = c.read(&mut head).await;
                    let _ = c.write_all(&bytes).await;
                    if !bytes.is_empty() {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                    }
                });
                let proxy = Proxy::parse(&format!("http://u:pw7@127.0.0.1:{port}"), "t").unwrap();
                let mut http = HttpConnector::new();
                http.enforce_http(false);
                tunnel(&http, &proxy, &Uri::from_static("https://tsa.example/"))
                    .await
                    .map(drop)
                    .map_err(|e| {
                        let s = e.to_string();
                        assert!(s.starts_with(&format!("proxy http://127.0.0.1:{port}: ")));
                        assert!(!s.contains("pw7"), "{s}");
                        s
                    })
            })
        };
        answer(b"HTTP/1.1 200 Connection established\r\n\r\n".to_vec()).unwrap();
        answer(b"HTTP/1.0 200 OK\r\nVia: x\r\n\r\n".to_vec()).unwrap();
        let e = answer(b"HTTP/1.1 407 No\r\n\r\n".to_vec()).unwrap_err();
        assert!(e.contains("refused the credentials"), "{e}");
        let e = answer(b"HTTP/1.1 403 Forbidden\r\n\r\n".to_vec()).unwrap_err();
        assert!(e.contains("refused a tunnel to tsa.example:443"), "{e}");
        let e = answer(b"SSH-2.0-OpenSSH\r\n\r\n".to_vec()).unwrap_err();
        assert!(e.contains("no HTTP/1.x 200 answer"), "{e}");
        let mut long = b"HTTP/1.1 200 OK\r\n".to_vec();
        long.extend(std::iter::repeat_n(b'a', 20_000));
        let e = answer(long).unwrap_err();
        assert!(e.contains("longer than"), "{e}");
        let e = answer(Vec::new()).unwrap_err();
        assert!(e.contains("closed the connection"), "{e}");
    }

    #[test]
    fn explanations() {
        use rustls::{AlertDescription as A, CertificateError as C, Error as E};
        let x = |e: E, sent| explain(&e, "the CAs in ca.pem", sent);
        let untrusted = x(E::InvalidCertificate(C::UnknownIssuer), false);
        assert!(untrusted.contains("not trusted") && untrusted.contains("ca.pem"));
        assert!(x(E::InvalidCertificate(C::NotValidForName), false).contains("host name"));
        assert!(x(E::AlertReceived(A::CertificateRequired), false).contains("--tsa-client-cert"));
        assert!(x(E::AlertReceived(A::BadCertificate), true).contains("refused our"));
        let io = io::Error::new(
            io::ErrorKind::InvalidData,
            E::InvalidCertificate(C::UnknownIssuer),
        );
        assert!(rustls_cause(&io).is_some());
    }
}
