#!/bin/bash
# Property-based tests of `honk serve` against docs/openapi.json with
# schemathesis (PyPI): generated requests, valid and not, for every
# operation; every answer checked against the description (status codes,
# content types, JSON schemas, headers) and for server errors.
#
#   bench/schemathesis.sh [OUTDIR]      (OUTDIR defaults to /tmp/honk-schemathesis)
#
# Needs schemathesis (pip install schemathesis; SCHEMATHESIS=/path/to/it),
# and loghub's Linux log (../shared/data/loghub-2k). Environment knobs:
# HONK (a built binary), EXAMPLES (100 per operation), SEED (1).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
out=${1:-/tmp/honk-schemathesis}
st=${SCHEMATHESIS:-schemathesis}
data=${DATA:-$repo/../shared/data/loghub-2k}
if [ -z "${HONK:-}" ]; then
    (cd "$repo" && cargo build --release -q)
    HONK=$repo/target/release/honk
fi
rm -rf "$out"
mkdir -p "$out/models"
head -1500 "$data/Linux/Linux_2k.log" > "$out/base.log"
"$HONK" learn -q -o "$out/models/linux.honk" "$out/base.log"
echo "schemathesis-token" > "$out/token"
"$HONK" serve --models "$out/models" --listen 127.0.0.1:0 --token-file "$out/token" \
    --max-body 1M > "$out/serve.out" 2> "$out/serve.err" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    [ -s "$out/serve.out" ] && break
    sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$out/serve.out")
# schemathesis keeps its caches (.schemathesis, .hypothesis) where it runs: in OUTDIR.
cd "$out"
"$st" run "$repo/docs/openapi.json" --url "$url" \
    -H "Authorization: Bearer $(cat "$out/token")" \
    --checks all --max-examples "${EXAMPLES:-100}" --seed "${SEED:-1}" \
    --workers 1 --warnings off && status=0 || status=$?
kill -TERM $server
wait $server && echo "honk serve exited 0 on SIGTERM"
trap - EXIT
exit $status
