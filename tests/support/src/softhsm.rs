//! Private SoftHSM2 tokens for tests.
//!
//! SoftHSM2 reads `SOFTHSM2_CONF` once, at `C_Initialize`, and the PKCS#11 context is shared
//! by the whole process. Changing the environment of a running multi-threaded test binary is a
//! data race (and `unsafe` since Rust 2024), so each SoftHSM test runs **in a child process**:
//! [`isolate`] makes a temporary directory with its own `softhsm2.conf` and token, then re-runs
//! the current test alone (`--exact`) with `SOFTHSM2_CONF` and the PIN variable set on the
//! child only. In the child, [`isolate`] returns the [`SoftHsm`] to use; in the parent it waits,
//! relays the child's output on failure, and returns `None`.
//!
//! ```no_run
//! #[test]
//! fn signs_on_a_token() {
//!     let Some(hsm) = inkan_test_support::softhsm::isolate() else { return };
//!     let uri = hsm.keygen("k1", "EC:prime256v1");
//!     // ... inkan_hsm::load(&KeyRef::parse(&uri)?, ...)
//! }
//! ```
//!
//! Tools: `softhsm2-util` creates the token, `pkcs11-tool` (OpenSC) generates keys,
//! `softhsm2-util --import` imports PKCS#8 keys. They are required: tests never skip.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The user PIN of test tokens.
pub const USER_PIN: &str = "1234";
/// The SO PIN of test tokens.
pub const SO_PIN: &str = "12345678";
/// The label of the token [`isolate`] creates.
pub const TOKEN_LABEL: &str = "inkan-test";
/// The environment variable holding the user PIN in the child (`pin-source=env:…`).
pub const PIN_ENV: &str = "INKAN_TEST_PIN";
const CHILD_ENV: &str = "INKAN_SOFTHSM_CHILD_DIR";

/// The SoftHSM2 module on this machine (Debian and Ubuntu paths, then `/usr/local`).
pub fn module_path() -> PathBuf {
    for p in [
        "/usr/lib/softhsm/libsofthsm2.so",
        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/local/lib/softhsm/libsofthsm2.so",
    ] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!("libsofthsm2.so not found: apt-get install -y softhsm2");
}

/// A private SoftHSM2 configuration and token (in the child process of [`isolate`]).
#[derive(Debug)]
pub struct SoftHsm {
    dir: PathBuf,
    module: PathBuf,
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (apt-get install -y softhsm2 opensc)"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes `dir/softhsm2.conf` and initialises a token labelled `label`.
pub fn init_dir(dir: &Path, labels: &[&str]) {
    let tokens = dir.join("tokens");
    std::fs::create_dir_all(&tokens).expect("token dir");
    let conf = dir.join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .expect("softhsm2.conf");
    for label in labels {
        run(Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &conf)
            .args([
                "--init-token",
                "--free",
                "--label",
                label,
                "--so-pin",
                SO_PIN,
                "--pin",
            ])
            .arg(USER_PIN));
    }
}

/// Runs the current test in a child process with a private SoftHSM2 token (see the module
/// docs). Returns `Some` in the child, `None` in the parent once the child has passed.
///
/// The test is found by the current thread's name, which libtest sets to the test's path.
pub fn isolate() -> Option<SoftHsm> {
    isolate_with(&[TOKEN_LABEL])
}

/// As [`isolate`], with these token labels.
pub fn isolate_with(labels: &[&str]) -> Option<SoftHsm> {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        return Some(SoftHsm {
            dir: PathBuf::from(dir),
            module: module_path(),
        });
    }
    let name = std::thread::current()
        .name()
        .expect("isolate() runs inside a libtest test thread")
        .to_owned();
    let dir = tempfile::Builder::new()
        .prefix("inkan-softhsm-")
        .tempdir()
        .expect("temp dir");
    init_dir(dir.path(), labels);
    let exe = std::env::current_exe().expect("current test binary");
    let out = Command::new(exe)
        .args([
            name.as_str(),
            "--exact",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("SOFTHSM2_CONF", dir.path().join("softhsm2.conf"))
        .env(CHILD_ENV, dir.path())
        .env(PIN_ENV, USER_PIN)
        .output()
        .expect("re-run the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "SoftHSM child for {name} failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    None
}

impl SoftHsm {
    /// The directory holding `softhsm2.conf` and `tokens/`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The module path.
    pub fn module(&self) -> &Path {
        &self.module
    }

    /// The `SOFTHSM2_CONF` file.
    pub fn conf(&self) -> PathBuf {
        self.dir.join("softhsm2.conf")
    }

    /// The URI of key `label` on token `token`, PIN from the environment.
    pub fn uri_on(&self, token: &str, label: &str) -> String {
        format!(
            "pkcs11:token={token};object={label}?module-path={}&pin-source=env:{PIN_ENV}",
            self.module.display()
        )
    }

    /// The URI of key `label` on the default token.
    pub fn uri(&self, label: &str) -> String {
        self.uri_on(TOKEN_LABEL, label)
    }

    /// Generates a key pair on the default token with `pkcs11-tool --keypairgen`;
    /// `key_type` as pkcs11-tool spells it (`EC:prime256v1`, `EC:secp384r1`, `EC:secp521r1`,
    /// `EC:secp224r1`, `EC:edwards25519`, `rsa:2048`, `rsa:1024`). Returns the key's URI.
    pub fn keygen(&self, label: &str, key_type: &str) -> String {
        self.keygen_on(TOKEN_LABEL, label, key_type)
    }

    /// As [`Self::keygen`], with more `pkcs11-tool` arguments (e.g. `--allowed-mechanisms
    /// RSA-PKCS-PSS,SHA256-RSA-PKCS-PSS` for a PSS-only key).
    pub fn keygen_with(&self, label: &str, key_type: &str, extra: &[&str]) -> String {
        self.keygen_impl(TOKEN_LABEL, label, key_type, extra)
    }

    /// As [`Self::keygen`], on token `token`.
    pub fn keygen_on(&self, token: &str, label: &str, key_type: &str) -> String {
        self.keygen_impl(token, label, key_type, &[])
    }

    fn keygen_impl(&self, token: &str, label: &str, key_type: &str, extra: &[&str]) -> String {
        let id: String = label
            .bytes()
            .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
            .to_be_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        run(Command::new("pkcs11-tool")
            .env("SOFTHSM2_CONF", self.conf())
            .arg("--module")
            .arg(&self.module)
            .args([
                "--token-label",
                token,
                "--login",
                "--pin",
                USER_PIN,
                "--keypairgen",
            ])
            .args([
                "--key-type",
                key_type,
                "--label",
                label,
                "--id",
                &id,
                "--usage-sign",
            ])
            .args(extra));
        self.uri_on(token, label)
    }

    /// Imports a PKCS#8 PEM private key (`softhsm2-util --import`) with its public key.
    pub fn import(&self, label: &str, id_hex: &str, pem: &Path) -> String {
        run(Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", self.conf())
            .arg("--import")
            .arg(pem)
            .args([
                "--token",
                TOKEN_LABEL,
                "--label",
                label,
                "--id",
                id_hex,
                "--pin",
            ])
            .arg(USER_PIN));
        self.uri(label)
    }

    /// The directory of token `label` under `tokens/` (to remove and restore it in tests).
    pub fn token_dir(&self, label: &str) -> PathBuf {
        let tokens = self.dir.join("tokens");
        for e in std::fs::read_dir(&tokens).expect("tokens dir").flatten() {
            let info = e.path().join("token.object");
            if std::fs::read(&info)
                .is_ok_and(|bytes| bytes.windows(label.len()).any(|w| w == label.as_bytes()))
            {
                return e.path();
            }
        }
        panic!("no token {label} under {}", tokens.display());
    }
}
