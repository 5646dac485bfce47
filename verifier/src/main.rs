//! The `inkan-verify` command: see `inkan_verifier::cli`; `inkan-verify ui` serves the page
//! (the `ui` module, kept in the binary: the library links no network code).
#![forbid(unsafe_code)]

mod ui;

use inkan_verifier::cli::{self, Ui};

fn main() -> std::process::ExitCode {
    let code = match cli::parse(std::env::args_os().skip(1).collect()) {
        Ok(c) => match c.ui {
            Some(Ui::Ui(args)) => ui::run(args),
            None => cli::run(&c.verify),
        },
        Err(stop) => stop.finish(),
    };
    std::process::ExitCode::from(code)
}
