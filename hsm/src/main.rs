//! The `inkan-hsm` command (under construction).
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    eprintln!("inkan-hsm: not yet implemented");
    std::process::ExitCode::from(70)
}
