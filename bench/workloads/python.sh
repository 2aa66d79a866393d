#!/bin/sh
# Python workload: run app.py ITER times with the system interpreter.
#   sh python.sh ITER
# /usr/bin/python3 on purpose: a version manager's shim (pyenv) on PATH would
# add its own bash startup to every trace.
set -eu
iter=${1:-1}
here=$(dirname "$0")
i=1
while [ "$i" -le "$iter" ]; do
    /usr/bin/python3 "$here/app.py"
    rm -f app.db report.csv digest.txt config.json
    i=$((i + 1))
done
