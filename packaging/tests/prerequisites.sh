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
