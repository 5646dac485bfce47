//! `inkan-verify ui`: the verifier as a page in the browser, for people who do not use a
//! terminal.
//!
//! A small HTTP/1.1 server ([`http`], `std::net` only: the verifying library links no network
//! crate) listens on a loopback address and serves one page embedded in the binary. The person
//! picks or drops a signed PDF, or a signature or time-stamp file (and, for a detached one, the
//! data), may add trust anchors, CRLs and OCSP responses for this verification only, and reads
//! the verdict in Japanese or English: the words, colours and codes of the CLI report
//! (`report::Report::verdict`, `Sub::explain`, `Report::to_text`, for a PDF's signatures
//! `pdf::place_text`: one source for both).
//!
//! Security (it is an attack surface on a shared machine):
//! - loopback only: a `--listen` address that is not loopback is refused at start;
//! - a 256-bit token from the operating system's random source is in the URL printed first on
//!   standard output; every request must carry it (`?token=`, compared in constant time), so
//!   other local users and web pages cannot use the server;
//! - `Host` must be this server's address and port (DNS rebinding), and `Origin`, when sent,
//!   its origin; a POST without `Origin` is refused (cross-site form posts);
//! - the token is checked before a body is read; bodies are bounded ([`MAX_BODY`], each file by
//!   the verifier's input limit) and held in memory only, one upload at a time, dropped once the
//!   report is made; at most [`MAX_CONNECTIONS`] connections, each with read timeouts and a
//!   deadline;
//! - the page loads nothing from elsewhere (Content-Security-Policy `default-src 'none'` with
//!   this origin only for styles, scripts and forms) and sends nothing anywhere else.

mod http;

use std::collections::VecDeque;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use inkan_profiles::clock::{Clock, SystemClock};
use inkan_verifier::cli::{EXIT_SOFTWARE, EXIT_USAGE, UiArgs};
use inkan_verifier::input::MAX_INPUT;
use inkan_verifier::report::{Indication, Lang, Report, Sub, printable};
use inkan_verifier::{Data, Input, Options, Validator};

use http::{Head, ReadError, Response};

/// Largest upload (the whole form: signature, data, anchors, CRLs, OCSP responses). Each
/// file but the data is also bounded by the verifier's input limit ([`MAX_INPUT`]).
pub const MAX_BODY: usize = 2 * MAX_INPUT;
/// Most connections served at once; more are answered 503 at once.
pub const MAX_CONNECTIONS: usize = 8;
/// How many reports are kept (in memory) for their result page and JSON download.
pub const KEPT_REPORTS: usize = 16;

const PAGE: &str = include_str!("ui/page.html");
const CSS: &str = include_str!("ui/page.css");
const JS: &str = include_str!("ui/page.js");

/// The address to listen on: loopback only.
fn listen_address(s: Option<&str>) -> Result<SocketAddr, String> {
    let s = s.unwrap_or("127.0.0.1:0");
    let a: SocketAddr = s.parse().map_err(|_| {
        format!("--listen {s}: not an address and port (give one such as 127.0.0.1:8080)")
    })?;
    if !a.ip().is_loopback() {
        return Err(format!(
            "--listen {s}: not a loopback address; the page is served to this computer only \
             (127.0.0.1 or [::1])"
        ));
    }
    Ok(a)
}

/// A random token of 256 bits from the operating system, in hexadecimal.
fn new_token() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut b)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// A report kept for its result page and its JSON download.
struct Kept {
    id: String,
    report: Report,
    file: String,
    data: Option<String>,
    added_anchors: Vec<String>,
}

/// What every connection shares.
struct State {
    token: String,
    /// `127.0.0.1:PORT` (or `[::1]:PORT`): the only `Host` accepted.
    host: String,
    /// `http://` + host: the only `Origin` accepted.
    origin: String,
    base: Options,
    /// The names of the trust anchors given at start.
    anchors: Vec<String>,
    validator: Validator,
    kept: Mutex<VecDeque<Kept>>,
    /// Held while an upload is read and verified: one at a time bounds the memory.
    upload: Mutex<()>,
    connections: AtomicUsize,
}

/// Runs `inkan-verify ui` with its parsed flags; returns the exit status.
pub fn run(a: UiArgs) -> u8 {
    let addr = match listen_address(a.listen.as_deref()) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("inkan-verify ui: {e}");
            return EXIT_USAGE;
        }
    };
    let base = match a.material.options() {
        Ok(o) => o,
        Err(c) => return c,
    };
    let anchors: Vec<String> = base
        .trust
        .iter()
        .flat_map(|b| inkan_verifier::x509::certificates_from_pem_or_der(b))
        .map(|c| c.display_name())
        .collect();
    let token = match new_token() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("inkan-verify ui: no random token from the operating system: {e}");
            return EXIT_SOFTWARE;
        }
    };
    let listener = match TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("inkan-verify ui: cannot listen on {addr}: {e}");
            return EXIT_SOFTWARE;
        }
    };
    let bound = match listener.local_addr() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("inkan-verify ui: {e}");
            return EXIT_SOFTWARE;
        }
    };
    let host = bound.to_string();
    let url = format!("http://{host}/?token={token}");
    // The URL is the first line of standard output, flushed at once so that a
    // script reading it does not wait.
    {
        let mut out = std::io::stdout().lock();
        if writeln!(out, "{url}").and_then(|()| out.flush()).is_err() {
            return EXIT_SOFTWARE;
        }
    }
    eprintln!(
        "inkan-verify ui: open the address above in a browser on this computer; Ctrl-C stops the server"
    );
    if a.open {
        open_browser(&url);
    }
    let state = Arc::new(State {
        origin: format!("http://{host}"),
        host,
        token,
        base,
        anchors,
        validator: Validator::default(),
        kept: Mutex::new(VecDeque::new()),
        upload: Mutex::new(()),
        connections: AtomicUsize::new(0),
    });
    serve(&listener, &state);
    EXIT_SOFTWARE
}

/// Starts the desktop's browser on `url` (freedesktop `xdg-open`; `open` on macOS).
fn open_browser(url: &str) {
    let program = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let r = std::process::Command::new(program)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match r {
        // Reaped on its own thread (no zombie); a failure is said, the server goes on.
        Ok(mut child) => {
            let _ = std::thread::Builder::new()
                .name("inkan-ui-open".into())
                .spawn(move || {
                    if !child.wait().is_ok_and(|s| s.success()) {
                        eprintln!(
                            "inkan-verify ui: {program} could not start a browser; open the address yourself"
                        );
                    }
                });
        }
        Err(e) => eprintln!(
            "inkan-verify ui: cannot start the browser ({program}: {e}); open the address yourself"
        ),
    }
}

/// Accepts connections until the listener fails; each is served on its own thread, at most
/// [`MAX_CONNECTIONS`] at once.
fn serve(listener: &TcpListener, state: &Arc<State>) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        if state.connections.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            state.connections.fetch_sub(1, Ordering::SeqCst);
            let mut stream = stream;
            let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
            let _ = http::write_response(
                &mut stream,
                &Response::text(503, "busy: too many connections / 接続が多すぎます"),
                false,
            );
            continue;
        }
        let shared = state.clone();
        let spawned = std::thread::Builder::new()
            .name("inkan-ui".into())
            .spawn(move || {
                handle(&shared, stream);
                shared.connections.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            state.connections.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

fn handle(state: &State, stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(http::READ_TIMEOUT));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(30)));
    let _ = stream.set_nodelay(true);
    let mut conn = http::Conn::new(stream);
    let (response, head_only) = match conn.read_head() {
        Ok(head) => {
            let r = respond(state, &head, &mut conn);
            (r, head.method == "HEAD")
        }
        Err(ReadError::Gone) => return,
        Err(ReadError::Bad(why)) => (Response::text(400, why), false),
        Err(ReadError::HeadTooLarge) => (Response::text(431, "request head too large"), false),
        Err(ReadError::Timeout) => (Response::text(408, "request too slow"), false),
    };
    let _ = http::write_response(&mut conn.stream, &response, head_only);
    let _ = conn.stream.shutdown(std::net::Shutdown::Write);
    // A refused upload may still be arriving: read (and drop) a bounded amount for a short
    // while, so that closing does not reset the connection before the browser has read the
    // answer (RFC 9112 §9.6).
    let _ = conn
        .stream
        .set_read_timeout(Some(Duration::from_millis(500)));
    let start = std::time::Instant::now();
    let mut sink = [0u8; 16 * 1024];
    let mut drained = 0usize;
    while drained < 8 << 20 && start.elapsed() < Duration::from_secs(2) {
        match std::io::Read::read(&mut conn.stream, &mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
}

/// Constant-time equality of two byte strings of the same length.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Why a request is refused before anything else is done with it, or `None`.
fn refusal(state: &State, head: &Head) -> Option<Response> {
    const FORBIDDEN: &str = "refused: ";
    match head.header("host") {
        Ok(Some(h)) if h.eq_ignore_ascii_case(&state.host) => {}
        Ok(_) => {
            return Some(Response::text(
                403,
                &format!(
                    "{FORBIDDEN}the Host is not this server's loopback address and port / Host がこのサーバのループバックアドレスとポートではありません"
                ),
            ));
        }
        Err(()) => return Some(Response::text(400, "two Host fields")),
    }
    if !head
        .param("token")
        .is_some_and(|t| same(t.as_bytes(), state.token.as_bytes()))
    {
        return Some(Response::text(
            403,
            &format!(
                "{FORBIDDEN}this address needs the token printed by inkan-verify ui (open the whole address it printed) / inkan-verify ui が表示したアドレス(トークン付き)をそのまま開いてください"
            ),
        ));
    }
    match head.header("origin") {
        Ok(Some(o)) if o.eq_ignore_ascii_case(&state.origin) => {}
        Ok(Some(_)) => {
            return Some(Response::text(
                403,
                &format!("{FORBIDDEN}request from another site / 他のサイトからの要求です"),
            ));
        }
        Ok(None) if head.method == "POST" => {
            return Some(Response::text(
                403,
                &format!(
                    "{FORBIDDEN}a form must come from this page / フォームはこのページから送信してください"
                ),
            ));
        }
        Ok(None) => {}
        Err(()) => return Some(Response::text(400, "two Origin fields")),
    }
    None
}

/// The language: `?lang=`, else the best of `ja` and `en` in `Accept-Language` (RFC 9110
/// §12.5.4), else English.
fn language(head: &Head) -> Lang {
    match head.param("lang") {
        Some("ja") => return Lang::Ja,
        Some("en") => return Lang::En,
        _ => {}
    }
    accept_language(head.header("accept-language").ok().flatten().unwrap_or(""))
}

fn accept_language(v: &str) -> Lang {
    let mut best: Option<(u32, Lang)> = None;
    for item in v.split(',').take(32) {
        let mut it = item.split(';');
        let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
        let primary = tag.split('-').next().unwrap_or("");
        let lang = match primary {
            "ja" => Lang::Ja,
            "en" => Lang::En,
            _ => continue,
        };
        let mut q = 1000u32;
        for p in it {
            if let Some(x) = p.trim().strip_prefix("q=") {
                q = x
                    .parse::<f32>()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q))
                    .map_or(0, |q| (q * 1000.0) as u32);
            }
        }
        if q > 0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, lang));
        }
    }
    best.map_or(Lang::En, |(_, l)| l)
}

fn respond(state: &State, head: &Head, conn: &mut http::Conn<TcpStream>) -> Response {
    if let Some(r) = refusal(state, head) {
        return r;
    }
    let lang = language(head);
    let get = matches!(head.method.as_str(), "GET" | "HEAD");
    let path = head.path.as_str();
    let result_id = path.strip_prefix("/result/");
    match (head.method.as_str(), path) {
        (_, "/") if get => html(200, index_page(state, lang, None)),
        (_, "/page.css") if get => Response::new(200, "text/css; charset=utf-8", CSS),
        (_, "/page.js") if get => Response::new(200, "text/javascript; charset=utf-8", JS),
        (_, "/favicon.ico") if get => Response::new(204, "image/x-icon", Vec::new()),
        ("POST", "/verify") => upload(state, head, conn, lang),
        _ if get && result_id.is_some() => {
            let rest = result_id.unwrap_or("");
            let (id, json) = match rest.strip_suffix("/report.json") {
                Some(id) => (id, true),
                None => (rest, false),
            };
            let kept = state.kept.lock().unwrap_or_else(|e| e.into_inner());
            match kept.iter().find(|k| same(k.id.as_bytes(), id.as_bytes())) {
                Some(k) if json => {
                    Response::new(200, "application/json", format!("{}\n", k.report.to_json()))
                        .with(
                            "Content-Disposition",
                            format!(
                                "attachment; filename=\"inkan-verify-report-{}.json\"",
                                &k.id[..8]
                            ),
                        )
                }
                Some(k) => html(200, result_page(state, lang, k)),
                None => html(
                    404,
                    index_page(
                        state,
                        lang,
                        Some(t(
                            lang,
                            "This result is no longer kept (only the latest ones are). Verify the file again.",
                            "この結果はもう保持されていません(最近のものだけを保持します)。もう一度検証してください。",
                        )),
                    ),
                ),
            }
        }
        ("POST", _) | ("GET" | "HEAD", _) => Response::text(404, "not found"),
        _ => Response::text(405, "method not allowed").with("Allow", "GET, HEAD, POST"),
    }
}

fn html(status: u16, body: String) -> Response {
    Response::new(status, "text/html; charset=utf-8", body)
}

/// Reads, checks and verifies an upload; answers with a redirect to the result page
/// (POST/redirect/GET, so that reloading the page does not send the files again).
fn upload(state: &State, head: &Head, conn: &mut http::Conn<TcpStream>, lang: Lang) -> Response {
    let problem = |status: u16, en: &str, ja: &str| {
        html(status, index_page(state, lang, Some(t(lang, en, ja))))
    };
    if head.headers.iter().any(|(k, _)| k == "transfer-encoding") {
        return Response::text(
            501,
            "Transfer-Encoding is not supported; send Content-Length",
        );
    }
    let len = match head.header("content-length") {
        Ok(Some(v)) if !v.is_empty() && v.len() <= 12 && v.bytes().all(|c| c.is_ascii_digit()) => {
            v.parse::<usize>().unwrap_or(usize::MAX)
        }
        Ok(None) => return Response::text(411, "Content-Length required"),
        _ => return Response::text(400, "malformed Content-Length"),
    };
    if len > MAX_BODY {
        return problem(
            413,
            &format!(
                "The files are too large for this page (at most {} MiB in all). Use the inkan-verify command for larger ones.",
                MAX_BODY >> 20
            ),
            &format!(
                "ファイルが大きすぎます(合計 {} MiB まで)。より大きなファイルは inkan-verify コマンドで検証してください。",
                MAX_BODY >> 20
            ),
        );
    }
    let Some(boundary) = head
        .header("content-type")
        .ok()
        .flatten()
        .and_then(http::boundary)
    else {
        return Response::text(415, "expected multipart/form-data");
    };
    let Ok(_one_at_a_time) = state.upload.try_lock() else {
        return problem(
            503,
            "Another verification is running. Try again in a moment.",
            "別の検証を実行中です。少し待ってからもう一度お試しください。",
        );
    };
    let body = match conn.read_body(len) {
        Ok(b) => b,
        Err(ReadError::Timeout) => return Response::text(408, "upload too slow"),
        Err(_) => return Response::text(400, "upload incomplete"),
    };
    let parts = match http::multipart(&body, &boundary) {
        Ok(p) => p,
        Err(why) => return Response::text(400, why),
    };
    let mut sig: Option<(String, Vec<u8>)> = None;
    // The document is usually the largest part: it takes over the body's memory at the end
    // (no copy), so that an upload needs about its own size in memory, not twice.
    let mut data: Option<(String, std::ops::Range<usize>)> = None;
    let mut options = state.base.clone();
    let mut added_anchors = Vec::new();
    for p in parts {
        // An empty file input is sent as a part with no name and no bytes.
        if p.range.is_empty() {
            continue;
        }
        let name = p.filename.unwrap_or_default();
        if p.name != "data" && p.range.len() > MAX_INPUT {
            return problem(
                413,
                &format!("{name}: too large (at most {} MiB).", MAX_INPUT >> 20),
                &format!("{name}: 大きすぎます({} MiB まで)。", MAX_INPUT >> 20),
            );
        }
        let bytes = || body[p.range.clone()].to_vec();
        match p.name.as_str() {
            "signature" if sig.is_none() => sig = Some((name, bytes())),
            "data" if data.is_none() => data = Some((name, p.range.clone())),
            "trust" => {
                let certs =
                    inkan_verifier::x509::certificates_from_pem_or_der(&body[p.range.clone()]);
                if certs.is_empty() {
                    return problem(
                        400,
                        &format!(
                            "{name}: no certificate found (a trust anchor is a PEM or DER certificate)."
                        ),
                        &format!(
                            "{name}: 証明書が見つかりません(信頼する証明書は PEM または DER 形式の証明書です)。"
                        ),
                    );
                }
                added_anchors.extend(certs.iter().map(|c| c.display_name()));
                options.trust.push(bytes());
            }
            "crl" => options.crls.push(bytes()),
            "ocsp" => options.ocsps.push(bytes()),
            _ => return Response::text(400, "unexpected form field"),
        }
    }
    let data = match data {
        Some((name, range)) => {
            let mut body = body;
            body.truncate(range.end);
            body.drain(..range.start);
            Some((name, body))
        }
        None => {
            drop(body);
            None
        }
    };
    let Some((file, sig)) = sig else {
        return problem(
            400,
            "Choose the signature or time-stamp file to verify.",
            "検証する署名またはタイムスタンプのファイルを選んでください。",
        );
    };
    let data_name = data.as_ref().map(|(n, _)| n.clone());
    options.data = data.map_or(Data::None, |(_, b)| Data::Bytes(b));
    let Some(at) = SystemClock.now() else {
        return problem(
            500,
            "The computer's clock cannot be read, so nothing can be verified.",
            "コンピュータの時計を読み取れないため、検証できません。",
        );
    };
    let report = match state.validator.verify(&Input { bytes: sig }, &options, at) {
        Ok(r) => r,
        Err(e) => {
            return problem(
                500,
                &format!("internal error: {e}"),
                &format!("内部エラー: {e}"),
            );
        }
    };
    let Ok(id) = new_token() else {
        return problem(
            500,
            "no random number from the system",
            "乱数を得られません",
        );
    };
    let location = format!(
        "/result/{id}?token={}&lang={}",
        state.token,
        lang_code(lang)
    );
    let mut kept = state.kept.lock().unwrap_or_else(|e| e.into_inner());
    if kept.len() >= KEPT_REPORTS {
        kept.pop_front();
    }
    kept.push_back(Kept {
        id,
        report,
        file,
        data: data_name,
        added_anchors,
    });
    Response::new(303, "text/plain; charset=utf-8", "").with("Location", location)
}

fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => "ja",
        Lang::En => "en",
    }
}

fn t(lang: Lang, en: &str, ja: &str) -> String {
    if lang == Lang::Ja { ja } else { en }.to_owned()
}

/// Escapes text for HTML content and quoted attribute values.
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The page around `main` (the template in `ui/page.html`); `path` is this page's path, for
/// the language links.
fn shell(state: &State, lang: Lang, title: &str, path: &str, main: &str) -> String {
    let link = |l: Lang, name: &str| {
        let current = if l == lang {
            " aria-current=\"page\""
        } else {
            ""
        };
        format!(
            "<a href=\"{path}?token={}&amp;lang={code}\" lang=\"{code}\" hreflang=\"{code}\"{current}>{name}</a>",
            state.token,
            code = lang_code(l)
        )
    };
    PAGE.replace("{{LANG}}", lang_code(lang))
        .replace("{{TITLE}}", &esc(title))
        .replace("{{TOKEN}}", &state.token)
        .replace("{{SKIP}}", &t(lang, "Skip to the content", "本文へ移動"))
        .replace("{{LANGNAV}}", &t(lang, "Language", "言語"))
        .replace(
            "{{LANGLINKS}}",
            &format!("{} {}", link(Lang::Ja, "日本語"), link(Lang::En, "English")),
        )
        .replace(
            "{{FOOTER}}",
            &esc(&t(
                lang,
                &format!("Everything is checked on this computer: no file and no result is sent anywhere. inkan-verify {}", env!("CARGO_PKG_VERSION")),
                &format!("すべてこのコンピュータ上で確認します。ファイルも結果もどこにも送信しません。inkan-verify {}", env!("CARGO_PKG_VERSION")),
            )),
        )
        .replace("{{MAIN}}", main)
}

/// The form (on the first page and below every result).
fn form(state: &State, lang: Lang, heading: &str) -> String {
    let l = |en: &str, ja: &str| esc(&t(lang, en, ja));
    let anchors = if state.anchors.is_empty() {
        l(
            "No trust anchor was given when the server started (--trust).",
            "サーバの起動時に信頼する証明書(--trust)は指定されていません。",
        )
    } else {
        let items: String = state
            .anchors
            .iter()
            .map(|a| format!("<li>{}</li>", esc(&printable(a))))
            .collect();
        format!(
            "{}<ul>{items}</ul>",
            l(
                "Trusted for every verification (given when the server started):",
                "すべての検証で信頼する証明書(サーバの起動時に指定):"
            )
        )
    };
    format!(
        r#"<section class="card" aria-labelledby="form-h">
<h2 id="form-h">{heading}</h2>
<form id="verify-form" method="post" action="/verify?token={token}&amp;lang={code}" enctype="multipart/form-data" data-max-body="{max_body}" data-max-file="{max_file}" data-too-large="{too_large}" data-pdf-moved="{pdf_moved}">
<div class="drop" id="drop">
<label for="signature">{sig_label}</label>
<input type="file" id="signature" name="signature" required aria-describedby="signature-help">
<p class="help" id="signature-help">{sig_help}</p>
</div>
<div class="field">
<label for="data">{data_label}</label>
<input type="file" id="data" name="data" aria-describedby="data-help">
<p class="help" id="data-help">{data_help}</p>
</div>
<details>
<summary>{more}</summary>
<div class="field">
<label for="trust">{trust_label}</label>
<input type="file" id="trust" name="trust" multiple accept=".pem,.crt,.cer,.der" aria-describedby="trust-help">
<p class="help" id="trust-help">{trust_help}</p>
</div>
<div class="field">
<label for="crl">{crl_label}</label>
<input type="file" id="crl" name="crl" multiple accept=".crl,.pem,.der">
</div>
<div class="field">
<label for="ocsp">{ocsp_label}</label>
<input type="file" id="ocsp" name="ocsp" multiple accept=".der,.ocsp,.resp">
</div>
<div class="help">{anchors}</div>
</details>
<p><button type="submit" id="submit">{submit}</button> <span id="status" role="status" aria-live="polite"></span></p>
</form>
</section>"#,
        token = state.token,
        code = lang_code(lang),
        max_body = MAX_BODY - 64 * 1024,
        max_file = MAX_INPUT,
        too_large = l(
            &format!(
                "The files are too large for this page (at most {} MiB in all, {} MiB for each but the document). Use the inkan-verify command for larger ones.",
                MAX_BODY >> 20,
                MAX_INPUT >> 20
            ),
            &format!(
                "ファイルが大きすぎます(合計 {} MiB まで、文書以外は各 {} MiB まで)。より大きなファイルは inkan-verify コマンドで検証してください。",
                MAX_BODY >> 20,
                MAX_INPUT >> 20
            ),
        ),
        pdf_moved = l(
            "{} is a PDF: it was put in the first field, as the file to verify.",
            "{} は PDF なので、検証するファイルとして最初の欄に移しました。"
        ),
        sig_label = l(
            "Signed PDF, or signature, e-seal or time-stamp file (.pdf, .p7s, .p7m, .tsr, .tst)",
            "署名された PDF、または署名・eシール・タイムスタンプのファイル(.pdf / .p7s / .p7m / .tsr / .tst)"
        ),
        sig_help = l(
            "Choose the file, or drop it here. You can drop the signature and the signed document together.",
            "ファイルを選ぶか、ここにドロップしてください。署名と署名された文書をまとめてドロップすることもできます。"
        ),
        data_label = l(
            "Signed document (for a detached signature or a time-stamp)",
            "署名された文書(分離署名・タイムスタンプの場合)"
        ),
        data_help = l(
            "Needed when the signature file does not contain the document itself. Not needed for a PDF: it contains what it signs.",
            "署名ファイルに文書そのものが含まれていない場合に必要です。PDF の場合は不要です(署名の対象を PDF 自体が含んでいます)。"
        ),
        more = l(
            "Add trust anchors or revocation information (for this verification only)",
            "信頼する証明書・失効情報を追加(この検証だけに使います)"
        ),
        trust_label = l(
            "Trust anchors: root certificates you trust (PEM or DER)",
            "信頼する証明書(ルート証明書、PEM または DER)"
        ),
        trust_help = l(
            "Only add a certificate you obtained from the authority itself. It is used for this verification only.",
            "発行元から入手したことを確かめた証明書だけを追加してください。この検証だけに使います。"
        ),
        crl_label = l(
            "Certificate revocation lists (CRL, DER or PEM)",
            "証明書失効リスト(CRL、DER または PEM)"
        ),
        ocsp_label = l("OCSP responses (DER)", "OCSP 応答(DER)"),
        submit = l("Verify", "検証する"),
    )
}

fn index_page(state: &State, lang: Lang, problem: Option<String>) -> String {
    let l = |en: &str, ja: &str| esc(&t(lang, en, ja));
    let problem = problem.map_or_else(String::new, |p| {
        format!(
            "<div class=\"problem\" role=\"alert\" id=\"problem\" tabindex=\"-1\"><p>{}</p></div>",
            esc(&p)
        )
    });
    let main = format!(
        "<h1>{h1}</h1>\n<p class=\"lead\">{lead}</p>\n{problem}\n{form}",
        h1 = l(
            "Check a signature, e-seal or time-stamp",
            "電子署名・eシール・タイムスタンプの確認"
        ),
        lead = l(
            "Choose the file you received: a signed PDF, or a signature or time-stamp file. The verifier tells you whether the document is unchanged since it was sealed, who sealed it, and when it is proven to have existed.",
            "受け取ったファイル(署名された PDF、または署名・タイムスタンプのファイル)を選んでください。押印(署名)の後に文書が改変されていないか、誰が押印したか、いつ存在していたことが証明されるかを確認します。"
        ),
        form = form(state, lang, &t(lang, "Choose the files", "ファイルを選ぶ")),
    );
    shell(
        state,
        lang,
        &t(
            lang,
            "inkan-verify: check a signature",
            "inkan-verify: 電子署名の確認",
        ),
        "/",
        &main,
    )
}

/// A hint for the page where the CLI text names a command-line option.
fn page_hint(sub: Sub, lang: Lang) -> Option<String> {
    let (en, ja) = match sub {
        Sub::SignedDataNotFound => (
            "On this page: choose the original document under “Signed document” and verify again.",
            "このページでは「署名された文書」に元の文書を選んで、もう一度検証してください。",
        ),
        Sub::HashFailure => (
            "On this page: check that the file chosen under “Signed document” is the original document.",
            "このページでは「署名された文書」に選んだファイルが元の文書か確認してください。",
        ),
        Sub::NoCertificateChainFound => (
            "On this page: add the authority's root certificate under “Add trust anchors or revocation information”.",
            "このページでは「信頼する証明書・失効情報を追加」から認証局のルート証明書を追加できます。",
        ),
        Sub::TryLater => (
            "On this page: add a current CRL or OCSP response under “Add trust anchors or revocation information”.",
            "このページでは「信頼する証明書・失効情報を追加」から最新の CRL または OCSP 応答を追加できます。",
        ),
        _ => return None,
    };
    Some(t(lang, en, ja))
}

/// A finding's English message (`the PDF has no ...`) as a sentence: a capital first letter
/// and a full stop.
fn as_sentence(m: &str) -> String {
    let mut c = m.chars();
    let mut out: String = c
        .next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// The findings that say in words what is wrong with a PDF (`inkan_verifier::pdf`), most
/// telling first: the first one present is shown in the verdict.
const PDF_KEY_FINDINGS: [&str; 8] = [
    "PDF_MODIFIED_AFTER_SIGNING",
    "PDF_SIG_DICT_REPLACED",
    "PDF_BYTERANGE",
    "PDF_CONTENTS",
    "PDF_NO_SIGNATURE",
    "PDF_ENCRYPTED",
    "PDF_UNREADABLE",
    "PDF_SUBFILTER",
];

/// The verdict in one or a few words, as a person reads it, and its class.
fn verdict_word(i: Indication, lang: Lang) -> (&'static str, &'static str, &'static str) {
    match (i, lang) {
        (Indication::TotalPassed, Lang::Ja) => ("passed", "✓", "有効"),
        (Indication::TotalPassed, Lang::En) => ("passed", "✓", "Valid"),
        (Indication::TotalFailed, Lang::Ja) => ("failed", "✗", "無効"),
        (Indication::TotalFailed, Lang::En) => ("failed", "✗", "Not valid"),
        (Indication::Indeterminate, Lang::Ja) => ("indeterminate", "?", "判定不能"),
        (Indication::Indeterminate, Lang::En) => ("indeterminate", "?", "Cannot be decided"),
    }
}

/// The CLI text report's sections (after its verdict, result and explanation lines, which the
/// verdict box shows) as HTML: a line ending in `:` opens a section, indented lines are its
/// items, `[CODE] text` is a finding. `after_when` goes after the section on times (`When:` /
/// `日時:`), `before_findings` before the findings (`Findings:` / `所見:`), each at the end
/// when the text has no such section. The section of each signer (`Signers:` / `署名者ごとの
/// 結果:`: for a PDF, each signature and document time-stamp) is given, heading and lines,
/// to `entries`.
fn text_sections(
    text: &str,
    skip: usize,
    after_when: &str,
    before_findings: &str,
    entries: &dyn Fn(&str, &[&str]) -> String,
) -> String {
    // (heading, html, whether its list is still open) per section or paragraph.
    let mut blocks: Vec<(Option<String>, String, bool)> = Vec::new();
    let mut open = false;
    let mut lines = text.lines().skip(skip).peekable();
    while let Some(line) = lines.next() {
        if line.trim().is_empty() {
            continue;
        }
        if let Some(h) = line
            .strip_suffix(':')
            .filter(|h| matches!(*h, "Signers" | "署名者ごとの結果"))
        {
            let mut items = Vec::new();
            while let Some(l) = lines.next_if(|l| l.starts_with("  ")) {
                items.push(l);
            }
            blocks.push((Some(h.to_owned()), entries(h, &items), false));
            open = false;
            continue;
        }
        if let Some(item) = line.strip_prefix("  ") {
            if !open {
                blocks.push((None, "<section class=\"card\"><ul>".into(), true));
                open = true;
            }
            let item = item.trim();
            let html = match item.strip_prefix('[').and_then(|r| r.split_once("] ")) {
                Some((code, msg)) => format!(
                    "<li class=\"finding\"><code>{}</code> {}</li>",
                    esc(code),
                    esc(msg)
                ),
                None => format!("<li>{}</li>", esc(item)),
            };
            if let Some(b) = blocks.last_mut() {
                b.1.push_str(&html);
            }
        } else if let Some(h) = line.strip_suffix(':') {
            blocks.push((
                Some(h.to_owned()),
                format!("<section class=\"card\"><h3>{}</h3><ul>", esc(h)),
                true,
            ));
            open = true;
        } else {
            open = false;
            let html = match line.split_once(": ") {
                Some((k, v)) => format!(
                    "<p class=\"card\"><strong>{}</strong>: {}</p>\n",
                    esc(k),
                    esc(v)
                ),
                None => format!("<p class=\"card\">{}</p>\n", esc(line)),
            };
            blocks.push((None, html, false));
        }
    }
    let mut out = String::new();
    let (mut when_done, mut findings_done) = (false, false);
    for (heading, html, close) in blocks {
        let h = heading.as_deref().unwrap_or("");
        if matches!(h, "Findings" | "所見") && !findings_done {
            out.push_str(before_findings);
            findings_done = true;
        }
        out.push_str(&html);
        if close {
            out.push_str("</ul></section>\n");
        }
        if matches!(h, "When" | "日時") && !when_done {
            out.push_str(after_when);
            when_done = true;
        }
    }
    if !when_done {
        out.push_str(after_when);
    }
    if !findings_done {
        out.push_str(before_findings);
    }
    out
}

/// The text report's section on each signer (`lines`, under `heading`) as a list with each
/// one's verdict: `#N INDICATION / SUB: subject`, then, for a PDF, the lines of
/// `inkan_verifier::pdf::place_text` (kind, field, revision and what it covers, time, later
/// changes). The N-th entry is `r.signers[N - 1]`.
fn entries_html(r: &Report, lang: Lang, heading: &str, lines: &[&str]) -> String {
    let l = |en: &str, ja: &str| esc(&t(lang, en, ja));
    let pdf = r.kind == "PDF";
    // (the `#N` line, the deeper lines under it)
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in lines {
        match (line.strip_prefix("   "), groups.last_mut()) {
            (Some(deeper), Some(g)) => g.1.push(deeper.trim()),
            _ => groups.push((line.trim(), Vec::new())),
        }
    }
    let mut out = format!(
        "<section class=\"card\" aria-labelledby=\"entries-h\"><h3 id=\"entries-h\">{}</h3><ol class=\"entries\">",
        if pdf {
            l(
                "Each signature and document time-stamp in this PDF",
                "この PDF の署名・文書タイムスタンプ",
            )
        } else {
            esc(heading)
        }
    );
    let item = |line: &str| match line.split_once(": ") {
        Some((k, v)) => format!("<li><strong>{}</strong>: {}</li>", esc(k), esc(v)),
        None => format!("<li>{}</li>", esc(line)),
    };
    for (i, (head, rest)) in groups.iter().enumerate() {
        let g = r.signers.get(i);
        let (class, icon, word) = g.map_or(("", "", ""), |g| verdict_word(g.indication, lang));
        // `#N INDICATION / SUB: subject`
        let (codes, who) = head.split_once(": ").unwrap_or((head, "-"));
        let (number, codes) = codes.split_once(' ').unwrap_or((codes, ""));
        let time_stamp = g
            .and_then(|g| g.pdf.as_ref())
            .is_some_and(|p| p.kind == "document time-stamp");
        // For a PDF the first line under it says what the entry is and what it covers.
        let (title, rest) = match rest.split_first() {
            Some((first, rest)) if pdf => (format!("{number} {first}"), rest),
            _ => (number.to_owned(), &rest[..]),
        };
        out.push_str(&format!(
            "<li class=\"entry {class}\"><h4>{}</h4>\
             <p class=\"entry-verdict\"><span class=\"icon\" aria-hidden=\"true\">{icon}</span> <strong>{word}</strong> <code>{}</code></p><ul>",
            esc(&title),
            esc(codes)
        ));
        out.push_str(&format!(
            "<li><strong>{}</strong>: {}</li>",
            if time_stamp {
                l("Time-stamping authority (TSA)", "時刻認証局 (TSA)")
            } else {
                l("Sealed or signed by", "署名者・押印者")
            },
            esc(who)
        ));
        for line in rest {
            out.push_str(&item(line));
        }
        out.push_str("</ul></li>");
    }
    out.push_str("</ol></section>\n");
    out
}

/// The report's process and policy names in words, with the name itself beside them; any
/// other text as it is.
fn known_text(s: &str, lang: Lang) -> String {
    let (en, ja) = match s {
        "EN 319 102-1 §5.3 basic validation with §5.5 validation with time" => (
            "the seal, its certificates and their revocation, judged at the time the seal is proven to exist",
            "署名値・証明書・失効情報を、署名の存在が証明される時刻で判断",
        ),
        "CRYPTREC LS-0001-2022 (Use::Validate at the best proof of existence)" => (
            "the CRYPTREC rules for verifying, at the time the seal is proven to exist",
            "CRYPTREC の検証用の基準を、署名の存在が証明される時刻で適用",
        ),
        other => return other.to_owned(),
    };
    format!("{} ({s})", t(lang, en, ja))
}

fn result_page(state: &State, lang: Lang, k: &Kept) -> String {
    let r = &k.report;
    let l = |en: &str, ja: &str| esc(&t(lang, en, ja));
    let (class, icon, word) = verdict_word(r.indication, lang);
    let sub = r
        .sub_indication
        .map_or_else(|| "-".to_owned(), |s| s.as_str());
    let text = r.to_text(lang);
    let mut lines = text.lines();
    let sentence = lines.next().unwrap_or("");
    // The text's second line is the result codes; the third, with a sub-indication, what it
    // means (the same words as the CLI).
    let mut skip = 2;
    let mut meaning = String::new();
    let pdf = r.kind == "PDF";
    // For a PDF, what went wrong is said first by its finding (the text report's words): the
    // sub-indication alone (SIG_CONSTRAINTS_FAILURE for a change after signing) says little.
    let key = pdf
        .then(|| {
            PDF_KEY_FINDINGS
                .iter()
                .find_map(|c| r.findings.iter().find(|f| f.code == *c))
        })
        .flatten();
    if let Some(f) = key {
        meaning.push_str(&format!(
            "<p class=\"meaning\" id=\"pdf-finding\"><strong>{}</strong>: {}</p>",
            l("What this means", "説明"),
            esc(&if lang == Lang::Ja {
                f.message_ja.clone()
            } else {
                as_sentence(&f.message)
            })
        ));
    }
    if let Some(sub) = r.sub_indication {
        skip = 3;
        let line = text.lines().nth(2).unwrap_or("");
        let m = line.split_once(": ").map_or(line, |(_, v)| v);
        // "Give the document with --data" is no advice for a PDF, which holds what it signs.
        if !(pdf && sub == Sub::SignedDataNotFound) {
            meaning.push_str(&format!(
                "<p class=\"meaning\"><strong>{}</strong>: {}</p>",
                if key.is_some() {
                    sub.as_str()
                } else {
                    l("What this means", "説明")
                },
                esc(m)
            ));
            if let Some(h) = page_hint(sub, lang)
                .filter(|_| !(pdf && matches!(sub, Sub::HashFailure | Sub::SignedDataNotFound)))
            {
                meaning.push_str(&format!("<p class=\"meaning\">{}</p>", esc(&h)));
            }
        }
    }
    let files = format!(
        "<p class=\"files\">{}: <span class=\"name\">{}</span>{}</p>",
        l("File", "ファイル"),
        esc(&printable(&k.file)),
        match k.data.as_deref().map(printable) {
            Some(d) if pdf => format!(
                "; {}",
                l(
                    &format!(
                        "the file chosen as signed document ({d}) was not used: a PDF holds what it signs"
                    ),
                    &format!(
                        "「署名された文書」に選んだファイル({d})は使っていません(PDF は署名の対象を自ら含みます)"
                    )
                )
            ),
            Some(d) => format!(
                "; {}: <span class=\"name\">{}</span>",
                l("signed document", "署名された文書"),
                esc(&d)
            ),
            None => String::new(),
        }
    );
    // Which TSA proved when (the text report names the time-stamps; the page adds who made
    // them).
    let tsas: String = r
        .time_stamps
        .iter()
        .filter_map(|ts| {
            Some(format!(
                "<li>{} — {} [{}]</li>",
                esc(&inkan_verifier::report::with_jst(ts.gen_time.as_deref()?)),
                esc(&printable(ts.tsa.as_deref().unwrap_or("-"))),
                esc(ts.indication.as_str())
            ))
        })
        .collect();
    let tsas = if tsas.is_empty() {
        String::new()
    } else {
        format!(
            "<section class=\"card\"><h3>{}</h3><ul>{tsas}</ul></section>",
            l(
                "Time-stamps and the time-stamping authorities (TSA) that made them",
                "タイムスタンプと発行した時刻認証局 (TSA)"
            )
        )
    };
    let added = if k.added_anchors.is_empty() {
        String::new()
    } else {
        format!(
            "<li>{}: {}</li>",
            l(
                "Trust anchors added on the page for this verification",
                "このページで追加した信頼する証明書(この検証のみ)"
            ),
            esc(&printable(&k.added_anchors.join("; ")))
        )
    };
    let checked = format!(
        "<section class=\"card\"><h3>{}</h3><ul>\
         <li>{}: {}</li><li>{}: {}</li><li>{}: {}</li><li>{}: {}</li>{added}</ul></section>",
        l("What was checked", "確認した内容"),
        l("Process", "検証の手順"),
        esc(&known_text(&r.process, lang)),
        l("Algorithms and key sizes", "暗号アルゴリズムと鍵長"),
        esc(&known_text(&r.policy, lang)),
        l("Revocation information", "失効情報"),
        esc(&match (r.revocation_policy.as_str(), lang) {
            ("required", Lang::Ja) => "必須(--revocation required)".to_owned(),
            ("optional", Lang::Ja) => "任意(--revocation optional)".to_owned(),
            ("required", Lang::En) =>
                "required for every certificate (--revocation required)".to_owned(),
            ("optional", Lang::En) => "used when at hand (--revocation optional)".to_owned(),
            (o, _) => o.to_owned(),
        }),
        l("Certificate chain", "証明書チェーン"),
        if r.chain.is_empty() && r.sub_indication == Some(Sub::NoCertificateChainFound) {
            l("none found", "見つかりません")
        } else if r.chain.is_empty() {
            l(
                "not examined: the result was decided before",
                "確認していません(結果はその前に決まりました)",
            )
        } else {
            esc(&format!("{}", r.chain.len())) + &l(" certificate(s), listed above", " 件(上記)")
        },
    );
    // A PDF's signatures and document time-stamps come first in the details (what each one
    // covers, and what changed after it, is what a reader of a PDF needs); a CMS signature's
    // signers stay where the text report has them.
    let first = std::cell::RefCell::new(String::new());
    let rest = text_sections(&text, skip, &tsas, &checked, &|h, lines| {
        let html = entries_html(r, lang, h, lines);
        if pdf {
            first.borrow_mut().push_str(&html);
            String::new()
        } else {
            html
        }
    });
    let sections = first.into_inner() + &rest;
    let main = format!(
        r#"<h1>{h1}</h1>
<section class="verdict {class}" id="verdict" tabindex="-1" aria-labelledby="verdict-word" aria-describedby="verdict-sentence">
<p class="verdict-word" id="verdict-word"><span class="icon" aria-hidden="true">{icon}</span> {word}</p>
<p class="verdict-sentence" id="verdict-sentence">{sentence}</p>
<dl class="codes">
<dt>{ind_label}</dt><dd><code id="indication">{ind}</code></dd>
<dt>{sub_label}</dt><dd><code id="sub-indication">{sub}</code></dd>
</dl>
{meaning}
</section>
{files}
<p class="actions"><a href="/result/{id}/report.json?token={token}" download id="download">{download}</a></p>
<h2>{details}</h2>
{sections}
{form}"#,
        h1 = l("Verification result", "検証結果"),
        sentence = esc(sentence),
        ind_label = l("ETSI indication", "ETSI 判定 (indication)"),
        sub_label = l("sub-indication", "詳細判定 (sub-indication)"),
        ind = r.indication.as_str(),
        sub = esc(&sub),
        id = k.id,
        token = state.token,
        download = l("Download the report (JSON)", "報告書をダウンロード (JSON)"),
        details = l("Details", "詳細"),
        sections = sections,
        form = form(
            state,
            lang,
            &t(lang, "Verify another file", "別のファイルを検証する")
        ),
    );
    shell(
        state,
        lang,
        &format!("{word} — inkan-verify"),
        &format!("/result/{}", k.id),
        &main,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn state() -> Arc<State> {
        Arc::new(State {
            token: "ab".repeat(32),
            host: "127.0.0.1:4000".into(),
            origin: "http://127.0.0.1:4000".into(),
            base: Options::default(),
            anchors: Vec::new(),
            validator: Validator::default(),
            kept: Mutex::new(VecDeque::new()),
            upload: Mutex::new(()),
            connections: AtomicUsize::new(0),
        })
    }

    fn head(raw: &str) -> Head {
        http::parse_head(raw.as_bytes()).unwrap()
    }

    #[test]
    fn only_loopback_addresses() {
        assert!(listen_address(None).is_ok());
        assert!(listen_address(Some("127.0.0.1:8080")).is_ok());
        assert!(listen_address(Some("[::1]:0")).is_ok());
        for bad in [
            "0.0.0.0:8080",
            "192.168.1.2:80",
            "[::]:0",
            "localhost:80",
            "8080",
        ] {
            assert!(listen_address(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn token_host_and_origin_are_checked() {
        let s = state();
        let tok = s.token.clone();
        let ok = |r: &str| refusal(&s, &head(r)).is_none();
        assert!(ok(&format!(
            "GET /?token={tok} HTTP/1.1\r\nHost: 127.0.0.1:4000"
        )));
        assert!(ok(&format!(
            "POST /verify?token={tok} HTTP/1.1\r\nHost: 127.0.0.1:4000\r\nOrigin: http://127.0.0.1:4000"
        )));
        for bad in [
            // no token, a wrong one, one of the wrong length
            "GET / HTTP/1.1\r\nHost: 127.0.0.1:4000".to_owned(),
            format!(
                "GET /?token={} HTTP/1.1\r\nHost: 127.0.0.1:4000",
                "cd".repeat(32)
            ),
            format!(
                "GET /?token={} HTTP/1.1\r\nHost: 127.0.0.1:4000",
                &tok[..10]
            ),
            // DNS rebinding: a foreign name, another port, no Host, two Hosts
            format!("GET /?token={tok} HTTP/1.1\r\nHost: evil.example:4000"),
            format!("GET /?token={tok} HTTP/1.1\r\nHost: 127.0.0.1:4001"),
            format!("GET /?token={tok} HTTP/1.1"),
            format!("GET /?token={tok} HTTP/1.1\r\nHost: 127.0.0.1:4000\r\nHost: 127.0.0.1:4000"),
            // cross-site requests
            format!(
                "GET /?token={tok} HTTP/1.1\r\nHost: 127.0.0.1:4000\r\nOrigin: http://evil.example"
            ),
            format!("POST /verify?token={tok} HTTP/1.1\r\nHost: 127.0.0.1:4000\r\nOrigin: null"),
            format!("POST /verify?token={tok} HTTP/1.1\r\nHost: 127.0.0.1:4000"),
        ] {
            let r = refusal(&s, &head(&bad));
            assert!(
                r.as_ref()
                    .is_some_and(|r| r.status == 403 || r.status == 400),
                "{bad}"
            );
        }
    }

    #[test]
    fn connections_beyond_the_limit_are_answered_busy() {
        let s = state();
        s.connections.store(MAX_CONNECTIONS, Ordering::SeqCst);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let s2 = s.clone();
        // The server thread runs until the test process ends.
        std::thread::spawn(move || serve(&listener, &s2));
        let mut c = TcpStream::connect(addr).unwrap();
        let mut out = String::new();
        c.read_to_string(&mut out).unwrap();
        assert!(out.starts_with("HTTP/1.1 503 "), "{out}");
        assert_eq!(s.connections.load(Ordering::SeqCst), MAX_CONNECTIONS);
    }

    #[test]
    fn languages() {
        assert_eq!(accept_language("ja,en-US;q=0.9"), Lang::Ja);
        assert_eq!(accept_language("en-US,en;q=0.9,ja;q=0.8"), Lang::En);
        assert_eq!(accept_language("fr, ja;q=0.5"), Lang::Ja);
        assert_eq!(accept_language("fr"), Lang::En);
        assert_eq!(accept_language("ja;q=0, en;q=0.1"), Lang::En);
        assert_eq!(accept_language(""), Lang::En);
        assert_eq!(
            language(&head("GET /?lang=ja HTTP/1.1\r\nAccept-Language: en")),
            Lang::Ja
        );
    }

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let html = text_sections(
            "v\nr\nSealed by:\n  Subject: CN=<b>\nWhen:\n  t\nFindings:\n  [X_Y] a & b\nK: v\n",
            2,
            "<TSA>",
            "<CHECKED>",
            &|h, l| format!("<{h}:{}>", l.len()),
        );
        assert!(
            html.contains(
                "<li>t</li></ul></section>\n<TSA><CHECKED><section class=\"card\"><h3>Findings"
            ),
            "{html}"
        );
        assert!(
            html.contains("<h3>Sealed by</h3><ul><li>Subject: CN=&lt;b&gt;</li>"),
            "{html}"
        );
        assert!(
            html.contains("<li class=\"finding\"><code>X_Y</code> a &amp; b</li>"),
            "{html}"
        );
        assert!(html.contains("<strong>K</strong>: v"), "{html}");
        assert_eq!(as_sentence("the PDF has no field"), "The PDF has no field.");
        assert_eq!(as_sentence("Done."), "Done.");
        assert_eq!(as_sentence(""), ".");
    }

    #[test]
    fn a_name_cannot_forge_an_entry() {
        // A PDF whose field name carries a newline and a line of the report's form: the page
        // still has one entry, with the name written out.
        let mut r = inkan_verifier::verify_bytes(b"%PDF-1.7\n");
        r.kind = "PDF".into();
        r.signers = vec![inkan_verifier::report::SignerSummary {
            index: 1,
            indication: Indication::TotalFailed,
            sub_indication: Some(Sub::HashFailure),
            signer: None,
            signing_time: None,
            commitment_types: Vec::new(),
            signature_policy: None,
            best_proof_of_existence: None,
            findings: Vec::new(),
            pdf: Some(inkan_verifier::pdf::Place {
                kind: "PAdES signature".into(),
                field: "A\n  #2 TOTAL-PASSED / -: CN=Forged\n     PAdES署名".into(),
                revision: 1,
                covers: "the whole document".into(),
                later_changes: Vec::new(),
            }),
        }];
        let s = state();
        let k = Kept {
            id: "00".repeat(32),
            report: r,
            file: "a.pdf".into(),
            data: None,
            added_anchors: Vec::new(),
        };
        for lang in [Lang::Ja, Lang::En] {
            let page = result_page(&s, lang, &k);
            assert_eq!(page.matches("<li class=\"entry ").count(), 1, "{page}");
            assert!(page.contains("<li class=\"entry failed\">"), "{page}");
        }
    }

    /// Serves one connection of a real loopback listener with `raw` sent by the client;
    /// returns the status code and the response.
    fn exchange(s: &Arc<State>, raw: &[u8]) -> (u16, String) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let s2 = s.clone();
        let server = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            handle(&s2, stream);
        });
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(raw).unwrap();
        let _ = c.shutdown(std::net::Shutdown::Write);
        let mut out = Vec::new();
        let _ = c.read_to_end(&mut out);
        server.join().unwrap();
        let out = String::from_utf8_lossy(&out).into_owned();
        let status = out.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        (status, out)
    }

    #[test]
    fn served_over_a_real_socket() {
        let s = state();
        let tok = s.token.clone();
        let get = |path: &str, extra: &str| {
            exchange(
                &s,
                format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:4000\r\n{extra}\r\n").as_bytes(),
            )
        };
        let (st, page) = get(&format!("/?token={tok}&lang=ja"), "");
        assert_eq!(st, 200, "{page}");
        assert!(page.contains("<html lang=\"ja\">") && page.contains("検証する"));
        assert!(page.contains("Content-Security-Policy: default-src 'none'"));
        let (st, page) = get(&format!("/?token={tok}"), "Accept-Language: en-GB\r\n");
        assert_eq!(st, 200);
        assert!(page.contains("<html lang=\"en\">") && page.contains(">Verify<"));
        assert_eq!(get("/", "").0, 403);
        assert_eq!(get(&format!("/page.css?token={tok}"), "").0, 200);
        assert_eq!(get(&format!("/nothing?token={tok}"), "").0, 404);
        assert_eq!(
            get(&format!("/result/00/report.json?token={tok}"), "").0,
            404
        );
        // Upload limits, checked before a byte of the body is read.
        let post = |headers: &str, body: &str| {
            exchange(
                &s,
                format!(
                    "POST /verify?token={tok} HTTP/1.1\r\nHost: 127.0.0.1:4000\r\nOrigin: http://127.0.0.1:4000\r\nContent-Type: multipart/form-data; boundary=b\r\n{headers}\r\n{body}"
                )
                .as_bytes(),
            )
        };
        let form = |body: &str| post(&format!("Content-Length: {}\r\n", body.len()), body);
        assert_eq!(
            post(&format!("Content-Length: {}\r\n", MAX_BODY + 1), "").0,
            413
        );
        assert_eq!(post("", "").0, 411);
        assert_eq!(post("Content-Length: 1x\r\n", "").0, 400);
        assert_eq!(
            post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "").0,
            501
        );
        // A body that ends early is not waited for beyond the peer's close.
        assert_eq!(post("Content-Length: 50\r\n", "abc").0, 400);
        // A form without a signature file is answered with the form and a message.
        let (st, page) = form(
            "--b\r\nContent-Disposition: form-data; name=\"signature\"; filename=\"\"\r\n\r\n\r\n--b--\r\n",
        );
        assert_eq!(st, 400, "{page}");
        assert!(page.contains("Choose the signature"), "{page}");
        // A PDF is verified as a PDF: one that cannot be read says so in the verdict.
        let (st, resp) = form(
            "--b\r\nContent-Disposition: form-data; name=\"signature\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.7\n\r\n--b--\r\n",
        );
        assert_eq!(st, 303, "{resp}");
        let location = resp
            .lines()
            .find_map(|l| l.strip_prefix("Location: "))
            .unwrap()
            .to_owned();
        let (st, page) = get(&location, "");
        assert_eq!(st, 200, "{page}");
        assert!(
            page.contains("<code id=\"indication\">TOTAL-FAILED</code>")
                && page.contains("<p class=\"meaning\" id=\"pdf-finding\">")
                && page.contains("PDF_UNREADABLE")
                && !page.contains("not supported"),
            "{page}"
        );
        // A document chosen beside a PDF is not used, and the result says so.
        let (st, resp) = form(
            "--b\r\nContent-Disposition: form-data; name=\"signature\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.7\n\r\n\
             --b\r\nContent-Disposition: form-data; name=\"data\"; filename=\"b.txt\"\r\n\r\nb\r\n--b--\r\n",
        );
        assert_eq!(st, 303, "{resp}");
        let location = resp
            .lines()
            .find_map(|l| l.strip_prefix("Location: "))
            .unwrap()
            .to_owned();
        let (_, page) = get(&location, "");
        assert!(
            page.contains("the file chosen as signed document (b.txt) was not used"),
            "{page}"
        );
        // Garbage is verified (and is a format failure), then shown on its result page.
        let (st, resp) = form(
            "--b\r\nContent-Disposition: form-data; name=\"signature\"; filename=\"x.p7s\"\r\n\r\nnot a signature\r\n--b--\r\n",
        );
        assert_eq!(st, 303, "{resp}");
        let location = resp
            .lines()
            .find_map(|l| l.strip_prefix("Location: "))
            .unwrap()
            .to_owned();
        let (st, page) = get(&location, "");
        assert_eq!(st, 200);
        assert!(
            page.contains("<code id=\"indication\">TOTAL-FAILED</code>"),
            "{page}"
        );
        assert!(
            page.contains("<code id=\"sub-indication\">FORMAT_FAILURE</code>"),
            "{page}"
        );
        let json = location.replacen('?', "/report.json?", 1);
        let (st, page) = get(&json, "");
        assert_eq!(st, 200);
        assert!(
            page.contains("Content-Disposition: attachment")
                && page.contains("\"indication\": \"TOTAL-FAILED\"")
        );
    }
}
