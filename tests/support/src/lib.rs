//! Test support for the inkan crates, kept out of the product libraries: only
//! `[dev-dependencies]` name this crate, so no product binary links it.
//!
//! | Item | What |
//! |---|---|
//! | [`softhsm`] | private SoftHSM2 tokens, one per test process |
//! | [`openssl`], [`openssl_ok`] | OpenSSL as the independent peer |
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
