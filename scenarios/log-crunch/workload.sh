# Go through logs with a shell pipeline: find, grep, sed, awk, sort, uniq,
# zcat, then compress the report, as a cron job or an on-call engineer would.
set -eu
mkdir report
find logs -name '*.log*' ! -name '*.gz' -type f | sort >report/files.txt
xargs grep -h ' ERROR ' <report/files.txt | sed 's/^[^ ]* ERROR //; s/\[[0-9]*\]//' \
    | awk '{ n[$1]++; ms[$1] += $(NF - 1) } END { for (s in n) print n[s], s, int(ms[s] / n[s]) }' \
    | sort -rn >report/errors.txt
find logs -name '*.gz' -exec zcat {} + | grep -c ' WARN ' >report/old-warnings.txt || true
cat report/files.txt | xargs wc -l | sort -n | tail -n 5 >report/biggest.txt
awk '{ print $2 }' logs/*/*.log | cut -c1-13 | sort | uniq -c >report/levels.txt
if [ -n "${HONK_INJECT:-}" ]; then
    # read another process's environment
    tr '\0' '\n' </proc/1/environ >/dev/null 2>&1 || true
    # spawn a shell from find
    find logs -maxdepth 0 -exec bash -c whoami \; >/dev/null
    # persistence: a line added to ~/.profile
    sed -i '$a (sleep 1; sh -c id) &' "$HOME/.profile"
    # exfiltrate the report to a loopback port (nobody listens there)
    gzip -c report/errors.txt | bash -c 'cat >/dev/tcp/127.0.0.1/8081' 2>/dev/null || true
fi
tar -czf report.tar.gz report
gzip -t report.tar.gz
