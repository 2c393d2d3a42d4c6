#!/usr/bin/env bash
# Builds everything, then runs the mock delivery API (with realistic
# fixtures and a synthetic notification every few seconds) and the bridge
# in front of it, and prints the page's URL. Ctrl-C stops both.
#
# Environment: BRIDGE_PORT (default 8080), MOCK_PORT (default 8081),
# GENERATE (synthetic notifications per second, default 0.3),
# BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/.."

BRIDGE_PORT="${BRIDGE_PORT:-8080}"
MOCK_PORT="${MOCK_PORT:-8081}"
GENERATE="${GENERATE:-0.3}"
BUILD_DIR="${BUILD_DIR:-build}"

scripts/install-deps.sh build
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" --target notifications-bridge notifications-mock-api notifications-tail

pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "Stopped."
}
trap cleanup INT TERM EXIT

"$BUILD_DIR/notifications-mock-api" --port "$MOCK_PORT" \
  --fixtures tests/fixtures/notifications.json --generate "$GENERATE" &
pids+=($!)
"$BUILD_DIR/notifications-bridge" \
  --delivery-url "http://127.0.0.1:$MOCK_PORT/delivery" \
  --listen "127.0.0.1:$BRIDGE_PORT" --public-dir public --poll-interval 1 &
pids+=($!)

sleep 1
for pid in "${pids[@]}"; do
  kill -0 "$pid" 2>/dev/null || { echo "demo: a server failed to start (see above)" >&2; exit 1; }
done
cat <<MSG

  Open the page:  http://127.0.0.1:$BRIDGE_PORT/
  Post one:       curl -d '{"service":"Jenkins","group":"ci","type":"completed.failure","text":"Build failed","link":"https://cd.nasqueron.org/"}' http://127.0.0.1:$MOCK_PORT/gate/Notification/Nasqueron
  Terminal:       $BUILD_DIR/notifications-tail http://127.0.0.1:$BRIDGE_PORT/events --backlog 5
  Ctrl-C stops both servers.

MSG
wait -n "${pids[@]}"
