#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (ASan + UBSan), replays
# every input kept in fuzz/regressions/<target>/, then fuzzes each target for
# a bounded time from a copy of fuzz/corpus/<target>/ (the repository is not
# modified). Exits non-zero on the first crash, sanitizer report, broken
# invariant or timeout; the input that did it is left in build-fuzz/artifacts/.
#
#   scripts/fuzz.sh                        every target, FUZZ_SECONDS each
#   FUZZ_SECONDS=600 scripts/fuzz.sh page_parser    one target, longer
#
# FUZZ_SECONDS (default 30): time per target; 0 only replays regressions.
# See fuzz/README.md for what each target checks.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-30}"
build=build-fuzz
all_targets=(page_parser sse_roundtrip topic_pattern stream_request config_file http_request)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

# Largest input per target: a page with a few items; a handful of SSE events;
# a pattern, a key and a query string.
max_len() {
  case "$1" in
    page_parser) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

scripts/install-deps.sh build fuzz

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DNB_BUILD_FUZZERS=ON -DNB_BUILD_TESTS=OFF \
  -DNB_WARNINGS_AS_ERRORS=ON >/dev/null
cmake --build "$build" --target nb_fuzzers

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
mkdir -p "$build/artifacts"

for t in "${targets[@]}"; do
  exe="$build/fuzz/${t}_fuzzer"
  [ -x "$exe" ] || { echo "fuzz.sh: unknown target '$t' (${all_targets[*]})" >&2; exit 2; }

  # Regressions: inputs that once crashed or broke an invariant, replayed
  # one by one whatever FUZZ_SECONDS says.
  regressions=()
  if [ -d "fuzz/regressions/$t" ]; then
    while IFS= read -r -d '' f; do regressions+=("$f"); done \
      < <(find "fuzz/regressions/$t" -type f -print0 | sort -z)
  fi
  if [ ${#regressions[@]} -gt 0 ]; then
    echo "== $t: replaying ${#regressions[@]} regression input(s)"
    "$exe" -timeout=5 "${regressions[@]}" >"$build/artifacts/$t-replay.log" 2>&1 || {
      cat "$build/artifacts/$t-replay.log" >&2
      echo "fuzz.sh: $t fails on a regression input" >&2
      exit 1
    }
  fi

  [ "$seconds" -gt 0 ] || continue
  echo "== $t: fuzzing for ${seconds} s"
  corpus="$build/corpus/$t"
  mkdir -p "$corpus"
  cp -n "fuzz/corpus/$t"/* "$corpus"/ 2>/dev/null || true
  log="$build/artifacts/$t.log"
  status=0
  "$exe" "$corpus" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 \
    -max_len="$(max_len "$t")" -print_final_stats=1 \
    -artifact_prefix="$build/artifacts/$t-" >"$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$log" >&2
    echo "fuzz.sh: $t failed (exit $status); input in $build/artifacts/, log $log" >&2
    echo "  reproduce: $exe $build/artifacts/$t-<crash-file>" >&2
    exit 1
  fi
  runs="$(awk '/stat::number_of_executed_units/ {print $2}' "$log")"
  rate="$(awk '/stat::average_exec_per_sec/ {print $2}' "$log")"
  echo "   ok: $runs executions, $rate/s, corpus $(find "$corpus" -type f | wc -l) inputs"
done
echo "Fuzzing: no crash."
