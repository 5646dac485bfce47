//! Shared helpers for inkan's end-to-end tests: locating the workspace binaries, running them,
//! and finding `../shared` (the real-world vectors live there, never in this repository).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

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
/// The first call for each name in a test process runs `cargo build` for it (a no-op when it is
/// up to date), so `cargo test -p inkan-tests` alone never runs a stale binary.
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test-binary> -> target/<profile>/<name>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps");
    let path = profile_dir.join(name);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if !built.iter().any(|b| b == name) {
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

/// Runs a workspace binary with arguments in `dir` and returns its output.
pub fn run(name: &str, args: &[&str], dir: &Path) -> Output {
    Command::new(bin(name))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("spawn {name}: {e}"))
}
