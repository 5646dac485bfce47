//! Shell completions and manual pages of the four binaries, generated from the same clap
//! definitions as their `--help` (each crate's `cli::command()`), so that `man`, the shell and
//! `--help` never disagree. `cargo run -p inkan-tests --bin inkan-gen-docs -- docs/` writes
//! them; the test `generated_docs` fails when the committed files differ.
//!
//! - `man/NAME.1` for each binary and `man/NAME-COMMAND.1` for each of its commands (roff,
//!   `man(7)` macros, by `clap_mangen`);
//! - `completions/NAME.bash`, `completions/_NAME` (zsh) and `completions/NAME.fish`, by
//!   `clap_complete`.

use std::path::PathBuf;

use clap::Command;
use clap_complete::Shell;

/// The binaries and their command-line definitions.
pub fn commands() -> [(&'static str, Command); 4] {
    [
        ("inkan-tsa", inkan_tsa::cli::command()),
        ("inkan-sign", inkan_signer::cli::command()),
        ("inkan-verify", inkan_verifier::cli::command()),
        ("inkan-hsm", inkan_hsm::cli::command()),
    ]
}

/// Every generated file: its path under `docs/` and its bytes, in a stable order.
pub fn generated() -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for (bin, cmd) in commands() {
        let mut cmd = cmd.bin_name(bin);
        cmd.build();
        out.push((PathBuf::from(format!("man/{bin}.1")), man(cmd.clone())));
        for sub in cmd.get_subcommands() {
            let name = format!("{bin}-{}", sub.get_name());
            // Built, `sub` is named `inkan-tsa-serve` in the title and `inkan-tsa serve` in
            // the synopsis.
            let page = sub
                .clone()
                .display_name(name.clone())
                .version(env!("CARGO_PKG_VERSION"));
            out.push((PathBuf::from(format!("man/{name}.1")), man(page)));
        }
        for (shell, file) in [
            (Shell::Bash, format!("{bin}.bash")),
            (Shell::Zsh, format!("_{bin}")),
            (Shell::Fish, format!("{bin}.fish")),
        ] {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, bin, &mut buf);
            out.push((PathBuf::from(format!("completions/{file}")), buf));
        }
    }
    out
}

/// The manual page of `cmd`, section 1 of the "inkan manual". The summary loses the
/// `inkan-hsm: ` that starts it in `--help` (the NAME section says it); the notes after the
/// options (exit statuses and the like, laid out as tables in `--help`) become a NOTES section
/// kept as laid out (`.nf`), where clap_mangen would refill them into one paragraph.
fn man(cmd: Command) -> Vec<u8> {
    let name = cmd.get_name().to_owned();
    let notes = cmd.get_after_help().map(ToString::to_string);
    let usage = cmd.get_overridden_usage().map(ToString::to_string);
    let mut cmd = cmd.after_help(None::<&str>);
    if let Some(about) = cmd.get_about().map(ToString::to_string) {
        let prefix = format!("{}: ", cmd.get_bin_name().unwrap_or(&name));
        let short = about.strip_prefix(&prefix).unwrap_or(&about).to_owned();
        cmd = cmd.about(short);
    }
    let mut buf = Vec::new();
    let page = clap_mangen::Man::new(cmd)
        .section("1")
        .source(format!("inkan {}", env!("CARGO_PKG_VERSION")))
        .manual("inkan manual");
    // Writing into a Vec cannot fail.
    let _ = page.render(&mut buf);
    let mut text = String::from_utf8_lossy(&buf).into_owned();
    // The synopsis as `--help` writes it (the contract's), not clap_mangen's list of flags.
    if let Some(usage) = usage
        && let Some(start) = text.find(".SH SYNOPSIS\n")
        && let Some(len) = text[start + 1..].find("\n.SH ")
    {
        let end = start + 1 + len + 1;
        let lines: Vec<&str> = usage
            .lines()
            .map(|l| l.strip_prefix("  ").unwrap_or(l))
            .collect();
        let synopsis = format!(".SH SYNOPSIS\n.nf\n{}.fi\n", literal(&lines.join("\n")));
        text.replace_range(start..end, &synopsis);
    }
    let Some(notes) = notes else {
        return text.into_bytes();
    };
    let section = format!(".SH NOTES\n.nf\n{}.fi\n", literal(&notes));
    match text.find("\n.SH VERSION") {
        Some(at) => text.insert_str(at + 1, &section),
        None => text.push_str(&section),
    }
    text.into_bytes()
}

/// `text` as roff lines inside `.nf`: backslashes and hyphens escaped, and a line that starts
/// with a control character (`.` or `'`) made literal.
fn literal(text: &str) -> String {
    let mut out = String::new();
    for line in text.trim_end().lines() {
        let line = line.replace('\\', "\\e").replace('-', "\\-");
        if line.starts_with(['.', '\'']) {
            out.push_str("\\&");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}
