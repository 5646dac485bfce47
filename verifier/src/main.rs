//! The `inkan-verify` command (under construction).
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    eprintln!("inkan-verify: not yet implemented");
    std::process::ExitCode::from(70)
}
