"""Python workload: read a JSON config, keep records in SQLite, write CSV and a digest.

Run as `/usr/bin/python3 app.py` in the scratch work directory. With
HONK_BENCH_EXTRA=1 it also reads /etc/shadow (an attempt that fails unless root).
"""
import csv
import hashlib
import json
import os
import sqlite3

with open("config.json", "w") as f:
    json.dump({"items": list(range(50)), "name": "bench"}, f)
with open("config.json") as f:
    config = json.load(f)

db = sqlite3.connect("app.db")
db.execute("create table if not exists items (value integer)")
db.executemany("insert into items values (?)", [(v,) for v in config["items"]])
db.commit()
rows = db.execute("select value from items order by value").fetchall()
db.close()

with open("report.csv", "w", newline="") as f:
    w = csv.writer(f)
    for (v,) in rows:
        w.writerow([v, v * v])
with open("report.csv", "rb") as f:
    digest = hashlib.sha256(f.read()).hexdigest()
with open("digest.txt", "w") as f:
    f.write(digest + "\n")

if os.environ.get("HONK_BENCH_EXTRA") == "1":
    try:
        with open("/etc/shadow") as f:
            f.read()
    except OSError:
        pass
