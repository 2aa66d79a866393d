#!/bin/bash
# Time `honk diff` and `logreduce diff` side by side on the same strace workload.
#
#   bench/run.sh [OUTDIR]          (OUTDIR defaults to /tmp/honk-bench)
#
# Steps, each skipped when already done:
#   1. build honk in release mode (or use the binary in $HONK, if set);
#   2. generate the workload with bench/workload.sh, unless OUTDIR/baseline and
#      OUTDIR/target already hold traces (delete them to regenerate);
#   3. install logreduce 0.6.1 into a virtualenv at OUTDIR/venv;
#   4. run honk HONK_RUNS times (after one untimed warm-up run, so both tools
#      read the traces from the page cache) and logreduce LOGREDUCE_RUNS times,
#      each under /usr/bin/time for wall time and peak resident memory;
#   5. print line counts, median wall times, peak memory, the speed ratio and
#      how many anomalies each tool reported, and check the issue's targets.
#
# Both tools get the same two directories, with their default settings:
#   honk diff --json OUTDIR/baseline OUTDIR/target
#   logreduce diff OUTDIR/baseline OUTDIR/target
# (--json only changes how honk prints; its stdout then has one line per anomaly.)
#
# Everything generated (traces, venv, outputs, results.txt) lives in OUTDIR.
# Environment knobs: HONK, HONK_RUNS (5), LOGREDUCE_RUNS (3),
# CARGO_TARGET_DIR (/tmp/target-bench).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
out=${1:-/tmp/honk-bench}
mkdir -p "$out"
out=$(cd "$out" && pwd)
HONK_RUNS=${HONK_RUNS:-5}
LOGREDUCE_RUNS=${LOGREDUCE_RUNS:-3}
results=$out/results
mkdir -p "$results"

say() { echo "run.sh: $*" >&2; }

# --- 1. honk -----------------------------------------------------------------
if [ -n "${HONK:-}" ]; then
    honk=$HONK
else
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/target-bench}
    say "building honk (release) into $CARGO_TARGET_DIR"
    (cd "$repo" && cargo build --release --quiet)
    honk=$CARGO_TARGET_DIR/release/honk
fi
[ -x "$honk" ] || { say "no honk binary at $honk"; exit 2; }

# --- 2. the workload ---------------------------------------------------------
has_traces() { ls "$out/$1"/*.strace > /dev/null 2>&1; }
if has_traces baseline && has_traces target; then
    say "reusing the traces in $out/baseline and $out/target"
else
    "$here/workload.sh" "$out"
fi

# --- 3. logreduce ------------------------------------------------------------
logreduce=$out/venv/bin/logreduce
if ! "$out/venv/bin/pip" show logreduce 2> /dev/null | grep -qx 'Version: 0.6.1'; then
    say "installing logreduce 0.6.1 into $out/venv"
    # The system interpreter, not a version manager's shim.
    /usr/bin/python3 -m venv "$out/venv"
    "$out/venv/bin/pip" install --quiet logreduce==0.6.1
fi

# /usr/bin/time (GNU time) measures wall time and peak RSS of a command.
if [ ! -x /usr/bin/time ]; then
    say "installing GNU time"
    apt-get install -y -qq time > /dev/null
fi

# --- 4. timing ---------------------------------------------------------------
# timed NAME I CMD...: run CMD with stdout/stderr into results/NAME.I.{out,err}
# and "wall_seconds peak_kb user_cpu_s system_cpu_s" into results/NAME.I.time. Exit codes: honk exits 1
# when it found anomalies, logreduce 4 when it found none; neither is a failure.
timed() {
    name=$1 i=$2
    shift 2
    rc=0
    /usr/bin/time -f '%e %M %U %S' -o "$results/$name.$i.time" "$@" \
        > "$results/$name.$i.out" 2> "$results/$name.$i.err" || rc=$?
    case "$name:$rc" in
        honk:0 | honk:1 | logreduce:0 | logreduce:4) ;;
        *)
            say "$name run $i failed with exit code $rc; see $results/$name.$i.err"
            exit 1
            ;;
    esac
}

# last_lines FILES...: the last line of each file. (GNU time puts a "Command
# exited with non-zero status" line before its figures when the exit code is not 0.)
last_lines() { for f in "$@"; do tail -n 1 "$f"; done; }
# median FILES...: the median of the first field of the files (mean of the two
# middle values for an even count).
median() {
    last_lines "$@" | awk '{print $1}' | sort -n | awk '
        { v[NR] = $1 }
        END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# peak_mb FILES...: the largest second field (peak KB) of the files, in MB.
peak_mb() { last_lines "$@" | awk '$2 > m { m = $2 } END { printf "%.1f", m / 1024 }'; }
# cpu FILES...: the median CPU time (user + system) of the runs, in seconds.
cpu() { last_lines "$@" | awk '{ print $3 + $4 }' | sort -n | awk '
        { v[NR] = $1 }
        END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

rm -f "$results"/*.time "$results"/*.out "$results"/*.err
say "honk: 1 warm-up run, then $HONK_RUNS timed runs"
timed honk warmup "$honk" diff --json "$out/baseline" "$out/target"
i=1
while [ "$i" -le "$HONK_RUNS" ]; do
    timed honk "$i" "$honk" diff --json "$out/baseline" "$out/target"
    i=$((i + 1))
done
say "logreduce: $LOGREDUCE_RUNS timed runs (about 20 s each on a 2-core machine)"
i=1
while [ "$i" -le "$LOGREDUCE_RUNS" ]; do
    # OpenBLAS tuning variables that some machines set slow numpy down; unset
    # them for logreduce alone so it runs at its best.
    timed logreduce "$i" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
        "$logreduce" diff "$out/baseline" "$out/target"
    i=$((i + 1))
done
rm -f "$results"/honk.warmup.*

# --- 5. report ---------------------------------------------------------------
base_lines=$(cat "$out/baseline"/*.strace | wc -l)
target_lines=$(cat "$out/target"/*.strace | wc -l)
base_files=$(ls "$out/baseline"/*.strace | wc -l)
target_files=$(ls "$out/target"/*.strace | wc -l)
honk_s=$(median "$results"/honk.*.time)
honk_mb=$(peak_mb "$results"/honk.*.time)
honk_cpu=$(cpu "$results"/honk.*.time)
lr_s=$(median "$results"/logreduce.*.time)
lr_mb=$(peak_mb "$results"/logreduce.*.time)
lr_cpu=$(cpu "$results"/logreduce.*.time)
ratio=$(awk -v a="$lr_s" -v b="$honk_s" 'BEGIN { printf "%.1f", a / b }')
honk_anomalies=$(wc -l < "$results/honk.1.out")
# logreduce ends with "99.88% reduction (from 224459 lines to 268)": 268 lines
# scored above its threshold (its output also prints context lines around them).
lr_anomalies=$(sed -n 's/.*reduction (from [0-9]* lines to \([0-9]*\)).*/\1/p' "$results/logreduce.1.out")
# ok COND: "met" or "MISSED".
ok() { if awk "BEGIN { exit !($1) }"; then echo met; else echo MISSED; fi; }

{
    echo "machine:    $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
        "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
    echo "honk:       $honk ($("$honk" --version))"
    echo "logreduce:  $("$out/venv/bin/pip" show logreduce | sed -n 's/^Version: //p')" \
        "(numpy $("$out/venv/bin/pip" show numpy | sed -n 's/^Version: //p')," \
        "scikit-learn $("$out/venv/bin/pip" show scikit-learn | sed -n 's/^Version: //p'))"
    echo "baseline:   $base_files files, $base_lines lines"
    echo "target:     $target_files files, $target_lines lines"
    echo "honk diff:       median ${honk_s} s over $HONK_RUNS runs" \
        "(runs: $(last_lines "$results"/honk.*.time | awk '{printf "%s ", $1}')), CPU ${honk_cpu} s, peak RSS ${honk_mb} MB," \
        "$honk_anomalies anomalies"
    echo "  its summary:   $(grep -h 'anomal' "$results/honk.1.err" | tail -n 1)"
    echo "logreduce diff:  median ${lr_s} s over $LOGREDUCE_RUNS runs" \
        "(runs: $(last_lines "$results"/logreduce.*.time | awk '{printf "%s ", $1}')), CPU ${lr_cpu} s, peak RSS ${lr_mb} MB," \
        "$lr_anomalies anomalous lines"
    echo "  its timings:   $(grep -ho '\(Training\|Testing\) took [0-9.]*s' "$results/logreduce.1.err" | paste -sd ' ' -)"
    echo "speed ratio:     honk is ${ratio}x faster"
    echo "targets:  >=50x faster: $(ok "$ratio >= 50");" \
        "<0.5 s wall: $(ok "$honk_s < 0.5");" \
        "<50 MB peak: $(ok "$honk_mb < 50")"
} | tee "$out/results.txt"
say "outputs of every run are in $results; this summary is in $out/results.txt"
