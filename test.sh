#!/usr/bin/env bash
# The whole test suite: format, lints, dependency rules, every test (SoftHSM2 and OpenSSL interop
# included), and the real-world verifier vectors from ../shared when they are there.
set -euo pipefail
cd "$(dirname "$0")"

# System packages the tests drive for real: SoftHSM2 (PKCS#11 token), OpenSC (pkcs11-tool),
# OpenSSL (interop peer), Python 3 (the shared vector runner), the system trust store (the
# signer's https client reads it), libfaketime (the TSA's clock-step tests step its wall clock),
# Chromium and ChromeDriver (the page of `inkan-verify ui` is tested in a real browser) with a
# Japanese font (its screenshot of the Japanese page), qpdf and poppler's pdfsig (independent
# judges of the PDFs inkan-sign writes), python3-venv (pyHanko, from PyPI, is installed by the
# tests into a virtual environment under the target directory), PostgreSQL (the TSA's shared
# store). Installed when missing.
need=()
for pair in softhsm2-util:softhsm2 pkcs11-tool:opensc openssl:openssl python3:python3 \
  chromium:chromium chromedriver:chromium-driver qpdf:qpdf pdfsig:poppler-utils curl:curl; do
  command -v "${pair%%:*}" >/dev/null || need+=("${pair##*:}")
done
[ -e /etc/ssl/certs/ca-certificates.crt ] || need+=(ca-certificates)
[ -e /usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 ] || need+=(faketime)
[ -e /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf ] || need+=(fonts-ipafont-gothic)
dpkg -s python3-venv >/dev/null 2>&1 || need+=(python3-venv)
# PostgreSQL: the TSA's shared-store tests start private servers (initdb as the unprivileged
# postgres user when run as root); the package is found by its versioned initdb.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing packages: ${need[*]} (apt-get install -y ${need[*]})" >&2; exit 1
  fi
fi

cargo fmt --all --check
cargo clippy --locked --workspace --all-targets -- -D warnings
# Docs on public items, with every intra-doc link resolving.
RUSTDOCFLAGS="-D warnings" cargo doc --locked --workspace --no-deps --quiet

# The verifier must never link PKCS#11 or any network code (it is offline and touches no HSM).
if cargo tree --locked -p inkan-verifier -e normal --prefix none \
  | grep -E '^(cryptoki|hyper|tokio|rustls|socket2|mio) '; then
  echo "inkan-verifier depends on HSM or network crates (above)" >&2; exit 1
fi

cargo test --locked --workspace

# The headline figure: the shared real-world vectors scored by the runner that ships with them
# (the same cases are asserted, with a floor, by verifier/tests/realworld.rs).
if [ -x ../shared/vectors/run.sh ]; then
  cargo build --locked -q -p inkan-verifier --bin inkan-verify
  ../shared/vectors/run.sh "$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/inkan-verify" | tail -n 1 || true
fi
