//! The `inkan-verify` command: see `inkan_verifier::cli`.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(inkan_verifier::cli::run(
        std::env::args_os().skip(1).collect(),
    ))
}
