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
//! Japanese; nothing is wider than a 360 px window. Screenshots of the Japanese pages are
//! written to `$CARGO_TARGET_TMPDIR/ui-*.png` (not part of the repository).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

const PKI: &str = r#"
set -e
cat > ca.cnf <<'CNF'
[ca]
default_ca = CA_default
[CA_default]
dir = .
database = index.txt
crlnumber = crlnumber
default_md = sha256
default_crl_days = 30
CNF
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
cat > tsa.cnf <<'CNF'
[tsa]
default_tsa = t
[t]
dir = .
serial = tsaserial
signer_cert = tsa.pem
signer_key = tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ess_cert_id_alg = sha256
ess_cert_id_chain = no
CNF
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

fn sh(dir: &Path, script: &str) {
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .output()
        .expect("bash and openssl are installed (the CI installs openssl)");
    assert!(
        out.status.success(),
        "script failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
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

fn start_browser(profile: &Path) -> Driver {
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
            "prefs": {"intl.accept_languages": "ja,en"}
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
    sh(p, PKI);
    let f = |n: &str| -> PathBuf { p.join(n) };

    let server = Command::new(env!("CARGO_BIN_EXE_inkan-verify"))
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
    let d = start_browser(profile.path());

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
    d.s(
        "POST",
        "/window/rect",
        Some(json!({"width": 820, "height": 1500})),
    );

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

    // A PDF is named as not supported yet.
    std::fs::write(f("doc.pdf"), b"%PDF-1.7\n%\xe2\xe3\n").unwrap();
    d.choose("#signature", &f("doc.pdf"));
    d.click("#submit");
    assert!(
        d.text("#problem")
            .contains("PDF ファイルにはまだ対応していません")
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
