#!/usr/bin/env bash
# The dependency rules of lib/ that the compiler cannot enforce (README,
# "Layout"); cmake/Architecture.cmake checks the link lines at configure
# time. Usage: architecture_test.sh SOURCE_DIR BRIDGE MOCK TAIL
#   1. lib/core and lib/bridge/hub include no curl, httplib, CLI11 or
#      librabbitmq header; RapidJSON only in the core's JSON parser/writer.
#   2. lib/bridge/upstream and lib/bridge/server include none of each
#      other's headers.
#   3. lib/ includes nothing from app/.
#   4. lib/mock and lib/tail include nothing of the bridge.
#                           source interface, upstream health, metrics, the
#                           delivery API pages served from the history
#   upstream/  nb_upstream  delivery client, poller, gap source, state file;
#                           the AMQP source and its gap source (over
#                           lib/core's AmqpConnector: no librabbitmq here)
#   server/    nb_server    HTTP server on its own event loops (request
#                           parsing, routes, streams), static files, framing
#   .          nb_bridge    config and the service (which links nb_amqp)
set -uo pipefail
src=$1 bridge=$2 mock=$3 tail=$4
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# Files under $1 whose #include lines match the extended regex $2.
includes() { grep -rEn --include='*.h' --include='*.cc' "^#include[[:space:]]*$2" "$1" || true; }
# Headers (bare names) of a folder, as an alternation for grep -E.
headers_of() { (cd "$1" && ls *.h 2>/dev/null | sed 's/\./\\./g' | paste -sd'|'); }

third_party='<(curl/|httplib\.h|CLI/|amqp)'
for part in core bridge/hub; do
  hits=$(includes "$src/lib/$part" "$third_party")
  [ -z "$hits" ] || fail "rule 1: lib/$part includes a third-party network/CLI header:
$hits"
done
hits=$(includes "$src/lib" '<rapidjson/' | grep -v "^$src/lib/core/notification_\(parser\|json\)\.cc:")
[ -z "$hits" ] || fail "rule 1: RapidJSON outside the core's parser and writer:
$hits"

server_h=$(headers_of "$src/lib/bridge/server")
upstream_h=$(headers_of "$src/lib/bridge/upstream")
hits=$(includes "$src/lib/bridge/upstream" "\"($server_h)\"")
[ -z "$hits" ] || fail "rule 2: the upstream side includes the server side:
$hits"
hits=$(includes "$src/lib/bridge/server" "\"($upstream_h)\"")
[ -z "$hits" ] || fail "rule 2: the server side includes the upstream side:
$hits"

hits=$(includes "$src/lib" '"[^"]*(\.\./)*app/')
[ -z "$hits" ] || fail "rule 3: lib/ includes app/:
$hits"

bridge_h=$( (cd "$src/lib/bridge" && find . -name '*.h' -printf '%f\n') | sed 's/\./\\./g' | paste -sd'|')
for part in mock tail; do
  hits=$(includes "$src/lib/$part" "\"($bridge_h)\"")
  [ -z "$hits" ] || fail "rule 4: lib/$part includes the bridge:
$hits"
done

hits=$(includes "$src/lib" '<curl/' | grep -v "^$src/lib/curl/")
[ -z "$hits" ] || fail "rule 5: curl included outside lib/curl:
$hits"
hits=$(includes "$src/lib" '<httplib\.h>' | grep -v "^$src/lib/mock/")
[ -z "$hits" ] || fail "rule 5: httplib included outside the mock:
$hits"

hits=$(for dir in lib app tests bench fuzz; do
  [ -d "$src/$dir" ] && includes "$src/$dir" '<amqp'
done | grep -v "^$src/lib/amqp/")
[ -z "$hits" ] || fail "rule 5: librabbitmq included outside lib/amqp:
$hits"

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
check_not_linked() {
  local program=$1; shift
  local libs
  libs=$(needed "$program") || { fail "rule 5: cannot read $program"; return; }
  for lib in "$@"; do
    if grep -q "^$lib" <<<"$libs"; then
      fail "rule 5: $(basename "$program") links $lib: $(echo $libs)"
    fi
  done
}
check_not_linked "$mock" libcurl librabbitmq
check_not_linked "$tail" libcpp-httplib librabbitmq
check_not_linked "$bridge" libcpp-httplib
needed "$bridge" | grep -q '^libcurl' || fail "rule 5: the bridge does not link libcurl?"
needed "$bridge" | grep -q '^librabbitmq' || fail "rule 5: the bridge does not link librabbitmq?"

if [ "$failures" -gt 0 ]; then
  echo "$failures architecture rule(s) broken (README, \"Layout\")"
  exit 1
fi
echo "architecture rules hold"
