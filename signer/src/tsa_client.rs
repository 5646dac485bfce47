//! An RFC 3161 client: builds a `TimeStampReq` with a nonce, posts it over HTTP or HTTPS
//! (`application/timestamp-query`, RFC 3161 section 3.4), bounds time and size, and reads the
//! `TimeStampResp`. The token's own checks (imprint, nonce, signature, TSA certificate) are in
//! [`crate::tst`].
//!
//! # Reaching a TSA: [`Endpoint`] and [`TsaAccess`]
//! - `http://` and `https://` URLs. TLS adds nothing to a signed token's integrity (RFC 3161
//!   section 4), but accredited commercial TSAs are reached over https and bill per client, so
//!   they authenticate the client. TLS is rustls on ring through [`crate::https`]: TLS 1.2/1.3,
//!   server certificate and host name always verified, trust anchors from the system store or,
//!   with `--tsa-ca PEM`, only the CAs in that file.
//! - HTTP Basic (RFC 7617): the user from `--tsa-user`, the password from the environment
//!   variable named by `--tsa-password-env` (never a command-line value). The password is read
//!   once when the endpoint is made, kept only as the encoded `Authorization` header value
//!   (marked sensitive, so hyper never prints it), and appears in no `Debug` output, log line or
//!   error. Basic credentials are refused over `http://` unless the host is a loopback address
//!   (`127.0.0.0/8`, `::1`, `localhost`).
//! - A TLS client certificate: `--tsa-client-cert PEM` (leaf first, then intermediates) and
//!   `--tsa-client-key PEM` (PKCS#8); `https://` only.
//! - One hyper-util client per endpoint, so a batch reuses its connections (one TLS handshake
//!   per connection, not per token). Redirects are never followed.
//! - Through an HTTP proxy when [`crate::proxy`] says so (`--proxy`, `https_proxy`, ...):
//!   absolute-form requests for `http://`, a `CONNECT` tunnel for `https://`. A `407` or an
//!   unreachable proxy is [`TsaError::Proxy`], naming the proxy without its credentials.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use inkan_profiles::alg::DigestAlgorithm;
use inkan_profiles::asn1::tsp::PkiFailureInfo;

use crate::digest;
use inkan_profiles::asn1::tlv::{self, Rules, TlvError, encode, encode_parts, tag};

/// Largest response body accepted. A token with a long chain is a few KiB; 1 MiB leaves room for
/// any real TSA and stops a hostile one from exhausting memory.
pub const MAX_RESPONSE: usize = 1024 * 1024;

/// Default time allowed for one request, connection included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// What went wrong talking to a TSA.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TsaError {
    /// The URL is not an `http://` or `https://` URL this client can use.
    BadUrl(String),
    /// The access settings are wrong or incomplete (flags that do not fit together, a
    /// password variable that is not set, Basic credentials over plain http to another host).
    Settings(String),
    /// A file of the access settings (CA, client certificate or key) cannot be used.
    Unreadable(String),
    /// The TLS handshake failed (server certificate not trusted or not for this host, client
    /// certificate required or refused).
    Tls(String),
    /// HTTP 401 or 403: the TSA wants credentials, or refused the ones given.
    Unauthorized {
        /// The HTTP status.
        status: u16,
        /// Whether Basic credentials were sent.
        sent_basic: bool,
        /// Whether a TLS client certificate was offered.
        sent_client_cert: bool,
        /// The authentication scheme the TSA asks for (`WWW-Authenticate`), sanitised.
        challenge: String,
    },
    /// Connecting or exchanging failed (refused, reset, DNS).
    Transport(String),
    /// The HTTP proxy cannot be reached, wants credentials (407), or refused the tunnel.
    Proxy(String),
    /// No answer within the time allowed.
    Timeout,
    /// An HTTP status other than 200.
    HttpStatus(u16),
    /// The response body exceeded [`MAX_RESPONSE`].
    TooLarge,
    /// The body is not a `TimeStampResp`.
    Garbage(String),
    /// The TSA refused (PKIStatus other than granted / grantedWithMods).
    Rejected {
        /// PKIStatus.
        status: u64,
        /// Statusstring and failInfo, as text.
        detail: String,
    },
    /// The token failed a check on receipt.
    BadToken(String),
}

impl std::fmt::Display for TsaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::BadUrl(u) => write!(
                f,
                "TSA URL {u:?} is not usable (an http:// or https:// URL with a host)"
            ),
            Self::Settings(e) => write!(f, "TSA access: {e}"),
            Self::Unreadable(e) => write!(f, "TSA access: {e}"),
            Self::Tls(e) => write!(f, "could not reach the TSA: {e}"),
            Self::Unauthorized {
                status,
                sent_basic: true,
                ..
            } => write!(
                f,
                "the TSA refused the credentials (HTTP {status}): check --tsa-user and the \
                 password in the variable named by --tsa-password-env"
            ),
            Self::Unauthorized {
                status,
                sent_client_cert: true,
                ..
            } => write!(
                f,
                "the TSA refused access for the TLS client certificate of --tsa-client-cert \
                 (HTTP {status})"
            ),
            Self::Unauthorized {
                status, challenge, ..
            } => {
                write!(f, "the TSA requires authentication (HTTP {status}")?;
                if !challenge.is_empty() {
                    write!(f, ", it asks for {challenge}")?;
                }
                write!(
                    f,
                    "): give --tsa-user USER and --tsa-password-env VAR, or a TLS client \
                     certificate with --tsa-client-cert/--tsa-client-key"
                )
            }
            Self::Transport(e) => write!(f, "could not reach the TSA: {e}"),
            Self::Proxy(e) => write!(f, "could not reach the TSA through the {e}"),
            Self::Timeout => write!(f, "the TSA did not answer in time"),
            Self::HttpStatus(s) => write!(f, "the TSA answered HTTP status {s}"),
            Self::TooLarge => write!(f, "the TSA's answer is larger than {MAX_RESPONSE} bytes"),
            Self::Garbage(e) => write!(f, "the TSA's answer is not a TimeStampResp: {e}"),
            Self::Rejected { status, detail } => {
                write!(f, "the TSA refused the request (status {status}{detail})")
            }
            Self::BadToken(e) => write!(f, "the TSA's token failed a check: {e}"),
        }
    }
}

impl std::error::Error for TsaError {}

/// A TSA setting that stops a signing run before anything is signed: a file that cannot be used
/// is [`SetupError::Material`](crate::error::SetupError::Material) (exit 66), anything else
/// [`SetupError::Usage`](crate::error::SetupError::Usage) (exit 64).
impl From<TsaError> for crate::error::SetupError {
    fn from(e: TsaError) -> Self {
        match e {
            TsaError::Unreadable(_) => Self::Material(e.to_string()),
            _ => Self::Usage(e.to_string()),
        }
    }
}

/// A request about to be sent, with what the answer must match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The hash algorithm of the imprint.
    pub alg: DigestAlgorithm,
    /// The imprint (hash of the time-stamped data).
    pub imprint: Vec<u8>,
    /// The nonce magnitude (big-endian, no sign).
    pub nonce: Vec<u8>,
    /// The DER `TimeStampReq`.
    pub der: Vec<u8>,
}

/// Fresh random bytes from the operating system.
pub fn random_bytes(n: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut b = vec![0u8; n];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(b)
}

impl Request {
    /// A request for `imprint` (already hashed with `alg`) with a random 64-bit nonce, asking
    /// for the TSA certificate (certReq true) so the token can be checked and kept for B-LT.
    pub fn new(alg: DigestAlgorithm, imprint: Vec<u8>) -> std::io::Result<Self> {
        let mut nonce = random_bytes(8)?;
        nonce[0] &= 0x7f;
        nonce[0] |= 0x01; // eight significant bytes, never zero
        Ok(Self::with_nonce(alg, imprint, nonce))
    }

    /// A request with the given nonce.
    pub fn with_nonce(alg: DigestAlgorithm, imprint: Vec<u8>, nonce: Vec<u8>) -> Self {
        let mi = encode_parts(
            tag::SEQUENCE,
            &[
                digest::algorithm_identifier(alg),
                encode(tag::OCTET_STRING, &imprint),
            ],
        );
        let der = encode_parts(
            tag::SEQUENCE,
            &[
                tlv::encode_uint(&[1]),
                mi,
                tlv::encode_uint(&nonce),
                encode(tag::BOOLEAN, &[0xff]),
            ],
        );
        Self {
            alg,
            imprint,
            nonce,
            der,
        }
    }
}

/// How to reach a TSA beyond its URL (the `--tsa-*` flags). Holds file paths and the *name*
/// of the password variable, never a secret, so its `Debug` output is safe.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TsaAccess {
    /// `--tsa-ca`: trust only the CA certificates in this PEM file (instead of the system
    /// store) for the TSA's TLS certificate.
    pub ca: Option<PathBuf>,
    /// `--tsa-user`: the HTTP Basic user name.
    pub user: Option<String>,
    /// `--tsa-password-env`: the name of the environment variable holding the password.
    pub password_env: Option<String>,
    /// `--tsa-client-cert`: the TLS client certificate chain (PEM).
    pub client_cert: Option<PathBuf>,
    /// `--tsa-client-key`: the TLS client private key (PEM, PKCS#8).
    pub client_key: Option<PathBuf>,
}

impl TsaAccess {
    /// Whether any setting is given (then a TSA URL must be too).
    pub fn is_set(&self) -> bool {
        *self != Self::default()
    }

    /// Checks that the settings fit together (each one needs its partner).
    pub fn check(&self) -> Result<(), TsaError> {
        let s = |m: &str| Err(TsaError::Settings(m.to_owned()));
        match (&self.user, &self.password_env) {
            (Some(_), None) => return s("--tsa-user needs --tsa-password-env VAR"),
            (None, Some(_)) => return s("--tsa-password-env needs --tsa-user USER"),
            (Some(u), Some(_)) => {
                if u.is_empty() || u.contains(':') || u.chars().any(char::is_control) {
                    return s(
                        "--tsa-user must be non-empty, without ':' or control characters \
                         (RFC 7617)",
                    );
                }
            }
            (None, None) => {}
        }
        match (&self.client_cert, &self.client_key) {
            (Some(_), None) => s("--tsa-client-cert needs --tsa-client-key"),
            (None, Some(_)) => s("--tsa-client-key needs --tsa-client-cert"),
            _ => Ok(()),
        }
    }
}

/// True for a URL host that is a loopback address: `localhost`, `127.0.0.0/8`, `::1`.
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Standard base64 (RFC 4648 section 4) with padding.
fn base64(input: &[u8]) -> zeroize::Zeroizing<String> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = zeroize::Zeroizing::new(String::with_capacity(input.len().div_ceil(3) * 4));
    for chunk in input.chunks(3) {
        // `chunks` never yields an empty chunk, so `chunk[0]` exists; indices into ALPHABET are
        // masked to 6 bits.
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The `Authorization` value for Basic, marked sensitive (hyper and `http` print it as
/// `Sensitive`). The intermediate buffers are zeroed on drop.
fn basic_authorization(user: &str, password: &str) -> Result<hyper::header::HeaderValue, TsaError> {
    basic_value(user.as_bytes(), password.as_bytes())
        .map_err(|()| TsaError::Settings("the Basic credentials do not encode".into()))
}

/// `Basic base64(user:password)` as a sensitive header value (also the proxy's
/// `Proxy-Authorization`, see [`crate::proxy`]). The intermediate buffers are zeroed on drop.
pub(crate) fn basic_value(user: &[u8], password: &[u8]) -> Result<hyper::header::HeaderValue, ()> {
    let mut pair = zeroize::Zeroizing::new(Vec::with_capacity(user.len() + 1 + password.len()));
    pair.extend_from_slice(user);
    pair.push(b':');
    pair.extend_from_slice(password);
    let encoded = base64(&pair);
    let mut value = zeroize::Zeroizing::new(String::with_capacity(6 + encoded.len()));
    value.push_str("Basic ");
    value.push_str(&encoded);
    let mut h = hyper::header::HeaderValue::from_str(&value).map_err(|_| ())?;
    h.set_sensitive(true);
    Ok(h)
}

/// A TSA to post requests to: its URL, a client (TLS settings, connection pool) and the
/// credentials, made once and used for every request of a run.
pub struct Endpoint {
    url: String,
    uri: hyper::Uri,
    client: hyper_util::client::legacy::Client<crate::https::Connector, Full<Bytes>>,
    authorization: Option<hyper::header::HeaderValue>,
    user: Option<String>,
    client_cert: bool,
    anchors: String,
    proxy: Option<crate::proxy::Proxy>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("url", &self.url)
            .field("basic_user", &self.user)
            .field(
                "basic_password",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .field("client_cert", &self.client_cert)
            .field("proxy", &self.proxy)
            .finish()
    }
}

impl Endpoint {
    /// An endpoint for `url` with `access`, through `proxies` where they say so; the password,
    /// when asked for, is read from the process environment now. Request timeouts are given
    /// per request; `timeout` bounds the TCP connect.
    pub fn new(
        url: &str,
        access: &TsaAccess,
        timeout: Duration,
        proxies: std::sync::Arc<crate::proxy::Proxies>,
    ) -> Result<Self, TsaError> {
        Self::with_proxies(
            url,
            access,
            timeout,
            &|name| std::env::var_os(name),
            proxies,
        )
    }

    /// As [`Endpoint::new`] without proxy, with the environment looked up through `env`.
    pub fn with_env(
        url: &str,
        access: &TsaAccess,
        timeout: Duration,
        env: &dyn Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<Self, TsaError> {
        let none = std::sync::Arc::new(crate::proxy::Proxies::none());
        Self::with_proxies(url, access, timeout, env, none)
    }

    /// As [`Endpoint::new`], with the environment looked up through `env`.
    pub fn with_proxies(
        url: &str,
        access: &TsaAccess,
        timeout: Duration,
        env: &dyn Fn(&str) -> Option<std::ffi::OsString>,
        proxies: std::sync::Arc<crate::proxy::Proxies>,
    ) -> Result<Self, TsaError> {
        access.check()?;
        let uri: hyper::Uri = url.parse().map_err(|_| TsaError::BadUrl(url.to_owned()))?;
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| TsaError::BadUrl(url.to_owned()))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(TsaError::BadUrl(url.to_owned())),
        };
        if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
            return Err(TsaError::Settings(
                "credentials in the URL are not accepted: use --tsa-user and --tsa-password-env"
                    .into(),
            ));
        }
        if !https {
            if access.ca.is_some() {
                return Err(TsaError::Settings(format!(
                    "--tsa-ca applies to https:// only, and {url} is http://"
                )));
            }
            if access.client_cert.is_some() {
                return Err(TsaError::Settings(format!(
                    "a TLS client certificate needs an https:// TSA URL, and {url} is http://"
                )));
            }
            if access.user.is_some() && !is_loopback_host(host) {
                return Err(TsaError::Settings(format!(
                    "HTTP Basic credentials are sent over https:// only (or to a loopback \
                     address), and {url} is http://"
                )));
            }
        }
        let authorization = match (&access.user, &access.password_env) {
            (Some(user), Some(var)) => {
                let value = env(var).ok_or_else(|| {
                    TsaError::Settings(format!(
                        "the environment variable {var} named by --tsa-password-env is not set"
                    ))
                })?;
                let password = zeroize::Zeroizing::new(value.into_string().map_err(|_| {
                    TsaError::Settings(format!("the environment variable {var} is not valid UTF-8"))
                })?);
                if password.is_empty() {
                    return Err(TsaError::Settings(format!(
                        "the environment variable {var} named by --tsa-password-env is empty"
                    )));
                }
                Some(basic_authorization(user, &password)?)
            }
            _ => None,
        };
        let mut anchors = String::new();
        let tls = if https {
            let roots = match &access.ca {
                Some(p) => crate::https::Roots::Pem(p),
                None => crate::https::Roots::System,
            };
            let client = match (&access.client_cert, &access.client_key) {
                (Some(cert), Some(key)) => Some(crate::https::ClientCert { cert, key }),
                _ => None,
            };
            let tls = crate::https::client_config(roots, client)
                .map_err(|e| TsaError::Unreadable(e.to_string()))?;
            anchors.clone_from(&tls.anchors);
            Some(tls)
        } else {
            None
        };
        let proxy = proxies.for_uri(&uri);
        let connector = crate::https::Connector::new(tls, timeout).with_proxies(proxies);
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build::<_, Full<Bytes>>(connector);
        Ok(Self {
            url: url.to_owned(),
            uri,
            client,
            authorization,
            user: access.user.clone(),
            client_cert: access.client_cert.is_some(),
            anchors,
            proxy,
        })
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Posts `body` (a DER `TimeStampReq`) and returns the response body, all within `timeout`.
    pub async fn post(&self, body: Vec<u8>, timeout: Duration) -> Result<Vec<u8>, TsaError> {
        let mut req = hyper::Request::post(self.uri.clone())
            .header("content-type", "application/timestamp-query")
            .header("accept", "application/timestamp-reply")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| TsaError::BadUrl(format!("{}: {e}", self.url)))?;
        if let Some(a) = &self.authorization {
            req.headers_mut()
                .insert(hyper::header::AUTHORIZATION, a.clone());
        }
        // Through a proxy, an http:// request carries the proxy's credentials itself (an
        // https:// one sent them with CONNECT, and they never enter the tunnel).
        if self.uri.scheme_str() == Some("http")
            && let Some(a) = self.proxy.as_ref().and_then(|p| p.authorization())
        {
            req.headers_mut()
                .insert(hyper::header::PROXY_AUTHORIZATION, a.clone());
        }
        let work = async {
            let resp = self.client.request(req).await.map_err(|e| {
                match crate::https::rustls_cause(&e) {
                    // A client certificate refused after the handshake (TLS 1.3) shows here.
                    Some(r) => TsaError::Tls(format!(
                        "TLS with {}: {}",
                        self.uri.host().unwrap_or_default(),
                        crate::https::explain(r, &self.anchors, self.client_cert)
                    )),
                    None => match (
                        find::<crate::https::TlsFailure>(&e),
                        find::<crate::https::ProxyFailure>(&e),
                    ) {
                        (Some(t), _) => TsaError::Tls(t.to_string()),
                        (None, Some(p)) => TsaError::Proxy(p.to_string()),
                        (None, None) => TsaError::Transport(crate::https::error_chain(&e)),
                    },
                }
            })?;
            let status = resp.status();
            if status == hyper::StatusCode::PROXY_AUTHENTICATION_REQUIRED
                && let Some(p) = &self.proxy
            {
                return Err(TsaError::Proxy(
                    crate::https::ProxyFailure::auth_required(p).to_string(),
                ));
            }
            if status == hyper::StatusCode::UNAUTHORIZED || status == hyper::StatusCode::FORBIDDEN {
                return Err(TsaError::Unauthorized {
                    status: status.as_u16(),
                    sent_basic: self.authorization.is_some(),
                    sent_client_cert: self.client_cert,
                    challenge: challenge(resp.headers()),
                });
            }
            if status != hyper::StatusCode::OK {
                return Err(TsaError::HttpStatus(status.as_u16()));
            }
            let body = Limited::new(resp.into_body(), MAX_RESPONSE)
                .collect()
                .await
                .map_err(|e| {
                    if e.downcast_ref::<http_body_util::LengthLimitError>()
                        .is_some()
                    {
                        TsaError::TooLarge
                    } else {
                        TsaError::Transport(e.to_string())
                    }
                })?;
            Ok(body.to_bytes().to_vec())
        };
        tokio::time::timeout(timeout, work)
            .await
            .map_err(|_| TsaError::Timeout)?
    }
}

/// The first error of type `T` in `e`'s chain.
fn find<'a, T: std::error::Error + 'static>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a T> {
    let mut cur = Some(e);
    while let Some(c) = cur {
        if let Some(t) = c.downcast_ref::<T>() {
            return Some(t);
        }
        cur = c.source();
    }
    None
}

/// `WWW-Authenticate` as printable ASCII, cut at 60 characters: it is said back to the
/// operator, and it comes from an untrusted server.
fn challenge(headers: &hyper::HeaderMap) -> String {
    let Some(v) = headers.get(hyper::header::WWW_AUTHENTICATE) else {
        return String::new();
    };
    v.as_bytes()
        .iter()
        .take(60)
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect()
}

/// Posts `body` to `url` (no credentials, system trust store for https, proxies from the
/// environment) and returns the response body.
pub async fn post(url: &str, body: Vec<u8>, timeout: Duration) -> Result<Vec<u8>, TsaError> {
    let proxies = crate::proxy::Proxies::resolve(&crate::proxy::ProxyChoice::Environment)
        .map_err(|e| TsaError::Settings(e.to_string()))?;
    Endpoint::new(url, &TsaAccess::default(), timeout, proxies.into())?
        .post(body, timeout)
        .await
}

/// Reads a `TimeStampResp` and returns the token (a DER `ContentInfo`) when granted.
///
/// ```text
/// TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }
/// PKIStatusInfo ::= SEQUENCE { status PKIStatus, statusString PKIFreeText OPTIONAL,
///                              failInfo PKIFailureInfo OPTIONAL }
/// ```
pub fn token_from_response(resp: &[u8]) -> Result<Vec<u8>, TsaError> {
    let g = |e: TlvError| TsaError::Garbage(e.into());
    let outer = tlv::parse_exact_with(resp, Rules::LOW_TAGS_ONLY).map_err(g)?;
    let outer = outer
        .expect_named(tag::SEQUENCE, "TimeStampResp")
        .map_err(g)?;
    let mut r = outer.children();
    let psi = r.expect_named(tag::SEQUENCE, "PKIStatusInfo").map_err(g)?;
    let token = r.optional(tag::SEQUENCE).map_err(g)?;
    r.finish("TimeStampResp").map_err(g)?;
    let mut pr = psi.children();
    let status = pr
        .expect_named(tag::INTEGER, "PKIStatus")
        .map_err(g)?
        .small_uint()
        .map_err(g)?;
    let mut detail = String::new();
    if let Some(text) = pr.optional(tag::SEQUENCE).map_err(g)? {
        for s in text.elements().map_err(g)? {
            detail.push_str(", ");
            detail.push_str(&String::from_utf8_lossy(s.value));
        }
    }
    if let Some(bits) = pr.optional(0x03).map_err(g)? {
        detail.push_str(&format!(", failInfo {}", fail_info_names(bits.value)));
    }
    match status {
        0 | 1 => {}
        _ => return Err(TsaError::Rejected { status, detail }),
    }
    match token {
        Some(t) => Ok(t.raw.to_vec()),
        None => Err(TsaError::Garbage("status granted but no token".into())),
    }
}

fn fail_info_names(bitstring: &[u8]) -> String {
    // A DER BIT STRING's contents: the unused-bit count, then bits from the most significant.
    let mut v = 0u32;
    for (i, b) in bitstring.get(1..).unwrap_or(&[]).iter().take(4).enumerate() {
        v |= u32::from(b.reverse_bits()) << (8 * i);
    }
    let set = PkiFailureInfo(v).names();
    if set.is_empty() {
        "(none named)".into()
    } else {
        set.join("|")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_encoding() {
        let r = Request::with_nonce(DigestAlgorithm::Sha256, vec![0xab; 32], vec![0x01, 0x02]);
        let t = tlv::parse_exact_with(&r.der, Rules::LOW_TAGS_ONLY).unwrap();
        let k = t.elements().unwrap();
        assert_eq!(k.len(), 4);
        assert_eq!(k[2].value, &[1, 2]);
        assert_eq!(k[3].raw, &[1, 1, 0xff]);
    }

    #[test]
    fn rejection_and_garbage() {
        // status rejection(2), failInfo badAlg
        let resp = encode(
            tag::SEQUENCE,
            &encode_parts(
                tag::SEQUENCE,
                &[tlv::encode_uint(&[2]), vec![0x03, 0x02, 0x07, 0x80]],
            ),
        );
        match token_from_response(&resp) {
            Err(TsaError::Rejected { status: 2, detail }) => assert!(detail.contains("badAlg")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            token_from_response(b"<html>"),
            Err(TsaError::Garbage(_))
        ));
    }

    #[test]
    fn bad_urls() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for u in ["ftp://x", "not a url", "http:///", "/relative"] {
            assert!(
                matches!(
                    rt.block_on(post(u, vec![], DEFAULT_TIMEOUT)),
                    Err(TsaError::BadUrl(_))
                ),
                "{u}"
            );
        }
        // Nothing listens on port 1.
        assert!(matches!(
            rt.block_on(post("http://127.0.0.1:1/", vec![], DEFAULT_TIMEOUT)),
            Err(TsaError::Transport(_))
        ));
        assert!(matches!(
            rt.block_on(post("https://127.0.0.1:1/", vec![], DEFAULT_TIMEOUT)),
            Err(TsaError::Transport(_))
        ));
    }

    #[test]
    fn base64_vectors() {
        // RFC 4648 section 10.
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()).as_str(), o);
        }
        // RFC 7617 section 2.
        let h = basic_authorization("Aladdin", "open sesame").unwrap();
        assert_eq!(h.as_bytes(), b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert!(h.is_sensitive());
    }

    fn access(user: &str, var: &str) -> TsaAccess {
        TsaAccess {
            user: Some(user.into()),
            password_env: Some(var.into()),
            ..TsaAccess::default()
        }
    }

    const SECRET: &str = "s3cr3t-Pa55word";

    fn env(name: &str) -> Option<std::ffi::OsString> {
        (name == "PW").then(|| SECRET.into())
    }

    #[test]
    fn access_settings() {
        let t = DEFAULT_TIMEOUT;
        let ok =
            Endpoint::with_env("https://tsa.example/", &access("alice", "PW"), t, &env).unwrap();
        let debug = format!("{ok:?}");
        assert!(
            debug.contains("alice") && debug.contains("<redacted>"),
            "{debug}"
        );
        assert!(
            !debug.contains(SECRET) && !debug.contains("czNjcjN0"),
            "{debug}"
        );
        // Over plain http, only to loopback.
        for u in [
            "http://127.0.0.1:3161/",
            "http://[::1]/",
            "http://localhost/",
        ] {
            Endpoint::with_env(u, &access("alice", "PW"), t, &env).unwrap();
        }
        let e =
            Endpoint::with_env("http://tsa.example/", &access("alice", "PW"), t, &env).unwrap_err();
        assert!(matches!(e, TsaError::Settings(_)), "{e}");
        assert!(e.to_string().contains("https://"), "{e}");
        // The variable must be set and non-empty; the error names it, not a value.
        let e = Endpoint::with_env("https://tsa.example/", &access("alice", "NOPE"), t, &env)
            .unwrap_err();
        assert!(e.to_string().contains("NOPE") && e.to_string().contains("not set"));
        let empty = |_: &str| Some(std::ffi::OsString::new());
        assert!(
            Endpoint::with_env("https://tsa.example/", &access("alice", "PW"), t, &empty).is_err()
        );
        // Partners and forms.
        for a in [
            TsaAccess {
                user: Some("a".into()),
                ..TsaAccess::default()
            },
            TsaAccess {
                password_env: Some("PW".into()),
                ..TsaAccess::default()
            },
            access("a:b", "PW"),
            TsaAccess {
                client_cert: Some("c.pem".into()),
                ..TsaAccess::default()
            },
            TsaAccess {
                client_key: Some("k.pem".into()),
                ..TsaAccess::default()
            },
        ] {
            assert!(matches!(a.check(), Err(TsaError::Settings(_))), "{a:?}");
        }
        let tls_only = TsaAccess {
            ca: Some("ca.pem".into()),
            ..TsaAccess::default()
        };
        assert!(Endpoint::with_env("http://127.0.0.1/", &tls_only, t, &env).is_err());
        let e = Endpoint::with_env("https://u:p@tsa.example/", &TsaAccess::default(), t, &env)
            .unwrap_err();
        assert!(e.to_string().contains("credentials in the URL"), "{e}");
    }

    #[test]
    fn unauthorized_messages() {
        let u = |sent_basic, sent_client_cert, challenge: &str| {
            TsaError::Unauthorized {
                status: 401,
                sent_basic,
                sent_client_cert,
                challenge: challenge.into(),
            }
            .to_string()
        };
        let none = u(false, false, "Basic realm=\"x\"");
        assert!(none.contains("requires authentication") && none.contains("Basic realm"));
        assert!(u(true, false, "").contains("refused the credentials"));
        assert!(u(false, true, "").contains("client certificate"));
        let mut h = hyper::HeaderMap::new();
        h.insert(
            hyper::header::WWW_AUTHENTICATE,
            hyper::header::HeaderValue::from_bytes(&[b'B'; 500]).unwrap(),
        );
        assert_eq!(challenge(&h).len(), 60);
    }

    #[test]
    fn loopback_hosts() {
        for h in [
            "127.0.0.1",
            "127.1.2.3",
            "[::1]",
            "::1",
            "localhost",
            "LOCALHOST",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in ["10.0.0.1", "tsa.example", "localhost.example", "[::2]", ""] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }
}
