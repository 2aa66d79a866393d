#!/bin/sh
# Measure honk, and logreduce 0.6.1 beside it, on the scenario suite: false
# alarms on held-out normal runs, and which injected actions each flags.
#
#   scenarios/measure.sh [REPETITIONS] [HONK]
#
# Each repetition traces every scenario afresh with trace.sh (3 baseline runs,
# NORMAL_RUNS held-out normal runs, 1 run with injected actions; every run in
# its own temp work directory and HOME) into OUT/SCENARIO, then runs
#   honk diff -q --json --threshold THRESHOLD BASELINES... RUN
#   logreduce diff --json FILE BASELINE_DIR RUN
# on each normal run and on the target. Per scenario it prints:
#   lines/run    lines of a normal run's trace (records, nearly: strace's
#                unfinished and resumed halves are two lines and one record)
#   alarms/run   false alarms per normal run: honk's anomaly rows (a score, no
#                policy key, no type or type "anomaly"); logreduce's lines
#                scored at or above its threshold
#   incid./run   honk's rows of type "incident" per normal run, "-" when this
#                honk writes no typed rows; for logreduce, the blocks it
#                prints (runs of anomalies and their context, merged when close)
#   policy/run   honk's policy violations (system calls outside the baseline)
#   flagged      injected actions flagged: a flagged record of the target
#                matches the action's pattern in SCENARIO/expect
# and under it, per injected action, the lowest score of a flagged record
# matching it (MISSED when none), then averages over all scenarios.
#
# HONK defaults to target/release/honk of this repository (built if missing).
# logreduce is optional: set LOGREDUCE to its executable, or have it at
# ~/.cache/honk-logreduce/bin/logreduce (install:
#   /usr/bin/python3 -m venv ~/.cache/honk-logreduce &&
#   ~/.cache/honk-logreduce/bin/pip install logreduce==0.6.1
# as bench/run.sh does); without it its columns print "-".
# Environment knobs: THRESHOLD (honk's, 0.3), LOGREDUCE_THRESHOLD (its
# default, 0.2), NORMAL_RUNS (2), OUT (/tmp/honk-scenarios), SCENARIOS (all).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
reps=${1:-1}
honk=${2:-$here/../target/release/honk}
threshold=${THRESHOLD:-0.3}
lr_threshold=${LOGREDUCE_THRESHOLD:-0.2}
normals=${NORMAL_RUNS:-2}
out=${OUT:-/tmp/honk-scenarios}
logreduce=${LOGREDUCE:-$HOME/.cache/honk-logreduce/bin/logreduce}
[ -x "$honk" ] || (cd "$here/.." && cargo build --release -q)
if [ -x "$logreduce" ]; then
    lr_version=$("$(dirname "$logreduce")/pip" show logreduce 2>/dev/null | sed -n 's/^Version: //p' || true)
    echo "logreduce: $logreduce ${lr_version:+($lr_version)}, threshold $lr_threshold"
else
    echo "logreduce: not installed at $logreduce (see the top of $0); its columns print -"
    logreduce=
fi
echo "honk: $honk ($("$honk" --version)), threshold $threshold; $normals normal runs per scenario and repetition"
mkdir -p "$out"
rm -f "$out/tally.tsv"

printf '%-3s %-14s %9s | %-40s | %s\n' "" "" "" "honk" "logreduce"
printf '%-3s %-14s %9s | %10s %10s %10s %7s | %10s %10s %7s\n' \
    rep scenario lines/run alarms/run incid./run policy/run flagged alarms/run blocks/run flagged

rep=1
while [ "$rep" -le "$reps" ]; do
    for dir in "$here"/*/; do
        s=$(basename "$dir")
        [ -f "$dir/expect" ] || continue
        case " ${SCENARIOS:-$s} " in *" $s "*) ;; *) continue ;; esac
        d=$out/$s
        rm -rf "$d"
        "$here/trace.sh" "$s" "$d" 3 "$normals"
        base=$(ls "$d"/baseline-*.strace)
        if [ -n "$logreduce" ]; then
            # logreduce learns one model per group of file names; a directory
            # of the baselines alone keeps them in one group.
            mkdir "$d/logreduce-baseline"
            cp "$d"/baseline-*.strace "$d/logreduce-baseline/"
        fi
        for run in "$d"/normal-*.strace "$d/target.strace"; do
            name=$(basename "$run" .strace)
            rc=0
            # shellcheck disable=SC2086
            "$honk" diff -q --json --threshold "$threshold" $base "$run" >"$d/honk-$name.json" || rc=$?
            [ "$rc" -le 1 ] || { echo "measure.sh: honk diff failed on $run" >&2; exit 1; }
            if [ -n "$logreduce" ]; then
                rc=0
                # OpenBLAS tuning variables that some machines set slow numpy down (see bench/run.sh).
                env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$logreduce" diff --threshold "$lr_threshold" \
                    --json "$d/logreduce-$name.json" "$d/logreduce-baseline" "$run" \
                    >"$d/logreduce-$name.out" 2>&1 || rc=$?
                case $rc in
                0 | 4) ;;
                *)
                    echo "measure.sh: logreduce failed on $run (exit $rc): see $d/logreduce-$name.out" >&2
                    rm -f "$d/logreduce-$name.json"
                    ;;
                esac
            fi
        done
        /usr/bin/env python3 "$here/tally.py" "$rep" "$s" "$dir/expect" "$d" "$lr_threshold"
    done
    rep=$((rep + 1))
done

# Averages over every scenario and repetition: per held-out normal run, and
# the injected actions flagged out of all.
awk -F '\t' '
    { runs += $2; lines += $3; alarms += $4; policy += $6; found += $7; actions += $8
      if ($5 < 0) inc = -1; else if (inc >= 0) inc += $5
      if ($9 < 0) lr = -1; else if (lr >= 0) { lra += $9; lrb += $10; lrf += $11 } }
    END {
        printf "%-18s %9.0f | %10.1f %10s %10.1f %7s | %10s %10s %7s\n", "all, per run", lines / runs,
            alarms / runs, inc < 0 ? "-" : sprintf("%.1f", inc / runs), policy / runs, found "/" actions,
            lr < 0 ? "-" : sprintf("%.1f", lra / runs), lr < 0 ? "-" : sprintf("%.1f", lrb / runs),
            lr < 0 ? "-" : lrf "/" actions
    }' "$out/tally.tsv"
