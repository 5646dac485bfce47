//! The README's walk-through for a TSA operator ("Walk-through: an operator runs a time-stamp
//! authority"), run as written: the shell block after the `walkthrough: tsa-operator` marker
//! runs under `bash -euo pipefail` in an empty directory with a private SoftHSM2 token, the
//! workspace's binaries first on `PATH` and `TSA_PORT` set to a free port. Any step that fails
//! fails the test, so the guide cannot drift from the tools.

use inkan_tests::run_readme_walkthrough;

#[test]
fn tsa_operator_walkthrough_runs_as_written() {
    let (out, dir) = run_readme_walkthrough("<!-- walkthrough: tsa-operator -->");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the walk-through failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    // What the comments in the walk-through promise.
    assert_eq!(stdout.matches("Verification: OK").count(), 2, "{stdout}");
    assert!(
        stdout.lines().any(|l| l.trim() == "1"),
        "the second token names the 2027 certificate: {stdout}"
    );
    let log = std::fs::read_to_string(dir.path().join("tsa.log")).unwrap();
    assert!(
        !log.contains("4711"),
        "the PIN never reaches the log: {log}"
    );
    assert!(dir.path().join("tsa-backup.redb").exists());
}
