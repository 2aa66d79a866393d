#!/bin/sh
# honk watch's sustained throughput on one core, and its peak memory over a
# long stream.
#
#   bench/watch_throughput.sh [EVENTS]        (default 50000000)
#
# Generates the strace workload of bench/workload.sh (real programs traced by
# strace: known-good runs and target runs, three of which do something the
# baseline never does), learns a model from the known-good runs, and pipes the
# target runs into `honk watch -` over and over until at least EVENTS records
# have gone through, honk pinned to core 0 and the writer to core 1. It prints
# records, wall time, records/s and peak RSS for one pass and for the whole
# stream: memory that stays flat shows as the same peak for both.
#
# HONK: the binary (default target/release/honk). Needs strace, git, python3,
# taskset and GNU time (/usr/bin/time).
set -eu

events=${1:-50000000}
here=$(cd "$(dirname "$0")" && pwd)
honk=${HONK:-$here/../target/release/honk}
[ -x "$honk" ] || { echo "watch_throughput.sh: no honk at $honk (cargo build --release)" >&2; exit 3; }
[ -x /usr/bin/time ] || { echo "watch_throughput.sh: needs GNU time (apt-get install time)" >&2; exit 3; }
command -v taskset > /dev/null || { echo "watch_throughput.sh: needs taskset (util-linux)" >&2; exit 3; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sh "$here/workload.sh" "$work/w" > /dev/null
"$honk" learn -q -o "$work/m.honk" "$work/w/baseline"
cat "$work/w/target"/*.strace > "$work/target.strace"

# One pass, to count the records of a pass and see the memory of a short run.
run() { # PASSES
    passes=$1
    (
        i=0
        while [ "$i" -lt "$passes" ]; do
            cat "$work/target.strace"
            i=$((i + 1))
        done
    ) | taskset -c 1 cat | /usr/bin/time -f '%e %M' -o "$work/time" \
        taskset -c 0 "$honk" watch -m "$work/m.honk" --format strace - > /dev/null 2> "$work/err" || true
    records=$(sed -n 's/.* in \([0-9,]*\) records .*/\1/p' "$work/err" | tr -d ,)
    read -r wall rss <<EOT
$(tail -n 1 "$work/time")
EOT
    [ -n "$records" ] || { echo "watch_throughput.sh: no summary from honk:" >&2; cat "$work/err" >&2; exit 1; }
    rate=$(awk -v r="$records" -v w="$wall" 'BEGIN { printf "%.0f", r / w }')
    printf '%-8s %12s records %9s s %10s records/s %9s KB peak RSS\n' "$passes" "$records" "$wall" "$rate" "$rss"
}

printf '%-8s %s\n' passes "(lines of a pass: $(wc -l < "$work/target.strace"))"
run 1
per_pass=$records
passes=$(( (events + per_pass - 1) / per_pass ))
run "$passes"
