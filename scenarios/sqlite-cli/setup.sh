# CSV exports to load, and the database's name: their own table names, counts,
# row counts and database name per run.
set -eu
. "$SCENARIO/../lib.sh"
mkdir csv
for i in $(seq "$(rand 1 4)"); do
    awk -v n="$(rand 5 400)" -v seed="$(rand 1 100000)" -v words="$WORDS" 'BEGIN {
        srand(seed); c = split(words, w, /[ \n]+/); print "id,name,amount,day"
        for (i = 1; i <= n; i++) printf "%d,%s,%.2f,2026-%02d-%02d\n", i, w[int(rand() * c) + 1], rand() * 1000, 1 + int(rand() * 12), 1 + int(rand() * 28)
    }' > "csv/$(name)_$i.csv"
done
echo "$(name).db" > db
