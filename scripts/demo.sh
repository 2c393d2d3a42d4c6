#!/usr/bin/env bash
# Builds everything, then runs the mock delivery API (with realistic
# fixtures and a synthetic notification every few seconds) and the bridge
# in front of it, and prints the page's URL. Ctrl-C stops both.
#
#   scripts/demo.sh          the bridge polls the mock delivery API
#   scripts/demo.sh --amqp   the bridge consumes RabbitMQ (docs/amqp.md): a
#                            throwaway rabbitmq-server (temporary directory,
#                            its own ports and epmd, stopped on exit) with
#                            Nasqueron's exchange and a stream queue, and a
#                            publisher sending the fixtures as the
#                            Notifications Center does, then one every few
#                            seconds
#
# Environment: BRIDGE_PORT (default 8080), MOCK_PORT (default 8081),
# AMQP_PORT (default 5680), GENERATE (synthetic notifications per second,
# default 0.3), BUILD_DIR (default build).
set -euo pipefail
cd "$(dirname "$0")/.."

amqp=0
[ "${1:-}" = "--amqp" ] && amqp=1
BRIDGE_PORT="${BRIDGE_PORT:-8080}"
MOCK_PORT="${MOCK_PORT:-8081}"
AMQP_PORT="${AMQP_PORT:-5680}"
GENERATE="${GENERATE:-0.3}"
BUILD_DIR="${BUILD_DIR:-build}"

if [ "$amqp" = 1 ]; then scripts/install-deps.sh build demo-amqp; else scripts/install-deps.sh build; fi
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" --target notifications-bridge notifications-mock-api notifications-tail

. scripts/rabbitmq-node.sh
pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  # Only ours: a bare `wait` would also wait for the broker.
  [ ${#pids[@]} -eq 0 ] || wait "${pids[@]}" 2>/dev/null || true
  rabbitmq_node_stop
  echo "Stopped."
}
trap cleanup INT TERM EXIT

start_broker() {
  echo "Starting a throwaway RabbitMQ on 127.0.0.1:$AMQP_PORT (5-8 s)..."
  local defs
  defs="$(mktemp /tmp/nb-demo-defs-XXXXXX.json)"
  # Nasqueron's exchange, the stream queue ops declare (docs/amqp.md), the
  # Notifications Center's user and the bridge's read-only one.
  cat >"$defs" <<'JSON'
{"vhosts":[{"name":"dev"}],
 "users":[{"name":"notifications","password":"demo-publisher","tags":""},
          {"name":"notifications-bridge","password":"demo-bridge","tags":""}],
 "permissions":[{"user":"notifications","vhost":"dev","configure":".*","write":".*","read":".*"},
                {"user":"notifications-bridge","vhost":"dev","configure":"^$","write":"^$","read":"^notifications-bridge$"}],
 "exchanges":[{"name":"notifications","vhost":"dev","type":"topic","durable":true,"auto_delete":false,"internal":false,"arguments":{}}],
 "queues":[{"name":"notifications-bridge","vhost":"dev","durable":true,"auto_delete":false,
            "arguments":{"x-queue-type":"stream","x-max-age":"7D"}}],
 "bindings":[{"source":"notifications","vhost":"dev","destination":"notifications-bridge",
              "destination_type":"queue","routing_key":"#","arguments":{}}]}
JSON
  rabbitmq_node_start "$AMQP_PORT" "$defs" || { rm -f "$defs"; exit 1; }
  rm -f "$defs"
}

# Publishes one fixture line (Nasqueron's JSON body) with its routing key,
# lowercase(project.group.service.type), as the Notifications Center does.
publish_line() {
  local body="${1%,}" project="" group="" service="" type=""
  [[ $body =~ \"project\":\"([^\"]*)\" ]] && project="${BASH_REMATCH[1]}"
  [[ $body =~ \"group\":\"([^\"]*)\" ]] && group="${BASH_REMATCH[1]}"
  [[ $body =~ \"service\":\"([^\"]*)\" ]] && service="${BASH_REMATCH[1]}"
  [[ $body =~ \"type\":\"([^\"]*)\" ]] && type="${BASH_REMATCH[1]}"
  local key="${project,,}.${group,,}.${service,,}.${type,,}"
  amqp-publish --url "amqp://notifications:demo-publisher@127.0.0.1:$AMQP_PORT/dev" \
    -e notifications -r "$key" -b "$body"
}

publisher() {
  mapfile -t lines < <(grep '^ *{' tests/fixtures/notifications.json)
  for line in "${lines[@]}"; do publish_line "$line"; done
  local i=0 pause
  pause="$(awk -v r="$GENERATE" 'BEGIN { print (r > 0 ? 1 / r : 0) }')"
  [ "$pause" = 0 ] && return 0
  while sleep "$pause"; do
    publish_line "${lines[$((i % ${#lines[@]}))]}"
    i=$((i + 1))
  done
}

if [ "$amqp" = 1 ]; then
  start_broker
  publisher &
  pids+=($!)
  NOTIFICATIONS_BRIDGE_AMQP_PASSWORD=demo-bridge "$BUILD_DIR/notifications-bridge" \
    --amqp-url "amqp://notifications-bridge@127.0.0.1:$AMQP_PORT/dev" \
    --amqp-queue notifications-bridge \
    --listen "127.0.0.1:$BRIDGE_PORT" --public-dir public &
  pids+=($!)
  post="amqp-publish --url amqp://notifications:demo-publisher@127.0.0.1:$AMQP_PORT/dev -e notifications -r nasqueron.ci.jenkins.completed.failure -b '{\"service\":\"Jenkins\",\"project\":\"Nasqueron\",\"group\":\"ci\",\"rawContent\":null,\"type\":\"completed.failure\",\"text\":\"Build failed\",\"link\":\"https:\\/\\/cd.nasqueron.org\\/\"}'"
else
  "$BUILD_DIR/notifications-mock-api" --port "$MOCK_PORT" \
    --fixtures tests/fixtures/notifications.json --generate "$GENERATE" &
  pids+=($!)
  "$BUILD_DIR/notifications-bridge" \
    --delivery-url "http://127.0.0.1:$MOCK_PORT/delivery" \
    --listen "127.0.0.1:$BRIDGE_PORT" --public-dir public --poll-interval 1 &
  pids+=($!)
  post="curl -d '{\"service\":\"Jenkins\",\"group\":\"ci\",\"type\":\"completed.failure\",\"text\":\"Build failed\",\"link\":\"https://cd.nasqueron.org/\"}' http://127.0.0.1:$MOCK_PORT/gate/Notification/Nasqueron"
fi

sleep 1
for pid in "${pids[@]}"; do
  kill -0 "$pid" 2>/dev/null || { echo "demo: a server failed to start (see above)" >&2; exit 1; }
done
cat <<MSG

  Open the page:  http://127.0.0.1:$BRIDGE_PORT/
  Post one:       $post
  Terminal:       $BUILD_DIR/notifications-tail http://127.0.0.1:$BRIDGE_PORT/events --backlog 5
  Health:         curl http://127.0.0.1:$BRIDGE_PORT/healthz
  Ctrl-C stops everything.

MSG
wait -n "${pids[@]}"
