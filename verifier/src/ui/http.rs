//! A small, bounded HTTP/1.1 reader and writer over `std::net` for `inkan-verify ui`.
//!
//! Only what the page needs (RFC 9112): one request per connection (`Connection: close` on
//! every response), a body only by `Content-Length` (RFC 9112 §6.3; `Transfer-Encoding` is
//! refused with 501), a bounded head, a bounded body, a read timeout on every read and a
//! deadline on the whole request. Nothing here trusts the peer: every limit is checked before
//! memory is taken.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// Largest request head (request line and header fields), bytes.
pub const MAX_HEAD: usize = 16 * 1024;
/// Most header fields in a request.
pub const MAX_HEADERS: usize = 64;
/// How long one read may wait for the peer.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request head may take to arrive: a peer without the token cannot hold a
/// connection longer than this.
pub const HEAD_DEADLINE: Duration = Duration::from_secs(15);
/// How long a body may take to arrive once its head has been accepted.
pub const BODY_DEADLINE: Duration = Duration::from_secs(120);

/// A request head.
#[derive(Debug, Default)]
pub struct Head {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, percent-decoded is NOT applied (routes are ASCII).
    pub path: String,
    /// Query parameters, percent-decoded.
    pub query: Vec<(String, String)>,
    /// Header fields, names in lower case.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The value of the one header field `name` (lower case); `Err` when it occurs twice.
    pub fn header(&self, name: &str) -> Result<Option<&str>, ()> {
        let mut it = self.headers.iter().filter(|(k, _)| k == name);
        let first = it.next().map(|(_, v)| v.as_str());
        if it.next().is_some() {
            return Err(());
        }
        Ok(first)
    }
    /// The value of query parameter `name` (the first one).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Why a request was not read; each maps to a status code.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The peer closed or timed out before a whole head arrived (no response is owed).
    Gone,
    /// 400: not a well-formed HTTP/1.1 request.
    Bad(&'static str),
    /// 431: the head is larger than [`MAX_HEAD`] or has more than [`MAX_HEADERS`] fields.
    HeadTooLarge,
    /// 408: the deadline passed.
    Timeout,
}

/// A connection being read, with its deadline.
pub struct Conn<S> {
    /// The stream.
    pub stream: S,
    buf: Vec<u8>,
    deadline: Instant,
}

impl<S: Read + Write> Conn<S> {
    /// Starts reading a request on `stream` (whose read timeout the caller has set).
    pub fn new(stream: S) -> Self {
        Self {
            stream,
            buf: Vec::new(),
            deadline: Instant::now() + HEAD_DEADLINE,
        }
    }

    fn fill(&mut self, want: usize) -> Result<usize, ReadError> {
        if Instant::now() > self.deadline {
            return Err(ReadError::Timeout);
        }
        let mut chunk = vec![0u8; want.clamp(1, 64 * 1024)];
        match self.stream.read(&mut chunk) {
            Ok(0) => Err(ReadError::Gone),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(n)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Err(ReadError::Timeout)
            }
            Err(_) => Err(ReadError::Gone),
        }
    }

    /// Reads and parses the request head.
    pub fn read_head(&mut self) -> Result<Head, ReadError> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                if end + 4 > MAX_HEAD {
                    return Err(ReadError::HeadTooLarge);
                }
                let head = parse_head(&self.buf[..end])?;
                self.buf.drain(..end + 4);
                return Ok(head);
            }
            if self.buf.len() >= MAX_HEAD {
                return Err(ReadError::HeadTooLarge);
            }
            let want = MAX_HEAD - self.buf.len();
            match self.fill(want) {
                Err(ReadError::Timeout) if self.buf.is_empty() => return Err(ReadError::Gone),
                r => r?,
            };
        }
    }

    /// Reads a body of exactly `len` bytes (the caller has checked `len` against its limit
    /// and the request's token), within [`BODY_DEADLINE`] from now.
    pub fn read_body(&mut self, len: usize) -> Result<Vec<u8>, ReadError> {
        self.deadline = Instant::now() + BODY_DEADLINE;
        if self.buf.len() > len {
            return Err(ReadError::Bad("more bytes than Content-Length"));
        }
        self.buf.reserve_exact(len - self.buf.len());
        while self.buf.len() < len {
            let want = len - self.buf.len();
            self.fill(want)?;
        }
        Ok(std::mem::take(&mut self.buf))
    }
}

/// The first position of `needle` in `hay` (Knuth–Morris–Pratt: linear in `hay` whatever
/// the bytes, so an adversarial upload cannot make the search quadratic).
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    find_from(hay, needle, 0)
}

/// As [`find`], starting at `from`.
pub fn find_from(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() {
        return Some(from.min(hay.len()));
    }
    let mut fail = vec![0usize; needle.len()];
    let mut k = 0;
    for i in 1..needle.len() {
        while k > 0 && needle[i] != needle[k] {
            k = fail[k - 1];
        }
        if needle[i] == needle[k] {
            k += 1;
        }
        fail[i] = k;
    }
    let mut q = 0;
    for (i, &b) in hay.iter().enumerate().skip(from) {
        while q > 0 && b != needle[q] {
            q = fail[q - 1];
        }
        if b == needle[q] {
            q += 1;
        }
        if q == needle.len() {
            return Some(i + 1 - q);
        }
    }
    None
}

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// Parses a request head (without the final empty line), RFC 9112 §3 and §5.
pub fn parse_head(bytes: &[u8]) -> Result<Head, ReadError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ReadError::Bad("head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let line = lines.next().ok_or(ReadError::Bad("empty request"))?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Bad("malformed request line"));
    };
    if method.is_empty() || !method.bytes().all(is_tchar) {
        return Err(ReadError::Bad("malformed method"));
    }
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(ReadError::Bad("not HTTP/1.x"));
    }
    // Origin form only (RFC 9112 §3.2.1): the page never sends anything else.
    if !target.starts_with('/') || !target.bytes().all(|c| c.is_ascii_graphic()) {
        return Err(ReadError::Bad("malformed request target"));
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut head = Head {
        method: method.to_owned(),
        path: path.to_owned(),
        query: parse_query(query)?,
        headers: Vec::new(),
    };
    for l in lines {
        if head.headers.len() >= MAX_HEADERS {
            return Err(ReadError::HeadTooLarge);
        }
        // Obsolete line folding is rejected (RFC 9112 §5.2).
        let (name, value) = l.split_once(':').ok_or(ReadError::Bad("malformed field"))?;
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(ReadError::Bad("malformed field name"));
        }
        let value = value.trim_matches([' ', '\t']);
        if value.bytes().any(|c| c < 0x20 && c != b'\t' || c == 0x7f) {
            return Err(ReadError::Bad("control character in a field"));
        }
        head.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
    }
    Ok(head)
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes one query component (`+` is a space, as forms write it).
pub fn percent_decode(s: &str) -> Result<String, ReadError> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let (Some(h), Some(l)) = (
                    b.get(i + 1).copied().and_then(hex),
                    b.get(i + 2).copied().and_then(hex),
                ) else {
                    return Err(ReadError::Bad("malformed percent-encoding"));
                };
                out.push(h << 4 | l);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| ReadError::Bad("query is not UTF-8"))
}

fn parse_query(q: &str) -> Result<Vec<(String, String)>, ReadError> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            Ok((percent_decode(k)?, percent_decode(v)?))
        })
        .collect()
}

/// A response.
#[derive(Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Header fields besides the ones every response carries.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A response with a body of `content_type`.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: vec![("Content-Type", content_type.to_owned())],
            body: body.into(),
        }
    }
    /// A plain-text response (refusals and errors).
    pub fn text(status: u16, body: &str) -> Self {
        Self::new(status, "text/plain; charset=utf-8", format!("{body}\n"))
    }
    /// Adds a header field.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        303 => "See Other",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// Header fields on every response: nothing is cached, sniffed, framed or loaded from
/// elsewhere (the Content-Security-Policy allows this origin only, CSP Level 3), and the
/// URL with its token is never sent as a referrer to another origin.
pub const SECURITY_HEADERS: [(&str, &str); 7] = [
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
         connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("Cache-Control", "no-store"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
];

/// Writes `r` (with the security header fields and `Connection: close`).
pub fn write_response(w: &mut impl Write, r: &Response, head_only: bool) -> std::io::Result<()> {
    let mut out = format!("HTTP/1.1 {} {}\r\n", r.status, reason(r.status));
    for (k, v) in SECURITY_HEADERS {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    for (k, v) in &r.headers {
        // Values are ours; never let one end the head.
        let v: String = v.chars().filter(|c| !c.is_control()).collect();
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        r.body.len()
    ));
    w.write_all(out.as_bytes())?;
    if !head_only {
        w.write_all(&r.body)?;
    }
    w.flush()
}

/// One part of a `multipart/form-data` body (RFC 7578).
#[derive(Debug)]
pub struct Part {
    /// The form field's name.
    pub name: String,
    /// The file's name, when the part is a file.
    pub filename: Option<String>,
    /// Where its bytes are in the body (kept as a range, so that the largest part can take
    /// over the body's memory instead of being copied).
    pub range: std::ops::Range<usize>,
}

/// Most parts in one form.
pub const MAX_PARTS: usize = 64;

/// The boundary of a `multipart/form-data` Content-Type (RFC 2046 §5.1.1: 1 to 70
/// characters), or `None` when the type is another.
pub fn boundary(content_type: &str) -> Option<String> {
    let mut it = content_type.split(';');
    if !it
        .next()?
        .trim()
        .eq_ignore_ascii_case("multipart/form-data")
    {
        return None;
    }
    for p in it {
        let (k, v) = p.split_once('=')?;
        if k.trim().eq_ignore_ascii_case("boundary") {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v);
            return (1..=70).contains(&v.len()).then(|| v.to_owned());
        }
    }
    None
}

fn disposition_param(d: &str, name: &str) -> Option<String> {
    // `form-data; name="x"; filename="y"`: quoted values may hold `;` (RFC 7578 §4.2), so
    // walk the quotes instead of splitting.
    let mut rest = d;
    while let Some(i) = rest.find(name) {
        let before = rest[..i].trim_end();
        let after = &rest[i + name.len()..];
        if (before.ends_with(';') || before.is_empty())
            && let Some(v) = after.trim_start().strip_prefix('=')
        {
            let v = v.trim_start();
            if let Some(q) = v.strip_prefix('"') {
                let mut out = String::new();
                let mut chars = q.chars();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => return Some(out),
                        '\\' => out.push(chars.next()?),
                        c => out.push(c),
                    }
                }
                return None;
            }
            return Some(v.split(';').next().unwrap_or("").trim().to_owned());
        }
        rest = after;
    }
    None
}

/// Splits a `multipart/form-data` body into its parts (RFC 7578, RFC 2046 §5.1.1).
pub fn multipart(body: &[u8], boundary: &str) -> Result<Vec<Part>, &'static str> {
    let delim = format!("--{boundary}");
    let inner = format!("\r\n--{boundary}");
    let start = find(body, delim.as_bytes()).ok_or("no multipart boundary")?;
    let mut pos = start + delim.len();
    let mut parts = Vec::new();
    loop {
        let rest = &body[pos..];
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        if !rest.starts_with(b"\r\n") {
            return Err("malformed multipart boundary line");
        }
        pos += 2;
        let head_end = find(&body[pos..body.len().min(pos + 8192)], b"\r\n\r\n")
            .ok_or("multipart part header missing or too large")?;
        let head = std::str::from_utf8(&body[pos..pos + head_end])
            .map_err(|_| "multipart part header is not UTF-8")?;
        let content = pos + head_end + 4;
        let end = find_from(body, inner.as_bytes(), content).ok_or("multipart body not closed")?;
        let mut name = None;
        let mut filename = None;
        for l in head.split("\r\n") {
            if let Some((k, v)) = l.split_once(':')
                && k.trim().eq_ignore_ascii_case("content-disposition")
            {
                name = disposition_param(v, "name");
                filename = disposition_param(v, "filename");
            }
        }
        if parts.len() >= MAX_PARTS {
            return Err("too many parts");
        }
        parts.push(Part {
            name: name.ok_or("multipart part without a name")?,
            filename,
            range: content..end,
        });
        pos = end + inner.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream reading from a script of chunks and recording what is written.
    struct Script {
        chunks: std::collections::VecDeque<Vec<u8>>,
        out: Vec<u8>,
    }

    impl Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let Some(mut c) = self.chunks.pop_front() else {
                return Err(std::io::ErrorKind::WouldBlock.into());
            };
            let n = c.len().min(buf.len());
            buf[..n].copy_from_slice(&c[..n]);
            if n < c.len() {
                c.drain(..n);
                self.chunks.push_front(c);
            }
            Ok(n)
        }
    }
    impl Write for Script {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.out.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn conn(chunks: &[&[u8]]) -> Conn<Script> {
        Conn::new(Script {
            chunks: chunks.iter().map(|c| c.to_vec()).collect(),
            out: Vec::new(),
        })
    }

    #[test]
    fn heads_in_pieces_and_bodies() {
        let mut c = conn(&[
            b"POST /verify?token=ab%20c&lang=ja HTTP/1.1\r\nHo",
            b"st: 127.0.0.1:8\r\nContent-Length: 5\r\n\r\nhel",
            b"lo",
        ]);
        let h = c.read_head().unwrap();
        assert_eq!((h.method.as_str(), h.path.as_str()), ("POST", "/verify"));
        assert_eq!(h.param("token"), Some("ab c"));
        assert_eq!(h.param("lang"), Some("ja"));
        assert_eq!(h.header("host"), Ok(Some("127.0.0.1:8")));
        assert_eq!(c.read_body(5).unwrap(), b"hello");
    }

    #[test]
    fn malformed_and_oversized_heads_are_refused() {
        for bad in [
            &b"GET  / HTTP/1.1\r\n\r\n"[..],
            b"GET http://x/ HTTP/1.1\r\n\r\n",
            b"GET / HTTP/2\r\n\r\n",
            b"GET / HTTP/1.1\r\n folded\r\n\r\n",
            b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
            b"GET /?a=%zz HTTP/1.1\r\n\r\n",
            b"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n",
        ] {
            assert!(
                matches!(conn(&[bad]).read_head(), Err(ReadError::Bad(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(
            conn(&[big.as_bytes()]).read_head().unwrap_err(),
            ReadError::HeadTooLarge
        );
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X{i}: y\r\n")).collect();
        let many = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(
            conn(&[many.as_bytes()]).read_head().unwrap_err(),
            ReadError::HeadTooLarge
        );
        // A peer that stops sending mid-head or mid-body is timed out, not waited for.
        assert_eq!(
            conn(&[b"GET / HT"]).read_head().unwrap_err(),
            ReadError::Timeout
        );
        let mut c = conn(&[b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc"]);
        c.read_head().unwrap();
        assert_eq!(c.read_body(9).unwrap_err(), ReadError::Timeout);
        // Duplicate fields are visible as such.
        let h = parse_head(b"GET / HTTP/1.1\r\nHost: a\r\nhost: b").unwrap();
        assert_eq!(h.header("host"), Err(()));
    }

    #[test]
    fn search_is_linear_and_exact() {
        assert_eq!(find(b"abcabd", b"abd"), Some(3));
        assert_eq!(find(b"aaaaab", b"aab"), Some(3));
        assert_eq!(find_from(b"xx--b--b", b"--b", 3), Some(5));
        assert_eq!(find(b"abc", b"abcd"), None);
        let hay = vec![b'-'; 1 << 20];
        assert_eq!(find(&hay, b"--x"), None);
    }

    #[test]
    fn multipart_forms() {
        let body = b"preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"signature\"; filename=\"a;b \\\"q\\\".p7s\"\r\nContent-Type: application/octet-stream\r\n\r\n\x00\r\n--Xy\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name=\"data\"; filename=\"\"\r\n\r\n\r\n--XyZ--\r\n";
        let parts = multipart(body, "XyZ").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "signature");
        assert_eq!(parts[0].filename.as_deref(), Some("a;b \"q\".p7s"));
        assert_eq!(&body[parts[0].range.clone()], b"\x00\r\n--Xy\r\n");
        assert_eq!(parts[1].name, "data");
        assert!(parts[1].range.is_empty());
        assert_eq!(
            boundary("multipart/form-data; boundary=\"XyZ\"").as_deref(),
            Some("XyZ")
        );
        assert_eq!(boundary("text/plain; boundary=a"), None);
        assert_eq!(
            boundary(&format!("multipart/form-data; boundary={}", "a".repeat(71))),
            None
        );
        for bad in [
            &b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end"[..],
            b"no boundary at all",
            b"--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--",
            b"--XyZjunk",
        ] {
            assert!(multipart(bad, "XyZ").is_err());
        }
        let many: String = (0..=MAX_PARTS)
            .map(|_| "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n\r\n")
            .collect();
        assert_eq!(
            multipart(format!("{many}--b--").as_bytes(), "b").unwrap_err(),
            "too many parts"
        );
    }

    #[test]
    fn mutated_requests_never_panic() {
        // Deterministic mutations (xorshift) of a real request head and form: every reader of
        // the peer's bytes answers with a value or an error, never a panic.
        let head = b"POST /verify?token=ab&lang=ja HTTP/1.1\r\nHost: 127.0.0.1:1\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 9\r\n";
        let form = b"--b\r\nContent-Disposition: form-data; name=\"signature\"; filename=\"a\\\"b\"\r\n\r\nxyz\r\n--b\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n\r\n--b--\r\n";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let alphabet = b"\r\n:;=\"\\-%?&/ b\x00\xff";
        for round in 0..20_000 {
            let base: &[u8] = if round % 2 == 0 { head } else { form };
            let mut v = base.to_vec();
            for _ in 0..1 + next() % 4 {
                let i = (next() as usize) % (v.len() + 1);
                match next() % 3 {
                    0 if i < v.len() => {
                        v.remove(i);
                    }
                    1 if i < v.len() => v[i] = alphabet[(next() as usize) % alphabet.len()],
                    _ => v.insert(i, alphabet[(next() as usize) % alphabet.len()]),
                }
            }
            if let Ok(h) = parse_head(&v) {
                let _ = (h.header("host"), h.param("token"));
                if let Ok(Some(ct)) = h.header("content-type") {
                    let _ = boundary(ct);
                }
            }
            let _ = multipart(&v, "b");
            let _ = percent_decode(&String::from_utf8_lossy(&v));
        }
    }

    #[test]
    fn responses_carry_the_security_fields() {
        let mut out = Vec::new();
        write_response(
            &mut out,
            &Response::text(403, "no").with("X-Test", "a\r\nInjected: 1"),
            false,
        )
        .unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(s.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{s}");
        assert!(s.contains("Content-Security-Policy: default-src 'none';"));
        assert!(s.contains("X-Test: aInjected: 1\r\n"), "{s}");
        assert!(s.contains("Connection: close\r\n") && s.ends_with("\r\n\r\nno\n"));
    }
}
