#!/usr/bin/env python3
"""A shipper-like producer and a progress check for `honk consume` on Kafka.

    kafka_feed.py publish BROKER TOPIC FILE... [--sources N] [--repeat R]
        one record per line, keyed node0..N-1 in turn, each key to its own partition
    kafka_feed.py drained BROKER TOPIC GROUP --records N
        wait until GROUP's committed offsets account for N records; print the seconds it took

BROKER is HOST:PORT. Needs confluent-kafka (pip install confluent-kafka).
"""

import argparse
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition


def publish(args):
    producer = Producer({"bootstrap.servers": args.broker, "linger.ms": 20})
    lines = []
    for path in args.files:
        with open(path, "rb") as f:
            lines.extend(line.rstrip(b"\n") for line in f)
    sent = 0
    started = time.monotonic()
    for _ in range(args.repeat):
        for i, line in enumerate(lines):
            source = i % args.sources
            while True:
                try:
                    producer.produce(args.topic, line, key=f"node{source}", partition=source)
                    break
                except BufferError:
                    producer.poll(0.05)
            sent += 1
    producer.flush(60)
    print(f"published {sent} records in {time.monotonic() - started:.2f} s", file=sys.stderr)


def drained(args):
    # Committed offsets are the next record to read in each partition; the
    # group is done when they add up to the partitions' ends, which `ends`
    # finds by reading (tansu's high watermarks are not the ends).
    consumer = Consumer({"bootstrap.servers": args.broker, "group.id": args.group})
    partitions = [TopicPartition(args.topic, p) for p in range(args.sources)]
    started = time.monotonic()
    while True:
        committed = consumer.committed(partitions, timeout=10)
        done = sum(max(tp.offset, 0) for tp in committed)
        if done >= args.last_offsets:
            print(f"{time.monotonic() - started:.3f}")
            return
        time.sleep(0.02)


def ends(args):
    reader = Consumer({"bootstrap.servers": args.broker, "group.id": "ends", "enable.auto.commit": False})
    reader.assign([TopicPartition(args.topic, p, 0) for p in range(args.sources)])
    last = {}
    quiet = 0
    while quiet < 3:
        m = reader.poll(1)
        if m is None:
            quiet += 1
            continue
        last[m.partition()] = max(last.get(m.partition(), -1), m.offset())
    print(sum(o + 1 for o in last.values()))


parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("command", choices=["publish", "drained", "ends"])
parser.add_argument("broker")
parser.add_argument("topic")
parser.add_argument("rest", nargs="*")
parser.add_argument("--sources", type=int, default=4)
parser.add_argument("--repeat", type=int, default=1)
parser.add_argument("--last-offsets", type=int, default=0)
args = parser.parse_args()
if args.command == "publish":
    args.files = args.rest
    publish(args)
elif args.command == "drained":
    args.group = args.rest[0]
    drained(args)
else:
    ends(args)
