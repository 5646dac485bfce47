//! One command-line convention for the four binaries: `--help` and `--version` exit 0 on
//! standard output; bad usage exits 64 with one line on standard error that names the
//! problem, hints at the option meant when one is close, and points to `--help`.

use inkan_tests::run;

const BINARIES: [&str; 4] = ["inkan-tsa", "inkan-sign", "inkan-verify", "inkan-hsm"];

#[test]
fn help_version_and_one_line_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    for bin in BINARIES {
        let help = run(bin, &["--help"], dir.path());
        assert_eq!(help.status.code(), Some(0), "{bin} --help");
        assert!(help.stdout.len() > 200, "{bin} --help prints its help");
        let version = run(bin, &["--version"], dir.path());
        assert_eq!(version.status.code(), Some(0), "{bin} --version");
        let v = String::from_utf8_lossy(&version.stdout);
        assert_eq!(v.trim(), format!("{bin} {}", env!("CARGO_PKG_VERSION")));

        let bad = run(bin, &["--no-such-flag"], dir.path());
        assert_eq!(bad.status.code(), Some(64), "{bin} --no-such-flag");
        let err = String::from_utf8_lossy(&bad.stderr);
        assert_eq!(err.lines().count(), 1, "{bin}: one line: {err}");
        assert!(err.starts_with(&format!("{bin}: ")), "{err}");
        assert!(err.contains("'--no-such-flag'"), "{err}");
        assert!(
            err.trim_end().ends_with(&format!("see {bin} --help")),
            "{err}"
        );
        assert!(bad.stdout.is_empty(), "{bin}: nothing on standard output");
    }
    // A misspelt option is named with the one meant.
    for (bin, args, meant) in [
        ("inkan-verify", &["--trsut", "x.pem"][..], "--trust"),
        ("inkan-sign", &["--out-dri", "d"][..], "--out-dir"),
        (
            "inkan-tsa",
            &["serve", "--listne", "127.0.0.1:0"][..],
            "--listen",
        ),
        ("inkan-hsm", &["list", "--modul", "x"][..], "--module"),
        // Commands and values are hinted too.
        ("inkan-tsa", &["serv", "--dev"][..], "serve"),
        (
            "inkan-verify",
            &["s.p7s", "--revocation", "optinal"][..],
            "optional",
        ),
        ("inkan-hsm", &["keygen", "--algorithm", "p-256"][..], "p256"),
    ] {
        let out = run(bin, args, dir.path());
        assert_eq!(out.status.code(), Some(64), "{bin} {args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("(did you mean {meant}?)")),
            "{bin} {args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{bin} {args:?}: {err}");
    }
    // The hint points to the help of the command being used; each command has one.
    let out = run("inkan-tsa", &["serve", "--listne", "x"], dir.path());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.trim_end().ends_with("see inkan-tsa serve --help"),
        "{err}"
    );
    for (bin, sub) in [
        ("inkan-tsa", "records"),
        ("inkan-sign", "extend"),
        ("inkan-sign", "timestamp"),
        ("inkan-verify", "ui"),
        ("inkan-hsm", "csr"),
    ] {
        let out = run(bin, &[sub, "--help"], dir.path());
        assert_eq!(out.status.code(), Some(0), "{bin} {sub} --help");
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.contains("USAGE:") && help.contains("OPTIONS:"),
            "{help}"
        );
    }
}
