# Application logs to go through: services with their own names, counts of
# files (some rotated and gzipped) and sizes per run.
set -eu
. "$SCENARIO/../lib.sh"
mkdir logs
for s in $(seq "$(rand 2 5)"); do
    svc=$(name)
    while [ -e "logs/$svc" ]; do svc=$(name); done
    mkdir "logs/$svc"
    for r in $(seq 0 "$(rand 0 3)"); do
        f=logs/$svc/$svc.log
        [ "$r" = 0 ] || f=$f.$r
        awk -v n="$(rand 20 600)" -v seed="$(rand 1 100000)" -v svc="$svc" -v words="$WORDS" 'BEGIN {
            srand(seed); c = split(words, w, /[ \n]+/); split("INFO INFO INFO WARN ERROR DEBUG", lv, " ")
            for (i = 0; i < n; i++)
                printf "2026-%02d-%02dT%02d:%02d:%02d %s %s[%d]: %s %s took %d ms\n", 1 + int(rand() * 12), 1 + int(rand() * 28),
                    int(rand() * 24), int(rand() * 60), int(rand() * 60), lv[1 + int(rand() * 6)], svc, 100 + int(rand() * 9000),
                    w[int(rand() * c) + 1], w[int(rand() * c) + 1], int(rand() * 2000)
        }' > "$f"
        [ "$r" -lt 2 ] || gzip "$f"
    done
done
