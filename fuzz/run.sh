#!/usr/bin/env bash
# Runs every fuzz target for a time budget (seconds each, default 60), seeding the corpora from
# test data that the test suites write to fuzz/seeds/ (if present). Needs the nightly toolchain
# and cargo-fuzz (`cargo install cargo-fuzz --locked`).
# Every target runs with libFuzzer's -timeout (seconds per input, default 10, TIMEOUT=N to
# change): an input that takes longer is a finding (unbounded work), not only a crash.
# usage: fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:-60}; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  [ -d "seeds/$t" ] && cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null || true
  echo "== $t ($secs s)"
  cargo +nightly fuzz run "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 \
    -timeout="${TIMEOUT:-10}"
done
