use std::path::{Path, PathBuf};
use std::process::Command;

use inkan_profiles::time::UnixTime;
use inkan_test_support::genpkey_args;

/// 2026-11-23T00:00:00Z, the instant the tests pin.
pub const AT: UnixTime = UnixTime::from_secs(1_795_392_000);

/// Runs a command, panicking with its stderr on failure; returns stdout.
pub fn run(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    out.stdout
}

/// Makes a PKCS#8 PEM key file `dir/name.key`.
pub fn openssl_key(dir: &Path, name: &str, kind: &str) -> PathBuf {
    let out = dir.join(format!("{name}.key"));
    run(Command::new("openssl")
        .arg("genpkey")
        .args(genpkey_args(kind))
        .arg("-out")
        .arg(&out));
    out
}

/// Makes a self-signed certificate `dir/name.pem` for the key file.
pub fn openssl_self_signed(dir: &Path, name: &str, key: &Path) -> PathBuf {
    let out = dir.join(format!("{name}.pem"));
    run(Command::new("openssl")
        .args(["req", "-x509", "-new", "-days", "30", "-subj"])
        .arg(format!("/CN={name}"))
        .arg("-key")
        .arg(key)
        .arg("-out")
        .arg(&out));
    out
}

/// Reads the first PEM block of a file as DER.
pub fn pem_to_der(path: &Path) -> Vec<u8> {
    let pem = std::fs::read(path).unwrap();
    der::pem::decode_vec(&pem).unwrap().1
}
