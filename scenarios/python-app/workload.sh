# A Python program: read a JSON config and orders, keep them in SQLite, write a
# report; then byte-compile it, as a package install would.
set -eu
py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$py" "$SCENARIO/app.py"
cp "$SCENARIO/app.py" app.py
"$py" -m compileall -q app.py
"$py" -c 'import json, sys; print(len(json.load(open("out/report.json"))["totals"]))'
