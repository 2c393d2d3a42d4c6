#!/usr/bin/env bash
# How long the bridge takes to exit after SIGTERM while upstream holds it:
# a long-poll the API holds (--long-poll 20), a page the API drips over
# 20 s, a gap fetch the API delays 30 s. RUNS runs each; prints every time
# and the exit code. docs/reliability.md quotes it; tests/process/
# upstream_shutdown_test.cc asserts the bound (2 s).
#
#   bench/shutdown.sh              # build/ (or $BENCH_BUILD), 5 runs
#   RUNS=10 bench/shutdown.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${BENCH_BUILD:-$root/build}
runs=${RUNS:-5}
bridge=$build/notifications-bridge
mock=$build/notifications-mock-api
for b in "$bridge" "$mock"; do
  [ -x "$b" ] || { echo "build $b first (cmake --build $build)"; exit 1; }
done

pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

metric() { curl -s "http://127.0.0.1:$1/metrics" | sed -n "s/^notifications_bridge_$2 //p"; }
wait_line() { for _ in $(seq 200); do grep -q listening "$1" 2>/dev/null && return; sleep 0.05; done; }
wait_metric() {  # port name minimum
  for _ in $(seq 200); do [ "$(metric "$1" "$2")" -ge "$3" ] 2>/dev/null && return; sleep 0.05; done
}

one() {  # case -> prints "ms exit"
  local kind=$1 out; out=$(mktemp -d)
  local mock_args=() bridge_args=(--request-timeout 60)
  case $kind in
    long-poll) bridge_args+=(--long-poll 20) ;;
    slow-page) mock_args=(--fault-slow 1 --fault-slow-seconds 20) ;;
    gap-fetch) mock_args=(--fault-delay 1 --fault-delay-seconds 30) ;;
  esac
  "$mock" --port 0 "${mock_args[@]}" >"$out/mock" 2>/dev/null &
  local m=$!; pids+=("$m")
  wait_line "$out/mock"
  local base; base=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$out/mock")
  [ "$kind" = gap-fetch ] || curl -s -o /dev/null -d '{"service":"GitHub","group":"ops","type":"push","text":"one"}' \
    "${base%/delivery}/gate/Notification/Nasqueron"
  "$bridge" --delivery-url "$base" --listen 127.0.0.1:0 --log-level error \
    "${bridge_args[@]}" >"$out/bridge" 2>/dev/null &
  local b=$!; pids+=("$b")
  wait_line "$out/bridge"
  local port; port=$(sed -n 's/.*listening on http:\/\/127.0.0.1:\([0-9]*\)\/.*/\1/p' "$out/bridge" | head -1)
  case $kind in
    long-poll) wait_metric "$port" notifications_published_total 1; wait_metric "$port" polls_total 2 ;;
    slow-page) wait_metric "$port" polls_total 1 ;;
    gap-fetch)
      wait_metric "$port" polls_total 1
      curl -s -N -H 'Last-Event-ID: 1795869554-0000000001' "http://127.0.0.1:$port/events" >/dev/null &
      pids+=($!)
      wait_metric "$port" gap_fetches_total 1 ;;
  esac
  sleep 0.3  # Let the request reach the API and be held there.
  local start end code=0
  start=$(date +%s%N)
  kill -TERM "$b"
  wait "$b" || code=$?
  end=$(date +%s%N)
  echo "$(( (end - start) / 1000000 )) $code"
  kill "$m" 2>/dev/null || true; wait "$m" 2>/dev/null || true
  rm -rf "$out"
}

for kind in long-poll slow-page gap-fetch; do
  line="$kind:"
  for _ in $(seq "$runs"); do
    read -r ms code < <(one "$kind")
    line+=" ${ms} ms (exit $code)"
  done
  echo "$line"
done
