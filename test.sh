#!/usr/bin/env bash
# The whole test suite: format, lints, dependency rules, every test (SoftHSM2 and OpenSSL interop
# included), and the real-world verifier vectors from ../shared when they are there.
set -euo pipefail
cd "$(dirname "$0")"

for tool in softhsm2-util pkcs11-tool openssl; do
  command -v "$tool" >/dev/null || { echo "missing $tool: run .ci/run or apt-get install -y softhsm2 opensc openssl" >&2; exit 1; }
done

cargo fmt --all --check
cargo clippy --locked --workspace --all-targets -- -D warnings

# The verifier must never link PKCS#11 (it is offline and touches no HSM).
if cargo tree --locked -p inkan-verifier -e normal | grep -q cryptoki; then
  echo "inkan-verifier depends on cryptoki" >&2; exit 1
fi

cargo test --locked --workspace
