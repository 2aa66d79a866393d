# A Python program: read a JSON config, keep records in SQLite, write a report.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
printf '{"items": [3, 1, 2], "name": "demo"}\n' > config.json
"$py" -S "$SCENARIO/app.py"
