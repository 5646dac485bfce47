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

static BUILD_LOCK: Mutex<()> = Mutex::new(());

/// The path of a workspace binary (`inkan-tsa`, `inkan-sign`, `inkan-verify`, `inkan-hsm`),
/// building it first when this test run has not (e.g. `cargo test -p inkan-tests` alone).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    // target/<profile>/deps/<test-binary> -> target/<profile>/<name>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps");
    let path = profile_dir.join(name);
    let _guard = BUILD_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    if !path.exists() {
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
        let status = cmd
            .current_dir(workspace_root())
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build of {name} failed");
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
