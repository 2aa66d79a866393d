#!/usr/bin/env bash
# Fuzz honk's parsers, format detector, model decoder and archive readers.
#
#   bench/fuzz.sh [SECONDS] [TARGET...]
#
# Builds the cargo-fuzz targets in fuzz/ (nightly, no sanitizer, debug
# assertions and overflow checks on) and runs each TARGET (default: all) for
# SECONDS (default 600) at low priority, JOBS (default 1) at a time, growing
# fuzz/corpus/TARGET from it and fuzz/seeds/TARGET. Prints one line per
# target: runs, execs/s, corpus size, and what it found. Exits 1 if any target
# found a crash, timeout or out-of-memory (the input is in
# fuzz/artifacts/TARGET/), 2 if it could not run.
#
# Needs: rustup's nightly toolchain and cargo-fuzz (cargo install cargo-fuzz --locked).
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
flags=(--sanitizer none --debug-assertions)
logs=$root/fuzz/logs
mkdir -p "$logs"

echo "building ${#targets[@]} targets" >&2
nice -n 19 cargo +nightly fuzz build "${flags[@]}" "${targets[@]:0:1}" >&2 || exit 2
if [[ ${#targets[@]} -gt 1 ]]; then
  nice -n 19 cargo +nightly fuzz build "${flags[@]}" >&2 || exit 2
fi

count_artifacts() {
  find "artifacts/$1" -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l
}

run_one() {
  local target=$1 log=$logs/$1.log
  mkdir -p "corpus/$target" "artifacts/$target"
  local seeds=()
  [[ -d seeds/$target ]] && seeds=("seeds/$target")
  local before
  before=$(count_artifacts "$target")
  nice -n 19 cargo +nightly fuzz run "${flags[@]}" "$target" "corpus/$target" "${seeds[@]}" -- \
    -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -timeout="$timeout_s" \
    -print_final_stats=1 >"$log" 2>&1
  local status=$?
  local after runs rate files bytes found
  after=$(count_artifacts "$target")
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  files=$(find "corpus/$target" -type f | wc -l)
  bytes=$(du -sb "corpus/$target" | cut -f1)
  if [[ $status -eq 0 && $after -eq $before ]]; then
    found="nothing"
  else
    found="FOUND (exit $status): $(grep -m1 -oE 'ERROR: libFuzzer: [a-z-]+|panicked at [^ ]+|==[0-9]+== ERROR: [A-Za-z]+' "$log" || echo 'see log') -> $(find "artifacts/$target" -type f -newer "$log.start" | head -1)"
  fi
  printf '%s: %ss, %s runs, %s execs/s, corpus %s files (%s bytes), %s\n' \
    "$target" "$seconds" "${runs:-?}" "${rate:-?}" "$files" "$bytes" "$found" | tee "$logs/$target.result"
}

for target in "${targets[@]}"; do
  rm -f "$logs/$target.result"
  touch "$logs/$target.log.start"
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
