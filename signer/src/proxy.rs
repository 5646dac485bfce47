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
//! - **Credentials** in the proxy URL (percent-decoded) are sent as Basic
//!   `Proxy-Authorization` (RFC 7235, RFC 7617), kept only as the encoded header value
//!   (marked sensitive), and appear in no `Debug` output, log line or error message: the proxy
//!   is named as `http://host:port`.
//! - **Which setting wins.** `--proxy URL` overrides the environment, `--proxy none` turns
//!   proxies off. Without `--proxy`: `https://` targets use `https_proxy`, else `HTTPS_PROXY`;
//!   `http://` targets use `http_proxy`, and the upper-case `HTTP_PROXY` only outside CGI (when
//!   `REQUEST_METHOD` is not set): a CGI server turns a request's `Proxy:` header into
//!   `HTTP_PROXY` ("httpoxy"), so in that context only the lower-case name can be trusted. An
//!   empty value counts as unset.
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

use std::net::IpAddr;

use hyper::header::HeaderValue;

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
pub struct Proxy {
    host: String,
    port: u16,
    authorization: Option<HeaderValue>,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("at", &self.name())
            .field(
                "credentials",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl Proxy {
    /// Parses `http://[user:pass@]host[:port][/]`. Errors never repeat the URL (it may hold a
    /// password); `origin` says where it came from (`--proxy`, `https_proxy`, ...).
    pub fn parse(url: &str, origin: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("the proxy URL of {origin} is not usable: {why}");
        let url = url.trim();
        let rest = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((scheme, _)) => {
                let scheme: String = scheme
                    .chars()
                    .take(10)
                    .filter(char::is_ascii_alphanumeric)
                    .collect();
                return Err(bad(&format!(
                    "scheme {scheme:?}: only http:// proxies are supported (no https:// to the \
                     proxy, no SOCKS)"
                )));
            }
            None => url,
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#']) {
            return Err(bad(
                "a proxy URL is http://[user:pass@]host:port, without a path",
            ));
        }
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
            if h.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(bad("not an IPv6 address between [ and ]"));
            }
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(|| bad("text after ']'"))?),
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
            return Err(bad("no valid host"));
        }
        let port = match port {
            None => 80,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?,
        };
        let authorization = match userinfo {
            None => None,
            Some(u) => {
                let (user, pass) = u.split_once(':').unwrap_or((u, ""));
                let user = zeroize::Zeroizing::new(
                    percent_decode(user).ok_or_else(|| bad("bad %-escape in the user name"))?,
                );
                let pass = zeroize::Zeroizing::new(
                    percent_decode(pass).ok_or_else(|| bad("bad %-escape in the password"))?,
                );
                if user.is_empty() || user.contains(&b':') || user.iter().any(u8::is_ascii_control)
                {
                    return Err(bad(
                        "the user name must be non-empty, without ':' or control characters",
                    ));
                }
                Some(
                    crate::tsa_client::basic_value(&user, &pass)
                        .map_err(|_| bad("the credentials do not encode"))?,
                )
            }
        };
        Ok(Self {
            host: host.to_ascii_lowercase(),
            port,
            authorization,
        })
    }

    /// `http://host:port`, without credentials: how errors name the proxy.
    pub fn name(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    /// `host:port` (IPv6 bracketed).
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The `Proxy-Authorization` value (sensitive), when the URL had credentials.
    pub fn authorization(&self) -> Option<&HeaderValue> {
        self.authorization.as_ref()
    }
}

fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
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
    Some(out)
}

/// One `no_proxy` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Exception {
    All,
    Domain(String),
    Ip(IpAddr),
    Net(IpAddr, u8),
}

/// The proxies of a run: one for `http://` targets, one for `https://` targets, and the
/// exceptions. `Debug` never shows credentials.
#[derive(Clone, Debug, Default)]
pub struct Proxies {
    http: Option<Proxy>,
    https: Option<Proxy>,
    exceptions: Vec<Exception>,
}

impl Proxies {
    /// No proxy at all.
    pub fn none() -> Self {
        Self::default()
    }

    /// The proxies `choice` asks for, reading the process environment.
    pub fn resolve(choice: &ProxyChoice) -> Result<Self, String> {
        Self::resolve_with(choice, &|n| std::env::var(n).ok())
    }

    /// As [`Proxies::resolve`], with the environment looked up through `env`.
    pub fn resolve_with(
        choice: &ProxyChoice,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, String> {
        let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let exceptions = || {
            get("no_proxy")
                .or_else(|| get("NO_PROXY"))
                .map(|v| parse_exceptions(&v))
                .unwrap_or_default()
        };
        match choice {
            ProxyChoice::Off => Ok(Self::none()),
            ProxyChoice::Url(u) => {
                let p = Proxy::parse(&u.0, "--proxy")?;
                Ok(Self {
                    http: Some(p.clone()),
                    https: Some(p),
                    exceptions: exceptions(),
                })
            }
            ProxyChoice::Environment => {
                let https = match (get("https_proxy"), get("HTTPS_PROXY")) {
                    (Some(v), _) => Some(Proxy::parse(&v, "https_proxy")?),
                    (None, Some(v)) => Some(Proxy::parse(&v, "HTTPS_PROXY")?),
                    (None, None) => None,
                };
                let cgi = env("REQUEST_METHOD").is_some();
                let http = match (get("http_proxy"), get("HTTP_PROXY")) {
                    (Some(v), _) => Some(Proxy::parse(&v, "http_proxy")?),
                    (None, Some(v)) if !cgi => Some(Proxy::parse(&v, "HTTP_PROXY")?),
                    _ => None,
                };
                Ok(Self {
                    http,
                    https,
                    exceptions: exceptions(),
                })
            }
        }
    }

    /// The proxy for `uri`, or `None` to connect directly.
    pub fn for_uri(&self, uri: &hyper::Uri) -> Option<&Proxy> {
        let p = match uri.scheme_str() {
            Some("https") => self.https.as_ref()?,
            Some("http") => self.http.as_ref()?,
            _ => return None,
        };
        let host = uri.host()?;
        (!self.bypass(host)).then_some(p)
    }

    /// Whether `host` (as in a URL) is reached directly: loopback, or named by an exception.
    pub fn bypass(&self, host: &str) -> bool {
        let bare = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let ip = bare.parse::<IpAddr>().ok();
        if bare == "localhost"
            || bare.ends_with(".localhost")
            || ip.is_some_and(|i| i.is_loopback())
        {
            return true;
        }
        self.exceptions.iter().any(|e| match e {
            Exception::All => true,
            Exception::Domain(d) => {
                bare == *d
                    || (bare.len() > d.len()
                        && bare.ends_with(d.as_str())
                        && bare.as_bytes()[bare.len() - d.len() - 1] == b'.')
            }
            Exception::Ip(a) => ip == Some(*a),
            Exception::Net(net, bits) => ip.is_some_and(|i| in_net(i, *net, *bits)),
        })
    }
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

fn parse_exceptions(v: &str) -> Vec<Exception> {
    v.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .take(1000)
        .filter_map(|e| {
            if e == "*" {
                return Some(Exception::All);
            }
            if let Some((net, bits)) = e.split_once('/') {
                let net = net
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
                    .ok()?;
                let max = if net.is_ipv4() { 32 } else { 128 };
                let bits = bits.parse::<u8>().ok().filter(|&b| b <= max)?;
                return Some(Exception::Net(net, bits));
            }
            // An IPv6 address, bracketed or bare, maybe with a port after the bracket.
            let unbracketed = e.strip_prefix('[').and_then(|r| r.split_once(']'));
            if let Some((a, _)) = unbracketed {
                return a.parse().ok().map(Exception::Ip);
            }
            if let Ok(ip) = e.parse::<IpAddr>() {
                return Some(Exception::Ip(ip));
            }
            let name = e.split_once(':').map_or(e, |(h, _)| h);
            if let Ok(ip) = name.parse::<IpAddr>() {
                return Some(Exception::Ip(ip));
            }
            let name = name
                .trim_start_matches('*')
                .trim_start_matches('.')
                .trim_end_matches('.')
                .to_ascii_lowercase();
            (!name.is_empty()).then_some(Exception::Domain(name))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> hyper::Uri {
        s.parse().unwrap()
    }

    #[test]
    fn proxy_urls() {
        let p = Proxy::parse("http://proxy.example:3128", "t").unwrap();
        assert_eq!(p.name(), "http://proxy.example:3128");
        assert!(p.authorization().is_none());
        assert_eq!(
            Proxy::parse("proxy:8080/", "t").unwrap().authority(),
            "proxy:8080"
        );
        assert_eq!(
            Proxy::parse("HTTP://Proxy", "t").unwrap().name(),
            "http://proxy:80"
        );
        assert_eq!(
            Proxy::parse("http://[::1]:3128", "t").unwrap().authority(),
            "[::1]:3128"
        );
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
            let e = Proxy::parse(bad, "--proxy").unwrap_err();
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
        let name = |u: &str| p.for_uri(&uri(u)).map(Proxy::name);
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
                .map(Proxy::name)
                .as_deref(),
            Some("http://chosen:8080")
        );
        assert!(p.for_uri(&uri("https://x.intra.example/")).is_none());
        let p = Proxies::resolve_with(&ProxyChoice::Off, &env).unwrap();
        assert!(p.for_uri(&uri("https://tsa.example/")).is_none());
        // A bad variable is an error naming the variable, not its value.
        let bad = |n: &str| (n == "https_proxy").then(|| "socks5://u:pw1@x:1".to_owned());
        let e = Proxies::resolve_with(&ProxyChoice::Environment, &bad).unwrap_err();
        assert!(e.contains("https_proxy") && !e.contains("pw1"), "{e}");
        assert!(format!("{chosen:?}").contains("<proxy URL>"));
    }

    #[test]
    fn exceptions() {
        let p = Proxies {
            http: Some(Proxy::parse("http://p:1", "t").unwrap()),
            https: None,
            exceptions: parse_exceptions(
                " example.org, .corp.example ,10.1.2.3, 192.168.0.0/16, [2001:db8::1]:443, \
                 fd00::/8, host.example:8080, *.wild.example, bogus/99,",
            ),
        };
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
            assert!(p.bypass(direct), "{direct}");
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
            assert!(!p.bypass(proxied), "{proxied}");
        }
        assert_eq!(parse_exceptions("*"), [Exception::All]);
        assert!(
            Proxies {
                exceptions: parse_exceptions("*"),
                ..Proxies::default()
            }
            .bypass("anything.example")
        );
    }
}
