//! The real-world PDF corpus (`../shared/vectors/pdf`, signed PDFs from the EU DSS project's
//! tests with expected verdicts) judged by the binary through the corpus's own `run.sh`.

use std::path::Path;
use std::process::Command;

/// Cases whose sub-indication also matches, reached so far (raise it).
const SUB_FLOOR: usize = 29;

#[test]
fn dss_pdf_corpus() {
    let run = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/pdf/run.sh");
    assert!(
        run.exists(),
        "the shared PDF vectors are missing at {}",
        run.display()
    );
    let out = Command::new("bash")
        .arg(&run)
        .arg(env!("CARGO_BIN_EXE_inkan-verify"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}");
    let last = text
        .lines()
        .find(|l| l.starts_with("pdf-realworld:"))
        .expect("no summary line");
    // "pdf-realworld: N/M indication, K/M sub-indication"
    let nums: Vec<usize> = last
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let (n, m, k) = (nums[0], nums[1], nums[2]);
    assert_eq!(n, m, "every indication must match: {last}");
    assert!(k >= SUB_FLOOR, "sub-indications below the floor: {last}");
}
