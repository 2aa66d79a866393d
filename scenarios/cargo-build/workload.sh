# Rust with cargo, offline: a new crate (no dependencies), some code, a debug
# build and a run. CARGO_HOME is ~/.cargo of the run's HOME;
# rustup's toolchains are the machine's (RUSTUP_HOME, set by trace.sh).
set -eu
export CARGO_HOME="$HOME/.cargo" CARGO_NET_OFFLINE=true
crate=$(cat crate)
cargo new -q --vcs none "$crate"
cd "$crate"
n=$(cat ../functions)
{
    i=1
    while [ "$i" -le "$n" ]; do
        printf 'fn step%d(x: u64) -> u64 { x.wrapping_mul(%d).rotate_left(%d) ^ %d }\n' "$i" $((i * 7 + 1)) "$i" "$i"
        i=$((i + 1))
    done
    printf 'fn main() {\n    let mut x = 1u64;\n'
    i=1
    while [ "$i" -le "$n" ]; do
        printf '    x = step%d(x);\n' "$i"
        i=$((i + 1))
    done
    printf '    println!("{x}");\n}\n'
} > src/main.rs
if [ -n "${HONK_INJECT:-}" ]; then
    # a build script that a compromised crate would bring
    cp "$SCENARIO/build.rs" build.rs
fi
cargo build -q
cargo run -q >/dev/null
