#!/usr/bin/env bash
# What --html costs on a big target: the demo's compromised strace trace
# repeated until it has about a million lines, scored against the demo's
# baseline with and without the HTML report, side by side, 3 runs each.
# Prints medians of wall time and peak memory, and the report's size.
#
#   HONK=target/release/honk bench/html.sh [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
honk=${HONK:-target/release/honk}
repeats=${1:-500}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for _ in $(seq "$repeats"); do cat src/demo/target.strace; done > "$work/big.strace"
echo "target: $(wc -l < "$work/big.strace") lines, $(du -h "$work/big.strace" | cut -f1)"

run() { # label, then honk arguments; prints "seconds kilobytes"
    /usr/bin/time -f "%e %M" "$honk" diff -q "$@" src/demo/baseline.strace "$work/big.strace" \
        > /dev/null 2> "$work/time" || true
    tail -n 1 "$work/time"
}
median() { local sorted; sorted=$(sort -n); sed -n "$(( ($(wc -l <<< "$sorted") + 1) / 2 ))p" <<< "$sorted"; }
for label in plain html; do : > "$work/$label"; done
for _ in 1 2 3; do
    run >> "$work/plain"
    run --html "$work/report.html" >> "$work/html"
done
for label in plain html; do
    seconds=$(cut -d' ' -f1 < "$work/$label" | median)
    kb=$(cut -d' ' -f2 < "$work/$label" | median)
    echo "$label: median ${seconds} s, peak RSS $((kb / 1024)) MB"
done
echo "report: $(du -h "$work/report.html" | cut -f1)"
