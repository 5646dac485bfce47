//! Test support for the inkan crates, kept out of the product libraries: only
//! `[dev-dependencies]` name this crate, so no product binary links it.
//!
//! | Item | What |
//! |---|---|
//! | [`softhsm`] | private SoftHSM2 tokens, one per test process |
//! | [`openssl`], [`openssl_ok`] | OpenSSL as the independent peer |
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
