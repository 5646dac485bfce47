//! The `inkan-sign` command (under construction).
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    eprintln!("inkan-sign: not yet implemented");
    std::process::ExitCode::from(70)
}
