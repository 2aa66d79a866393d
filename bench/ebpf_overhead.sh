#!/usr/bin/env bash
# Overhead of watching system calls live with eBPF, beside strace, on
# system-call-heavy workloads, in one run (needs root, hyperfine, gcc, git, tar).
#
#   bench/ebpf_overhead.sh [OUTDIR]      (default /tmp/honk-ebpf-bench)
#   HONK=/path/to/honk RUNS=10 WORKLOADS="git tar" bench/ebpf_overhead.sh
#
# Workloads:
#   loop    a C program: 100,000 times open + read + close of one of 100 small files
#   git     `git status` in a committed tree of 10,000 files
#   tar     `tar cf` of that tree (10,000 files of 1 KiB) into a file
#   git20, tar5   the same 20 and 5 times in one command (honk's fixed cost,
#           about 0.3 s to load the BPF program and to detach it, shared)
#   true    `true`: honk's fixed cost alone
# (WORKLOADS picks some; default: loop git tar git20 tar5 true)
# Each runs, side by side under hyperfine (medians of RUNS runs, after one warm-up):
#   bare            uninstrumented
#   watch --ebpf    `honk watch -m MODEL --ebpf -- CMD` (capture + live scoring;
#                   MODEL learned from one `honk trace --ebpf` run of it)
#   trace --ebpf    `honk trace --ebpf -o FILE -- CMD` (capture only, written to a file)
#   trace (strace)  `honk trace -o FILE -- CMD` (strace -f -yy, written to a file)
# and prints the medians and each one's overhead over bare, twice: the whole
# command's wall time (honk's start and stop included), and the watched
# program's own time, from its start to its end, as a wrapper (`timed`, a
# fork, exec and wait) measures it inside each run: what the capture costs
# the program itself.
set -euo pipefail
out=${1:-/tmp/honk-ebpf-bench}
runs=${RUNS:-10}
workloads=${WORKLOADS:-loop git tar git20 tar5 true}
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ -z ${HONK:-} ]]; then
  (cd "$root" && cargo build --release --quiet)
  HONK=$root/target/release/honk
fi
rm -rf "$out" && mkdir -p "$out"
cd "$out"

# The loop program.
mkdir files
for i in $(seq 0 99); do head -c 512 /dev/urandom > "files/f$i"; done
cat > loop.c <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(void) {
    char path[64], buf[4096];
    for (int i = 0; i < 100000; i++) {
        snprintf(path, sizeof path, "files/f%d", i % 100);
        int fd = open(path, O_RDONLY);
        if (fd < 0) return 1;
        if (read(fd, buf, sizeof buf) < 0) return 1;
        close(fd);
    }
    return 0;
}
C
gcc -O2 -o loop loop.c

# The wrapper that times the program itself: appends its nanoseconds to $1.
cat > timed.c <<'C'
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv) {
    if (argc < 3) return 2;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pid_t child = fork();
    if (child == 0) { execvp(argv[2], argv + 2); _exit(127); }
    int status = 0;
    waitpid(child, &status, 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    FILE *f = fopen(argv[1], "a");
    if (!f) return 2;
    fprintf(f, "%lld\n", (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
    fclose(f);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
C
gcc -O2 -o timed timed.c

# The tree: 10,000 files of 1 KiB in 100 directories, committed.
mkdir tree
for d in $(seq 0 99); do
  mkdir "tree/d$d"
  for f in $(seq 0 99); do head -c 1024 /dev/zero > "tree/d$d/f$f"; done
done
(cd tree && git init -q && git add -A && git -c user.name=b -c user.email=b@b commit -qm tree)

declare -A cmd=(
  [loop]="./loop"
  [git]="git -C tree status --porcelain"
  [tar]="tar cf $out/tree.tar tree"
  [git20]="sh -c 'for i in \$(seq 20); do git -C tree status --porcelain; done'"
  [tar5]="sh -c 'for i in 1 2 3 4 5; do tar cf $out/tree.tar tree; done'"
  [true]="true"
)
for w in $workloads; do
  # The model: one captured run of the workload.
  eval "\"\$HONK\" trace --ebpf --learn \"\$out/\$w.honk\" -- ${cmd[$w]}" 2>/dev/null
done

header() {
  printf '\n%s\n%-6s %12s %12s %8s %12s %8s %12s %8s\n' "$1" workload bare "watch-ebpf" "+%" "trace-ebpf" "+%" "strace" "+%"
}
header "the whole command (honk's start and stop included):"
for w in $workloads; do
  c=${cmd[$w]}
  t="$out/timed $out/$w"
  # -i: `honk watch` exits 1 when it alerts (a run unlike the one learned).
  hyperfine -i --style none --warmup 1 --runs "$runs" --export-json "$out/$w.json" \
    -n bare "$t.bare.ns $c" \
    -n watch-ebpf "$HONK watch -m $out/$w.honk --ebpf -- $t.watch-ebpf.ns $c" \
    -n trace-ebpf "$HONK trace --ebpf -o $out/$w.ebpf.strace -- $t.trace-ebpf.ns $c" \
    -n strace "$HONK trace -o $out/$w.strace -- $t.strace.ns $c" > "$out/$w.hyperfine.txt" 2>&1
  python3 - "$out/$w.json" "$w" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
b = r["bare"]
cells = [f"{b*1000:9.1f} ms"]
for k in ["watch-ebpf", "trace-ebpf", "strace"]:
    cells.append(f"{r[k]*1000:9.1f} ms")
    # `true` takes no measurable time (hyperfine subtracts its shell's).
    cells.append(f"{(r[k]/b-1)*100:7.0f}%" if b > 0.0005 else "      -")
print(f"{sys.argv[2]:<6} " + " ".join(cells))
PY
done
header "the watched program itself (from its start to its end, inside each run):"
for w in $workloads; do
  python3 - "$out" "$w" <<'PY'
import statistics, sys
out, w = sys.argv[1], sys.argv[2]
med = {m: statistics.median(int(x) for x in open(f"{out}/{w}.{m}.ns")) / 1e6
       for m in ["bare", "watch-ebpf", "trace-ebpf", "strace"]}
b = med["bare"]
cells = [f"{b:9.1f} ms"]
for k in ["watch-ebpf", "trace-ebpf", "strace"]:
    cells.append(f"{med[k]:9.1f} ms")
    cells.append(f"{(med[k]/b-1)*100:7.0f}%")
print(f"{w:<6} " + " ".join(cells))
PY
done
echo
echo "medians of $runs runs each (the program's own: of the warm-up too); hyperfine's full output in $out/*.hyperfine.txt"
