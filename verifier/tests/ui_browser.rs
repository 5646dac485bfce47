//! `inkan-verify ui` in a real browser: Debian's headless Chromium driven by ChromeDriver
//! through the W3C WebDriver HTTP API (spoken here over `std::net`, a few dozen lines, rather
//! than adding a WebDriver crate or a Python virtual environment with Selenium: no new
//! dependency and nothing downloaded at test time).
//!
//! Signatures made by OpenSSL: a valid e-seal (with a 法人番号), the same over changed data
//! (TOTAL-FAILED), one whose root is not trusted (INDETERMINATE) and the same again with that
//! root and its CRL added on the page for one verification (TOTAL-PASSED, and forgotten
//! afterwards). The verdict word and the ETSI codes are read in Japanese (the browser's
//! Accept-Language) and English (the page's language link); every request the page made went
//! to its own origin (ChromeDriver's performance log); a request without the token, with a
//! foreign Host or a foreign Origin is refused. Files dropped on the page go to the right
//! inputs; the keyboard's focus order follows the page; every label of the Japanese page is
//! Japanese; what a screen reader gets (Chromium's accessibility tree) names the verdict, the
//! landmarks, each PDF signature and every control; every text has the contrast WCAG asks; nothing is wider than a 360 px window; the
//! report is saved by the browser from its link; the server leaves nothing on disk. PDFs are
//! made here (OpenSSL signs the ByteRange and its TSA stamps the document) and judged on the
//! page line for line as the text report judges them. Screenshots of the Japanese pages are
//! written to `$CARGO_TARGET_TMPDIR/ui-*.png` (not part of the repository).

use inkan_test_support::{bash, openssl_ca_config, openssl_tsa_section};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

const PKI: &str = r#"
set -e
printf 'basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n' > ca.ext
printf 'basicConstraints=CA:false\nkeyUsage=critical,digitalSignature,nonRepudiation\n' > leaf.ext
for r in root root2; do
  mkdir -p $r && : > $r/index.txt && echo 1000 > $r/crlnumber && cp ca.cnf $r/
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $r.key \
    -subj "/CN=UI Test $r/O=inkan test" -days 3650 -sha256 -extensions v3 \
    -config <(printf '[req]\ndistinguished_name=dn\n[dn]\n[v3]\n'; cat ca.ext) -out $r.pem 2>/dev/null
  (cd $r && openssl ca -batch -config ca.cnf -cert ../$r.pem -keyfile ../$r.key -gencrl -out ../$r.crl 2>/dev/null)
done
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout seal.key -utf8 \
  -subj "/CN=インカン試験 eシール/O=株式会社インカン試験/organizationIdentifier=NTRJP-8040001079502" \
  -out seal.csr 2>/dev/null
openssl x509 -req -in seal.csr -CA root.pem -CAkey root.key -set_serial 0x0101 -days 30 \
  -extfile leaf.ext -out seal.pem 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout other.key \
  -subj "/CN=Other Seal/O=Other Org" -out other.csr 2>/dev/null
openssl x509 -req -in other.csr -CA root2.pem -CAkey root2.key -set_serial 0x0202 -days 30 \
  -extfile leaf.ext -out other.pem 2>/dev/null
printf '請求書 第 1 号: 金額 10,000 円\n' > invoice.txt
printf '請求書 第 1 号: 金額 90,000 円\n' > invoice-changed.txt
openssl cms -sign -cades -binary -in invoice.txt -signer seal.pem -inkey seal.key -outform DER \
  -out invoice.txt.p7s
echo 01 > tsaserial
printf 'basicConstraints=CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n' > tsa.ext
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout tsa.key -utf8 \
  -subj "/CN=インカン試験 時刻認証局/O=inkan test" -out tsa.csr 2>/dev/null
openssl x509 -req -in tsa.csr -CA root.pem -CAkey root.key -set_serial 0x0303 -days 30 \
  -extfile tsa.ext -out tsa.pem 2>/dev/null
openssl ts -query -data invoice.txt -sha256 -cert -out invoice.tsq 2>/dev/null
openssl ts -reply -config tsa.cnf -queryfile invoice.tsq -out invoice.txt.tsr 2>/dev/null
openssl cms -sign -cades -binary -in invoice.txt -signer other.pem -inkey other.key -outform DER \
  -out other.txt.p7s
"#;

/// A PDF revision: `objects` (number, body) then a cross-reference table and trailer; the
/// first revision (`prev` none) numbers its objects 1.., a later one is an incremental update
/// (ISO 32000-1 §7.5.6) whose trailer points back to `prev`. Returns the file and where its
/// cross-reference table starts.
fn pdf_revision(
    base: &[u8],
    objects: &[(u32, Vec<u8>)],
    prev: Option<usize>,
    size: u32,
) -> (Vec<u8>, usize) {
    let mut b = base.to_vec();
    let mut offsets = Vec::new();
    for (n, body) in objects {
        offsets.push((*n, b.len()));
        b.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
        b.extend_from_slice(body);
        b.extend_from_slice(b"\nendobj\n");
    }
    let x = b.len();
    b.extend_from_slice(b"xref\n");
    match prev {
        None => {
            b.extend_from_slice(format!("0 {size}\n0000000000 65535 f\r\n").as_bytes());
            for (_, o) in &offsets {
                b.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
            }
        }
        Some(_) => {
            b.extend_from_slice(b"0 1\n0000000000 65535 f\r\n");
            let mut sorted = offsets.clone();
            sorted.sort_unstable();
            for (n, o) in sorted {
                b.extend_from_slice(format!("{n} 1\n{o:010} 00000 n\r\n").as_bytes());
            }
        }
    }
    let prev = prev.map(|p| format!(" /Prev {p}")).unwrap_or_default();
    b.extend_from_slice(
        format!("trailer\n<< /Size {size} /Root 1 0 R{prev} >>\nstartxref\n{x}\n%%EOF\n")
            .as_bytes(),
    );
    (b, x)
}

/// A page content stream showing `text`.
fn page_content(text: &str) -> Vec<u8> {
    let c = format!("BT /F1 24 Tf 72 700 Td ({text}) Tj ET");
    format!("<< /Length {} >>\nstream\n{c}\nendstream", c.len()).into_bytes()
}

/// An incremental update that adds the signature dictionary `sig` (`head` plus a ByteRange and
/// a /Contents placeholder, ISO 32000-1 §12.8.1) beside `objects`, then fills /Contents with
/// what `openssl` (the `command`, reading `br.bin` and writing `br.der` in `dir`) makes over
/// the ByteRange bytes.
#[allow(clippy::too_many_arguments)]
fn signed_revision(
    dir: &Path,
    base: &[u8],
    objects: &[(u32, Vec<u8>)],
    sig: u32,
    head: &str,
    prev: usize,
    size: u32,
    command: &str,
) -> (Vec<u8>, usize) {
    const ROOM: usize = 8192;
    let placeholder = "[0 0000000000 0000000000 0000000000]";
    let mut all = objects.to_vec();
    all.push((
        sig,
        format!(
            "{head} /ByteRange {placeholder} /Contents <{}> >>",
            "0".repeat(2 * ROOM)
        )
        .into_bytes(),
    ));
    let (mut b, x) = pdf_revision(base, &all, Some(prev), size);
    let find = |b: &[u8], what: &[u8]| {
        base.len()
            + b[base.len()..]
                .windows(what.len())
                .position(|w| w == what)
                .unwrap()
    };
    let start = find(&b, b"/Contents <") + "/Contents ".len();
    let end = start + 2 * ROOM + 2;
    let range = format!("[0 {start:010} {end:010} {:010}]", b.len() - end);
    let at = find(&b, placeholder.as_bytes());
    b[at..at + range.len()].copy_from_slice(range.as_bytes());
    let mut covered = b[..start].to_vec();
    covered.extend_from_slice(&b[end..]);
    std::fs::write(dir.join("br.bin"), covered).unwrap();
    bash(dir, command);
    let der = std::fs::read(dir.join("br.der")).unwrap();
    assert!(der.len() <= ROOM);
    let hex: String = der.iter().map(|x| format!("{x:02x}")).collect();
    b[start + 1..start + 1 + hex.len()].copy_from_slice(hex.as_bytes());
    (b, x)
}

/// Invoices as PDFs: a one-page invoice whose signature field "Approval" is signed (PAdES,
/// ETSI.CAdES.detached, by OpenSSL with the e-seal) in revision 2, with a document time-stamp
/// (ETSI.RFC3161, from OpenSSL's TSA) in a new field in revision 3: `invoice.pdf`; and the
/// same with a revision 4 that rewrites the page's amount: `invoice-changed.pdf`.
fn make_pdfs(dir: &Path) {
    let field =
        "<< /FT /Sig /T (Approval) /Type /Annot /Subtype /Widget /Rect [0 0 0 0] /F 132 /P 3 0 R";
    let objects: Vec<(u32, Vec<u8>)> = vec![
        (1, b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [6 0 R] /SigFlags 3 >> >>".to_vec()),
        (2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec()),
        (3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> /Annots [6 0 R] >>".to_vec()),
        (4, page_content("Invoice 2026-0042: 10,000 JPY")),
        (5, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec()),
        (6, format!("{field} >>").into_bytes()),
    ];
    let (r1, x1) = pdf_revision(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", &objects, None, 7);
    let (r2, x2) = signed_revision(
        dir,
        &r1,
        &[(6, format!("{field} /V 7 0 R >>").into_bytes())],
        7,
        "<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached",
        x1,
        8,
        "openssl cms -sign -cades -binary -in br.bin -signer seal.pem -inkey seal.key -outform DER -out br.der",
    );
    let (r3, x3) = signed_revision(
        dir,
        &r2,
        &[
            (1, b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [6 0 R 8 0 R] /SigFlags 3 >> >>".to_vec()),
            (8, b"<< /FT /Sig /T (DocTimeStamp) /V 9 0 R >>".to_vec()),
        ],
        9,
        "<< /Type /DocTimeStamp /Filter /Adobe.PPKLite /SubFilter /ETSI.RFC3161",
        x2,
        10,
        "openssl ts -query -data br.bin -sha256 -cert -out br.tsq 2>/dev/null && \
         openssl ts -reply -config tsa.cnf -queryfile br.tsq -token_out -out br.der 2>/dev/null",
    );
    std::fs::write(dir.join("invoice.pdf"), &r3).unwrap();
    let (r4, _) = pdf_revision(
        &r3,
        &[(4, page_content("Invoice 2026-0042: 90,000 JPY"))],
        Some(x3),
        10,
    );
    std::fs::write(dir.join("invoice-changed.pdf"), r4).unwrap();
}

/// A child process killed when the test ends, however it ends.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 exchange over a fresh connection; returns the status code, the head and
/// the body (read by Content-Length, chunks, or to the end: ChromeDriver keeps connections
/// open whatever `Connection: close` says).
fn http(addr: &str, raw_head: &str, body: &[u8]) -> (u16, String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(raw_head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut r = BufReader::new(s);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let lower = head.to_ascii_lowercase();
    let mut body = Vec::new();
    if let Some(len) = lower
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        body.resize(len, 0);
        r.read_exact(&mut body).unwrap();
    } else if lower.contains("transfer-encoding: chunked") {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).unwrap();
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else {
        r.read_to_end(&mut body).unwrap();
    }
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head, body)
}

/// A WebDriver session (W3C WebDriver, the HTTP API of ChromeDriver).
struct Driver {
    addr: String,
    session: String,
    _chromedriver: Proc,
}

impl Driver {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let (status, _, out) = http(
            &self.addr,
            &format!(
                "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                self.addr,
                body.len()
            ),
            body.as_bytes(),
        );
        let v: Value = serde_json::from_slice(&out).unwrap_or(Value::Null);
        assert_eq!(status, 200, "{method} {path}: {v}");
        v["value"].clone()
    }
    fn s(&self, method: &str, rest: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("/session/{}{rest}", self.session), body)
    }
    fn go(&self, url: &str) {
        self.s("POST", "/url", Some(json!({ "url": url })));
    }
    fn find(&self, css: &str) -> String {
        let v = self.s(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_owned()
    }
    fn text(&self, css: &str) -> String {
        let e = self.find(css);
        self.s("GET", &format!("/element/{e}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
    fn click(&self, css: &str) {
        let e = self.find(css);
        self.s("POST", &format!("/element/{e}/click"), Some(json!({})));
    }
    fn choose(&self, css: &str, file: &Path) {
        let e = self.find(css);
        self.s(
            "POST",
            &format!("/element/{e}/value"),
            Some(json!({"text": file.display().to_string()})),
        );
    }
    fn script(&self, js: &str) -> Value {
        self.script_with(js, json!([]))
    }
    fn script_with(&self, js: &str, args: Value) -> Value {
        self.s(
            "POST",
            "/execute/sync",
            Some(json!({"script": js, "args": args})),
        )
    }
    /// Presses Tab and says what has the focus (its id, else its tag and class).
    fn tab(&self) -> String {
        let tab = "\u{E004}";
        self.s(
            "POST",
            "/actions",
            Some(
                json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
                {"type": "keyDown", "value": tab}, {"type": "keyUp", "value": tab}]}]}),
            ),
        );
        self.script(
            "const e = document.activeElement; \
             return e.id || e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')",
        )
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_browser(profile: &Path, downloads: &Path) -> Driver {
    for tool in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(tool).exists(),
            "{tool} is missing: apt-get install chromium chromium-driver (.ci/run installs them)"
        );
    }
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let chromedriver = Proc(child);
    let addr = format!("127.0.0.1:{port}");
    // Wait (a bounded number of tries) until ChromeDriver answers.
    let mut ready = false;
    for _ in 0..300 {
        if TcpStream::connect(&addr).is_ok() {
            let (status, _, body) = http(
                &addr,
                &format!("GET /status HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
                b"",
            );
            let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            if status == 200 && v["value"]["ready"] == json!(true) {
                ready = true;
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(ready, "chromedriver did not become ready");
    let caps = json!({"capabilities": {"alwaysMatch": {
        "browserName": "chrome",
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=820,1500", "--no-first-run", "--disable-extensions",
                     format!("--user-data-dir={}", profile.display())],
            // The person's browser asks for Japanese first.
            "prefs": {"intl.accept_languages": "ja,en",
                      "download.default_directory": downloads.display().to_string(),
                      "download.prompt_for_download": false}
        },
        "goog:loggingPrefs": {"performance": "ALL"}
    }}});
    let mut d = Driver {
        addr,
        session: String::new(),
        _chromedriver: chromedriver,
    };
    let v = d.call("POST", "/session", Some(caps));
    d.session = v["sessionId"].as_str().expect("a session").to_owned();
    d.s(
        "POST",
        "/timeouts",
        Some(json!({"implicit": 30000, "pageLoad": 120000, "script": 30000})),
    );
    d
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = http(
                &self.addr,
                &format!(
                    "DELETE /session/{} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                    self.session, self.addr
                ),
                b"",
            );
        }
    }
}

/// Verifies on the page: chooses the files, opens the extra fields when needed, submits, and
/// waits for the result page (the implicit wait finds `#verdict` once it has loaded).
fn verify(d: &Driver, sig: &Path, data: Option<&Path>, trust: &[&Path], crls: &[&Path]) {
    d.choose("#signature", sig);
    if let Some(p) = data {
        d.choose("#data", p);
    }
    if !trust.is_empty() || !crls.is_empty() {
        d.click("details > summary");
        for p in trust {
            d.choose("#trust", p);
        }
        for p in crls {
            d.choose("#crl", p);
        }
    }
    let before = d.script("return location.href");
    d.click("#submit");
    // The form is replaced by the result page: wait for the new document.
    for _ in 0..600 {
        let now = d.script("return document.readyState === 'complete' ? location.href : ''");
        if now != before && now.as_str().is_some_and(|s| s.contains("/result/")) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn verdict(d: &Driver) -> (String, String, String, String) {
    (
        d.text("#verdict-word"),
        d.text("#indication"),
        d.text("#sub-indication"),
        d.script("return document.documentElement.lang")
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[test]
fn the_page_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    // The CAs' configuration and the TSA of the script's `openssl ts -reply` calls.
    std::fs::write(p.join("ca.cnf"), openssl_ca_config("")).unwrap();
    let extra = "digests = sha256\naccuracy = secs:1\ness_cert_id_chain = no\n";
    let tsa = openssl_tsa_section("t", "tsa.pem", "tsa.key", extra);
    std::fs::write(p.join("tsa.cnf"), format!("[tsa]\ndefault_tsa = t\n{tsa}")).unwrap();
    bash(p, PKI);
    let f = |n: &str| -> PathBuf { p.join(n) };

    // The server works in an empty directory with its own empty TMPDIR: uploads are held in
    // memory and nothing of them may be left on disk.
    let work = tempfile::tempdir().unwrap();
    let server_tmp = work.path().join("tmp");
    std::fs::create_dir(&server_tmp).unwrap();
    let server = Command::new(env!("CARGO_BIN_EXE_inkan-verify"))
        .current_dir(work.path())
        .env("TMPDIR", &server_tmp)
        .args(["ui", "--trust"])
        .arg(f("root.pem"))
        .arg("--crl")
        .arg(f("root.crl"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Proc(server);
    let mut first = String::new();
    BufReader::new(server.0.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first.trim().to_owned();
    let origin = url
        .strip_suffix(&url[url.find("/?token=").expect("a token in the URL")..])
        .unwrap()
        .to_owned();
    let host = origin.strip_prefix("http://").unwrap().to_owned();
    let token = url.rsplit("token=").next().unwrap().to_owned();
    assert_eq!(token.len(), 64, "{url}");

    // Refused without the token, from a foreign Host (DNS rebinding) or a foreign Origin.
    let get = |path: &str, extra: &str| {
        http(
            &host,
            &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n"),
            b"",
        )
        .0
    };
    assert_eq!(get("/", ""), 403);
    assert_eq!(get("/?token=00", ""), 403);
    assert_eq!(get(&format!("/?token={token}"), ""), 200);
    let (st, _, _) = http(
        &host,
        &format!("GET /?token={token} HTTP/1.1\r\nHost: attacker.example:80\r\n\r\n"),
        b"",
    );
    assert_eq!(st, 403);
    let form = "--b\r\nContent-Disposition: form-data; name=\"signature\"; filename=\"x\"\r\n\r\nx\r\n--b--\r\n";
    let post = |origin_field: &str| {
        http(
            &host,
            &format!(
                "POST /verify?token={token} HTTP/1.1\r\nHost: {host}\r\n{origin_field}Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {}\r\n\r\n",
                form.len()
            ),
            form.as_bytes(),
        )
        .0
    };
    assert_eq!(post("Origin: http://attacker.example\r\n"), 403);
    assert_eq!(post(""), 403);
    assert_eq!(post(&format!("Origin: {origin}\r\n")), 303);

    let profile = tempfile::tempdir().unwrap();
    let downloads = tempfile::tempdir().unwrap();
    let d = start_browser(profile.path(), downloads.path());

    // In the browser too, the address without its token shows a refusal.
    d.go(&format!("{origin}/"));
    assert!(d.text("body").contains("refused"));

    // The browser asks for Japanese: the page is Japanese.
    d.go(&url);
    assert_eq!(
        d.script("return document.documentElement.lang"),
        json!("ja")
    );
    assert_eq!(d.text("h1"), "電子署名・eシール・タイムスタンプの確認");
    // Every label is Japanese, and the keyboard goes through the page in reading order.
    assert_eq!(
        d.script(
            "return Array.from(document.querySelectorAll('label, summary, button'))\
             .filter(l => !/[\\u3040-\\u30ff\\u4e00-\\u9fff]/.test(l.textContent)).length"
        ),
        json!(0)
    );
    let order: Vec<String> = (0..7).map(|_| d.tab()).collect();
    assert_eq!(
        order,
        ["a.skip", "a", "a", "signature", "data", "summary", "submit"],
        "focus order"
    );
    assert_eq!(low_contrast(&d), json!([]), "contrast of the form");

    // A valid e-seal over its document.
    verify(&d, &f("invoice.txt.p7s"), Some(&f("invoice.txt")), &[], &[]);
    let (word, ind, sub, lang) = verdict(&d);
    assert_eq!(
        (word.as_str(), ind.as_str(), sub.as_str(), lang.as_str()),
        ("✓ 有効", "TOTAL-PASSED", "-", "ja")
    );
    let body = d.text("main");
    assert!(
        body.contains("有効: この文書は、下記の者による押印(署名)後に改変されていません。"),
        "{body}"
    );
    assert!(body.contains("組織: 株式会社インカン試験"), "{body}");
    assert!(
        body.contains("法人番号: 8040001079502 (有効な法人番号です"),
        "{body}"
    );
    assert!(body.contains("確認した内容"), "{body}");
    // Keyboard and screen reader: the verdict has the focus when the page opens, every input
    // has its label, and the language links say which one is current.
    assert_eq!(
        d.script("return document.activeElement.id"),
        json!("verdict")
    );
    assert_eq!(
        d.script(
            "return Array.from(document.querySelectorAll('input')).filter(i => i.labels.length === 0).length"
        ),
        json!(0)
    );
    assert_eq!(d.text("a[aria-current=page]"), "日本語");
    screenshot(&d, "ui-ja-valid.png");
    // What a screen reader announces: the verdict as a region named by its word (the symbol
    // is hidden from it), the landmarks, and a name for everything that can be operated.
    let ax = accessibility(&d);
    let has = |role: &str, name: &str| ax.iter().any(|(r, n)| r == role && n == name);
    assert!(has("region", "有効"), "{ax:?}");
    assert!(has("heading", "検証結果"), "{ax:?}");
    assert!(has("navigation", "言語"), "{ax:?}");
    assert!(has("main", ""), "{ax:?}");
    let unnamed: Vec<_> = ax
        .iter()
        .filter(|(r, n)| {
            matches!(
                r.as_str(),
                "button" | "link" | "textbox" | "checkbox" | "combobox" | "DisclosureTriangle"
            ) && n.is_empty()
        })
        .collect();
    assert!(unnamed.is_empty(), "nothing to call them: {unnamed:?}");

    // A narrow window (a phone): nothing is wider than the window.
    d.s(
        "POST",
        "/window/rect",
        Some(json!({"width": 360, "height": 800})),
    );
    assert_eq!(
        d.script("return document.documentElement.scrollWidth <= window.innerWidth"),
        json!(true)
    );
    screenshot(&d, "ui-ja-narrow.png");
    assert_eq!(set_width(&d, 360), json!([]), "a result on a phone");
    set_width(&d, 820);
    // From the verdict, the keyboard goes to the download, then to the form for another file;
    // every text is readable against its background.
    d.script("document.getElementById('verdict').focus()");
    let order: Vec<String> = (0..5).map(|_| d.tab()).collect();
    assert_eq!(
        order,
        ["download", "signature", "data", "summary", "submit"],
        "focus order of a result"
    );
    assert_eq!(low_contrast(&d), json!([]), "contrast of a valid result");

    // The same result in English, through the page's language link.
    d.click("a[hreflang=en]");
    let (word, ind, sub, lang) = verdict(&d);
    assert_eq!(
        (word.as_str(), ind.as_str(), sub.as_str(), lang.as_str()),
        ("✓ Valid", "TOTAL-PASSED", "-", "en")
    );
    assert!(d.text("main").contains(
        "VALID: the document is unchanged since it was sealed, by the party named below."
    ));
    // The JSON download carries the same codes.
    let href = d.script("return document.getElementById('download').getAttribute('href')");
    let (st, head, json_body) = http(
        &host,
        &format!(
            "GET {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
            href.as_str().unwrap()
        ),
        b"",
    );
    assert_eq!(st, 200);
    assert!(head.contains("Content-Disposition: attachment"));
    let report: Value = serde_json::from_slice(&json_body).unwrap();
    assert_eq!(report["indication"], json!("TOTAL-PASSED"));
    assert_eq!(report["sub_indication"], Value::Null);
    // And the browser saves it as a file when the link is followed (by the keyboard, as a
    // person without a mouse would).
    d.script("document.getElementById('download').focus()");
    d.s(
        "POST",
        "/actions",
        Some(
            json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": "\u{E007}"}, {"type": "keyUp", "value": "\u{E007}"}]}]}),
        ),
    );
    let mut saved = None;
    for _ in 0..600 {
        saved = std::fs::read_dir(downloads.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|x| x == "json"));
        if saved.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let saved = saved.expect("the browser saved the report");
    assert!(
        saved
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("inkan-verify-report-"),
        "{saved:?}"
    );
    let from_browser: Value = serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    assert_eq!(from_browser, report);

    // The document was changed after sealing (the form below the result, in English now).
    verify(
        &d,
        &f("invoice.txt.p7s"),
        Some(&f("invoice-changed.txt")),
        &[],
        &[],
    );
    let (word, ind, sub, _) = verdict(&d);
    assert_eq!(
        (word.as_str(), ind.as_str(), sub.as_str()),
        ("✗ Not valid", "TOTAL-FAILED", "HASH_FAILURE")
    );
    assert!(d.text("main").contains("INVALID (HASH_FAILURE)"));
    d.click("a[hreflang=ja]");
    let (word, ind, sub, lang) = verdict(&d);
    assert_eq!(
        (word.as_str(), ind.as_str(), sub.as_str(), lang.as_str()),
        ("✗ 無効", "TOTAL-FAILED", "HASH_FAILURE", "ja")
    );
    assert!(
        d.text("main")
            .contains("無効 (HASH_FAILURE): この文書の電子署名・eシールは信頼できません。")
    );

    screenshot(&d, "ui-ja-invalid.png");
    assert_eq!(low_contrast(&d), json!([]), "contrast of an invalid result");

    // Both files dropped on the page at once, the document first: the script puts each in
    // its input (the signature by its name), and the form verifies them.
    let names = d.script_with(
        "const [s, d] = arguments;\
         const bin = b => Uint8Array.from(atob(b), c => c.charCodeAt(0));\
         const dt = new DataTransfer();\
         dt.items.add(new File([bin(d)], 'invoice.txt'));\
         dt.items.add(new File([bin(s)], 'invoice.txt.p7s'));\
         document.getElementById('drop').dispatchEvent(\
           new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));\
         return [document.getElementById('signature').files[0].name,\
                 document.getElementById('data').files[0].name];",
        json!([
            to_base64(&std::fs::read(f("invoice.txt.p7s")).unwrap()),
            to_base64(&std::fs::read(f("invoice.txt")).unwrap())
        ]),
    );
    assert_eq!(names, json!(["invoice.txt.p7s", "invoice.txt"]));
    let before = d.script("return location.href");
    d.click("#submit");
    for _ in 0..600 {
        if d.script("return location.href") != before {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(d.text("#indication"), "TOTAL-PASSED");

    // A seal under a root nobody trusts here: cannot be decided.
    verify(&d, &f("other.txt.p7s"), Some(&f("invoice.txt")), &[], &[]);
    let (word, ind, sub, _) = verdict(&d);
    assert_eq!(
        (word.as_str(), ind.as_str(), sub.as_str()),
        ("? 判定不能", "INDETERMINATE", "NO_CERTIFICATE_CHAIN_FOUND")
    );
    assert_eq!(
        low_contrast(&d),
        json!([]),
        "contrast of an indeterminate result"
    );
    // The person adds that root (and its CRL) on the page, for this verification only.
    verify(
        &d,
        &f("other.txt.p7s"),
        Some(&f("invoice.txt")),
        &[&f("root2.pem")],
        &[&f("root2.crl")],
    );
    let (word, ind, _, _) = verdict(&d);
    assert_eq!((word.as_str(), ind.as_str()), ("✓ 有効", "TOTAL-PASSED"));
    assert!(d.text("main").contains("UI Test root2"));
    verify(&d, &f("other.txt.p7s"), Some(&f("invoice.txt")), &[], &[]);
    assert_eq!(d.text("#indication"), "INDETERMINATE");

    // A time-stamp: when the document is proven to have existed, and by which TSA.
    verify(&d, &f("invoice.txt.tsr"), Some(&f("invoice.txt")), &[], &[]);
    let (word, ind, _, _) = verdict(&d);
    assert_eq!((word.as_str(), ind.as_str()), ("✓ 有効", "TOTAL-PASSED"));
    let main = d.text("main");
    assert!(
        main.contains("有効: 指定されたデータが下記の時刻に存在していたことを、下記の時刻認証局が証明しています。"),
        "{main}"
    );
    assert!(
        main.contains("タイムスタンプと発行した時刻認証局 (TSA)"),
        "{main}"
    );
    assert!(main.contains("インカン試験 時刻認証局"), "{main}");
    screenshot(&d, "ui-ja-time-stamp.png");

    // A signed PDF: the verdict first, then each signature and document time-stamp with its
    // kind, field, revision, what it covers, who made it, its time and the later changes, in
    // the words of the text report (the same lines as `inkan-verify --lang ja`).
    make_pdfs(p);
    // Chosen as the signed document by mistake, the PDF goes to the first field.
    d.choose("#data", &f("invoice.pdf"));
    assert_eq!(
        d.script(
            "return [document.getElementById('signature').files[0].name, \
             document.getElementById('data').files.length]"
        ),
        json!(["invoice.pdf", 0])
    );
    assert!(d.text("#status").contains("invoice.pdf は PDF なので"));
    verify(&d, &f("invoice.pdf"), None, &[], &[]);
    let (word, ind, sub, _) = verdict(&d);
    assert_eq!(
        (word.as_str(), ind.as_str(), sub.as_str()),
        ("✓ 有効", "TOTAL-PASSED", "-")
    );
    let entries = pdf_entries(&d);
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert!(
        entries[0].starts_with("#1 PAdES署名、項目「Approval」、改訂 2"),
        "{entries:?}"
    );
    assert!(
        entries[0].contains("✓ 有効 TOTAL-PASSED / -"),
        "{entries:?}"
    );
    assert!(
        entries[0].contains("署名者・押印者: CN=インカン試験 eシール"),
        "{entries:?}"
    );
    assert!(
        entries[1].starts_with("#2 文書タイムスタンプ、項目「DocTimeStamp」、改訂 3"),
        "{entries:?}"
    );
    assert!(
        entries[1].contains("時刻認証局 (TSA): CN=インカン試験 時刻認証局"),
        "{entries:?}"
    );
    for (i, part) in [
        (0, "対象: 全 3 版のうち改訂 2 までの版"),
        (0, "後の変更: 改訂 3: 文書タイムスタンプが追加されました"),
        (1, "対象: 文書全体"),
        (1, "タイムスタンプの時刻: 20"),
    ] {
        assert!(entries[i].contains(part), "{part}: {entries:?}");
    }
    same_lines_as_cli(
        &d,
        &[
            f("invoice.pdf"),
            "--trust".into(),
            f("root.pem"),
            "--crl".into(),
            f("root.crl"),
        ],
        "ja",
    );
    screenshot(&d, "ui-ja-pdf.png");
    // Its report (JSON) has each of them in `signers`, as `--format json` has.
    let href = d.script("return document.getElementById('download').getAttribute('href')");
    let (st, _, body) = http(
        &host,
        &format!(
            "GET {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n",
            href.as_str().unwrap()
        ),
        b"",
    );
    assert_eq!(st, 200);
    let report: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(report["kind"], json!("PDF"));
    let kinds: Vec<_> = report["signers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["kind"].clone(), s["field"].clone(), s["covers"].clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            (
                json!("PAdES signature"),
                json!("Approval"),
                json!("revision 2 of 3")
            ),
            (
                json!("document time-stamp"),
                json!("DocTimeStamp"),
                json!("the whole document")
            )
        ]
    );
    // The Japanese result is Japanese: every heading and label, and every later change.
    assert_eq!(
        d.script(
            "return Array.from(document.querySelectorAll('h1, h2, h3, h4, dt, .entries strong, \
             label, summary, button')).map(l => l.textContent)\
             .filter(t => !/[\\u3040-\\u30ff\\u4e00-\\u9fff]/.test(t))"
        ),
        json!([])
    );
    // A screen reader reaches the list as a region and each entry by its heading.
    let ax = accessibility(&d);
    assert!(
        ax.iter()
            .any(|(r, n)| r == "region" && n == "この PDF の署名・文書タイムスタンプ"),
        "{ax:?}"
    );
    assert_eq!(
        ax.iter()
            .filter(|(r, n)| r == "heading" && n.starts_with('#'))
            .count(),
        2,
        "{ax:?}"
    );
    assert_eq!(low_contrast(&d), json!([]), "contrast of a PDF's result");

    // The same PDF with its amount rewritten in a later revision: not valid as it is shown,
    // and the page says why, in English too.
    verify(&d, &f("invoice-changed.pdf"), None, &[], &[]);
    let (word, ind, sub, _) = verdict(&d);
    assert_eq!(
        (word.as_str(), ind.as_str(), sub.as_str()),
        ("? 判定不能", "INDETERMINATE", "SIG_CONSTRAINTS_FAILURE")
    );
    assert!(
        d.text("#pdf-finding")
            .contains("署名の後に、署名が許していない変更"),
        "{}",
        d.text("#verdict")
    );
    let entries = pdf_entries(&d);
    assert_eq!(entries.len(), 2, "{entries:?}");
    for e in &entries {
        assert!(
            e.contains("? 判定不能 INDETERMINATE / SIG_CONSTRAINTS_FAILURE"),
            "{entries:?}"
        );
        assert!(
            e.contains("後の変更: 改訂 4: ストリームオブジェクト 4 が置き換えられました"),
            "{entries:?}"
        );
    }
    same_lines_as_cli(
        &d,
        &[
            f("invoice-changed.pdf"),
            "--trust".into(),
            f("root.pem"),
            "--crl".into(),
            f("root.crl"),
        ],
        "ja",
    );
    d.click("a[hreflang=en]");
    assert_eq!(d.text("#verdict-word"), "? Cannot be decided");
    let entries = pdf_entries(&d);
    assert!(entries[0].contains("covers revision 2 of 4"), "{entries:?}");
    assert!(entries[1].contains("covers revision 3 of 4"), "{entries:?}");
    assert!(
        d.text("#pdf-finding")
            .contains("Revision 4 changes the document after this signature"),
        "{}",
        d.text("#verdict")
    );
    same_lines_as_cli(
        &d,
        &[
            f("invoice-changed.pdf"),
            "--trust".into(),
            f("root.pem"),
            "--crl".into(),
            f("root.crl"),
        ],
        "en",
    );
    d.click("a[hreflang=ja]");
    assert_eq!(
        low_contrast(&d),
        json!([]),
        "contrast of a changed PDF's result"
    );
    assert_eq!(
        set_width(&d, 320),
        json!([]),
        "a PDF's result at 320 px (WCAG 2.2 SC 1.4.10)"
    );
    screenshot(&d, "ui-ja-pdf-changed-narrow.png");
    set_width(&d, 820);

    // The amount rewritten in place, inside the signed bytes: not valid, for the signature and
    // for the document time-stamp over it.
    let mut forged = std::fs::read(f("invoice.pdf")).unwrap();
    let at = forged.windows(6).position(|w| w == b"10,000").unwrap();
    forged[at..at + 6].copy_from_slice(b"90,000");
    std::fs::write(f("invoice-forged.pdf"), forged).unwrap();
    verify(&d, &f("invoice-forged.pdf"), None, &[], &[]);
    let (word, ind, sub, _) = verdict(&d);
    assert_eq!(
        (word.as_str(), ind.as_str(), sub.as_str()),
        ("✗ 無効", "TOTAL-FAILED", "HASH_FAILURE")
    );
    let entries = pdf_entries(&d);
    assert_eq!(entries.len(), 2, "{entries:?}");
    for e in &entries {
        assert!(
            e.contains("✗ 無効 TOTAL-FAILED / HASH_FAILURE"),
            "{entries:?}"
        );
    }

    // A trust anchor that is not a certificate: the form again, with the problem said first
    // and holding the focus.
    d.choose("#signature", &f("invoice.txt.p7s"));
    d.choose("#data", &f("invoice.txt"));
    d.click("details > summary");
    d.choose("#trust", &f("invoice.txt"));
    d.click("#submit");
    assert!(
        d.text("#problem").contains("証明書が見つかりません"),
        "{}",
        d.text("main")
    );
    assert_eq!(
        d.script("return document.activeElement.id"),
        json!("problem")
    );

    // Files larger than the server takes are named before they are sent (the page's limit is
    // lowered here so that a small file shows it).
    d.choose("#signature", &f("invoice.txt.p7s"));
    d.script("document.getElementById('verify-form').dataset.maxFile = '10'");
    let here = d.script("return location.href");
    d.click("#submit");
    assert!(d.text("#status").contains("ファイルが大きすぎます"));
    assert_eq!(d.script("return location.href"), here);

    // Every request the pages made went to their own origin (the performance log has every
    // request of every page loaded in this session).
    let log = d.s("POST", "/se/log", Some(json!({"type": "performance"})));
    let mut urls = Vec::new();
    for entry in log.as_array().unwrap() {
        let m: Value = serde_json::from_str(entry["message"].as_str().unwrap_or("{}")).unwrap();
        if m["message"]["method"] == json!("Network.requestWillBeSent") {
            urls.push(
                m["message"]["params"]["request"]["url"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
    }
    assert!(urls.len() > 10, "{urls:?}");
    // From the first request to the page on (before it: the browser's own new-tab page).
    let ours = format!("{origin}/");
    let foreign: Vec<_> = urls
        .iter()
        .skip_while(|u| !u.starts_with(&ours))
        .filter(|u| !u.starts_with(&ours))
        .collect();
    assert!(foreign.is_empty(), "requests to elsewhere: {foreign:?}");

    drop(d);
    let _ = server.0.kill();
    let left: Vec<_> = walk(work.path())
        .into_iter()
        .filter(|e| e != &server_tmp)
        .collect();
    assert!(left.is_empty(), "the server left files: {left:?}");
}

/// Resizes the window to `width` CSS pixels (1500 high) and lists what does not fit: the page
/// wider than the window, or an element whose content runs out of its box.
fn set_width(d: &Driver, width: u32) -> Value {
    d.s(
        "POST",
        "/window/rect",
        Some(json!({"width": width, "height": 1500})),
    );
    d.script_with(
        "const out = [];\
         if (window.innerWidth > arguments[0]) out.push('a window of ' + window.innerWidth);\
         if (document.documentElement.scrollWidth > window.innerWidth) out.push('the page');\
         for (const e of document.querySelectorAll('body *')) {\
           if (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1 && !e.closest('.skip'))\
             out.push([e.tagName, e.className, e.textContent.trim().slice(0, 40)]);\
         }\
         return out;",
        json!([width]),
    )
}

/// The page as a screen reader gets it: (role, name) of every node of Chromium's accessibility
/// tree that is not ignored (DevTools `Accessibility.getFullAXTree`, through ChromeDriver).
fn accessibility(d: &Driver) -> Vec<(String, String)> {
    let v = d.s(
        "POST",
        "/goog/cdp/execute",
        Some(json!({"cmd": "Accessibility.getFullAXTree", "params": {}})),
    );
    v["nodes"]
        .as_array()
        .expect("an accessibility tree")
        .iter()
        .filter(|n| n["ignored"] != json!(true))
        .map(|n| {
            let s = |x: &Value| x.as_str().unwrap_or_default().trim().to_owned();
            (s(&n["role"]["value"]), s(&n["name"]["value"]))
        })
        .collect()
}

/// Every file and directory under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

/// Text whose contrast with its background is below WCAG 2.2 SC 1.4.3 (4.5:1, or 3:1 for
/// large text: 24 px, or 18.66 px bold): each element with text of its own, its colour
/// against the first opaque background behind it (the page's white when none).
fn low_contrast(d: &Driver) -> Value {
    d.script(
        "const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);\
         const lum = c => { const v = rgb(c).slice(0, 3).map(x => { x /= 255; \
           return x <= 0.04045 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); }); \
           return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };\
         const bg = e => { for (; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor; \
           const a = rgb(c); if (a.length === 3 || a[3] > 0) return c; } return 'rgb(255, 255, 255)'; };\
         const bad = [];\
         for (const e of document.querySelectorAll('body *')) {\
           const own = Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());\
           if (!own || e.getClientRects().length === 0) continue;\
           const s = getComputedStyle(e);\
           if (s.visibility === 'hidden' || e.closest('.skip')) continue;\
           const a = lum(s.color), b = lum(bg(e));\
           const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);\
           const size = parseFloat(s.fontSize), bold = Number(s.fontWeight) >= 700;\
           const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;\
           if (ratio < need) bad.push([e.tagName, e.className, e.textContent.trim().slice(0, 40), ratio.toFixed(2)]);\
         }\
         return bad;",
    )
}

/// The text of each entry of the list of a PDF's signatures and document time-stamps.
fn pdf_entries(d: &Driver) -> Vec<String> {
    d.script("return Array.from(document.querySelectorAll('.entries > li')).map(e => e.innerText)")
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Every line the text report of `inkan-verify --lang LANG ARGS` writes about each signature
/// (its section on signers) is on the page, word for word: one source for both.
fn same_lines_as_cli(d: &Driver, args: &[PathBuf], lang: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_inkan-verify"))
        .args(["--lang", lang])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .skip_while(|l| !matches!(*l, "Signers:" | "署名者ごとの結果:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter(|l| l.starts_with("     "))
        .map(str::trim)
        .collect();
    assert!(lines.len() >= 2, "{text}");
    let page = d.text(".entries");
    for line in lines {
        assert!(page.contains(line), "not on the page: {line}\n{page}");
    }
}

/// Saves a screenshot of the window under `$CARGO_TARGET_TMPDIR` (for people to look at;
/// not part of the repository).
fn screenshot(d: &Driver, name: &str) {
    let png = base64(d.s("GET", "/screenshot", None).as_str().unwrap());
    assert!(png.starts_with(b"\x89PNG"));
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&out, png).unwrap();
    eprintln!("screenshot: {}", out.display());
}

fn to_base64(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in b.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(char::from(A[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base64(s: &str) -> Vec<u8> {
    inkan_verifier::input::base64_decode(s.as_bytes()).expect("base64")
}
