#!/usr/bin/env bash
# Memory of the bridge against a hostile upstream that sends huge
# notifications as fast as the bridge reads them (bench/hostile_upstream.py:
# pages of ~15 MiB, just under --max-page-bytes). Prints, per case, the
# notifications published and skipped, the history's bytes and the bridge's
# peak and final RSS (VmHWM / VmRSS). docs/reliability.md quotes it.
#
#   bench/upstream_memory.sh                  # build/ (or $BENCH_BUILD)
#   UPSTREAM_TOTAL=100 bench/upstream_memory.sh   # quicker
#
# Settings (environment):
#   BENCH_BUILD      build directory with notifications-bridge   build
#   UPSTREAM_TOTAL   notifications the upstream sends per case   300
#   UPSTREAM_ITEM    bytes in each notification                  900000
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${BENCH_BUILD:-$root/build}
total=${UPSTREAM_TOTAL:-300}
item=${UPSTREAM_ITEM:-900000}
bridge=$build/notifications-bridge
[ -x "$bridge" ] || { echo "build $bridge first (cmake --build $build)"; exit 1; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

metric() { curl -s "http://127.0.0.1:$1/metrics" | sed -n "s/^notifications_bridge_$2 //p"; }
kib() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }

run_case() {
  local name=$1; shift
  local upstream_args=$1; shift
  local out; out=$(mktemp -d)
  # shellcheck disable=SC2086
  python3 "$here/hostile_upstream.py" --total "$total" --item-bytes "$item" $upstream_args >"$out/up" &
  local up=$!; pids+=("$up")
  for _ in $(seq 100); do grep -q listening "$out/up" 2>/dev/null && break; sleep 0.05; done
  local url; url=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$out/up")
  "$bridge" --delivery-url "$url" --listen 127.0.0.1:0 --poll-interval 0.2 \
    --log-level error "$@" >"$out/br" 2>"$out/err" &
  local br=$!; pids+=("$br")
  for _ in $(seq 100); do grep -q listening "$out/br" 2>/dev/null && break; sleep 0.05; done
  local port; port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\)\/.*/\1/p' "$out/br" | head -1)
  local start; start=$(date +%s.%N)
  # Until every notification was published or skipped.
  for _ in $(seq 1200); do
    local pub skip1 skip2
    pub=$(metric "$port" notifications_published_total)
    skip1=$(metric "$port" 'notifications_skipped_total{reason="too_large"}')
    skip2=$(metric "$port" 'notifications_skipped_total{reason="unrepresentable"}')
    [ $((pub + skip1 + skip2)) -ge "$total" ] && break
    sleep 0.1
  done
  local took; took=$(echo "$(date +%s.%N) - $start" | bc)
  printf '%-62s published %5s  skipped %5s  history %4s items %9s bytes  peak RSS %7s KiB  RSS %7s KiB  (%.1f s)\n' \
    "$name" "$pub" "$((skip1 + skip2))" \
    "$(curl -s "http://127.0.0.1:$port/healthz" | sed -n 's/.*"history":{"size":\([0-9]*\).*/\1/p')" \
    "$(metric "$port" history_bytes)" "$(kib "$br" VmHWM)" "$(kib "$br" VmRSS)" "$took"
  kill "$br" "$up"; wait "$br" "$up" 2>/dev/null || true
  rm -rf "$out"
}

echo "hostile upstream: $total notifications of $item bytes, pages of ~15 MiB"
run_case "default (rawContent dropped while parsing)" ""
run_case "--raw-content, --history-bytes 64 GiB (count only, as before)" "" --raw-content --history-bytes 68719476736
run_case "--raw-content, --history-bytes 64 MiB" "" --raw-content
run_case "--raw-content --history-bytes 16777216" "" --raw-content --history-bytes 16777216
run_case "text of $item bytes, --max-item-bytes 65536" "--in-text" --max-item-bytes 65536
run_case "every 2nd item holds 1e400 (skipped)" "--bad-every 2" --raw-content
