#!/bin/bash
# Trace one scenario with strace: normal runs for a baseline, more normal runs
# held out (to count false alarms), and one run with the injected actions.
#
#   scenarios/trace.sh SCENARIO OUTDIR [BASELINE_RUNS] [NORMAL_RUNS]
#
# writes OUTDIR/baseline-1.strace ... baseline-N.strace (default 3),
# OUTDIR/normal-1.strace ... normal-M.strace (default 2) and OUTDIR/target.strace
# (the run with HONK_INJECT=1). The injected actions are listed, with a pattern
# that a flagged record must match, in SCENARIO/expect.
#
# Every run happens where a real run would: in its own `mktemp -d` work
# directory with its own `mktemp -d` HOME (holding what a user's home holds:
# .bashrc, .profile, .gitconfig, .ssh with a key), never the same paths twice.
# SCENARIO/setup.sh, if present, first writes the run's inputs into the work
# directory, untraced (a checkout, data files: what a user's run finds in
# place), with names, counts and sizes of its own (scenarios/lib.sh); in the
# injected run it may plant what an attacker would (a poisoned Makefile). Then
# SCENARIO/workload.sh runs there under strace with honk trace's options. The
# standard streams differ between runs as they do between users: discarded,
# written to a file, or piped to another process. Each run gets a free loopback
# port in RUN_PORT for a server of its own. The scratch directories are removed
# afterwards; nothing is written outside them and OUTDIR.
#
# Exit status: 0 traced; 1 a run failed; 2 usage; 3 a program it needs is missing
# (strace, or one named in SCENARIO/requires).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || { echo "usage: $0 SCENARIO OUTDIR [BASELINE_RUNS] [NORMAL_RUNS]" >&2; exit 2; }
scenario=$here/$1
runs=${3:-3}
normals=${4:-2}
[ -f "$scenario/workload.sh" ] || { echo "trace.sh: no such scenario: $1" >&2; exit 2; }
command -v strace >/dev/null || { echo "trace.sh: strace is not installed (apt-get install strace)" >&2; exit 3; }
# SCENARIO/requires: the programs the workload runs, one a line.
if [ -f "$scenario/requires" ]; then
    while read -r program; do
        [ -z "$program" ] || command -v "$program" >/dev/null \
            || { echo "trace.sh: $1 needs $program, which is not installed" >&2; exit 3; }
    done < "$scenario/requires"
fi
mkdir -p "$2"
out=$(cd "$2" && pwd)
rm -f "$out"/*.strace "$out"/*.log

# The Rust toolchain lives under the real HOME; a run's HOME is a scratch one.
# Point rustup at the real toolchains (read only); CARGO_HOME is the run's own.
if [ -z "${RUSTUP_HOME:-}" ] && [ -d "$HOME/.rustup" ]; then
    export RUSTUP_HOME=$HOME/.rustup
fi
unset CARGO_HOME CARGO_TARGET_DIR HONK_INJECT

work= home=
cleanup() { rm -rf "$work" "$home"; }
trap cleanup EXIT

# free_port: a port in 20000-39999 that nobody listens on, for the run's server.
free_port() {
    while :; do
        port=$((20000 + RANDOM % 20000))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
    done
}

# The runs take turns at the three ways of handling the standard streams,
# starting at a random one.
turn=$((RANDOM % 3))

# run NAME INJECT: one traced run into OUTDIR/NAME.strace.
run() {
    work=$(mktemp -d)
    home=$(mktemp -d)
    mkdir -m 700 "$home/.ssh"
    # A key that looks like a user's, and is not one.
    printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\nc2NlbmFyaW8ta2V5LW5vdC1yZWFs%s\n-----END OPENSSH PRIVATE KEY-----\n' \
        "$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" > "$home/.ssh/id_rsa"
    chmod 600 "$home/.ssh/id_rsa"
    echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIScenarioKeyNotReal dev@laptop" > "$home/.ssh/id_rsa.pub"
    printf '# ~/.bashrc\nexport EDITOR=vi\nalias ll="ls -l"\n' > "$home/.bashrc"
    printf '# ~/.profile\n[ -f ~/.bashrc ] && . ~/.bashrc\n' > "$home/.profile"
    printf '[user]\n\tname = Dev %s\n\temail = dev%s@example.invalid\n[init]\n\tdefaultBranch = main\n' \
        "$RANDOM" "$RANDOM" > "$home/.gitconfig"
    export RUN_PORT
    RUN_PORT=$(free_port)
    local inject=() status=0
    [ -z "$2" ] || inject=(HONK_INJECT=1)
    if [ -f "$scenario/setup.sh" ]; then
        (cd "$work" && env HOME="$home" SCENARIO="$scenario" "${inject[@]}" sh "$scenario/setup.sh") </dev/null
    fi
    local cmd=(env HOME="$home" SCENARIO="$scenario" "${inject[@]}"
        strace -f -q -yy -ttt -s 256 -o "$out/$1.strace" sh "$scenario/workload.sh")
    case $((turn++ % 3)) in
    0) (cd "$work" && "${cmd[@]}" </dev/null >/dev/null 2>&1) || status=$? ;;
    1) (cd "$work" && "${cmd[@]}" </dev/null >"$out/$1.log" 2>&1) || status=$? ;;
    *) (set -o pipefail && cd "$work" && "${cmd[@]}" </dev/null 2>&1 | cat >"$out/$1.log") || status=$? ;;
    esac
    cleanup
    work= home=
    if [ "$status" != 0 ]; then
        echo "trace.sh: $1 of $(basename "$scenario") failed with status $status" \
            "(output, if kept: $out/$1.log)" >&2
        exit 1
    fi
}

i=1
while [ "$i" -le "$runs" ]; do
    run "baseline-$i" ""
    i=$((i + 1))
done
i=1
while [ "$i" -le "$normals" ]; do
    run "normal-$i" ""
    i=$((i + 1))
done
run target 1
