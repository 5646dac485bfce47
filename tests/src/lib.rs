//! Shared helpers for inkan's end-to-end tests: locating the workspace binaries, running them,
//! and finding `../shared` (the real-world vectors live there, never in this repository).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

pub mod docs;
pub mod tsa;

/// The workspace root (the directory holding the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `../shared` beside the clone, where CI puts the shared specs and vectors.
pub fn shared_dir() -> PathBuf {
    workspace_root().join("..").join("shared")
}

static BUILT: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The path of a workspace binary (`inkan-tsa`, `inkan-sign`, `inkan-verify`, `inkan-hsm`).
/// When it is missing or older than any source of the crates it is made from, the first call
/// for it in a test process runs `cargo build`, so `cargo test -p inkan-tests` alone never
/// runs a stale binary; under `cargo test --workspace` the binaries are fresh and nothing is
/// rebuilt (a second build could pick other features and rebuild dependencies).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test-binary> -> target/<profile>/<name>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps");
    let path = profile_dir.join(name);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !built.iter().any(|b| b == name) && is_stale(&path) {
        let package = match name {
            "inkan-tsa" => "inkan-tsa",
            "inkan-sign" => "inkan-signer",
            "inkan-verify" => "inkan-verifier",
            "inkan-hsm" => "inkan-hsm",
            other => panic!("unknown binary {other}"),
        };
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(["build", "--quiet", "-p", package, "--bin", name]);
        if profile_dir.file_name().is_some_and(|p| p == "release") {
            cmd.arg("--release");
        }
        if let Some(target) = profile_dir.parent() {
            cmd.arg("--target-dir").arg(target);
        }
        let status = cmd
            .current_dir(workspace_root())
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build of {name} failed");
        built.push(name.to_owned());
    }
    path
}

/// Whether `binary` is missing or older than a source file of the library crates.
fn is_stale(binary: &Path) -> bool {
    let Ok(built) = std::fs::metadata(binary).and_then(|m| m.modified()) else {
        return true;
    };
    let root = workspace_root();
    let mut dirs: Vec<PathBuf> = ["profiles", "hsm", "tsa", "signer", "verifier"]
        .iter()
        .map(|c| root.join(c).join("src"))
        .collect();
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t > built)
            {
                return true;
            }
        }
    }
    false
}

/// Writes a test file; a `.key` file is made owner-only, as `inkan-tsa` and `inkan-sign`
/// refuse private keys that group or others can read (outside `--dev`).
pub fn write_file(path: &Path, data: &[u8]) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::write(path, data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "key") {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}

/// Runs a workspace binary with arguments in `dir` and returns its output.
pub fn run(name: &str, args: &[&str], dir: &Path) -> Output {
    Command::new(bin(name))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("spawn {name}: {e}"))
}

/// OpenSSL as the independent peer (one copy for every test crate).
pub use inkan_test_support::{openssl, openssl_cms_accepts, openssl_cms_verify, openssl_ok};

/// `inkan-verify ARGS --format json` in `dir`: its exit status and JSON report.
pub fn verify_json(dir: &Path, args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = run("inkan-verify", &all, dir);
    let text = String::from_utf8_lossy(&out.stdout);
    let json = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "inkan-verify {all:?} printed no JSON ({e}):\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

/// `t` as an RFC 3339 UTC time for `--at` (days to civil date, proleptic Gregorian).
pub fn rfc3339(t: inkan_profiles::time::UnixTime) -> String {
    const DAY: u64 = 86_400;
    let secs = t.secs();
    let rem = secs % DAY;
    let days = i64::try_from(secs / DAY).expect("days fit in i64");
    let (y, m, d) = inkan_profiles::time::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The shell block that follows `marker` (an HTML comment such as
/// `<!-- walkthrough: records-officer -->`) in the README.
pub fn readme_block(marker: &str) -> String {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let start = readme
        .find(marker)
        .unwrap_or_else(|| panic!("README has no {marker}"));
    let rest = &readme[start..];
    let open = rest
        .find("```sh\n")
        .expect("a ```sh block follows the marker")
        + 6;
    let close = rest[open..].find("\n```").expect("the block ends") + open;
    rest[open..=close].to_owned()
}

/// Runs the README's walk-through after `marker` as written, under `bash -euo pipefail` in an
/// empty directory, with the workspace's binaries first on `PATH` and `TSA_PORT` set to a free
/// port; returns its output and the directory it ran in.
pub fn run_readme_walkthrough(marker: &str) -> (Output, tempfile::TempDir) {
    let script = readme_block(marker);
    let bin_dir = bin("inkan-sign").parent().unwrap().to_owned();
    for b in ["inkan-tsa", "inkan-verify", "inkan-hsm"] {
        assert_eq!(bin(b).parent().unwrap(), bin_dir);
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(dir.path())
        .env("PATH", path)
        .env("TSA_PORT", port.to_string())
        .output()
        .expect("bash runs");
    (out, dir)
}
