# A small static site to serve: pages and data files with their own names,
# counts and sizes per run.
set -eu
. "$SCENARIO/../lib.sh"
mkdir site
for i in $(seq "$(rand 2 8)"); do
    f=$(name).html
    { echo "<html><body><pre>"; text /dev/stdout "$(rand 100 20000)"; echo "</pre></body></html>"; } > "site/$f"
    echo "$f" >> pages
done
mkdir site/data
for i in $(seq "$(rand 1 4)"); do
    head -c "$(rand 1000 100000)" /dev/urandom > "site/data/$(name).bin"
done
