# A project checkout to put under git: a few directories of text files, with
# their own names, counts and sizes per run.
set -eu
. "$SCENARIO/../lib.sh"
mkdir project
cd project
text README.md "$(rand 100 3000)"
d=1
for d in $(seq "$(rand 1 4)"); do
    dir=$(name)
    mkdir -p "$dir"
    for f in $(seq "$(rand 2 8)"); do
        text "$dir/$(name).txt" "$(rand 50 8000)"
    done
done
# The branch and file the workload will add, named like a user would.
echo "$(word)-$(rand 1 999)" > ../branch
echo "$(name).md" > ../newfile
