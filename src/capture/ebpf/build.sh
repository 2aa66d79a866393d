#!/bin/sh
# Builds honk.bpf.o, the BPF object the `honk` binary embeds, from honk.bpf.c.
# Needs clang and libbpf's headers (Debian: apt-get install clang libbpf-dev).
# The object is committed, so building honk needs neither; tests/ebpf.rs runs
# this script into a scratch directory and checks that its output is the
# committed object byte for byte (the same clang makes the same bytes: paths
# are relative and the compilation directory is fixed, so debug info does not
# name the checkout).
#
# Built with Debian clang 14.0.6 (bookworm); another clang may make other bytes.
#
# Usage: build.sh [OUTPUT [CLANG_FLAG...]]   (default: honk.bpf.o beside this
# script; flags such as -DHONK_BENCH_EMPTY build the variants bench/ebpf_floor.sh measures)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/honk.bpf.o}
[ $# -gt 0 ] && shift
case $out in /*) ;; *) out=$PWD/$out ;; esac
cd "$here"
clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -fdebug-compilation-dir=. \
    -I/usr/include/x86_64-linux-gnu "$@" -c honk.bpf.c -o "$out"
