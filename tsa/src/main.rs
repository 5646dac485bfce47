//! The `inkan-tsa` command (under construction).
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    eprintln!("inkan-tsa: not yet implemented");
    std::process::ExitCode::from(70)
}
