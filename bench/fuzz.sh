#!/usr/bin/env bash
# Fuzz honk's parsers, format detector, model decoder and archive readers.
#
#   bench/fuzz.sh [SECONDS] [TARGET...]
#
# Builds the cargo-fuzz targets in fuzz/ once (nightly, no sanitizer, debug
# assertions and overflow checks on), then runs each TARGET (default: all)
# for SECONDS (default 600) at low priority, JOBS (default 1) at a time,
# growing fuzz/corpus/TARGET from it and fuzz/seeds/TARGET. Prints one line
# per target: seconds run, runs, execs/s, corpus size, and what it found.
# Exits 1 if any target found a crash, timeout or out-of-memory (the input is
# in fuzz/artifacts/TARGET/, the log in fuzz/logs/TARGET.log), 2 if it could
# not build.
#
# Environment: JOBS (1), RSS_LIMIT_MB (2048), TIMEOUT (seconds per input, 20).
# Needs rustup's nightly toolchain and cargo-fuzz (cargo install cargo-fuzz --locked).
set -uo pipefail

seconds=${1:-600}
[[ $# -gt 0 ]] && shift
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/fuzz" || exit 2
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
jobs=${JOBS:-1}
rss_mb=${RSS_LIMIT_MB:-2048}
timeout_s=${TIMEOUT:-20}
logs=$root/fuzz/logs
bin=$root/fuzz/target/x86_64-unknown-linux-gnu/release
mkdir -p "$logs"

# Built once, so that editing the crate while the targets run changes nothing.
nice -n 19 cargo +nightly fuzz build --sanitizer none --debug-assertions >&2 || exit 2

count_artifacts() {
  find "artifacts/$1" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l
}

run_one() {
  local target=$1 log=$logs/$1.log
  mkdir -p "corpus/$target" "artifacts/$target"
  local seeds=()
  [[ -d seeds/$target ]] && seeds=("seeds/$target")
  local before start
  before=$(count_artifacts "$target")
  start=$(date +%s)
  nice -n 19 "$bin/$target" -artifact_prefix="artifacts/$target/" \
    -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -timeout="$timeout_s" \
    -print_final_stats=1 "corpus/$target" "${seeds[@]}" >"$log" 2>&1
  local status=$?
  local took after runs rate files bytes found
  took=$(($(date +%s) - start))
  after=$(count_artifacts "$target")
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  files=$(find "corpus/$target" -type f | wc -l)
  bytes=$(du -sb "corpus/$target" | cut -f1)
  if [[ $status -eq 0 && $after -eq $before ]]; then
    found="nothing"
  else
    found="FOUND (exit $status): $(grep -m1 -oE 'ERROR: libFuzzer: [a-z-]+|panicked at [^ ]+' "$log" || echo 'see log') -> $(ls -t "artifacts/$target" | head -1)"
  fi
  printf '%s: %ss, %s runs, %s execs/s, corpus %s files (%s bytes), %s\n' \
    "$target" "$took" "${runs:-?}" "${rate:-?}" "$files" "$bytes" "$found" | tee "$logs/$target.result"
}

for target in "${targets[@]}"; do
  rm -f "$logs/$target.result"
  run_one "$target" &
  while [[ $(jobs -rp | wc -l) -ge $jobs ]]; do
    wait -n
  done
done
wait
failed=0
for target in "${targets[@]}"; do
  grep -q ', nothing$' "$logs/$target.result" 2>/dev/null || failed=1
done
exit $failed
