//! `inkan-sign` batches as a records officer runs them (issue 18), against a real `inkan-tsa`
//! process whose issuance records are counted before and after: a batch that would lose a
//! seal is refused before any token is asked for, a re-run with `--skip-existing` asks for
//! none, `--report` says what became of every input; a TSA that is down or hung stops the
//! batch with one message and exit 69; and the chain checks of issue 11 §8.

use std::net::TcpListener;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use inkan_hsm::devpki::{DevPki, KeyAlg};
use inkan_profiles::clock::{Clock, SystemClock};
use inkan_test_support::{openssl_p256_ca, openssl_p256_req};
use inkan_tests::tsa::TsaProcess;
use inkan_tests::{openssl_cms_verify, openssl_ok, run};

/// A development PKI in a temporary directory: `eseal.key`, `eseal-chain.pem`, `root.pem`,
/// `tsa.key`, `tsa-chain.pem`, and the TSA's data directory `tsa-data`.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        let now = SystemClock.now().expect("clock");
        let pki = DevPki::generate(now, KeyAlg::P256).expect("dev PKI");
        let dir = tempfile::tempdir().expect("tempdir");
        let w = |name: &str, data: &[u8]| inkan_tests::write_file(&dir.path().join(name), data);
        w("eseal.key", pki.eseal_key_pem.as_bytes());
        w("eseal-chain.pem", pki.eseal_chain_pem().as_bytes());
        w("root.pem", pki.root_pem().as_bytes());
        w("tsa.key", pki.tsa_key_pem.as_bytes());
        w("tsa-chain.pem", pki.tsa_chain_pem().as_bytes());
        std::fs::create_dir(dir.path().join("tsa-data")).unwrap();
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn file(&self, name: &str, data: &str) {
        let p = self.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, data).unwrap();
    }

    fn start_tsa(&self) -> TsaProcess {
        TsaProcess::start(
            &[
                "--key",
                self.path().join("tsa.key").to_str().unwrap(),
                "--cert-chain",
                self.path().join("tsa-chain.pem").to_str().unwrap(),
                "--policy",
                "1.3.6.1.4.1.99999.3161.1",
            ],
            &self.path().join("tsa-data"),
        )
    }

    /// How many tokens the TSA has issued, from its records (`inkan-tsa records`, read while
    /// it runs).
    fn issued(&self) -> usize {
        let out = run(
            "inkan-tsa",
            &[
                "records",
                "--data-dir",
                "tsa-data",
                "--from",
                "2000-01-01T00:00:00Z",
                "--to",
                "2100-01-01T00:00:00Z",
            ],
            self.path(),
        );
        // Exit 1: no record matches.
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "inkan-tsa records: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with('{'))
            .count()
    }

    /// `inkan-sign` with the e-seal key and chain and `args`.
    fn sign(&self, args: &[&str]) -> (Option<i32>, String) {
        let mut all = vec!["--key", "eseal.key", "--cert-chain", "eseal-chain.pem"];
        all.extend_from_slice(args);
        text(&run("inkan-sign", &all, self.path()))
    }

    /// The report's lines, parsed.
    fn report(&self, name: &str) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.path().join(name))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

fn text(out: &Output) -> (Option<i32>, String) {
    (
        out.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The report line of `input`.
fn line<'a>(report: &'a [serde_json::Value], input: &str) -> &'a serde_json::Value {
    report
        .iter()
        .find(|l| l["input"] == input)
        .unwrap_or_else(|| panic!("no line for {input}: {report:?}"))
}

/// Collisions, the same file twice, re-runs with and without `--skip-existing` and `--force`,
/// signature files in a batch: the TSA's records show exactly which runs asked for tokens.
#[test]
fn batch_safety_counted_in_the_tsa_records() {
    let env = Env::new();
    let tsa = env.start_tsa();
    let url = tsa.url();
    let bt = |extra: &[&str]| {
        let mut a = vec!["--level", "b-t", "--tsa", url.as_str()];
        a.extend_from_slice(extra);
        env.sign(&a)
    };
    env.file("a/x.txt", "契約書 A\n");
    env.file("b/x.txt", "契約書 B\n");
    env.file("c.txt", "c\n");
    env.file("d.txt", "d\n");
    let start = env.issued();

    // Two inputs, one output: refused before anything is signed, both named; no token asked,
    // and the --out-dir is not even made.
    let (code, out) = bt(&[
        "--out-dir",
        "t3",
        "a/x.txt",
        "b/x.txt",
        "--report",
        "r0.jsonl",
    ]);
    assert_eq!(code, Some(64), "{out}");
    assert!(out.contains("a/x.txt") && out.contains("b/x.txt"), "{out}");
    assert!(out.contains("same output"), "{out}");
    assert!(!env.path().join("t3").exists());
    assert_eq!(env.issued(), start, "no token for a refused batch");
    let r0 = env.report("r0.jsonl");
    assert_eq!(line(&r0, "a/x.txt")["status"], "failed");
    assert_eq!(r0.last().unwrap()["summary"]["failed"], 2);

    // Beside their inputs they do not collide; the same file twice is signed once.
    let (code, out) = bt(&[
        "a/x.txt", "b/x.txt", "c.txt", "./c.txt", "--report", "r1.jsonl",
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("named more than once"), "{out}");
    assert!(
        out.contains("signed 3 of 3 input(s) at B-T, 0 skipped, 0 failed"),
        "{out}"
    );
    assert_eq!(env.issued(), start + 3, "one token per distinct input");
    for f in ["a/x.txt", "b/x.txt", "c.txt"] {
        openssl_cms_verify(env.path(), &format!("{f}.p7s"), f, "root.pem");
    }
    let r1 = env.report("r1.jsonl");
    assert_eq!(r1.len(), 4, "three inputs and the summary: {r1:?}");
    let c = line(&r1, "c.txt");
    assert_eq!(c["status"], "signed");
    assert_eq!(c["output"], "c.txt.p7s");
    assert_eq!(c["level"], "B-T");
    assert!(c["error"].is_null());
    assert_eq!(r1[3]["summary"]["signed"], 3);

    // A re-run without a flag: the existing output is refused for its input (and kept), the
    // other inputs are signed, exit 1.
    let before = std::fs::read(env.path().join("c.txt.p7s")).unwrap();
    let (code, out) = bt(&["c.txt", "d.txt", "missing.txt", "--report", "r2.jsonl"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("c.txt.p7s exists"), "{out}");
    assert_eq!(std::fs::read(env.path().join("c.txt.p7s")).unwrap(), before);
    assert_eq!(env.issued(), start + 4, "a token for d.txt only");
    let r2 = env.report("r2.jsonl");
    assert_eq!(line(&r2, "c.txt")["status"], "failed");
    assert!(
        line(&r2, "c.txt")["error"]
            .as_str()
            .unwrap()
            .contains("--skip-existing")
    );
    assert_eq!(line(&r2, "d.txt")["status"], "signed");
    assert!(
        line(&r2, "missing.txt")["error"]
            .as_str()
            .unwrap()
            .contains("cannot read")
    );

    // Retrying the failures with --skip-existing (as `documents/*` would: signature files
    // included, skipped with a notice): no new token at all.
    env.file("missing.txt", "now here\n");
    let (code, out) = bt(&[
        "--skip-existing",
        "c.txt",
        "c.txt.p7s",
        "d.txt",
        "d.txt.p7s",
        "missing.txt",
        "--report",
        "r3.jsonl",
    ]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("skipped 2 signature or time-stamp file(s)"),
        "{out}"
    );
    assert!(
        out.contains("signed 1 of 5 input(s) at B-T, 4 skipped, 0 failed"),
        "{out}"
    );
    assert_eq!(
        env.issued(),
        start + 5,
        "only missing.txt asked for a token"
    );
    assert!(!env.path().join("c.txt.p7s.p7s").exists());
    let r3 = env.report("r3.jsonl");
    assert_eq!(line(&r3, "c.txt")["status"], "skipped");
    assert_eq!(line(&r3, "c.txt.p7s")["status"], "skipped");
    assert!(line(&r3, "c.txt.p7s")["output"].is_null());
    assert_eq!(line(&r3, "missing.txt")["status"], "signed");
    let s = &r3.last().unwrap()["summary"];
    assert_eq!(
        (s["signed"].clone(), s["skipped"].clone()),
        (1.into(), 4.into())
    );

    // --force replaces (one new token); a signature file named on its own is signed.
    let (code, out) = bt(&["--force", "c.txt"]);
    assert_eq!(code, Some(0), "{out}");
    assert_ne!(std::fs::read(env.path().join("c.txt.p7s")).unwrap(), before);
    openssl_cms_verify(env.path(), "c.txt.p7s", "c.txt", "root.pem");
    let (code, out) = env.sign(&["d.txt.p7s"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(env.path().join("d.txt.p7s.p7s").exists());
    assert_eq!(env.issued(), start + 6);
    // --force and --skip-existing exclude each other.
    let (code, _) = bt(&["--force", "--skip-existing", "c.txt"]);
    assert_eq!(code, Some(64));

    // A large re-run without a flag names the first ten existing outputs, then counts.
    let names: Vec<String> = (0..12).map(|i| format!("bb/{i:02}.txt")).collect();
    for n in &names {
        env.file(n, n);
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let (code, out) = env.sign(&names);
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = env.sign(&names);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(out.matches(".txt.p7s exists").count(), 10, "{out}");
    assert!(
        out.contains("and 2 more input(s) whose output exists"),
        "{out}"
    );
    assert_eq!(env.issued(), start + 6, "B-B asks the TSA for nothing");
}

/// A TCP port with nothing listening (bound, then closed).
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A TSA that is down: one message for the whole batch, exit 69, nothing written, and the
/// report lists every input as failed.
#[test]
fn tsa_down_stops_the_batch_with_one_message() {
    let env = Env::new();
    let n = 30;
    let mut args: Vec<String> = [
        "--level",
        "B-T",
        "--tsa",
        &format!("http://127.0.0.1:{}/", closed_port()),
        "--report",
        "r.jsonl",
    ]
    .map(String::from)
    .to_vec();
    for i in 0..n {
        env.file(&format!("f{i}.txt"), &format!("{i}"));
        args.push(format!("f{i}.txt"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out) = env.sign(&args);
    assert_eq!(code, Some(69), "{out}");
    assert_eq!(
        out.matches("could not reach the TSA").count(),
        1,
        "one message: {out}"
    );
    assert!(out.contains("stopped early"), "{out}");
    assert!(
        out.contains("tried twice"),
        "the exchange was retried once: {out}"
    );
    assert!(out.contains(&format!("signed 0 of {n}")), "{out}");
    for i in 0..n {
        assert!(!env.path().join(format!("f{i}.txt.p7s")).exists());
    }
    let r = env.report("r.jsonl");
    assert_eq!(r.len(), n + 1);
    assert!(r[..n].iter().all(|l| l["status"] == "failed"));
    assert!(
        r.last().unwrap()["summary"]["stopped"]
            .as_str()
            .unwrap()
            .contains("could not reach the TSA")
    );
}

/// A TSA that accepts connections and never answers: `--tsa-timeout` bounds each exchange,
/// the batch stops after one exchange and its retry per worker (not one timeout per file),
/// with one message and exit 69; standard error being a pipe, progress lines show the run
/// moving meanwhile.
#[test]
fn hung_tsa_stops_the_batch_quickly() {
    let env = Env::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming() {
            counter.fetch_add(1, Ordering::Relaxed);
            // Kept open, never read, never answered.
            held.push(s);
        }
    });
    let n = 40;
    let mut args: Vec<String> = [
        "--level",
        "B-T",
        "--tsa",
        &format!("http://{addr}/"),
        "--tsa-timeout",
        "1",
        "--progress-every",
        "0.2",
    ]
    .map(String::from)
    .to_vec();
    for i in 0..n {
        env.file(&format!("f{i}.txt"), &format!("{i}"));
        args.push(format!("f{i}.txt"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let t = std::time::Instant::now();
    let (code, out) = env.sign(&args);
    eprintln!("hung TSA: {n} inputs, stopped after {:?}", t.elapsed());
    assert_eq!(code, Some(69), "{out}");
    assert_eq!(
        out.matches("did not answer in time").count(),
        1,
        "one message: {out}"
    );
    // Each exchange waits at least 1 s (twice, with the retry), so lines every 0.2 s show.
    assert!(out.contains("inkan-sign: progress: 0 of 40 done"), "{out}");
    // At most one exchange and one retry per worker (8 workers at B-T on this machine, up
    // to 32 elsewhere), never one per input.
    let tried = accepted.load(Ordering::Relaxed);
    assert!(
        (1..=2 * 32).contains(&tried) && tried < 2 * n,
        "{tried} connections for {n} inputs"
    );
}

/// B-LT material that cannot be completed (no revocation data for the e-seal certificate,
/// fetching off) affects every input: one message, exit 1, and the TSA is not asked for a
/// token per input.
#[test]
fn b_lt_material_missing_stops_the_batch() {
    let env = Env::new();
    let tsa = env.start_tsa();
    let url = tsa.url();
    let n = 20;
    let mut args: Vec<String> = ["--level", "B-LT", "--tsa", &url, "--no-fetch"]
        .map(String::from)
        .to_vec();
    for i in 0..n {
        env.file(&format!("f{i}.txt"), &format!("{i}"));
        args.push(format!("f{i}.txt"));
    }
    let before = env.issued();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out) = env.sign(&args);
    assert_eq!(code, Some(1), "{out}");
    assert_eq!(
        out.matches("B-LT material is missing").count(),
        1,
        "one message: {out}"
    );
    assert!(out.contains("no valid revocation data"), "{out}");
    assert_eq!(out.matches("stopped early").count(), 1, "{out}");
    // One token per worker at most (each had started one input), not one per input.
    let asked = env.issued() - before;
    assert!((1..n).contains(&asked), "{asked} tokens for {n} inputs");
}

/// Issue 11 §8: the chain is checked as the verifier would before anything is signed, and
/// the refusal names the rule; names print readably; `--out-dir` is made when missing.
#[test]
fn chain_rules_before_signing() {
    let env = Env::new();
    env.file("doc.txt", "doc\n");
    let d = env.path();
    // A certificate whose only extended key usage is timeStamping (the TSA's) as a seal.
    // `inkan-sign --key KEY --cert-chain CHAIN doc.txt` must refuse (77); its output.
    let refused = |key: &str, chain: &str| {
        let out = run(
            "inkan-sign",
            &["--key", key, "--cert-chain", chain, "doc.txt"],
            d,
        );
        let (code, out) = text(&out);
        assert_eq!(code, Some(77), "{out}");
        out
    };
    let out = refused("tsa.key", "tsa-chain.pem");
    assert!(out.contains("INKAN-SEAL-EKU"), "{out}");
    assert!(out.contains("id-kp-timeStamping"), "{out}");
    assert!(!d.join("doc.txt.p7s").exists());

    // The key of one certificate with another's chain.
    let out = refused("eseal.key", "tsa-chain.pem");
    assert!(out.contains("INKAN-KEY-CERT-MISMATCH"), "{out}");

    // A chain whose e-seal certificate the CA signed with ECDSA-with-SHA1 (made by OpenSSL),
    // its subject carrying a 法人番号 organizationIdentifier.
    openssl_p256_ca(d, "sha1-ca.key", "sha1-ca.pem", "/CN=inkan test SHA-1 CA");
    openssl_p256_req(
        d,
        "sha1-seal.key",
        "sha1-seal.csr",
        "/C=JP/O=inkan test/organizationIdentifier=NTRJP-1234567890123/CN=seal",
        &[],
    );
    std::fs::write(
        d.join("seal.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n",
    )
    .unwrap();
    // The seal's certificate issued by the SHA-1 CA with the signature hash `digest` as
    // `NAME-seal.pem`, and its chain `NAME-chain.pem`.
    let issue = |digest: &str, serial: &str, name: &str| {
        let pem = format!("{name}-seal.pem");
        let ca = [
            "-CA",
            "sha1-ca.pem",
            "-CAkey",
            "sha1-ca.key",
            "-set_serial",
            serial,
        ];
        let mut args = vec!["x509", "-req", digest, "-in", "sha1-seal.csr"];
        args.extend(ca);
        args.extend(["-days", "2", "-extfile", "seal.ext", "-out", &pem]);
        openssl_ok(d, &args);
        let chain = std::fs::read_to_string(d.join(&pem)).unwrap()
            + &std::fs::read_to_string(d.join("sha1-ca.pem")).unwrap();
        std::fs::write(d.join(format!("{name}-chain.pem")), chain).unwrap();
    };
    issue("-sha1", "7", "sha1");
    let out = refused("sha1-seal.key", "sha1-chain.pem");
    assert!(out.contains("CRYPTREC-HASH-SHA1"), "{out}");
    assert!(
        out.contains("organizationIdentifier=NTRJP-1234567890123"),
        "the name reads as text: {out}"
    );
    assert!(!out.contains("2.5.4.97"), "{out}");
    assert!(!d.join("doc.txt.p7s").exists());

    // The same certificate signed with SHA-256 passes, into an --out-dir made for it.
    issue("-sha256", "8", "sha256");
    let out = run(
        "inkan-sign",
        &[
            "--key",
            "sha1-seal.key",
            "--cert-chain",
            "sha256-chain.pem",
            "--out-dir",
            "new/seals",
            "doc.txt",
        ],
        d,
    );
    let (code, out) = text(&out);
    assert_eq!(code, Some(0), "{out}");
    openssl_cms_verify(d, "new/seals/doc.txt.p7s", "doc.txt", "sha1-ca.pem");
}
