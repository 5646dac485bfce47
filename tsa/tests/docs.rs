//! `docs/operations.md` cannot rot silently: every `inkan-tsa` command it shows (in shell
//! blocks, inline code and the unit files) parses with the real command line, the unit is the
//! one the text describes (`Type=notify`, the hardening options, the data dir writable and
//! nothing else), and what it says about `--ntp none` and relative paths holds. The commands
//! themselves run end to end in `reload.rs` and `operations.rs`.

use std::ffi::OsString;

use inkan_tsa::cli::{self, Command};

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/operations.md");
    std::fs::read_to_string(path).expect("docs/operations.md")
}

/// Splits a shell command line into words (single and double quotes, no expansion), up to
/// the first shell operator (`&&`, `|`, `;`) outside quotes.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, '|' | ';' | '&') => break,
            (None, c) if c.is_whitespace() => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (_, c) => {
                cur.push(c);
                any = true;
            }
        }
    }
    assert!(quote.is_none(), "unbalanced quote in {line:?}");
    if any {
        out.push(cur);
    }
    out
}

/// Every `inkan-tsa …` command of the document: lines of code blocks and inline code spans,
/// cut at a shell operator (`&&`, `|`, `;`), `$(…)` replaced by a plain word.
fn commands(doc: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut in_block = false;
    for line in doc.lines() {
        if line.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            // Comments in shell blocks and unit files are prose.
            if !line.trim_start().starts_with('#') {
                texts.push(line.to_owned());
            }
        } else {
            texts.extend(line.split('`').skip(1).step_by(2).map(str::to_owned));
        }
    }
    for t in texts {
        let t = t.replace("$(date -u +%%Y%%m%%dT%%H%%M)", "20261207T0300");
        let Some(at) = t.find("inkan-tsa ") else {
            continue;
        };
        // A command starts the text, or is a path's last part (`/usr/bin/inkan-tsa …`), or
        // follows `exec`; `journalctl -u inkan-tsa` and `pidof inkan-tsa` are not ours.
        let before = t[..at].trim_end();
        if !(before.is_empty() || t[..at].ends_with('/') || before.ends_with("exec")) {
            continue;
        }
        let rest = &t[at..];
        // Not a command: a unit name, a service user, a path.
        if rest.starts_with("inkan-tsa listening") {
            continue;
        }
        // Inside `sh -c '…'`: the command ends at the closing quote.
        let rest = if t[..at].matches('\'').count() % 2 == 1 {
            rest.split('\'').next().unwrap()
        } else {
            rest
        };
        let w = words(rest);
        // Prose (`Description=inkan-tsa RFC 3161 …`) is not a command.
        if w.len() < 2
            || w[0] != "inkan-tsa"
            || !w[1].starts_with(|c: char| c.is_ascii_lowercase() || c == '-')
        {
            continue;
        }
        // `inkan-tsa events` in a sentence names the command; it is not a command line.
        if w.len() > 2 {
            found.push(w);
        }
    }
    found
}

#[test]
fn every_inkan_tsa_command_in_the_operations_guide_parses() {
    let doc = doc();
    let cmds = commands(&doc);
    let mut kinds = std::collections::BTreeSet::new();
    for w in &cmds {
        let args: Vec<OsString> = w[1..].iter().map(OsString::from).collect();
        let parsed = match cli::parse(args) {
            Ok(p) => p,
            Err(inkan_profiles::cli::Stop::Print(_)) => {
                kinds.insert("help");
                continue;
            }
            Err(e) => panic!("{w:?}: {e}"),
        };
        kinds.insert(match parsed {
            Command::Serve(_) => "serve",
            Command::Check(_) => "check",
            Command::Backup { .. } => "backup",
            Command::Records { .. } | Command::VerifyChain { .. } => "records",
            Command::Events { .. } => "events",
        });
    }
    for k in ["serve", "check", "backup", "records", "events"] {
        assert!(
            kinds.contains(k),
            "the guide shows no `inkan-tsa {k}`: {cmds:?}"
        );
    }
}

/// The `[Service]` assignments of the first ini block (the TSA's unit).
fn unit(doc: &str) -> Vec<(String, String)> {
    let start = doc.find("```ini\n").expect("a unit file") + 7;
    let end = start + doc[start..].find("```").unwrap();
    let mut section = String::new();
    let mut out = Vec::new();
    for line in doc[start..end].lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') {
            section = line.to_owned();
            continue;
        }
        let (k, v) = line.split_once('=').expect("KEY=VALUE");
        out.push((format!("{section}{k}"), v.to_owned()));
    }
    out
}

#[test]
fn the_unit_is_type_notify_hardened_and_runs_real_commands() {
    let doc = doc();
    let u = unit(&doc);
    let get = |k: &str| -> Vec<&str> {
        u.iter()
            .filter(|(key, _)| key == &format!("[Service]{k}"))
            .map(|(_, v)| v.as_str())
            .collect()
    };
    assert_eq!(get("Type"), ["notify"]);
    for (k, v) in [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("ReadWritePaths", "/var/lib/inkan-tsa"),
        ("PrivateTmp", "yes"),
        ("ProtectHome", "yes"),
        ("ProtectClock", "yes"),
        ("CapabilityBoundingSet", ""),
        ("StateDirectory", "inkan-tsa"),
        ("Environment", "INKAN_LOG_FORMAT=json"),
    ] {
        assert!(get(k).contains(&v), "{k}={v} missing from the unit");
    }
    // ExecStart serves with the configuration; ExecReload checks before it signals.
    let start = get("ExecStart");
    let w = words(start[0]);
    assert_eq!(w[0], "/usr/bin/inkan-tsa");
    assert!(matches!(
        cli::parse(w[1..].iter().map(OsString::from)).unwrap(),
        Command::Serve(o) if o.config.as_deref() == Some(std::path::Path::new("/etc/inkan-tsa/inkan-tsa.toml"))
    ));
    let reload = get("ExecReload");
    assert_eq!(reload.len(), 2);
    let w = words(reload[0]);
    assert!(matches!(
        cli::parse(w[1..].iter().map(OsString::from)).unwrap(),
        Command::Check(_)
    ));
    assert_eq!(reload[1], "/bin/kill -HUP $MAINPID");
    // The stop timeout leaves room for the grace period (10 s) and the final flush.
    let stop: u64 = get("TimeoutStopSec")[0].parse().unwrap();
    assert!(stop > 10 + 30, "{stop}");
}

#[test]
fn what_the_guide_says_about_configuration_holds() {
    // `--ntp none` means no servers, also over a file that names some.
    let file = inkan_tsa::config::FileConfig::parse(
        "key = \"k.pem\"\ncert_chain = \"c.pem\"\npolicy = \"1.2.3\"\nntp_servers = [\"a\"]\n",
    )
    .unwrap();
    let o = inkan_tsa::config::Overrides {
        ntp: vec!["none".into()],
        ..Default::default()
    };
    assert!(
        inkan_tsa::config::resolve(file, &o)
            .unwrap()
            .ntp_servers
            .is_empty()
    );
    // Relative paths from the file's folder.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("inkan-tsa.toml");
    std::fs::write(
        &cfg,
        "key = \"tsa.key\"\ncert_chain = \"chain.pem\"\ndata_dir = \"data\"\npolicy = \"1.2.3\"\n",
    )
    .unwrap();
    let f = inkan_tsa::config::FileConfig::load(&cfg).unwrap();
    assert_eq!(f.cert_chain.unwrap(), dir.path().join("chain.pem"));
    assert_eq!(f.data_dir.unwrap(), dir.path().join("data"));
    assert_eq!(
        f.key.unwrap(),
        dir.path().join("tsa.key").display().to_string()
    );
    // The memory section's figures are the defaults.
    let doc = doc();
    assert!(doc.contains(&format!(
        "`store_cache_mb` (default {} MiB)",
        inkan_tsa::config::DEFAULT_STORE_CACHE_MB
    )));
}
