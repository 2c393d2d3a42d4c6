# Sourced by the packaging tests: the skip policy of the whole suite
# (tests/support/test_support.h, MissingPrerequisite). A test whose
# prerequisite is missing calls `missing_prerequisite "what, and how to get
# it"`: with NB_REQUIRE_PREREQUISITES=1 (scripts/test.sh, hence CI) that
# fails; otherwise it exits 77, which ctest reports as skipped. Never a
# silent pass.
missing_prerequisite() {
  if [ "${NB_REQUIRE_PREREQUISITES:-0}" = 1 ]; then
    echo "FAIL: prerequisite missing (NB_REQUIRE_PREREQUISITES=1): $*" >&2
    exit 1
  fi
  echo "SKIPPED: $*"
  exit 77
}

# Configures (once: WORK keeps it between runs) and builds the programs in
# DIR for install prefix PREFIX, with the compile flags of the build BUILD
# the tests run from (build type, -Werror, compiler, ccache): every object
# but config.cc (which holds the prefix) is then the same, and ccache hands
# it over instead of compiling the sources again.
build_for_prefix() {
  local build="$1" dir="$2" prefix="$3" generator=() flags=() name value
  command -v ninja >/dev/null && generator=(-G Ninja)
  for name in CMAKE_BUILD_TYPE NB_WARNINGS_AS_ERRORS CMAKE_CXX_COMPILER NB_CCACHE; do
    value="$(sed -n "s/^$name:[A-Z]*=//p" "$build/CMakeCache.txt")"
    [ -n "$value" ] && flags+=("-D$name=$value")
  done
  if [ ! -f "$dir/CMakeCache.txt" ]; then
    cmake -S "$src" -B "$dir" "${generator[@]}" "${flags[@]}" \
      -DNB_BUILD_TESTS=OFF -DNB_BUILD_BENCH=OFF -DCMAKE_INSTALL_PREFIX="$prefix" >/dev/null
  fi
  cmake --build "$dir" >/dev/null
}
