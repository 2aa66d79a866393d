#!/usr/bin/env python3
"""Alert latency of `honk watch --ebpf`: the time from a system call to its
alert being read from honk's standard output (needs root).

    bench/ebpf_latency.py [HONK] [ALERTS]

HONK defaults to target/release/honk, ALERTS to 200. It learns a model from
one captured run of a Python program that opens /etc/hostname ALERTS times,
then watches (`honk watch --json --ebpf -- python3 PROGRAM`) a run of the
same program that, each time, also opens /etc/shadow and then pauses a random
0 to 100 ms. The clock runs from the call's own time (its record's timestamp,
taken in the kernel when the call ends) to its alert's line arriving.
Prints p50, p99 and the largest latency, in milliseconds.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

honk = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "target", "release", "honk")
alerts = int(sys.argv[2]) if len(sys.argv) > 2 else 200

PROGRAM = """
import random, sys, time
random.seed(1)
unusual = sys.argv[1] == "attack"
for i in range(int(sys.argv[2])):
    open("/etc/hostname").read()
    if unusual:
        open("/etc/shadow").read()
    time.sleep(random.random() * 0.1)
"""

with tempfile.TemporaryDirectory(prefix="honk-ebpf-latency-") as d:
    program = os.path.join(d, "program.py")
    with open(program, "w") as f:
        f.write(PROGRAM)
    model = os.path.join(d, "m.honk")
    subprocess.run([honk, "trace", "--ebpf", "--learn", model, "--", "python3", program, "normal", str(alerts)],
                   check=True, stderr=subprocess.DEVNULL)
    watch = subprocess.Popen([honk, "watch", "--json", "-m", model, "--ebpf", "--", "python3", program, "attack",
                              str(alerts)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    latencies = []
    for line in watch.stdout:
        arrived = time.time()
        row = json.loads(line)
        text = row.get("text", "")
        if row.get("type") != "anomaly" or "openat(AT_FDCWD" not in text or "\"/etc/shadow\"" not in text:
            continue
        # `TID<comm> SECONDS.MICROS openat(...)`: the call's time.
        called = float(text.split()[1])
        latencies.append((arrived - called) * 1000)
    watch.wait()
    latencies.sort()
    if not latencies:
        sys.exit("no alerts came")
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    print(f"eBPF alerts: {len(latencies)} of {alerts}; latency p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, "
          f"max {latencies[-1]:.1f} ms")
