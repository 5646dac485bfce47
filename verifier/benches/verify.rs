//! Benchmark (placeholder until the fixture generator lands).
fn main() {}
