# The program's inputs: a config and a directory of JSON order files, with
# their own names, counts and sizes per run.
set -eu
. "$SCENARIO/../lib.sh"
mkdir data
printf '{"name": "%s", "currency": "EUR", "min_total": %d}\n' "$(name)" "$(rand 0 50)" > config.json
for i in $(seq "$(rand 3 12)"); do
    n=$(rand 1 40)
    awk -v n="$n" -v seed="$(rand 1 100000)" -v c="$(word)" 'BEGIN {
        srand(seed); printf "{\"customer\": \"%s\", \"items\": [", c
        for (i = 0; i < n; i++) printf "%s{\"sku\": \"%s-%d\", \"qty\": %d, \"price\": %.2f}", (i ? ", " : ""), c, i, 1 + int(rand() * 9), rand() * 100
        print "]}"
    }' > "data/$(name)-$i.json"
done
