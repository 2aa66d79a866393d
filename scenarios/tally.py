"""Tally one traced scenario for measure.sh: false alarms on the held-out normal
runs and the injected actions flagged in the target, for honk and logreduce.

    python3 tally.py REP SCENARIO EXPECT DIR LOGREDUCE_THRESHOLD

DIR holds what measure.sh wrote: normal-N.strace and target.strace (the traces),
honk-NAME.json (`honk diff --json` of each, JSON Lines) and, when logreduce ran,
logreduce-NAME.json (`logreduce diff --json`). Prints one table row and one
line per injected action, and appends a machine-readable line to DIR/../tally.tsv
for the summary.
"""

import glob
import json
import os
import re
import sys

rep, scenario, expect, d, lr_threshold = sys.argv[1:6]
lr_threshold = float(lr_threshold)

actions = []
with open(expect) as f:
    for line in f:
        if line.startswith("#") or not line.strip():
            continue
        what, pattern = line.rstrip("\n").split("\t")
        actions.append((what, re.compile(pattern)))

normals = sorted(
    os.path.basename(p)[: -len(".strace")] for p in glob.glob(os.path.join(d, "normal-*.strace"))
)


def honk_rows(name):
    with open(os.path.join(d, "honk-%s.json" % name)) as f:
        return [json.loads(line) for line in f if line.strip()]


def is_anomaly(row):
    return "score" in row and "policy" not in row and row.get("type", "anomaly") == "anomaly"


def trace_lines(name):
    with open(os.path.join(d, name + ".strace"), errors="replace") as f:
        return f.read().splitlines()


def logreduce_flagged(name):
    """(line number, score, text) of every line logreduce scored at or above its
    threshold, and the number of blocks it printed them in; None if it did not run."""
    path = os.path.join(d, "logreduce-%s.json" % name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        out = json.load(f)
    lines = trace_lines(name)
    scores = {}
    for info in out["files"].values():
        for pos, score in info["scores"]:
            scores[pos] = score
    flagged = [(p + 1, s, lines[p]) for p, s in sorted(scores.items()) if s >= lr_threshold]
    # logreduce prints each run of consecutive lines (anomalies and their
    # context, merged when close) as one block, separated by "--".
    positions = sorted(scores)
    blocks = sum(1 for i, p in enumerate(positions) if i == 0 or p - positions[i - 1] != 1)
    return flagged, blocks


def lowest(hits):
    return "%.2f" % min(hits) if hits else "MISSED"


# honk on the normal runs
rows = {n: honk_rows(n) for n in normals + ["target"]}
typed = any("type" in r for rs in rows.values() for r in rs)
alarms = [sum(1 for r in rows[n] if is_anomaly(r)) for n in normals]
incidents = [sum(1 for r in rows[n] if r.get("type") == "incident") for n in normals]
policy = [sum(1 for r in rows[n] if "policy" in r) for n in normals]
records = [len(trace_lines(n)) for n in normals]
honk_hits = {}
for what, pattern in actions:
    honk_hits[what] = [
        r["score"] for r in rows["target"] if "score" in r and "policy" not in r and pattern.search(r.get("text", ""))
    ]

# logreduce on the same runs
lr = {n: logreduce_flagged(n) for n in normals + ["target"]}
lr_ran = all(v is not None for v in lr.values())
lr_hits = {}
if lr_ran:
    lr_alarms = [len(lr[n][0]) for n in normals]
    lr_blocks = [lr[n][1] for n in normals]
    for what, pattern in actions:
        lr_hits[what] = [s for _, s, text in lr["target"][0] if pattern.search(text)]


def per_run(values):
    return "%.1f" % (sum(values) / len(values)) if values else "-"


honk_found = sum(1 for what, _ in actions if honk_hits[what])
print(
    "%-3s %-14s %9s | %10s %10s %10s %7s | %10s %10s %7s"
    % (
        rep,
        scenario,
        "%.0f" % (sum(records) / len(records)),
        per_run(alarms),
        per_run(incidents) if typed else "-",
        per_run(policy),
        "%d/%d" % (honk_found, len(actions)),
        per_run(lr_alarms) if lr_ran else "-",
        per_run(lr_blocks) if lr_ran else "-",
        "%d/%d" % (sum(1 for what, _ in actions if lr_hits[what]), len(actions)) if lr_ran else "-",
    )
)
for what, _ in actions:
    print(
        "      %-36s honk %-7s logreduce %s"
        % (what, lowest(honk_hits[what]), lowest(lr_hits[what]) if lr_ran else "-")
    )

with open(os.path.join(d, "..", "tally.tsv"), "a") as f:
    f.write(
        "\t".join(
            map(
                str,
                [
                    scenario,
                    len(normals),
                    sum(records),
                    sum(alarms),
                    sum(incidents) if typed else -1,
                    sum(policy),
                    honk_found,
                    len(actions),
                    sum(lr_alarms) if lr_ran else -1,
                    sum(lr_blocks) if lr_ran else -1,
                    sum(1 for what, _ in actions if lr_hits.get(what)) if lr_ran else -1,
                ],
            )
        )
        + "\n"
    )
