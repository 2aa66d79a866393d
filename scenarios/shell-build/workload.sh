# A small build: make with gcc (in parallel), run the program, list and
# checksum the sources, archive them.
set -eu
prog=$(cat prog)
make -s -j2 -C src "$prog" >/dev/null
"./src/$prog" >run.txt
ls -l src >listing.txt
sha256sum src/*.c src/Makefile >checksums.txt
tar -czf build.tar.gz src
make -s -C src clean
