#!/usr/bin/env bash
# End-to-end latency of the AMQP source (docs/amqp.md): from basic.publish
# (the time is taken just before it, as the Notifications Center would
# publish) to a browser-like client having parsed the event, through a real
# RabbitMQ (a throwaway node, scripts/rabbitmq-node.sh) and the bridge
# consuming a stream queue. Not run by CI; figures in docs/performance.md.
#
#   bench/amqp_latency.sh                 N = 100 1000, 40 events 0.25 s apart
#   BENCH_N="100" BENCH_EVENTS=100 bench/amqp_latency.sh
#   BENCH_MODES="stream live" bench/amqp_latency.sh   also live mode (an
#                                         exclusive queue bound to the exchange)
#
# Environment: BENCH_N, BENCH_MODES (default stream), BENCH_EVENTS, BENCH_INTERVAL (s), BENCH_RATE (streams
# opened per second), BENCH_PAD (bytes of padding per event, default 150: an
# event about the size of a real GitHub push without rawContent),
# BENCH_BUILD (default build-bench), AMQP_PORT (default 5690),
# BENCH_BRIDGE_ARGS (extra flags for the bridge).
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_N="${BENCH_N:-100 1000}"
BENCH_MODES="${BENCH_MODES:-stream}"
BENCH_EVENTS="${BENCH_EVENTS:-40}"
BENCH_INTERVAL="${BENCH_INTERVAL:-0.25}"
BENCH_RATE="${BENCH_RATE:-1000}"
BENCH_PAD="${BENCH_PAD:-150}"
BUILD="${BENCH_BUILD:-build-bench}"
AMQP_PORT="${AMQP_PORT:-5690}"
OUT="$BUILD/bench-amqp"

say() { printf '%s\n' "$*" >&2; }
die() { say "bench/amqp_latency.sh: $*"; exit 1; }

scripts/install-deps.sh build demo-amqp
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNB_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$BUILD" --target notifications-bridge nb-sse-load nb-amqp-publish >/dev/null \
  || die "build failed: cmake --build $BUILD"

. scripts/rabbitmq-node.sh
PIDS=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  # Only ours: a bare `wait` would also wait for the broker.
  [ ${#PIDS[@]} -eq 0 ] || wait "${PIDS[@]}" 2>/dev/null || true
  rabbitmq_node_stop
}
trap cleanup INT TERM EXIT

max_n=0
for n in $BENCH_N; do [ "$n" -gt "$max_n" ] && max_n=$n; done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# One exchange and stream per run, so each starts empty.
mkdir -p "$OUT"
defs="$OUT/definitions.json"
{
  printf '{"vhosts":[{"name":"dev"}],\n"users":[{"name":"nasqueron","password":"bench","tags":""},{"name":"bridge","password":"bench","tags":""}],\n'
  printf '"permissions":[{"user":"nasqueron","vhost":"dev","configure":".*","write":".*","read":".*"},{"user":"bridge","vhost":"dev","configure":"^amq\\\\.gen-.*$","write":"^amq\\\\.gen-.*$","read":"^(bench-.*|ex-bench-.*|amq\\\\.gen-.*)$"}],\n'
  sep=""; printf '"exchanges":['
  for n in $BENCH_N; do printf '%s{"name":"ex-bench-%s","vhost":"dev","type":"topic","durable":true,"auto_delete":false,"internal":false,"arguments":{}}' "$sep" "$n"; sep=","; done
  sep=""; printf '],\n"bindings":['
  for n in $BENCH_N; do printf '%s{"source":"ex-bench-%s","vhost":"dev","destination":"bench-%s","destination_type":"queue","routing_key":"#","arguments":{}}' "$sep" "$n" "$n"; sep=","; done
  sep=""; printf '],\n"queues":['
  for n in $BENCH_N; do printf '%s{"name":"bench-%s","vhost":"dev","durable":true,"auto_delete":false,"arguments":{"x-queue-type":"stream","x-max-age":"1D"}}' "$sep" "$n"; sep=","; done
  printf ']}\n'
} >"$defs"
say "Starting a throwaway RabbitMQ on 127.0.0.1:$AMQP_PORT..."
rabbitmq_node_start "$AMQP_PORT" "$defs" || die "no broker"

RESULTS="$OUT/results.txt"
: >"$RESULTS"
pw="$OUT/password"
echo bench >"$pw"
chmod 600 "$pw"

wait_line() {  # FILE REGEX SECONDS
  local deadline=$((SECONDS + $3))
  while [ $SECONDS -lt $deadline ]; do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

for mode in $BENCH_MODES; do
for n in $BENCH_N; do
  label="amqp-$mode-$n"
  say ""
  say "== $label: $n streams, $BENCH_EVENTS events"
  source_args=(--amqp-queue "bench-$n")
  [ "$mode" = live ] && source_args=(--amqp-exchange "ex-bench-$n")
  # shellcheck disable=SC2086
  "$BUILD/notifications-bridge" --amqp-url "amqp://bridge@127.0.0.1:$AMQP_PORT/dev" \
    --amqp-password-file "$pw" "${source_args[@]}" --listen 127.0.0.1:0 \
    --max-clients $((n + 100)) --log-level warn ${BENCH_BRIDGE_ARGS:-} \
    >"$OUT/bridge-$label.out" 2>"$OUT/bridge-$label.err" &
  bridge=$!
  PIDS+=("$bridge")
  wait_line "$OUT/bridge-$label.out" 'listening on' 20 || die "the bridge did not start: $(cat "$OUT/bridge-$label.err")"
  port=$(grep -oE '127\.0\.0\.1:[0-9]+' "$OUT/bridge-$label.out" | head -1 | cut -d: -f2)
  # Consuming (live mode: bound) before the first publish.
  for _ in $(seq 100); do
    curl -s "http://127.0.0.1:$port/healthz" 2>/dev/null | grep -q '"connection":"connected"' && break
    sleep 0.1
  done
  duration=$(awk -v e="$BENCH_EVENTS" -v i="$BENCH_INTERVAL" 'BEGIN {print e * i + 10}')
  "$BUILD/bench/nb-sse-load" --url "http://127.0.0.1:$port/events" -n "$n" --rate "$BENCH_RATE" \
    --expect "$BENCH_EVENTS" --duration "$duration" --server-pid "$bridge" --label "$label" \
    >"$OUT/load-$label.txt" 2>"$OUT/load-$label.err" &
  load=$!
  PIDS+=("$load")
  wait_line "$OUT/load-$label.txt" '^READY' 120 || die "the load client did not get ready"
  NB_AMQP_PASSWORD=bench "$BUILD/bench/nb-amqp-publish" \
    --url "amqp://nasqueron@127.0.0.1:$AMQP_PORT/dev" --exchange "ex-bench-$n" \
    --count "$BENCH_EVENTS" --interval "$BENCH_INTERVAL" --pad "$BENCH_PAD" >/dev/null
  wait "$load" || true
  grep -v '^READY' "$OUT/load-$label.txt" >&2 || true
  grep '^RESULT ' "$OUT/load-$label.txt" >>"$RESULTS" || say "$label produced no RESULT (see $OUT/load-$label.err)"
  kill -TERM "$bridge" 2>/dev/null || true
  wait "$bridge" 2>/dev/null || true
done
done

get() {  # LABEL KEY
  awk -v label="$1" -v key="$2" '$1 == "RESULT" { found = 0
      for (i = 2; i <= NF; i++) if ($i == "label=" label) found = 1
      if (!found) next
      for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) print substr($i, length(key) + 2) } }' "$RESULTS"
}
echo
echo "| mode | N | events got / expected | latency p50 ms | p90 ms | p99 ms | max ms | fan-out spread p99 ms | bridge CPU per delivery µs | other work on the box, % of a core |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for mode in $BENCH_MODES; do
  for n in $BENCH_N; do
    l="amqp-$mode-$n"
    echo "| $mode | $n | $(get "$l" deliveries)/$((n * BENCH_EVENTS)) | $(get "$l" lat_p50_ms) | $(get "$l" lat_p90_ms) | $(get "$l" lat_p99_ms) | $(get "$l" lat_max_ms) | $(get "$l" spread_p99_ms) | $(get "$l" cpu_us_per_delivery) | $(get "$l" others_cpu_pct) |"
  done
done
echo
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); raw outputs in $OUT"
