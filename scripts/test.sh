#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, runs the packaging
# tests (ctest -L packaging), the page's unit tests (node --test) and the
# browser tests (Chromium) on the release build, then the whole C++ suite
# under AddressSanitizer + UndefinedBehaviorSanitizer, the concurrency tests
# under ThreadSanitizer, and the fuzzers for a short while. Exits non-zero
# as soon as anything fails. Every C++ test runs at least once; the unit and
# process tests run under the sanitizers rather than twice (CI's budget).
#
#   scripts/test.sh            everything (what CI runs)
#   scripts/test.sh --quick    the whole C++ suite on the release build,
#                              the page and browser tests; no sanitizers
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1
jobs="$(nproc)"

started=$SECONDS
# Each step with the minutes and seconds since the start (CI's budget).
step() { printf '\n=== [%dm%02ds] %s\n' $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60)) "$*"; }

step "Dependencies"
scripts/install-deps.sh --lists build test package
# Every prerequisite of every test is there now: a test that finds one
# missing fails instead of skipping (tests/support/test_support.h).
export NB_REQUIRE_PREREQUISITES=1
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund
fi

# ccache (when installed) shares objects between build trees: the
# packaging tests build the programs again for /usr and for a prefix, with
# the same flags. Debug info is written relative to the build directory
# (-fdebug-prefix-map), so the directory need not be part of the key.
export CCACHE_NOHASHDIR=1

step "Build (warnings are errors)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNB_WARNINGS_AS_ERRORS=ON >/dev/null
cmake --build build

if [ "$quick" = 1 ]; then
  step "C++ tests"
  ctest --test-dir build --output-on-failure -j "$jobs"
else
  step "Packaging tests (the C++ suite runs under the sanitizers below)"
  ctest --test-dir build --output-on-failure -j "$jobs" -L packaging
fi

step "Page unit tests"
npm run --silent test:page

step "Browser tests (Chromium)"
NB_BUILD_DIR=build npm run --silent test:browser

if [ "$quick" = 1 ]; then
  echo "Quick run: sanitizer builds skipped."
  exit 0
fi

step "C++ tests under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DNB_WARNINGS_AS_ERRORS=ON \
  -DNB_BUILD_BENCH=OFF "-DNB_SANITIZE=address;undefined" >/dev/null
cmake --build build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs"

step "Concurrency tests under ThreadSanitizer"
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DNB_WARNINGS_AS_ERRORS=ON \
  -DNB_BUILD_BENCH=OFF -DNB_SANITIZE=thread >/dev/null
cmake --build build-tsan
TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/sanitizers/tsan.supp" \
  ctest --test-dir build-tsan --output-on-failure -j "$jobs" -L concurrency

# A short run per target (the regressions are replayed in full); longer
# campaigns: FUZZ_SECONDS=600 scripts/fuzz.sh TARGET (fuzz/README.md).
export FUZZ_SECONDS="${FUZZ_SECONDS:-10}"
step "Fuzzing (libFuzzer), $FUZZ_SECONDS s per target"
scripts/fuzz.sh

echo
echo "All tests passed in $(((SECONDS - started) / 60))m$(((SECONDS - started) % 60))s."
