#!/bin/sh
# Git workload: a scratch repository, ITER rounds of edit/add/commit/inspect.
#   sh git.sh ITER
# Runs in the current directory. Dates and identity are fixed so that every run
# does the same thing. With HONK_BENCH_EXTRA=1 it also runs a shell alias.
set -eu
iter=${1:-1}
export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' GIT_COMMITTER_DATE='2026-01-01T00:00:00Z'
git init -q -b main repo
cd repo
git config user.email dev@example.invalid
git config user.name dev
i=1
while [ "$i" -le "$iter" ]; do
    printf 'line %s\n' "$i" >> README
    printf 'def f%s():\n    return %s\n' "$i" "$i" > "mod$((i % 3)).py"
    git add -A
    git commit -q -m "change $i"
    git status --short > /dev/null
    git log --oneline > /dev/null
    git diff HEAD~1 --stat > /dev/null 2>&1 || true
    git branch -f "topic$((i % 2))" > /dev/null
    git show --stat HEAD > /dev/null
    i=$((i + 1))
done
if [ "${HONK_BENCH_EXTRA:-0}" = 1 ]; then
    git config alias.x '!sh -c id'
    git x > /dev/null
fi
git rev-parse HEAD > /dev/null
