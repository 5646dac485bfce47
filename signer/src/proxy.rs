//! HTTP proxies for every request the signer makes (TSA requests, CRL downloads, OCSP
//! requests): which proxy a URL goes through, from `--proxy` or the environment.
//!
//! # Choices
//! - **Only `http://` proxies.** A proxy URL is `http://[user:pass@]host[:port][/]` (port 80
//!   when absent; the scheme may be left out, as in many `https_proxy=proxy:3128`
//!   settings). No TLS to the proxy and no SOCKS: they are refused with a clear message.
//! - **`http://` targets** go to the proxy in absolute form (`POST http://tsa.example/ HTTP/1.1`);
//!   **`https://` targets** through a `CONNECT host:port` tunnel, then TLS end to end with the
//!   target, its certificate and host name checked exactly as without a proxy (the proxy sees
//!   only ciphertext). See [`crate::https`].
//! - **Credentials** in the proxy URL (percent-decoded, UTF-8) are sent as Basic
//!   `Proxy-Authorization` (RFC 7235, RFC 7617 §2), kept only as the encoded header value
//!   (marked sensitive), and appear in no `Debug` output, log line or error message: the proxy
//!   is named as `http://host:port`.
//! - **Which setting wins.** `--proxy URL` overrides the environment, `--proxy none` turns
//!   proxies off. Without `--proxy`: `https://` targets use `https_proxy`, else `HTTPS_PROXY`;
//!   `http://` targets use `http_proxy`, and the upper-case `HTTP_PROXY` only outside CGI (when
//!   `REQUEST_METHOD` is not set): a CGI server turns a request's `Proxy:` header into
//!   `HTTP_PROXY` (RFC 3875 §4.1.18, "httpoxy"), so in that context only the lower-case name can
//!   be trusted. An empty value counts as unset.
//! - **Exceptions** (`no_proxy`, else `NO_PROXY`; they apply with `--proxy URL` too):
//!   comma-separated entries, each a host name matching itself and its subdomains (`example.org`
//!   and `.example.org` both match `example.org` and `tsa.example.org`), an IP address, an IP
//!   network in CIDR form (`10.0.0.0/8`), or `*` (no proxy at all). A `:port` after an entry is
//!   ignored. Names compare case-insensitively.
//! - **Loopback is never proxied**: `localhost`, `*.localhost`, `127.0.0.0/8` and `::1` are
//!   reached directly whatever the settings say, since the proxy's loopback is not ours (Java's
//!   default `http.nonProxyHosts` and Go's `net/http` choose the same). It also keeps the one
//!   case where TSA Basic credentials may travel over plain `http://` (a loopback TSA, see
//!   [`crate::tsa_client`]) off any proxy.
//! - **B-B** makes no request, so a B-B run reads no proxy setting at all; from B-T up, an
//!   unusable setting stops the run before anything is signed (exit 64), naming the variable
//!   or `--proxy`, never the value.
//!
//! # Whose code
//! The matching (`no_proxy` entries, CIDR networks, subdomains), the Basic encoding of the
//! credentials and the `CONNECT` tunnel are hyper-util's `client-proxy` feature
//! ([`Matcher`], `Tunnel`). Ours are the choice of variables above (hyper-util prefers the
//! upper-case names and turns every proxy off under CGI), the refusal of unusable URLs (it
//! ignores them silently), the loopback rule, and the spelling of `no_proxy` entries it does
//! not read as we do (`host:port`, `*.example`, `[v6]:port`, trailing dots), which are put in
//! its form first.

use std::net::IpAddr;

use hyper::Uri;
use hyper::header::HeaderValue;
use hyper_util::client::proxy::matcher::{Intercept, Matcher};

use crate::error::ProxyError;

/// The `--proxy` choice.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ProxyChoice {
    /// From the environment (no `--proxy`).
    #[default]
    Environment,
    /// `--proxy none`.
    Off,
    /// `--proxy URL`. The URL may hold credentials: never printed by this type's users
    /// (its `Debug` output hides it).
    Url(ProxyUrlText),
}

/// A proxy URL as given, hidden from `Debug` (it may carry a password).
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrlText(pub String);

impl std::fmt::Debug for ProxyUrlText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<proxy URL>")
    }
}

/// One proxy: where it is and the credentials to send.
#[derive(Clone)]
pub struct Proxy(Intercept);

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("at", &self.name())
            .field("credentials", &self.authorization().map(|_| "<redacted>"))
            .finish()
    }
}

impl Proxy {
    /// Parses `http://[user:pass@]host[:port][/]`. Errors never repeat the URL (it may hold a
    /// password); `origin` says where it came from (`--proxy`, `https_proxy`, ...).
    pub fn parse(url: &str, origin: &str) -> Result<Self, ProxyError> {
        let bad = |reason: &str| ProxyError {
            origin: origin.to_owned(),
            reason: reason.to_owned(),
        };
        let canonical = canonical_url(url).map_err(|why| bad(&why))?;
        Matcher::builder()
            .http(canonical.as_str())
            .build()
            .intercept(&Uri::from_static("http://example.invalid/"))
            .map(Self)
            .ok_or_else(|| bad("no valid host"))
    }

    /// `http://host:port`, without credentials: how errors name the proxy.
    pub fn name(&self) -> String {
        let uri = self.uri();
        format!(
            "http://{}:{}",
            uri.host().unwrap_or_default(),
            uri.port_u16().unwrap_or(80)
        )
    }

    /// `http://host:port/`, where to connect (without credentials).
    pub fn uri(&self) -> &Uri {
        self.0.uri()
    }

    /// The `Proxy-Authorization` value (sensitive), when the URL had credentials.
    pub fn authorization(&self) -> Option<&HeaderValue> {
        self.0.basic_auth()
    }
}

/// `url` checked and written `http://[user:pass@]host:port/` (host in lower case), or why not.
fn canonical_url(url: &str) -> Result<zeroize::Zeroizing<String>, String> {
    let url = url.trim();
    let rest = match url.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
        Some((scheme, _)) => {
            let scheme: String = scheme
                .chars()
                .take(10)
                .filter(char::is_ascii_alphanumeric)
                .collect();
            return Err(format!(
                "scheme {scheme:?}: only http:// proxies are supported (no https:// to the \
                 proxy, no SOCKS)"
            ));
        }
        None => url,
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#']) {
        return Err("a proxy URL is http://[user:pass@]host:port, without a path".into());
    }
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or("unclosed '['")?;
        if h.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("not an IPv6 address between [ and ]".into());
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or("text after ']'")?),
        };
        (format!("[{h}]"), port)
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (hostport.to_owned(), None),
        }
    };
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._[]:".contains(&b))
    {
        return Err("no valid host".into());
    }
    let port = match port {
        None => 80,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or("the port is not a number from 1 to 65535")?,
    };
    let host = host.to_ascii_lowercase();
    let Some(userinfo) = userinfo else {
        return Ok(format!("http://{host}:{port}/").into());
    };
    let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let user = percent_decode(user).ok_or("bad %-escape in the user name")?;
    let pass = percent_decode(pass).ok_or("bad %-escape in the password")?;
    if user.is_empty() || user.contains(':') || user.chars().any(char::is_control) {
        return Err("the user name must be non-empty, without ':' or control characters".into());
    }
    // Encoded again, every byte but the unreserved ones (RFC 3986 §2.3), so that hyper-util,
    // which cuts the authority at its first '@' and decodes once, reads the same pair.
    let mut out = zeroize::Zeroizing::new(String::from("http://"));
    percent_encode(&user, &mut out);
    out.push(':');
    percent_encode(&pass, &mut out);
    out.push_str(&format!("@{host}:{port}/"));
    Ok(out)
}

fn percent_encode(s: &str, out: &mut String) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// `s` with its %-escapes decoded, when they are all well formed and the result is UTF-8.
fn percent_decode(s: &str) -> Option<zeroize::Zeroizing<String>> {
    let b = s.as_bytes();
    let mut out = zeroize::Zeroizing::new(Vec::with_capacity(b.len()));
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(std::mem::take(&mut *out))
        .ok()
        .map(zeroize::Zeroizing::new)
}

/// The proxies of a run: one for `http://` targets, one for `https://` targets, and the
/// exceptions. `Debug` never shows credentials.
#[derive(Debug)]
pub struct Proxies(Matcher);

impl Default for Proxies {
    fn default() -> Self {
        Self::none()
    }
}

impl Proxies {
    /// No proxy at all.
    pub fn none() -> Self {
        Self(Matcher::builder().build())
    }

    /// The proxies `choice` asks for, reading the process environment.
    pub fn resolve(choice: &ProxyChoice) -> Result<Self, ProxyError> {
        Self::resolve_with(choice, &|n| std::env::var(n).ok())
    }

    /// As [`Proxies::resolve`], with the environment looked up through `env`.
    pub fn resolve_with(
        choice: &ProxyChoice,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ProxyError> {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        // Each URL is checked (hyper-util would skip a bad one silently) and handed on in
        // canonical form.
        let checked = |v: &str, origin: &str| {
            Proxy::parse(v, origin)?;
            canonical_url(v).map_err(|reason| ProxyError {
                origin: origin.to_owned(),
                reason,
            })
        };
        let (http, https) = match choice {
            ProxyChoice::Off => return Ok(Self::none()),
            ProxyChoice::Url(u) => {
                let p = checked(&u.0, "--proxy")?;
                (Some(p.clone()), Some(p))
            }
            ProxyChoice::Environment => {
                let https = match (get("https_proxy"), get("HTTPS_PROXY")) {
                    (Some(v), _) => Some(checked(&v, "https_proxy")?),
                    (None, Some(v)) => Some(checked(&v, "HTTPS_PROXY")?),
                    (None, None) => None,
                };
                let cgi = env("REQUEST_METHOD").is_some();
                let http = match (get("http_proxy"), get("HTTP_PROXY")) {
                    (Some(v), _) => Some(checked(&v, "http_proxy")?),
                    (None, Some(v)) if !cgi => Some(checked(&v, "HTTP_PROXY")?),
                    _ => None,
                };
                (http, https)
            }
        };
        let no = get("no_proxy")
            .or_else(|| get("NO_PROXY"))
            .map(|v| exceptions(&v))
            .unwrap_or_default();
        Ok(Self(
            Matcher::builder()
                .http(http.as_deref().map_or("", String::as_str))
                .https(https.as_deref().map_or("", String::as_str))
                .no(no)
                .build(),
        ))
    }

    /// The proxy for `uri`, or `None` to connect directly.
    pub fn for_uri(&self, uri: &Uri) -> Option<Proxy> {
        let host = bare_host(uri.host()?);
        if is_loopback(&host) {
            return None;
        }
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        let normalised: Uri = format!("{}://{host}/", uri.scheme_str()?).parse().ok()?;
        self.0.intercept(&normalised).map(Proxy)
    }
}

/// A URL's host without IPv6 brackets or a trailing dot, in lower case.
fn bare_host(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// `localhost`, `*.localhost`, `127.0.0.0/8` and `::1` (RFC 6761 §6.3).
fn is_loopback(bare: &str) -> bool {
    bare == "localhost"
        || bare.ends_with(".localhost")
        || bare.parse::<IpAddr>().is_ok_and(|i| i.is_loopback())
}

/// A `no_proxy` value in the form hyper-util reads: `*`, `a.b` (itself and its subdomains), an
/// IP address or a CIDR network, comma-separated. Entries that name nothing are dropped.
fn exceptions(v: &str) -> String {
    let one = |e: &str| -> Option<String> {
        if e == "*" {
            return Some(e.to_owned());
        }
        if let Some((net, bits)) = e.split_once('/') {
            let net = net
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .ok()?;
            let max = if net.is_ipv4() { 32 } else { 128 };
            let bits = bits.parse::<u8>().ok().filter(|&b| b <= max)?;
            return Some(format!("{net}/{bits}"));
        }
        // An IPv6 address, bracketed or bare, maybe with a port after the bracket.
        if let Some((a, _)) = e.strip_prefix('[').and_then(|r| r.split_once(']')) {
            return a.parse::<IpAddr>().ok().map(|ip| ip.to_string());
        }
        if let Ok(ip) = e.parse::<IpAddr>() {
            return Some(ip.to_string());
        }
        let name = e.split_once(':').map_or(e, |(h, _)| h);
        if let Ok(ip) = name.parse::<IpAddr>() {
            return Some(ip.to_string());
        }
        let name = name
            .trim_start_matches('*')
            .trim_start_matches('.')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        (!name.is_empty()).then_some(name)
    };
    v.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .take(1000)
        .filter_map(one)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    #[test]
    fn proxy_urls() {
        let p = Proxy::parse("http://proxy.example:3128", "t").unwrap();
        assert_eq!(p.name(), "http://proxy.example:3128");
        assert!(p.authorization().is_none());
        assert_eq!(
            Proxy::parse("proxy:8080/", "t").unwrap().name(),
            "http://proxy:8080"
        );
        assert_eq!(
            Proxy::parse("HTTP://Proxy", "t").unwrap().name(),
            "http://proxy:80"
        );
        assert_eq!(
            Proxy::parse("http://[::1]:3128", "t").unwrap().name(),
            "http://[::1]:3128"
        );
        // A raw '@' in the password, and a user name without a password.
        let p = Proxy::parse("http://u:p@ss@proxy:1", "t").unwrap();
        assert_eq!(p.authorization().unwrap().as_bytes(), b"Basic dTpwQHNz");
        assert_eq!(p.name(), "http://proxy:1");
        let p = Proxy::parse("http://u@proxy:1", "t").unwrap();
        assert_eq!(p.authorization().unwrap().as_bytes(), b"Basic dTo=");
        // RFC 7617 section 2 example, with the password percent-encoded.
        let p = Proxy::parse("http://Aladdin:open%20sesame@10.0.0.1:3128/", "t").unwrap();
        let a = p.authorization().unwrap();
        assert_eq!(a.as_bytes(), b"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert!(a.is_sensitive());
        let debug = format!("{p:?}");
        assert!(
            !debug.contains("QWxh") && !debug.contains("sesame"),
            "{debug}"
        );
        assert!(debug.contains("10.0.0.1:3128"), "{debug}");
        for bad in [
            "https://user:hunter2@proxy:443",
            "socks5://user:hunter2@proxy:1080",
            "http://user:hunter2@proxy:99999",
            "http://user:hunter2@proxy:3128/path",
            "http://user:hunter2@",
            "http://user:hunter2@[::1",
            "http://:hunter2@proxy:1",
            "http://user:hunter2%zz@proxy:1",
        ] {
            let e = Proxy::parse(bad, "--proxy").unwrap_err().to_string();
            assert!(
                e.contains("--proxy") && !e.contains("hunter2"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn environment_and_choice() {
        let vars: &[(&str, &str)] = &[
            ("https_proxy", "http://lower-s:1"),
            ("HTTPS_PROXY", "http://upper-s:1"),
            ("HTTP_PROXY", "http://upper:1"),
            ("NO_PROXY", "intra.example"),
        ];
        let env = |n: &str| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| (*v).to_owned())
        };
        let p = Proxies::resolve_with(&ProxyChoice::Environment, &env).unwrap();
        let name = |u: &str| p.for_uri(&uri(u)).map(|p| p.name());
        assert_eq!(
            name("https://tsa.example/").as_deref(),
            Some("http://lower-s:1")
        );
        assert_eq!(
            name("http://tsa.example/").as_deref(),
            Some("http://upper:1")
        );
        assert_eq!(name("http://crl.intra.example/"), None);
        assert_eq!(name("https://127.0.0.1:8443/"), None);
        assert_eq!(name("http://[::1]/"), None);
        assert_eq!(name("http://localhost:3161/"), None);
        // In a CGI context, HTTP_PROXY may come from the client's "Proxy:" header: ignored.
        let cgi = |n: &str| {
            if n == "REQUEST_METHOD" {
                Some("GET".to_owned())
            } else {
                env(n)
            }
        };
        let p = Proxies::resolve_with(&ProxyChoice::Environment, &cgi).unwrap();
        assert!(p.for_uri(&uri("http://tsa.example/")).is_none());
        assert!(p.for_uri(&uri("https://tsa.example/")).is_some());
        // --proxy overrides the variables, keeps the exceptions; --proxy none turns it off.
        let chosen = ProxyChoice::Url(ProxyUrlText("http://chosen:8080".into()));
        let p = Proxies::resolve_with(&chosen, &env).unwrap();
        assert_eq!(
            p.for_uri(&uri("http://tsa.example/"))
                .map(|p| p.name())
                .as_deref(),
            Some("http://chosen:8080")
        );
        assert!(p.for_uri(&uri("https://x.intra.example/")).is_none());
        let p = Proxies::resolve_with(&ProxyChoice::Off, &env).unwrap();
        assert!(p.for_uri(&uri("https://tsa.example/")).is_none());
        // A bad variable is an error naming the variable, not its value.
        let bad = |n: &str| (n == "https_proxy").then(|| "socks5://u:pw1@x:1".to_owned());
        let e = Proxies::resolve_with(&ProxyChoice::Environment, &bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("https_proxy") && !e.contains("pw1"), "{e}");
        assert!(format!("{chosen:?}").contains("<proxy URL>"));
    }

    #[test]
    fn exceptions() {
        let no_proxy = " example.org, .corp.example ,10.1.2.3, 192.168.0.0/16, [2001:db8::1]:443, \
                        fd00::/8, host.example:8080, *.wild.example, bogus/99,";
        let env = |n: &str| match n {
            "http_proxy" => Some("http://p:1".to_owned()),
            "no_proxy" => Some(no_proxy.to_owned()),
            _ => None,
        };
        let p = Proxies::resolve_with(&ProxyChoice::Environment, &env).unwrap();
        let bypass = |host: &str| p.for_uri(&uri(&format!("http://{host}/"))).is_none();
        for direct in [
            "example.org",
            "tsa.example.org",
            "EXAMPLE.ORG.",
            "corp.example",
            "a.b.corp.example",
            "10.1.2.3",
            "192.168.200.1",
            "[2001:db8::1]",
            "[fd12::5]",
            "host.example",
            "x.wild.example",
            "127.0.0.2",
            "sub.localhost",
        ] {
            assert!(bypass(direct), "{direct}");
        }
        for proxied in [
            "badexample.org",
            "example.org.evil",
            "10.1.2.4",
            "192.169.0.1",
            "[2001:db8::2]",
            "localhost.example",
            "bogus",
        ] {
            assert!(!bypass(proxied), "{proxied}");
        }
        assert_eq!(super::exceptions("*"), "*");
        let all = |n: &str| match n {
            "HTTPS_PROXY" => Some("http://p:1".to_owned()),
            "NO_PROXY" => Some("*".to_owned()),
            _ => None,
        };
        let p = Proxies::resolve_with(&ProxyChoice::Environment, &all).unwrap();
        assert!(p.for_uri(&uri("https://anything.example/")).is_none());
    }
}
