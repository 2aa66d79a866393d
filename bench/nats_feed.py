#!/usr/bin/env python3
"""A shipper-like producer and an inspector for `honk consume` on NATS JetStream.

    nats_feed.py streams SERVER                  create LOGS (logs.>) and ALERTS (honk.alerts)
    nats_feed.py publish SERVER FILE... [--sources N] [--repeat R]
                                                 one message per line, to logs.node0..N-1 in turn
    nats_feed.py drained SERVER [--durable NAME] wait until the consumer has nothing left to
                                                 deliver or acknowledge; print the seconds it took
    nats_feed.py alerts SERVER                   print the alerts kept in ALERTS (JSON Lines)

SERVER is HOST:PORT. Needs nats-py (pip install nats-py).
"""

import argparse
import asyncio
import sys
import time

import nats
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig


async def streams(js, _args):
    await js.add_stream(StreamConfig(name="LOGS", subjects=["logs.>"]))
    await js.add_stream(StreamConfig(name="ALERTS", subjects=["honk.alerts"]))


async def publish(js, args):
    lines = []
    for path in args.files:
        with open(path, "rb") as f:
            lines.extend(line.rstrip(b"\n") for line in f)
    sent = 0
    started = time.monotonic()
    for _ in range(args.repeat):
        pending = []
        for i, line in enumerate(lines):
            pending.append(asyncio.ensure_future(js.publish(f"logs.node{i % args.sources}", line)))
            if len(pending) >= 1000:
                await asyncio.gather(*pending)
                pending = []
            sent += 1
        await asyncio.gather(*pending)
    print(f"published {sent} messages in {time.monotonic() - started:.2f} s", file=sys.stderr)


async def drained(js, args):
    started = time.monotonic()
    while True:
        try:
            info = await js.consumer_info("LOGS", args.durable)
        except nats.js.errors.NotFoundError:  # no worker has created it yet
            await asyncio.sleep(0.02)
            continue
        if info.num_pending == 0 and info.num_ack_pending == 0 and info.delivered.stream_seq > 0:
            print(f"{time.monotonic() - started:.3f}")
            return
        await asyncio.sleep(0.02)


async def alerts(js, _args):
    sub = await js.pull_subscribe("honk.alerts", durable=None, stream="ALERTS",
                                  config=ConsumerConfig(ack_policy=AckPolicy.NONE))
    while True:
        try:
            messages = await sub.fetch(1000, timeout=1)
        except nats.errors.TimeoutError:
            return
        for m in messages:
            print(m.data.decode())


async def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["streams", "publish", "drained", "alerts"])
    parser.add_argument("server")
    parser.add_argument("files", nargs="*")
    parser.add_argument("--sources", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--durable", default="honk")
    args = parser.parse_args()
    nc = await nats.connect(f"nats://{args.server}")
    js = nc.jetstream()
    await {"streams": streams, "publish": publish, "drained": drained, "alerts": alerts}[args.command](js, args)
    await nc.drain()


asyncio.run(main())
