#!/bin/sh
# Shell workload: everyday coreutils on generated data, ITER times over.
#   sh shell.sh ITER
# Runs in the current directory (the scratch work directory). With
# HONK_BENCH_EXTRA=1 it also does two things a normal run never does.
set -eu
iter=${1:-1}
i=1
while [ "$i" -le "$iter" ]; do
    mkdir -p data out
    seq 1 3000 > data/nums.txt
    printf 'alpha\nbeta\ngamma\ndelta\nalpha\n' > data/words.txt
    sort -rn data/nums.txt > out/sorted.txt
    sort data/words.txt | uniq -c > out/counts.txt
    head -n 20 out/sorted.txt | tail -n 5 > out/slice.txt
    wc -l data/nums.txt data/words.txt > out/wc.txt
    grep -c 7 data/nums.txt > out/sevens.txt || true
    sed 's/a/A/g' data/words.txt | tr 'a-z' 'A-Z' | cut -c1-3 > out/upper.txt
    cp -r data data.copy
    mv data.copy data.old
    find . -type f -name '*.txt' | sort > out/files.txt
    sha256sum data/*.txt > out/sums.txt
    md5sum data/*.txt >> out/sums.txt
    tar -cf out/data.tar data
    gzip -f out/data.tar
    gzip -dc out/data.tar.gz | tar -tf - > out/listing.txt
    ls -la data out > /dev/null
    du -s data > /dev/null
    stat data/nums.txt > /dev/null
    cat /etc/hostname > out/host.txt
    date -u +%Y > out/year.txt
    rm -rf data.old out
    i=$((i + 1))
done
if [ "${HONK_BENCH_EXTRA:-0}" = 1 ]; then
    cat /etc/shadow > /dev/null 2>&1 || true
    sh -c id > /dev/null
fi
