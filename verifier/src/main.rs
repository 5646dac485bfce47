//! The `inkan-verify` command: see `inkan_verifier::cli`; `inkan-verify ui` serves the page
//! (the `ui` module, kept in the binary: the library links no network code).
#![forbid(unsafe_code)]

mod ui;

fn main() -> std::process::ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if args.first().is_some_and(|a| a == "ui") {
        return std::process::ExitCode::from(ui::run(args[1..].to_vec()));
    }
    std::process::ExitCode::from(inkan_verifier::cli::run(args))
}
