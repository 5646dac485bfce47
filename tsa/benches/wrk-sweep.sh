#!/bin/sh
# An outside view of inkan-tsa's throughput and latency (issue 17's method): wrk, one thread,
# HTTP/1.1 keep-alive, one `openssl ts -query -cert` request in flight per connection, against
# `inkan-tsa serve --dev` with its defaults (durable records), swept over 16, 64 and 256
# connections; in the same run, the raw P-256 signing rate of OpenSSL on two processes
# (`openssl speed -multi 2 ecdsap256`), and each point's ratio to it.
#
#   cargo build --release --bin inkan-tsa && tsa/benches/wrk-sweep.sh [SECONDS] [CONNECTIONS...]
#
# Needs wrk and openssl (Debian: `apt-get install wrk openssl`). The in-process generator
# (`inkan-tsa-load`, built with `--features load-tool`) measures more (CPU per part, group
# sizes, the Bouncy Castle peer); this script is what anyone can repeat from outside.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${INKAN_TSA:-$here/../../target/release/inkan-tsa}
secs=${1:-10}
[ $# -gt 0 ] && shift
conns=${*:-16 64 256}
command -v wrk >/dev/null || { echo "wrk-sweep: wrk is not installed (apt-get install wrk)" >&2; exit 69; }
[ -x "$bin" ] || { echo "wrk-sweep: $bin not built (cargo build --release --bin inkan-tsa)" >&2; exit 69; }
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT INT TERM
cat >"$work/post.lua" <<'LUA'
local f = assert(io.open(os.getenv("TSQ"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/timestamp-query"
done = function(summary, latency, requests)
  io.write(string.format("%.0f %.2f %.2f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
printf 'inkan-tsa wrk sweep\n' >"$work/hello.txt"
openssl ts -query -data "$work/hello.txt" -sha256 -cert -out "$work/req.tsq" 2>/dev/null
# A free port: bind to 0 and read the address the server logs.
"$bin" serve --dev --data-dir "$work/data" --listen 127.0.0.1:0 >"$work/out" 2>"$work/log" &
pid=$!
url=
for _ in $(seq 1 100); do
    url=$(sed -n 's|.*DEVELOPMENT TSA on \(http://[^ ]*/\).*|\1|p' "$work/out" | head -n 1)
    [ -n "$url" ] && break
    sleep 0.1
done
[ -n "$url" ] || { echo "wrk-sweep: the TSA did not start:" >&2; cat "$work/log" >&2; exit 70; }
raw() {
    openssl speed -multi 2 -seconds "$1" ecdsap256 2>/dev/null |
        awk '/256 bits ecdsa \(nistp256\)/ { print int($(NF-1)) }' | tail -n 1
}
# Warm the store and the page cache first (the first seconds of a fresh store are not the
# steady state).
TSQ="$work/req.tsq" wrk -t1 -c64 -d2s -s "$work/post.lua" "$url" >/dev/null
before=$(raw 3)
echo "raw P-256 signing (openssl speed -multi 2), before: $before/s"
printf '%12s %10s %9s %9s %9s %7s\n' connections tokens/s p50_ms p99_ms x_raw errors
for c in $conns; do
    set -- $(TSQ="$work/req.tsq" wrk -t1 -c"$c" -d"$secs"s -s "$work/post.lua" "$url" | tail -n 1)
    printf '%12s %10s %9s %9s %9s %7s\n' "$c" "$1" "$2" "$3" "$(awk -v a="$1" -v b="$before" 'BEGIN { printf "%.3f", a / b }')" "$(($4 + $5))"
done
after=$(raw 3)
echo "raw P-256 signing, after: $after/s (x_raw divides by the rate before)"
