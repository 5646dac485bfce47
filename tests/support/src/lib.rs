//! Test support for the inkan crates, kept out of the product libraries: only
//! `[dev-dependencies]` name this crate, so no product binary links it.
//!
//! | Item | What |
//! |---|---|
//! | [`softhsm`] | private SoftHSM2 tokens, one per test process |
//! | [`openssl`], [`openssl_ok`] | OpenSSL as the independent peer |
//! | [`openssl_p256_req`], [`openssl_p256_ca`], [`CA_EXTENSIONS`] | a P-256 key with a request or a self-signed CA |
//! | [`bash`] | a bash script (of `openssl` commands) that must succeed |
//! | [`openssl_ca_config`] | the `openssl ca` configuration of a test CA |
//! | [`openssl_tsa_section`] | the `openssl ts -reply` configuration of a peer TSA |
//! | [`der_tlv`], [`classic_pdf`] | hand-made DER and PDF inputs |
//! | [`genpkey_args`] | the `openssl genpkey` arguments of each test key type |
//! | [`openssl_cades_sign`] | OpenSSL's detached CAdES signature |
//! | [`openssl_cms_verify`], [`openssl_cms_accepts`] | OpenSSL's verdict on a detached CMS signature |
//! | [`pyhanko_python`] | pyHanko, the PAdES peer, in a virtual environment |
//!
//! The tools are required (`openssl`, `softhsm2-util`, `pkcs11-tool`): a missing tool fails the
//! test with the package to install, never skips it.

use std::path::Path;
use std::process::{Command, Output};

pub mod softhsm;

/// Runs `openssl ARGS` in `dir` and returns its output, whatever its exit status (for checks
/// that expect OpenSSL to refuse something). Panics only when `openssl` cannot be started.
pub fn openssl(dir: &Path, args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run openssl {args:?}: {e} (apt-get install -y openssl)"))
}

/// Runs `openssl ARGS` in `dir`, panics with its error output unless it succeeds, and returns
/// its standard output.
pub fn openssl_ok(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = openssl(dir, args);
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `openssl cms -sign -cades -binary` in `dir`: a detached CAdES-BES signature (DER, SHA-256)
/// of the file `data` by the certificate `signer` with its key `key`, written to `out`, with
/// the further options `extra` (`-certfile`, ...). Panics unless OpenSSL succeeds.
pub fn openssl_cades_sign(
    dir: &Path,
    data: &str,
    signer: &str,
    key: &str,
    out: &str,
    extra: &[&str],
) {
    let mut args = vec!["cms", "-sign", "-cades", "-binary", "-in", data];
    args.extend(["-signer", signer, "-inkey", key, "-md", "sha256"]);
    args.extend(["-outform", "DER", "-out", out]);
    args.extend(extra);
    openssl_ok(dir, &args);
}

/// The `openssl cms -verify` arguments for the detached DER signature `sig` over `content`
/// against `ca`.
fn cms_verify_args<'a>(sig: &'a str, content: &'a str, ca: &'a str) -> [&'a str; 15] {
    [
        "cms",
        "-verify",
        "-binary",
        "-inform",
        "DER",
        "-in",
        sig,
        "-content",
        content,
        "-CAfile",
        ca,
        "-purpose",
        "any",
        "-out",
        "/dev/null",
    ]
}

/// `openssl cms -verify` of the detached DER signature `sig` over `content` against `ca`:
/// OpenSSL, the interop peer, must accept what inkan writes. Panics when it does not.
pub fn openssl_cms_verify(dir: &Path, sig: &str, content: &str, ca: &str) {
    openssl_ok(dir, &cms_verify_args(sig, content, ca));
}

/// Whether `openssl cms -verify` accepts the detached DER signature `sig` over `content`
/// against `ca` (for cases where OpenSSL's own verdict is what is recorded).
pub fn openssl_cms_accepts(dir: &Path, sig: &str, content: &str, ca: &str) -> bool {
    openssl(dir, &cms_verify_args(sig, content, ca))
        .status
        .success()
}

/// Runs the bash `script` in `dir` (`set -e` scripts that make test PKIs with `openssl`);
/// panics with the script and its error output unless it succeeds.
pub fn bash(dir: &Path, script: &str) {
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .output()
        .expect("bash and openssl are installed (apt-get install -y openssl)");
    assert!(
        out.status.success(),
        "script failed: {script}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An OpenSSL configuration for `openssl ca` in the current directory: the database
/// `index.txt`, CRL numbers in `crlnumber`, SHA-256, CRLs valid 30 days (RFC 5280 §5.1.2.5
/// nextUpdate), then the further `[CA_default]` lines and sections `extra`.
pub fn openssl_ca_config(extra: &str) -> String {
    format!(
        "[ca]\ndefault_ca = CA_default\n[CA_default]\ndir = .\ndatabase = index.txt\n\
         crlnumber = crlnumber\ndefault_md = sha256\ndefault_crl_days = 30\n{extra}"
    )
}

/// The OpenSSL configuration section `[name]` for `openssl ts -reply` (the RFC 3161 peer):
/// signs with `cert` and `key` of the current directory, serial numbers in `tsaserial`,
/// policy 1.2.3.4.1, SHA-256, and ESSCertIDv2 with SHA-256 (RFC 5816; OpenSSL's shipped
/// configuration would put SHA-1); then the further lines `extra` (`digests`, `accuracy`,
/// `certs`, ...).
pub fn openssl_tsa_section(name: &str, cert: &str, key: &str, extra: &str) -> String {
    format!(
        "[{name}]\ndir = .\nserial = tsaserial\nsigner_cert = {cert}\nsigner_key = {key}\n\
         signer_digest = sha256\ndefault_policy = 1.2.3.4.1\ness_cert_id_alg = sha256\n{extra}"
    )
}

/// The `openssl req -addext` options of a CA certificate (RFC 5280 §4.2.1.9 basicConstraints,
/// §4.2.1.3 keyUsage: signs certificates and CRLs).
pub const CA_EXTENSIONS: [&str; 4] = [
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
];

/// `openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes` in `dir`: a new P-256 key
/// `key` (unencrypted PKCS#8) and, as `out`, a certificate request for the subject `subj`, or
/// a self-signed certificate when `opts` holds `-x509`; `opts` are further `req` options
/// (`-x509`, `-days`, [`CA_EXTENSIONS`]).
pub fn openssl_p256_req(dir: &Path, key: &str, out: &str, subj: &str, opts: &[&str]) {
    let mut args = vec![
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
    ];
    args.extend(["-nodes", "-keyout", key, "-out", out, "-subj", subj]);
    args.extend(opts);
    openssl_ok(dir, &args);
}

/// A self-signed P-256 CA certificate `pem` with its new key `key` in `dir`, subject `subj`,
/// valid two days, with [`CA_EXTENSIONS`].
pub fn openssl_p256_ca(dir: &Path, key: &str, pem: &str, subj: &str) {
    let opts = [&["-x509", "-days", "2"][..], &CA_EXTENSIONS].concat();
    openssl_p256_req(dir, key, pem, subj, &opts);
}

/// A definite-length DER TLV (X.690 §8.1) of `tag` around `value` (lengths up to 65,535),
/// written by hand so that tests build their inputs without the encoders under test.
pub fn der_tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = value.len();
    assert!(n <= 0xffff, "der_tlv: {n} bytes");
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend_from_slice(&[0x81, n as u8]);
    } else {
        out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(value);
    out
}

/// A PDF 1.7 file with a classic cross-reference table (ISO 32000-1 §7.5.4) of the
/// `objects` (numbered from 1, the first the document catalog).
pub fn classic_pdf(objects: &[impl AsRef<str>]) -> Vec<u8> {
    let mut b = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offs = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offs.push(b.len());
        let o = o.as_ref();
        b.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let x = b.len();
    let size = objects.len() + 1;
    b.extend_from_slice(format!("xref\n0 {size}\n0000000000 65535 f\r\n").as_bytes());
    for o in offs {
        b.extend_from_slice(format!("{o:010} 00000 n\r\n").as_bytes());
    }
    b.extend_from_slice(
        format!("trailer\n<< /Size {size} /Root 1 0 R >>\nstartxref\n{x}\n%%EOF\n").as_bytes(),
    );
    b
}

/// `openssl genpkey` arguments for each test key type (`rsa2048`, `p256`, `ed25519`,
/// `rsapss2048r`, ...). Panics on an unknown kind.
pub fn genpkey_args(kind: &str) -> Vec<&'static str> {
    match kind {
        "rsa2048" => vec!["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        "rsa1024" => vec!["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
        "p224" => vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-224"],
        "p256" => vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "p384" => vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
        "p521" => vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"],
        "ed25519" => vec!["-algorithm", "ED25519"],
        // id-RSASSA-PSS keys: without restrictions; restricted to SHA-256/MGF1-SHA-256/salt 32
        // (`rsapss2048r`) or to SHA-384/MGF1-SHA-384/salt 48 (`rsapss2048r384`).
        "rsapss2048" => vec!["-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048"],
        "rsapss2048r" | "rsapss2048r384" => {
            let [md, mgf1, salt] = if kind == "rsapss2048r" {
                [
                    "rsa_pss_keygen_md:sha256",
                    "rsa_pss_keygen_mgf1_md:sha256",
                    "rsa_pss_keygen_saltlen:32",
                ]
            } else {
                [
                    "rsa_pss_keygen_md:sha384",
                    "rsa_pss_keygen_mgf1_md:sha384",
                    "rsa_pss_keygen_saltlen:48",
                ]
            };
            let mut v = vec!["-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048"];
            for restriction in [md, mgf1, salt] {
                v.extend(["-pkeyopt", restriction]);
            }
            v
        }
        other => panic!("unknown key kind {other}"),
    }
}

/// pyHanko 0.38 (PyPI), the independent PAdES peer: the `python` of a virtual environment in
/// `INKAN_PYHANKO_VENV`, else in `default_dir`, made and filled on first use (needs Debian's
/// `python3-venv` and the network to PyPI). Panics with the reason when it cannot be had.
pub fn pyhanko_python(default_dir: &Path) -> std::path::PathBuf {
    let dir = std::env::var_os("INKAN_PYHANKO_VENV")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| default_dir.to_owned());
    let py = dir.join("bin/python");
    let ready = |py: &Path| {
        Command::new(py)
            .args(["-c", "import sys, importlib.metadata as m, pyhanko.sign; sys.exit(0 if m.version('pyhanko').startswith('0.38') else 1)"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !ready(&py) {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "python3 -m venv {} failed (Debian python3-venv)",
            dir.display()
        );
        let out = Command::new(dir.join("bin/pip"))
            .args(["install", "-q", "pyhanko==0.38.0"])
            .output()
            .unwrap_or_else(|e| panic!("cannot run pip: {e}"));
        assert!(
            out.status.success(),
            "pip install pyhanko: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            ready(&py),
            "pyHanko 0.38 not importable after installing it"
        );
    }
    py
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssl_ok_returns_stdout_and_openssl_keeps_failures() {
        let dir = tempfile::tempdir().unwrap();
        let version = openssl_ok(dir.path(), &["version"]);
        assert!(String::from_utf8_lossy(&version).starts_with("OpenSSL"));
        let bad = openssl(dir.path(), &["x509", "-in", "missing.pem"]);
        assert!(!bad.status.success());
    }
}
