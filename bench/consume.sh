#!/bin/sh
# honk consume on NATS JetStream: records/s with 1 and with 2 workers.
#
#   bench/consume.sh [REPEAT]        (default 100: BGL's 2,000 lines 100 times)
#
# Starts a NATS server with JetStream on a loopback port (NATS_PORT, default
# 14222) with its store in a scratch directory, learns a model from BGL's
# normal lines (../shared/data/loghub-2k), publishes the whole BGL log REPEAT
# times (one message per line, over four subjects, as a shipper would), then,
# for 1 and for 2 workers (each run with its own durable consumer, so each
# scores the whole stream), starts the workers and times them until the
# consumer has nothing left to deliver or acknowledge. Alerts go to a subject
# the ALERTS stream keeps, as in real use.
#
# HONK: the binary (default target/release/honk). PYTHON: a python3 with
# nats-py (pip install nats-py). Needs nats-server (apt-get install nats-server).
set -eu

repeat=${1:-100}
here=$(cd "$(dirname "$0")" && pwd)
honk=${HONK:-$here/../target/release/honk}
python=${PYTHON:-python3}
port=${NATS_PORT:-14222}
bgl=$here/../../shared/data/loghub-2k/BGL/BGL_2k.log
[ -x "$honk" ] || { echo "consume.sh: no honk at $honk (cargo build --release)" >&2; exit 3; }
[ -f "$bgl" ] || { echo "consume.sh: no $bgl" >&2; exit 3; }
command -v nats-server > /dev/null || { echo "consume.sh: needs nats-server" >&2; exit 3; }
"$python" -c 'import nats' 2> /dev/null || { echo "consume.sh: $python has no nats-py (pip install nats-py)" >&2; exit 3; }

work=$(mktemp -d)
nats-server -js -a 127.0.0.1 -p "$port" -sd "$work/store" > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2> /dev/null; wait $server 2> /dev/null; rm -rf "$work"' EXIT
sleep 1
feed() { "$python" "$here/nats_feed.py" "$@"; }
feed streams "127.0.0.1:$port"
grep '^- ' "$bgl" > "$work/normal.log"
"$honk" learn -q -o "$work/bgl.honk" "$work/normal.log"
feed publish "127.0.0.1:$port" "$bgl" --repeat "$repeat"
messages=$((repeat * $(awk "END { print NR }" "$bgl")))

for workers in 1 2; do
    pids=""
    i=0
    start=$(date +%s.%N)
    while [ "$i" -lt "$workers" ]; do
        "$honk" consume -q -m "$work/bgl.honk" --from "nats://127.0.0.1:$port/LOGS?durable=run$workers" \
            --alerts "nats://127.0.0.1:$port/honk.alerts" > /dev/null 2>> "$work/workers.log" &
        pids="$pids $!"
        i=$((i + 1))
    done
    feed drained "127.0.0.1:$port" --durable "run$workers" > /dev/null
    end=$(date +%s.%N)
    kill -TERM $pids
    wait $pids
    awk -v w="$workers" -v m="$messages" -v s="$start" -v e="$end" \
        'BEGIN { printf "%d worker(s): %d messages in %.2f s, %.0f records/s\n", w, m, e - s, m / (e - s) }'
done
