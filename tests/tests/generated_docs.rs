//! The manual pages (`docs/man`, committed: they are documentation a reader of the repository
//! opens) and the shell completions (written at packaging time, not committed) are generated
//! from the binaries' clap definitions, the same that print `--help` (`inkan_tests::docs`).
//! This test fails when a committed page differs from what the generator makes, or when a page
//! there is no longer generated; `cargo run -p inkan-tests --bin inkan-gen-docs -- docs/` (or
//! `INKAN_UPDATE_MAN=1 cargo test -p inkan-tests --test generated_docs`) writes them anew.

use std::collections::BTreeSet;
use std::path::PathBuf;

use inkan_tests::{run, workspace_root};

#[test]
fn committed_man_pages_are_the_generated_ones() {
    let docs = workspace_root().join("docs");
    let generated: Vec<_> = inkan_tests::docs::generated()
        .into_iter()
        .filter(|(path, _)| path.starts_with("man"))
        .collect();
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
    for entry in std::fs::read_dir(docs.join("man")).unwrap() {
        let rel = PathBuf::from("man").join(entry.unwrap().file_name());
        assert!(
            want.contains(&rel),
            "docs/{} is no longer generated: delete it ({fix})",
            rel.display()
        );
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

/// Every `--flag` that the contract (`../shared/INTERFACE.md`) names for a binary is one its
/// definition accepts, at the top or in one of its commands.
#[test]
fn every_flag_of_the_contract_is_defined() {
    let contract = std::fs::read_to_string(inkan_tests::shared_dir().join("INTERFACE.md"))
        .expect("../shared/INTERFACE.md");
    for (bin, cmd) in inkan_tests::docs::commands() {
        let start = contract
            .find(&format!("\n## {bin} "))
            .unwrap_or_else(|| panic!("a section for {bin}"));
        let section = &contract[start + 1..];
        let section = &section[..section[3..].find("\n## ").map_or(section.len(), |e| e + 3)];
        let mut defined: BTreeSet<String> = BTreeSet::new();
        let mut cmds = vec![cmd];
        while let Some(c) = cmds.pop() {
            for a in c.get_arguments() {
                if let Some(l) = a.get_long() {
                    defined.insert(format!("--{l}"));
                }
            }
            cmds.extend(c.get_subcommands().cloned());
        }
        let bytes = section.as_bytes();
        let mut named = BTreeSet::new();
        let mut i = 0;
        while let Some(off) = section[i..].find("--") {
            let s = i + off;
            let mut e = s + 2;
            while e < bytes.len() && (bytes[e].is_ascii_lowercase() || bytes[e] == b'-') {
                e += 1;
            }
            if e > s + 2 && (s == 0 || !bytes[s - 1].is_ascii_alphanumeric()) {
                named.insert(section[s..e].trim_end_matches('-').to_owned());
            }
            i = e;
        }
        assert!(named.len() > 3, "{bin}: {named:?}");
        let missing: Vec<_> = named.difference(&defined).collect();
        assert!(missing.is_empty(), "{bin} does not define {missing:?}");
    }
}
