#!/bin/sh
# Measure honk on the scenario suite: false alarms on held-out normal runs, and
# the scores of the injected actions. This is where the default threshold comes from.
#
#   scenarios/measure.sh [REPETITIONS] [HONK]
#
# Each repetition traces every scenario afresh (3 baseline runs, 1 held-out
# normal run, 1 run with injected actions) under /tmp/honk-scenarios.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
reps=${1:-3}
honk=${2:-$here/../target/release/honk}
out=/tmp/honk-scenarios
[ -x "$honk" ] || (cd "$here/.." && cargo build --release -q)
printf '%-4s %-12s %8s %12s %7s %11s  %s\n' rep scenario records false-alarms policy max-normal "injected actions: lowest score of a flagged record matching each"
rep=1
while [ "$rep" -le "$reps" ]; do
    for dir in "$here"/*/; do
        s=$(basename "$dir")
        [ -f "$dir/expect" ] || continue
        rm -rf "$out/$s"
        "$here/trace.sh" "$s" "$out/$s" 3
        base=$(ls "$out/$s"/baseline-*.strace)
        # shellcheck disable=SC2086
        normal=$("$honk" diff -q --json --threshold 0 $base "$out/$s/normal.strace" || true)
        # shellcheck disable=SC2086
        "$honk" diff -q --json $base "$out/$s/target.strace" > "$out/$s/flagged.json" || true
        printf '%s\n' "$normal" | python3 -c '
import json, re, sys
rep, s, records, expect, flagged, threshold = sys.argv[1:7]
lines = [json.loads(l) for l in sys.stdin if l.strip()]
normal = [l["score"] for l in lines if "policy" not in l]
policy = sum(1 for l in lines if "policy" in l)
alarms = sum(1 for x in normal if x > float(threshold))
found = [l for l in map(json.loads, open(flagged)) if "policy" not in l]
parts = []
for line in open(expect):
    if line.startswith("#") or not line.strip():
        continue
    what, pattern = line.rstrip("\n").split("\t")
    hits = [f["score"] for f in found if re.search(pattern, f["text"])]
    parts.append("%s %s" % (what, "%.2f" % min(hits) if hits else "MISSED"))
print("%-4s %-12s %8s %12d %7d %11.2f  %s" % (rep, s, records, alarms, policy, max(normal, default=0), "; ".join(parts)))
' "$rep" "$s" "$(grep -c . "$out/$s/normal.strace")" "$dir/expect" "$out/$s/flagged.json" "${THRESHOLD:-0.3}"
    done
    rep=$((rep + 1))
done
