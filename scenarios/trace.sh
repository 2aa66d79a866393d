#!/bin/sh
# Trace one scenario with strace: normal runs for a baseline, one more normal run
# held out (to count false alarms), and one run with the injected actions.
#
#   scenarios/trace.sh SCENARIO OUTDIR [BASELINE_RUNS]
#
# writes OUTDIR/baseline-1.strace ... baseline-N.strace, OUTDIR/normal.strace and
# OUTDIR/target.strace. Every run starts from the same empty work directory
# (OUTDIR/work) with HOME=OUTDIR/home, so paths agree between runs and nothing
# outside OUTDIR is written. The injected actions are listed, with a pattern that
# a flagged record must match, in SCENARIO/expect.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
scenario=$here/$1
out=$2
runs=${3:-3}
command -v strace >/dev/null || { echo "trace.sh: strace is not installed (apt-get install strace)" >&2; exit 3; }
[ -f "$scenario/workload.sh" ] || { echo "trace.sh: no such scenario: $1" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)

run() { # run NAME INJECT
    rm -rf "$out/work" "$out/home"
    mkdir -p "$out/work" "$out/home/.ssh"
    (cd "$out/work" && HOME="$out/home" HONK_INJECT=$2 SCENARIO="$scenario" \
        strace -f -o "$out/$1.strace" sh "$scenario/workload.sh" >/dev/null 2>&1) || true
}

i=1
while [ "$i" -le "$runs" ]; do
    run "baseline-$i" ""
    i=$((i + 1))
done
run normal ""
run target 1
rm -rf "$out/work" "$out/home"
