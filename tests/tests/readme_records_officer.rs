//! The README's walk-through for a records officer ("Walk-through: a records officer seals a
//! folder"), run as written: the shell block after the `walkthrough: records-officer` marker
//! runs under `bash -euo pipefail` in an empty directory, with the workspace's binaries first
//! on `PATH` and `TSA_PORT` set to a free port. Any step that fails fails the test, so the
//! guide cannot drift from the tools.

use inkan_tests::run_readme_walkthrough;

#[test]
fn records_officer_walkthrough_runs_as_written() {
    let (out, dir) = run_readme_walkthrough("<!-- walkthrough: records-officer -->");
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
    assert!(dir.path().join("sealed/notice.txt.p7s").exists());
}
