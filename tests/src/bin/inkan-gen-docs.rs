//! Writes the manual pages and shell completions of the four binaries under a folder
//! (`docs/` of the repository): `cargo run -p inkan-tests --bin inkan-gen-docs -- docs/`.
//! They are generated from the binaries' own clap definitions (see `inkan_tests::docs`); the
//! test `generated_docs` keeps the committed copies equal to what this writes.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = match args.as_slice() {
        [] => PathBuf::from("docs"),
        [d] if !d.starts_with('-') => PathBuf::from(d),
        _ => {
            eprintln!("usage: inkan-gen-docs [DIR]   (default: docs)");
            return ExitCode::from(64);
        }
    };
    for (path, bytes) in inkan_tests::docs::generated() {
        let path = dir.join(path);
        if let Some(parent) = path.parent()
            && let Err(e) = std::fs::create_dir_all(parent)
        {
            eprintln!("inkan-gen-docs: cannot create {}: {e}", parent.display());
            return ExitCode::from(73);
        }
        if let Err(e) = std::fs::write(&path, bytes) {
            eprintln!("inkan-gen-docs: cannot write {}: {e}", path.display());
            return ExitCode::from(73);
        }
        println!("{}", path.display());
    }
    ExitCode::SUCCESS
}
