//! The README's walk-through for a records officer ("Walk-through: a records officer seals a
//! folder"), run as written: the shell block after the `walkthrough: records-officer` marker
//! runs under `bash -euo pipefail` in an empty directory, with the workspace's binaries first
//! on `PATH` and `TSA_PORT` set to a free port. Any step that fails fails the test, so the
//! guide cannot drift from the tools.

use std::path::Path;
use std::process::Command;

use inkan_tests::{bin, workspace_root};

/// The shell block that follows `marker` in the README.
fn block(readme: &str, marker: &str) -> String {
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

#[test]
fn records_officer_walkthrough_runs_as_written() {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let script = block(&readme, "<!-- walkthrough: records-officer -->");
    let bin_dir = bin("inkan-sign").parent().unwrap().to_owned();
    for b in ["inkan-tsa", "inkan-verify"] {
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
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the walk-through failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    // What the comments in the walk-through promise.
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(&lines[..2], ["2", "2"], "{stdout}");
    assert!(
        lines[2].starts_with(r#"{"summary":{"inputs":3,"signed":1,"skipped":2,"failed":0"#),
        "{stdout}"
    );
    assert!(stdout.contains("TOTAL-PASSED"), "{stdout}");
    assert!(stderr.contains("same output"), "{stderr}");
    assert!(Path::new(&dir.path().join("sealed/notice.txt.p7s")).exists());
}
