#!/usr/bin/env python3
"""Alert latency of `honk watch`: the time from a line being written to its
alert being read from honk's standard output.

    bench/watch_latency.py [HONK] [ALERTS]

HONK defaults to target/release/honk, ALERTS to 200. For each mode (a
followed file, and a pipe on standard input) it learns a small text baseline,
starts `honk watch --json`, and ALERTS times writes a normal line and an
unusual one, then waits for the unusual line's alert; the clock runs from just
after the write (flushed) to the alert's line arriving. A random pause of 0 to
200 ms between alerts spreads the writes evenly over the file poll's period. Prints
p50, p99 and the largest latency per mode, in milliseconds.
"""

import json
import os
import random
import subprocess
import sys
import tempfile
import time

BASELINE = [
    "2024-05-01T10:00:00Z sshd[1201]: Accepted publickey for alice from 10.0.0.7 port 51234 ssh2",
    "2024-05-01T10:00:01Z sshd[1201]: pam_unix(sshd:session): session opened for user alice",
    "2024-05-01T10:00:05Z CRON[1302]: (root) CMD (run-parts /etc/cron.hourly)",
    "2024-05-01T10:02:00Z sshd[1201]: pam_unix(sshd:session): session closed for user alice",
]


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def run(honk, mode, alerts, scratch):
    model = os.path.join(scratch, "m.honk")
    log = os.path.join(scratch, f"{mode}.log")
    open(log, "w").close()
    source = log if mode == "file" else "-"
    proc = subprocess.Popen(
        [honk, "watch", "-m", model, "--json", source],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )
    # Ready once it says it is watching.
    while "watching" not in proc.stderr.readline():
        pass
    out = open(log, "a") if mode == "file" else proc.stdin
    latencies = []
    for i in range(alerts):
        out.write(f"2024-05-02T11:00:00Z sshd[{2000 + i}]: session opened for user alice\n")
        out.write(f"kernel: segfault in worker{i} wrote outside bounds\n")
        out.flush()
        start = time.perf_counter()
        row = json.loads(proc.stdout.readline())
        latencies.append((time.perf_counter() - start) * 1000)
        assert f"worker{i} " in row["text"], row
        time.sleep(random.uniform(0, 0.2))
    if mode == "file":
        out.close()
        proc.terminate()
    else:
        proc.stdin.close()
    proc.wait()
    return latencies


def main():
    honk = sys.argv[1] if len(sys.argv) > 1 else "target/release/honk"
    alerts = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    with tempfile.TemporaryDirectory(prefix="honk-watch-bench-") as scratch:
        base = os.path.join(scratch, "base.log")
        with open(base, "w") as f:
            f.write("\n".join(BASELINE) + "\n")
        subprocess.run([honk, "learn", "-q", "-o", os.path.join(scratch, "m.honk"), base], check=True)
        for mode in ("file", "pipe"):
            lat = run(honk, mode, alerts, scratch)
            print(
                f"{mode}: {len(lat)} alerts, latency p50 {percentile(lat, 50):.1f} ms, "
                f"p99 {percentile(lat, 99):.1f} ms, max {max(lat):.1f} ms"
            )


if __name__ == "__main__":
    main()
