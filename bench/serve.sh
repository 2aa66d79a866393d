#!/bin/bash
# Load `honk serve` with wrk: requests/s and latency (p50, p99) at a few
# concurrencies, then one run with the model swapped on disk in the middle
# (a writer that writes in place, then an atomic rename), counting the
# responses that were not 2xx.
#
#   bench/serve.sh [OUTDIR]        (OUTDIR defaults to /tmp/honk-bench-serve)
#
# The model is learned from the first 1,500 lines of loghub's Linux log
# (../shared/data/loghub-2k); each request POSTs BODY_LINES (100) of its last
# 500 lines as text/plain to /v1/models/linux/score. Each load runs DURATION
# seconds (10) with wrk's threads = min(connections, 2).
#
# Environment knobs: HONK (a built binary; else `cargo build --release`),
# DURATION, BODY_LINES, CONNECTIONS ("1 4 16 64"), DATA (the loghub directory).
# Needs wrk (Debian: apt-get install wrk).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
out=${1:-/tmp/honk-bench-serve}
duration=${DURATION:-10}
body_lines=${BODY_LINES:-100}
connections=${CONNECTIONS:-1 4 16 64}
data=${DATA:-$repo/../shared/data/loghub-2k}
command -v wrk >/dev/null || { echo "bench/serve.sh needs wrk (apt-get install wrk)" >&2; exit 2; }
if [ -z "${HONK:-}" ]; then
    (cd "$repo" && cargo build --release -q)
    HONK=$repo/target/release/honk
fi
rm -rf "$out"
mkdir -p "$out/models"
head -1500 "$data/Linux/Linux_2k.log" > "$out/base.log"
tail -500 "$data/Linux/Linux_2k.log" > "$out/target.log"
head -"$body_lines" "$out/target.log" > "$out/body.log"
"$HONK" learn -q -o "$out/models/linux.honk" "$out/base.log"
# The model the swap puts in place: it knows the target.
"$HONK" learn -q -o "$out/grown.honk" "$out/base.log" "$out/target.log"

# The POST body, for wrk's Lua.
python3 - "$out/body.log" "$out/post.lua" <<'EOF'
import json, sys
body = open(sys.argv[1]).read()
open(sys.argv[2], "w").write(
    'wrk.method = "POST"\n'
    'wrk.headers["Content-Type"] = "text/plain"\n'
    f"wrk.body = {json.dumps(body)}\n"
)
EOF

"$HONK" serve --models "$out/models" --listen 127.0.0.1:0 --concurrency 4096 > "$out/serve.out" 2> "$out/serve.err" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    [ -s "$out/serve.out" ] && break
    sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$out/serve.out")
score="$url/v1/models/linux/score"
echo "honk serve at $url; body: $body_lines lines, $(wc -c < "$out/body.log") bytes; $(nproc) CPUs"
curl -sf -H 'Content-Type: text/plain' --data-binary @"$out/body.log" "$score" > /dev/null

# Prints "connections req/s p50 p99 non-2xx errors" from wrk's report.
summarize() {
    awk -v c="$1" '
        /Requests\/sec/ { rps = $2 }
        /^ +50%/ { p50 = $2 }
        /^ +99%/ { p99 = $2 }
        /Non-2xx/ { non2xx = $NF }
        /Socket errors/ { errors = $0 }
        END { printf "%-12s %10s %10s %10s %8s  %s\n", c, rps, p50, p99, non2xx + 0, errors }
    ' "$2"
}

printf "%-12s %10s %10s %10s %8s\n" connections "req/s" p50 p99 non-2xx
for c in $connections; do
    threads=$(( c < 2 ? c : 2 ))
    wrk -t"$threads" -c"$c" -d"${duration}s" --latency -s "$out/post.lua" "$score" > "$out/wrk-$c.txt"
    summarize "$c" "$out/wrk-$c.txt"
done

# The swap: 16 connections for 2 x DURATION seconds; at a third of the way
# the model file is overwritten in place with half a model (it does not
# load: the old one stays in service), at two thirds an atomic rename puts
# the grown model in place.
(
    sleep $(( 2 * duration / 3 ))
    head -c $(( $(stat -c %s "$out/models/linux.honk") / 2 )) "$out/models/linux.honk" > "$out/half"
    cat "$out/half" > "$out/models/linux.honk"
    sleep $(( 2 * duration / 3 ))
    cp "$out/grown.honk" "$out/models/.linux.honk.tmp"
    mv "$out/models/.linux.honk.tmp" "$out/models/linux.honk"
) &
swapper=$!
wrk -t2 -c16 -d"$(( 2 * duration ))s" --latency -s "$out/post.lua" "$score" > "$out/wrk-swap.txt"
wait $swapper
echo "with the model swapped mid-run (in place, half written; then by rename):"
summarize "16 (swap)" "$out/wrk-swap.txt"
after=$(curl -sf -H 'Content-Type: text/plain' --data-binary @"$out/body.log" "$score?output=ndjson" | tail -1)
echo "after the swap, the last row: $after" | cut -c1-200
curl -sf "$url/metrics" | grep -E '^honk_model_(reloads|reload_failures)_total|^honk_records_scored_total|^honk_model_entries'
kill -TERM $server
wait $server && echo "honk serve exited 0 on SIGTERM"
trap - EXIT
