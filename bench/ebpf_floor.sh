#!/usr/bin/env bash
# What any per-call capture costs at least, beside honk's: the watched
# program's own time, uninstrumented and under `honk trace --ebpf` with three
# BPF programs, side by side (needs root, clang, libbpf-dev, hyperfine is not
# used: each run is timed from inside by the `timed` wrapper).
#
#   bench/ebpf_floor.sh [OUTDIR] [ROUNDS]
#
# OUTDIR is a directory bench/ebpf_overhead.sh prepared (the loop program,
# the `timed` wrapper and the 10,000-file tree; default /tmp/honk-ebpf-bench),
# ROUNDS how many times each runs (default 7; medians are printed).
#
# The programs (src/capture/ebpf/honk.bpf.c, built by build.sh):
#   empty      HONK_BENCH_EMPTY: the system-call programs return at once;
#              what attaching to every call costs, with nothing captured
#   smallest   HONK_BENCH_SMALLEST: one record per call, a header alone
#              (the call's time, process and thread): the least a capture
#              of every call writes
#   honk       the committed program
# The first two are loaded by a honk built with the developers' feature
# `bench-object` (into target/bench-object), which reads HONK_BPF_OBJECT.
set -euo pipefail
out=${1:-/tmp/honk-ebpf-bench}
rounds=${2:-7}
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ ! -x $out/loop || ! -x $out/timed || ! -d $out/tree ]]; then
  echo "ebpf_floor.sh: run bench/ebpf_overhead.sh $out first (it prepares the workloads)" >&2
  exit 2
fi
(cd "$root" && CARGO_TARGET_DIR=target/bench-object cargo build --release --quiet --features bench-object)
honk=$root/target/bench-object/release/honk
sh "$root/src/capture/ebpf/build.sh" "$out/empty.bpf.o" -DHONK_BENCH_EMPTY
sh "$root/src/capture/ebpf/build.sh" "$out/smallest.bpf.o" -DHONK_BENCH_SMALLEST
cd "$out"
declare -A cmd=(
  [loop]="./loop"
  [git20]="sh -c 'for i in \$(seq 20); do git -C tree status --porcelain; done'"
  [tar5]="sh -c 'for i in 1 2 3 4 5; do tar cf $out/tree.tar tree; done'"
)
workloads="loop git20 tar5"
rm -f "$out"/floor.*
for _ in $(seq "$rounds"); do
  for w in $workloads; do
    c=${cmd[$w]}
    eval "./timed $out/floor.$w.bare $c" >/dev/null 2>&1
    for v in empty smallest; do
      eval "HONK_BPF_OBJECT=$out/$v.bpf.o \"\$honk\" trace --ebpf -o $out/floor.strace -- ./timed $out/floor.$w.$v $c" >/dev/null 2>&1
    done
    eval "\"\$honk\" trace --ebpf -o $out/floor.strace -- ./timed $out/floor.$w.honk $c" >/dev/null 2>&1
  done
done
printf '%-6s %10s %20s %20s %20s\n' workload bare empty smallest honk
for w in $workloads; do
  python3 - "$out" "$w" <<'PY'
import statistics, sys
out, w = sys.argv[1], sys.argv[2]
def median(kind):
    with open(f"{out}/floor.{w}.{kind}") as f:
        return statistics.median(int(line) for line in f) / 1e6
bare = median("bare")
cells = [f"{median(k):.1f} ms (+{100 * (median(k) / bare - 1):.1f}%)" for k in ("empty", "smallest", "honk")]
print(f"{w:<6} {bare:7.1f} ms " + " ".join(f"{c:>20}" for c in cells))
PY
done
echo "medians of $rounds runs, the program's own time (from its start to its end)"
