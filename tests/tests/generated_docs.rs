//! The manual pages (`docs/man`) and shell completions (`docs/completions`) are generated from
//! the binaries' clap definitions, the same that print `--help` (`inkan_tests::docs`). This
//! test fails when a committed file differs from what the generator makes, or when a file there
//! is no longer generated; `cargo run -p inkan-tests --bin inkan-gen-docs -- docs/` (or
//! `INKAN_UPDATE_MAN=1 cargo test -p inkan-tests --test generated_docs`) writes them anew.

use std::collections::BTreeSet;
use std::path::PathBuf;

use inkan_tests::{run, workspace_root};

#[test]
fn committed_man_pages_and_completions_are_the_generated_ones() {
    let docs = workspace_root().join("docs");
    let generated = inkan_tests::docs::generated();
    if std::env::var_os("INKAN_UPDATE_MAN").is_some() {
        for (path, bytes) in &generated {
            let path = docs.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bytes).unwrap();
        }
    }
    let fix = "run `cargo run -p inkan-tests --bin inkan-gen-docs -- docs/` and commit the result";
    let mut want = BTreeSet::new();
    for (path, bytes) in &generated {
        let have = std::fs::read(docs.join(path)).unwrap_or_default();
        assert!(
            &have == bytes,
            "docs/{} is not what the definitions generate now; {fix}",
            path.display()
        );
        want.insert(path.clone());
    }
    for folder in ["man", "completions"] {
        for entry in std::fs::read_dir(docs.join(folder)).unwrap() {
            let rel = PathBuf::from(folder).join(entry.unwrap().file_name());
            assert!(
                want.contains(&rel),
                "docs/{} is no longer generated: delete it ({fix})",
                rel.display()
            );
        }
    }
}

#[test]
fn pages_and_completions_know_every_command_and_flag_of_the_help() {
    let generated = inkan_tests::docs::generated();
    let text = |p: &str| {
        let (_, b) = generated
            .iter()
            .find(|(path, _)| path == &PathBuf::from(p))
            .unwrap_or_else(|| panic!("{p} is generated"));
        String::from_utf8(b.clone()).unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    for (bin, args, flag) in [
        ("inkan-tsa", &["serve", "--help"][..], "--ntp-poll-ms"),
        ("inkan-sign", &["--help"][..], "--seal-image"),
        ("inkan-sign", &["extend", "--help"][..], "--data"),
        ("inkan-verify", &["ui", "--help"][..], "--listen"),
        ("inkan-hsm", &["list", "--help"][..], "--pin-source"),
    ] {
        let out = run(bin, args, dir.path());
        assert_eq!(out.status.code(), Some(0), "{bin} {args:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains(flag));
        let page = match args {
            [sub, "--help"] => format!("man/{bin}-{sub}.1"),
            _ => format!("man/{bin}.1"),
        };
        // roff escapes the hyphens of options (`\-\-ntp\-poll\-ms`).
        assert!(
            text(&page).contains(&flag.replace('-', "\\-")),
            "{page}: {flag}"
        );
        for completion in [
            format!("completions/{bin}.bash"),
            format!("completions/_{bin}"),
        ] {
            assert!(text(&completion).contains(flag), "{completion}: {flag}");
        }
        let fish_flag = flag.trim_start_matches("--");
        assert!(
            text(&format!("completions/{bin}.fish")).contains(&format!("-l {fish_flag}")),
            "{bin}.fish: {flag}"
        );
    }
    // The values a flag takes are completed too.
    assert!(text("completions/inkan-hsm.bash").contains("rsa-3072-pss"));
    assert!(text("completions/_inkan-verify").contains("optional"));
}
