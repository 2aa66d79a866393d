#!/bin/sh
# Generate the benchmark's strace workload.
#
#   bench/workload.sh OUTDIR
#
# Traces real programs with `strace -f`: a few dozen runs of three workloads
# (bench/workloads/): shell (coreutils, tar, gzip, find, sort...), git (a
# scratch repository: init, add, commit, log, diff, status...) and python
# (/usr/bin/python3 running a script that uses json, sqlite3, csv, hashlib).
#
# Writes:
#   OUTDIR/baseline/run.NN-KIND.strace   known-good runs   (~230k lines in all)
#   OUTDIR/target/run.NN-KIND.strace     the runs to score (~220k lines in all)
#
# The target runs are the same workloads; three of them (one of each kind) also
# do something the baseline never does: read /etc/shadow and/or run `sh -c id`.
#
# Every run starts in the same, freshly emptied work directory (OUTDIR/work),
# with HOME=OUTDIR/home and TMPDIR=OUTDIR/tmp and a minimal fixed environment, so
# paths and environment agree between runs and nothing is written outside OUTDIR.
#
# File names: logreduce trains one model per group of files, grouping them by
# the part of the file name before the first dot. Every file here starts with
# "run." so logreduce, like honk, learns a single model from all baseline files
# and scores every target file against it.
#
# The sizes are set by the number of runs and the iterations per run below
# (override with the environment variables of the same name). With the
# defaults a run is 8.5k-11k lines, and the script prints the totals.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
command -v strace > /dev/null || { echo "workload.sh: strace is not installed (apt-get install strace)" >&2; exit 3; }
[ -x /usr/bin/python3 ] || { echo "workload.sh: /usr/bin/python3 is missing" >&2; exit 3; }
command -v git > /dev/null || { echo "workload.sh: git is not installed" >&2; exit 3; }

here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)

# Runs of each workload, for the baseline and for the target.
BASE_SHELL_RUNS=${BASE_SHELL_RUNS:-8}
BASE_GIT_RUNS=${BASE_GIT_RUNS:-8}
BASE_PYTHON_RUNS=${BASE_PYTHON_RUNS:-8}
TARGET_SHELL_RUNS=${TARGET_SHELL_RUNS:-8}
TARGET_GIT_RUNS=${TARGET_GIT_RUNS:-7}
TARGET_PYTHON_RUNS=${TARGET_PYTHON_RUNS:-8}
# Iterations inside one run (each traced run is one `sh workloads/KIND.sh ITER`).
SHELL_ITER=${SHELL_ITER:-3}
GIT_ITER=${GIT_ITER:-4}
PYTHON_ITER=${PYTHON_ITER:-10}

# The program directories on PATH: where git lives, then the system's. Taken
# from the machine (git is /usr/local/bin/git on some), but never a version
# manager's shim directory.
gitdir=$(dirname "$(command -v git)")
path=$gitdir:/usr/bin:/bin

rm -rf "$out/baseline" "$out/target"
mkdir -p "$out/baseline" "$out/target"

# trace SET NN KIND ITER EXTRA: one traced run into OUTDIR/SET/run.NN-KIND.strace
trace() {
    rm -rf "$out/work" "$out/home" "$out/tmp"
    mkdir -p "$out/work" "$out/home" "$out/tmp"
    # env -i: the same few variables in every run (their count shows in every
    # execve line of the trace). HONK_BENCH_EXTRA is always set, to 0 or 1.
    (cd "$out/work" && env -i \
        HOME="$out/home" TMPDIR="$out/tmp" PATH="$path" LC_ALL=C TZ=UTC \
        PYTHONDONTWRITEBYTECODE=1 PYTHONHASHSEED=0 HONK_BENCH_EXTRA="$5" \
        strace -f -o "$out/$1/run.$2-$3.strace" sh "$here/workloads/$3.sh" "$4" \
        > /dev/null 2>&1) || {
        echo "workload.sh: run $1/run.$2-$3 failed" >&2
        exit 1
    }
}

# runs SET KIND COUNT ITER EXTRA_RUN: COUNT runs of KIND; run number EXTRA_RUN
# (0 for none) does the extra actions.
runs() {
    n=1
    while [ "$n" -le "$3" ]; do
        extra=0
        [ "$n" -eq "$5" ] && extra=1
        trace "$1" "$(printf %02d "$n")" "$2" "$4" "$extra"
        n=$((n + 1))
    done
}

echo "workload.sh: tracing into $out (takes a minute or two)" >&2
runs baseline shell "$BASE_SHELL_RUNS" "$SHELL_ITER" 0
runs baseline git "$BASE_GIT_RUNS" "$GIT_ITER" 0
runs baseline python "$BASE_PYTHON_RUNS" "$PYTHON_ITER" 0
runs target shell "$TARGET_SHELL_RUNS" "$SHELL_ITER" 3
runs target git "$TARGET_GIT_RUNS" "$GIT_ITER" 2
runs target python "$TARGET_PYTHON_RUNS" "$PYTHON_ITER" 5
rm -rf "$out/work" "$out/home" "$out/tmp"

# Totals, one line per set: files and lines.
for set in baseline target; do
    files=$(find "$out/$set" -name '*.strace' | wc -l)
    lines=$(cat "$out/$set"/*.strace | wc -l)
    echo "$set: $files files, $lines lines"
done
