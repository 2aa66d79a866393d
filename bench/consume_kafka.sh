#!/bin/sh
# honk consume on Kafka (a tansu broker): records/s with 1 and with 2 workers.
#
#   bench/consume_kafka.sh [REPEAT]        (default 20: BGL's 2,000 lines 20 times)
#
# Starts tansu (memory storage) on a loopback port (KAFKA_PORT, default
# 19092), creates a 4-partition topic and an alert topic, learns a model from
# BGL's normal lines (../shared/data/loghub-2k), produces the BGL log REPEAT
# times (a record per line, keyed by source, a source per partition), then for
# 1 and for 2 workers (each run its own consumer group, so each scores the
# whole topic) times the workers from their start until the group's committed
# offsets reach the end of every partition. Alerts are produced to the alert
# topic and delivered before offsets are committed, as in real use.
#
# HONK: the honk binary (default target/release/honk; Kafka is in every build).
# PYTHON: a python3 with confluent-kafka. Needs tansu
# (cargo install tansu --locked --features dynostore).
set -eu

repeat=${1:-20}
here=$(cd "$(dirname "$0")" && pwd)
honk=${HONK:-$here/../target/release/honk}
python=${PYTHON:-python3}
port=${KAFKA_PORT:-19092}
bgl=$here/../../shared/data/loghub-2k/BGL/BGL_2k.log
[ -x "$honk" ] || { echo "consume_kafka.sh: no honk at $honk (cargo build --release)" >&2; exit 3; }
# tansu on the PATH, or where cargo install puts it.
command -v tansu > /dev/null || PATH=$PATH:$HOME/.cargo/bin
command -v tansu > /dev/null || { echo "consume_kafka.sh: needs tansu" >&2; exit 3; }
"$python" -c 'import confluent_kafka' 2> /dev/null || { echo "consume_kafka.sh: $python has no confluent-kafka" >&2; exit 3; }

work=$(mktemp -d)
tansu broker --listener-url "tcp://127.0.0.1:$port" --advertised-listener-url "tcp://127.0.0.1:$port" \
    --storage-engine memory://tansu/ > "$work/broker.log" 2>&1 &
broker=$!
trap 'kill $broker 2> /dev/null; wait $broker 2> /dev/null; rm -rf "$work"' EXIT
sleep 1
tansu topic create logs --partitions 4 --broker "tcp://127.0.0.1:$port" > /dev/null 2>&1
tansu topic create honk-alerts --partitions 1 --broker "tcp://127.0.0.1:$port" > /dev/null 2>&1
feed() { "$python" "$here/kafka_feed.py" "$@"; }
grep '^- ' "$bgl" > "$work/normal.log"
"$honk" learn -q -o "$work/bgl.honk" "$work/normal.log"
feed publish "127.0.0.1:$port" logs "$bgl" --repeat "$repeat"
ends=$(feed ends "127.0.0.1:$port" logs)
records=$((repeat * $(awk "END { print NR }" "$bgl")))

for workers in 1 2; do
    pids=""
    i=0
    start=$(date +%s.%N)
    while [ "$i" -lt "$workers" ]; do
        "$honk" consume -q -m "$work/bgl.honk" --from "kafka://127.0.0.1:$port/logs?group=run$workers" \
            --alerts "kafka://127.0.0.1:$port/honk-alerts" > /dev/null 2>> "$work/workers.log" &
        pids="$pids $!"
        i=$((i + 1))
    done
    feed drained "127.0.0.1:$port" logs "run$workers" --last-offsets "$ends" > /dev/null
    end=$(date +%s.%N)
    kill -TERM $pids
    wait $pids
    awk -v w="$workers" -v m="$records" -v s="$start" -v e="$end" \
        'BEGIN { printf "%d worker(s): %d records in %.2f s, %.0f records/s\n", w, m, e - s, m / (e - s) }'
done
