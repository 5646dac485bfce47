//! PDF benchmark (harness = false), against pyHanko on the same machine in one run (issue 14):
//!
//! 1. 1,000 one-page PDFs signed at PAdES B-B with a software P-256 key: `inkan-sign`'s batch
//!    (the library's `sign_files`, default workers and one worker) against pyHanko 0.38 signing
//!    the same files in one Python process (the loop timed, interpreter start excluded);
//! 2. the 1,000 PDFs inkan signed, validated by `inkan-verify` (the library on one thread: a
//!    long-lived `Validator`, as the `inkan-verify` binary uses for many files, and cold
//!    `verify` calls) and by pyHanko (`validate_pdf_signature`, one process), all with the root
//!    and the CRL;
//! 3. a 200 MiB PDF signed by the `inkan-sign` binary: wall time and peak resident memory
//!    (GNU `time`'s maximum resident set size, Debian `time`), against `sha256sum` on the same
//!    file (page cache warm for both).
//!
//! `cargo bench -p inkan-signer --bench pdf` (`INKAN_BENCH_PDFS=N`, `INKAN_BENCH_MIB=M` change
//! the sizes; `INKAN_PYHANKO_VENV=DIR` names a virtual environment with pyHanko 0.38, by
//! default the one the tests install under the target directory).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use inkan_hsm::devpki::{DevPki, KeyAlg};
use inkan_profiles::clock::{Clock, SystemClock};
use inkan_signer::cades::Level;
use inkan_signer::sign::{self, Options};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A one-page PDF with a classic cross-reference table, numbered `n`.
fn one_page(n: usize) -> Vec<u8> {
    let content = format!("BT /F1 24 Tf 72 700 Td (Invoice 2026-{n:05}: 10,000 JPY) Tj ET");
    let objs = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    inkan_test_support::classic_pdf(&objs)
}

/// A one-page PDF of about `mib` MiB (its content stream mostly white space, as a large
/// scan's image stream is for a signer), written without holding it.
fn write_large_pdf(path: &Path, mib: usize) {
    use std::io::Write as _;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let text = b"BT /F1 24 Tf 72 700 Td (Large scan) Tj ET\n";
    let pad = vec![b' '; 1 << 20];
    let len = text.len() + mib * pad.len();
    let mut at = 0usize;
    let mut offs = Vec::new();
    let mut put = |b: &[u8], at: &mut usize| {
        f.write_all(b).unwrap();
        *at += b.len();
    };
    put(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", &mut at);
    for (i, o) in [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    ]
    .iter()
    .enumerate()
    {
        offs.push(at);
        put(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes(), &mut at);
    }
    offs.push(at);
    put(
        format!("4 0 obj\n<< /Length {len} >>\nstream\n").as_bytes(),
        &mut at,
    );
    put(text, &mut at);
    for _ in 0..mib {
        put(&pad, &mut at);
    }
    put(b"\nendstream\nendobj\n", &mut at);
    offs.push(at);
    put(
        b"5 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n",
        &mut at,
    );
    let x = at;
    put(b"xref\n0 6\n0000000000 65535 f\r\n", &mut at);
    for o in offs {
        put(format!("{o:010} 00000 n\r\n").as_bytes(), &mut at);
    }
    put(
        format!("trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n{x}\n%%EOF\n").as_bytes(),
        &mut at,
    );
    f.flush().unwrap();
}

/// pyHanko 0.38's `python` (installed into the tests' virtual environment when missing).
fn pyhanko_python() -> PathBuf {
    inkan_test_support::pyhanko_python(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("pyhanko-venv"))
}

/// Runs the pyHanko script; returns (files, seconds of its loop).
fn pyhanko(args: &[&std::ffi::OsStr]) -> (usize, f64) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/pades_pyhanko.py");
    let out = Command::new(pyhanko_python())
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pyHanko: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    (
        it.next().unwrap().parse().unwrap(),
        it.next().unwrap().parse().unwrap(),
    )
}

/// Runs `cmd` under GNU `time`: (wall seconds, maximum resident set size in KiB).
fn timed_with_peak(cmd: &[&std::ffi::OsStr]) -> (f64, u64) {
    let report = tempfile::NamedTempFile::new().unwrap();
    let t = Instant::now();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(report.path())
        .args(cmd)
        .stdout(std::process::Stdio::null())
        .output()
        .expect("GNU time (Debian time)");
    let secs = t.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kib = std::fs::read_to_string(report.path())
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (secs, kib)
}

fn main() {
    let n = env_usize("INKAN_BENCH_PDFS", 1000);
    let mib = env_usize("INKAN_BENCH_MIB", 200);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pki = DevPki::generate(SystemClock.now().unwrap(), KeyAlg::P256).unwrap();
    let key = d.join("eseal.key");
    std::fs::write(&key, pki.eseal_key_pem.as_bytes()).unwrap();
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let chain = d.join("eseal-chain.pem");
    std::fs::write(&chain, pki.eseal_chain_pem()).unwrap();
    let root = d.join("root.pem");
    std::fs::write(&root, pki.root_pem()).unwrap();
    let crl = d.join("crl.der");
    std::fs::write(&crl, &pki.crl_der).unwrap();
    let src = d.join("in");
    std::fs::create_dir(&src).unwrap();
    let inputs: Vec<PathBuf> = (0..n)
        .map(|i| {
            let p = src.join(format!("invoice-{i:05}.pdf"));
            std::fs::write(&p, one_page(i)).unwrap();
            p
        })
        .collect();
    println!(
        "PDF benchmark: {n} one-page PDFs ({} bytes each), PAdES B-B, software P-256 key; {} CPUs",
        one_page(0).len(),
        std::thread::available_parallelism().map_or(1, |c| c.get())
    );

    // 1. Signing. A first small batch, not timed, loads the key and warms the caches, so that
    // the order of the timed runs does not matter.
    pyhanko_python();
    let mut warm = Options::new(&key.display().to_string(), &chain);
    warm.out_dir = Some(d.join("warm-up"));
    warm.progress = false;
    warm.fetch = false;
    sign::sign_files(&warm, &inputs[..inputs.len().min(100)], &SystemClock).unwrap();
    let mut inkan_rate = Vec::new();
    for workers in [0usize, 1] {
        let out = d.join(format!("inkan-{workers}"));
        let mut o = Options::new(&key.display().to_string(), &chain);
        o.level = Level::BB;
        o.out_dir = Some(out.clone());
        o.progress = false;
        o.fetch = false;
        o.workers = workers;
        let t = Instant::now();
        let s = sign::sign_files(&o, &inputs, &SystemClock).unwrap();
        let secs = t.elapsed().as_secs_f64();
        let signed = s
            .files
            .iter()
            .filter(|f| matches!(f.status, sign::Status::Signed))
            .count();
        assert_eq!(signed, n, "every PDF signed");
        let label = if workers == 0 {
            "default workers".to_string()
        } else {
            format!("{workers} worker")
        };
        println!(
            "inkan-sign ({label}): {n} PDFs in {secs:.3} s = {:.0} PDFs/s",
            n as f64 / secs
        );
        inkan_rate.push(n as f64 / secs);
    }
    let py_out = d.join("pyhanko");
    std::fs::create_dir(&py_out).unwrap();
    let (pn, psecs) = pyhanko(&[
        "sign".as_ref(),
        src.as_os_str(),
        py_out.as_os_str(),
        key.as_os_str(),
        chain.as_os_str(),
    ]);
    assert_eq!(pn, n);
    let py_rate = pn as f64 / psecs;
    println!("pyHanko 0.38 (one process): {pn} PDFs in {psecs:.3} s = {py_rate:.1} PDFs/s");
    println!(
        "signing ratio inkan/pyHanko: {:.1}x (default workers), {:.1}x (1 worker)",
        inkan_rate[0] / py_rate,
        inkan_rate[1] / py_rate
    );

    // 2. Validating the PDFs inkan signed.
    let signed_dir = d.join("inkan-0");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&signed_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let opts = inkan_verifier::Options {
        trust: vec![pki.root_pem().into_bytes()],
        crls: vec![pki.crl_der.clone()],
        ..Default::default()
    };
    let now = SystemClock.now().unwrap();
    let mut v_rates = Vec::new();
    for warm in [true, false] {
        let validator = inkan_verifier::Validator::default();
        let t = Instant::now();
        for f in &files {
            let input = inkan_verifier::Input {
                bytes: std::fs::read(f).unwrap(),
            };
            let r = if warm {
                validator.verify(&input, &opts, now)
            } else {
                inkan_verifier::verify(&input, &opts, now)
            }
            .unwrap();
            assert_eq!(
                r.indication,
                inkan_verifier::report::Indication::TotalPassed,
                "{}",
                r.to_json()
            );
        }
        let vsecs = t.elapsed().as_secs_f64();
        let label = if warm {
            "one Validator for all, as the binary"
        } else {
            "cold verify per file"
        };
        println!(
            "inkan-verify (library, 1 thread, {label}): {} PDFs in {vsecs:.3} s = {:.0} PDFs/s",
            files.len(),
            files.len() as f64 / vsecs
        );
        v_rates.push(files.len() as f64 / vsecs);
    }
    let (vn, pvsecs) = pyhanko(&[
        "validate".as_ref(),
        signed_dir.as_os_str(),
        root.as_os_str(),
        crl.as_os_str(),
    ]);
    let pv_rate = vn as f64 / pvsecs;
    println!(
        "pyHanko 0.38 validate (one process): {vn} PDFs in {pvsecs:.3} s = {pv_rate:.1} PDFs/s"
    );
    println!(
        "validation ratio inkan/pyHanko: {:.1}x (one Validator), {:.1}x (cold calls)",
        v_rates[0] / pv_rate,
        v_rates[1] / pv_rate
    );

    // 3. A large PDF: time and peak memory against sha256sum.
    let large = d.join("large.pdf");
    write_large_pdf(&large, mib);
    let size = std::fs::metadata(&large).unwrap().len() as f64 / (1 << 20) as f64;
    // Warm the page cache for both.
    let _ = timed_with_peak(&["sha256sum".as_ref(), large.as_os_str()]);
    let (ssecs, skib) = timed_with_peak(&["sha256sum".as_ref(), large.as_os_str()]);
    let bin = Path::new(env!("CARGO_BIN_EXE_inkan-sign"));
    let out = d.join("large-signed.pdf");
    let (isecs, ikib) = timed_with_peak(&[
        bin.as_os_str(),
        "--key".as_ref(),
        key.as_os_str(),
        "--cert-chain".as_ref(),
        chain.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        large.as_os_str(),
    ]);
    println!(
        "sha256sum, {size:.0} MiB PDF: {ssecs:.3} s = {:.0} MiB/s, peak RSS {} KiB",
        size / ssecs,
        skib
    );
    println!(
        "inkan-sign B-B, {size:.0} MiB PDF (hash + copy to the output + fsync): {isecs:.3} s = {:.0} MiB/s, peak RSS {} KiB ({:.1} MiB)",
        size / isecs,
        ikib,
        ikib as f64 / 1024.0
    );
    println!("speed ratio inkan-sign/sha256sum: {:.2}", ssecs / isecs);
}
