# Files to archive: a tree of text files and a binary blob or two, with their
# own names, counts and sizes per run.
set -eu
. "$SCENARIO/../lib.sh"
top=$(name)
mkdir "$top"
for d in $(seq "$(rand 1 3)"); do
    dir=$top/$(name)
    mkdir -p "$dir"
    for f in $(seq "$(rand 1 6)"); do
        text "$dir/$(name).txt" "$(rand 50 20000)"
    done
done
for b in $(seq "$(rand 0 2)"); do
    head -c "$(rand 1000 60000)" /dev/urandom > "$top/$(name).bin"
done
echo "$top" > top
