#!/usr/bin/env bash
# Fan-out benchmark: notifications-bridge and nginx + nchan side by side, same
# load client (nb-sse-load), same numbers of streams, same events, loopback
# only. See bench/README.md and docs/performance.md.
#
#   bench/run.sh                      # N = 100 1000 5000 10000
#   BENCH_N="100 1000" bench/run.sh   # a quicker run
#   bench/run.sh --table-only         # the table again from $BENCH_OUT's results
#
# Settings (environment):
#   BENCH_N          streams per run                      "100 1000 5000 10000"
#   BENCH_EVENTS     events per run                       10
#   BENCH_INTERVAL   seconds between events               1
#   BENCH_RATE       streams opened per second            1000
#   BENCH_POLL       the bridge's --poll-interval          0.2
#   BENCH_PAD        padding in each notification's text  100 (bytes)
#   BENCH_WORKERS    nginx worker_processes to measure    "1 2"
#   BENCH_PUBLISHER  builtin: nb-sse-load posts each event from its second
#                    thread, the time taken just before the request is
#                    written; curl: this script runs curl once per event
#                    (the time includes curl's start, ~5-10 ms)  builtin
#   BENCH_BRIDGE_ARGS  extra flags for every bridge run, e.g.
#                    "--stream-threads 1"                 ""
#   BENCH_BASELINE   another notifications-bridge binary (e.g. a build of
#                    main) measured the same way, in a column of its own,
#                    right before this build's run at each N  ""
#   BENCH_SLOW_RATE  streams per second of a second, slower connect run of
#                    each system for RSS per connection (it should not
#                    depend on the arrival rate); "" skips it   100
#   BENCH_SLOW_N     the N of those runs                  1000
#   BENCH_EXTRAS     1: also idle cost, RSS without clients, upstream
#                    requests per interval (about 45 s more); 0: skip  1
#   BENCH_IDLE_N / BENCH_IDLE_S   streams / seconds of the idle run  1000 / 30
#   BENCH_BUILD      build directory                      build-bench
#   BENCH_OUT        where the raw outputs go             $BENCH_BUILD/bench-results
#
# Exits 0 after a run (whatever it measured); 1 when something it needs
# cannot be built or started. Every process it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_N=${BENCH_N:-"100 1000 5000 10000"}
BENCH_EVENTS=${BENCH_EVENTS:-10}
BENCH_INTERVAL=${BENCH_INTERVAL:-1}
BENCH_RATE=${BENCH_RATE:-1000}
BENCH_POLL=${BENCH_POLL:-0.2}
BENCH_PAD=${BENCH_PAD:-100}
BENCH_WORKERS=${BENCH_WORKERS:-"1 2"}
BENCH_PUBLISHER=${BENCH_PUBLISHER:-builtin}
BENCH_EXTRAS=${BENCH_EXTRAS:-1}
BENCH_BASELINE=${BENCH_BASELINE:-}
BENCH_SLOW_RATE=${BENCH_SLOW_RATE-100}
BENCH_SLOW_N=${BENCH_SLOW_N:-1000}
read -r -a BRIDGE_ARGS <<< "${BENCH_BRIDGE_ARGS:-}"
BENCH_IDLE_N=${BENCH_IDLE_N:-1000}
BENCH_IDLE_S=${BENCH_IDLE_S:-30}
BUILD=${BENCH_BUILD:-build-bench}
OUT=${BENCH_OUT:-$BUILD/bench-results}

TABLE_ONLY=0
case ${1:-} in
  --table-only) TABLE_ONLY=1 ;;
  "") ;;
  *) echo "usage: bench/run.sh [--table-only] (settings: see the top of this file)" >&2; exit 2 ;;
esac

LOAD=$BUILD/bench/nb-sse-load
BRIDGE=$BUILD/notifications-bridge
MOCK=$BUILD/notifications-mock-api
NCHAN_MODULE=/usr/lib/nginx/modules/ngx_nchan_module.so  # Debian's libnginx-mod-nchan

# say, die, stop_pid, forget_pid, stop_all, wait_line, start_mock,
# nginx_temp_paths, nginx_ready; TMP, PIDS and traps.
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_start bench/run.sh

# get LABEL KEY: a value from LABEL's RESULT line ("" if none).
get() {
  awk -v label="$1" -v key="$2" '
    $1 == "RESULT" { found = 0
      for (i = 2; i <= NF; i++) if ($i == "label=" label) found = 1
      if (!found) next
      for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) print substr($i, length(key) + 2) } }' "$RESULTS"
}

if [ "$TABLE_ONLY" = 0 ]; then
# --- Build and dependencies ------------------------------------------------------
if [ ! -f "$BUILD/build.ninja" ] && [ ! -f "$BUILD/Makefile" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNB_BUILD_TESTS=OFF >/dev/null \
    || die "cmake configure failed"
fi
cmake --build "$BUILD" --target nb-sse-load notifications-bridge notifications-mock-api >/dev/null \
  || die "build failed: cmake --build $BUILD"
[ -x "$LOAD" ] || die "$LOAD missing (is bench/ in the build? NB_BUILD_BENCH=ON)"
[ -z "$BENCH_BASELINE" ] || [ -x "$BENCH_BASELINE" ] || die "BENCH_BASELINE=$BENCH_BASELINE is not an executable"

HAVE_NCHAN=1
if ! command -v nginx >/dev/null || [ ! -f "$NCHAN_MODULE" ] || ! command -v curl >/dev/null; then
  say "Installing nginx, libnginx-mod-nchan, curl (packaging/debian-packages.txt, group bench)"
  scripts/install-deps.sh bench || true
fi
if ! command -v nginx >/dev/null || [ ! -f "$NCHAN_MODULE" ]; then
  say "bench/run.sh: nginx or $NCHAN_MODULE missing: the nchan column is skipped"
  HAVE_NCHAN=0
fi
command -v curl >/dev/null || die "curl is needed (scripts/install-deps.sh bench)"

# --- Limits ------------------------------------------------------------------------
max_n=0
for n in $BENCH_N; do [ "$n" -gt "$max_n" ] && max_n=$n; done
[ "$BENCH_IDLE_N" -gt "$max_n" ] && [ "$BENCH_EXTRAS" = 1 ] && max_n=$BENCH_IDLE_N
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((max_n + 200)) ]; then
  if ! { ulimit -Hn $((max_n + 200)) && ulimit -n $((max_n + 200)); } 2>/dev/null; then
    say "bench/run.sh: ulimit -n is $(ulimit -n), below $((max_n + 200)): large runs will fail"
  fi
fi

mkdir -p "$OUT"
RESULTS=$OUT/results.txt
: >"$RESULTS"
CORES=$(nproc)

# --- Helpers --------------------------------------------------------------------------
BRIDGE_PORT="" BRIDGE_PID=""
start_bridge() {  # start_bridge MAX_CLIENTS [extra flags]; BRIDGE_EXE overrides the binary
  local max=$1
  shift
  "${BRIDGE_EXE:-$BRIDGE}" --delivery-url "http://127.0.0.1:$MOCK_PORT/delivery" --listen 127.0.0.1:0 \
    --poll-interval "$BENCH_POLL" --max-clients "$max" --log-level warn \
    ${BRIDGE_ARGS[@]+"${BRIDGE_ARGS[@]}"} "$@" \
    >"$TMP/bridge.out" 2>"$TMP/bridge.err" &
  BRIDGE_PID=$!
  PIDS+=("$BRIDGE_PID")
  wait_line "$TMP/bridge.out" 'listening on' 10 || die "bridge did not start: $(cat "$TMP/bridge.err")"
  BRIDGE_PORT=$(sed -n 's#^notifications-bridge listening on http://[^:]*:\([0-9]*\)/.*#\1#p' "$TMP/bridge.out")
}

polls_total() {
  curl -s "http://127.0.0.1:$BRIDGE_PORT/metrics" | awk '$1 == "notifications_bridge_polls_total" {print $2}'
}

NGINX_PORT="" NGINX_PIDS=""
start_nginx() {  # start_nginx WORKERS N
  local workers=$1 n=$2 dir=$TMP/nginx-w$1-$2 master
  mkdir -p "$dir"
  for _ in 1 2 3 4 5; do
    # Outside the ephemeral range (32768-60999): no clash with the clients' ports.
    NGINX_PORT=$((20000 + RANDOM % 12000))
    cat >"$dir/nginx.conf" <<EOF
load_module $NCHAN_MODULE;
worker_processes $workers;
worker_rlimit_nofile $((2 * n + 2048));
pid $dir/nginx.pid;
error_log $dir/error.log warn;
daemon off;
events { worker_connections $((n + 1024)); multi_accept on; }
http {
$(nginx_temp_paths "$dir")
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location = /pub { nchan_publisher; nchan_channel_id bench; }
    location = /sub { nchan_subscriber eventsource; nchan_channel_id bench; }
  }
}
EOF
    nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/out" 2>&1 &
    master=$!
    PIDS+=("$master")
    if nginx_ready "$master" "$NGINX_PORT" "$workers"; then
      NGINX_PIDS=$(echo "$NGINX_PIDS" | tr ' ' ',')
      return 0
    fi
    stop_pid "$master"
    forget_pid "$master"
  done
  die "nginx did not start: $(cat "$dir/error.log" "$dir/out" 2>/dev/null | tail -5)"
}

# run_load LABEL N STREAM_URL SERVER_PIDS PUBLISH_URL CONTENT_TYPE BODY PAD [load flags]
run_load() {
  local label=$1 n=$2 url=$3 pids=$4 pub=$5 ctype=$6 body=$7 pad=$8
  shift 8
  local out=$OUT/$label.txt
  local events=${RUN_EVENTS:-$BENCH_EVENTS} rate=${RUN_RATE:-$BENCH_RATE}
  local duration
  duration=$(awk -v e="$events" -v i="$BENCH_INTERVAL" 'BEGIN {print e * i + 10}')
  local limit
  limit=$(awk -v d="$duration" -v n="$n" -v r="$rate" 'BEGIN {printf "%d", d + 60 + (r > 0 ? n / r : 0)}')
  local common=(--url "$url" -n "$n" --rate "$rate" --expect "$events"
    --duration "$duration" --server-pid "$pids" --label "$label")
  say ""
  say "== $label: $n streams${pub:+, $BENCH_EVENTS events}"
  if [ "$BENCH_PUBLISHER" = curl ] && [ -n "$pub" ]; then
    timeout "$limit" "$LOAD" "${common[@]}" "$@" >"$out" 2>"$out.err" &
    local load_pid=$!
    PIDS+=("$load_pid")
    if wait_line "$out" '^READY' "$limit"; then
      local padding i t start
      padding=$(head -c "$pad" /dev/zero | tr '\0' x)
      start=$(date +%s%N)
      for i in $(seq 0 $((BENCH_EVENTS - 1))); do
        local due=$((start + i * $(awk -v s="$BENCH_INTERVAL" 'BEGIN {printf "%d", s * 1e9}')))
        local now
        now=$(date +%s%N)
        [ "$now" -lt "$due" ] && sleep "$(awk -v d=$((due - now)) 'BEGIN {print d / 1e9}')"
        t=$(date +%s%N)
        local b=${body//\{t\}/$t}
        b=${b//\{pad\}/$padding}
        curl -s -o /dev/null -H "Content-Type: $ctype" --data-binary "$b" "$pub" || say "publish $i failed"
      done
    fi
    wait "$load_pid" || true
    forget_pid "$load_pid"
  else
    local publish=()
    [ -n "$pub" ] && publish=(--publish-url "$pub" --publish-count "$events"
      --publish-interval "$BENCH_INTERVAL" --publish-content-type "$ctype"
      --publish-body "$body" --publish-pad "$pad")
    # In the background so that Ctrl-C (the trap) does not wait for the run.
    timeout "$limit" "$LOAD" "${common[@]}" "${publish[@]}" "$@" >"$out" 2>"$out.err" &
    local load_pid=$!
    PIDS+=("$load_pid")
    wait "$load_pid" || true
    forget_pid "$load_pid"
  fi
  grep -v '^READY' "$out" >&2 || true
  grep '^RESULT ' "$out" >>"$RESULTS" || say "bench/run.sh: $label produced no RESULT (see $out.err)"
}

BRIDGE_BODY='{"service":"Bench","group":"ops","type":"push","text":"t={t} {pad}","link":""}'
NCHAN_BODY='t={t} {pad}'

# --- Long-poll: only if the mock honours wait= ----------------------------------
LONG_POLL=0
start_mock
lp_time=$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$MOCK_PORT/delivery/notifications?wait=2" || echo 0)
if awk -v t="$lp_time" 'BEGIN {exit !(t >= 1.0)}'; then
  LONG_POLL=1
  LONG_POLL_NOTE="the mock holds wait= (empty answer after ${lp_time} s): long-poll measured too"
else
  LONG_POLL_NOTE="long-poll skipped: notifications-mock-api answers wait=2 at once (${lp_time} s), it does not implement long-poll yet"
fi
stop_all
say "bench/run.sh: $LONG_POLL_NOTE"

# --- The runs ---------------------------------------------------------------------
NCHAN_PAD=""
POLLS_N="" POLLS_N_RATE=""
for n in $BENCH_N; do
  if [ -n "$BENCH_BASELINE" ]; then
    start_mock
    BRIDGE_EXE=$BENCH_BASELINE start_bridge $((n + 100))
    run_load "base-$n" "$n" "http://127.0.0.1:$BRIDGE_PORT/events" "$BRIDGE_PID" \
      "http://127.0.0.1:$MOCK_PORT/gate/Notification/Nasqueron" application/json "$BRIDGE_BODY" "$BENCH_PAD"
    stop_all
  fi
  start_mock
  start_bridge $((n + 100))
  p0=$(polls_total) t0=$(date +%s%N)
  run_load "bridge-$n" "$n" "http://127.0.0.1:$BRIDGE_PORT/events" "$BRIDGE_PID" \
    "http://127.0.0.1:$MOCK_PORT/gate/Notification/Nasqueron" application/json "$BRIDGE_BODY" "$BENCH_PAD"
  p1=$(polls_total) t1=$(date +%s%N)
  POLLS_N=$n
  POLLS_N_RATE=$(awk -v p=$((p1 - p0)) -v t=$((t1 - t0)) -v i="$BENCH_POLL" 'BEGIN {printf "%.2f", p / (t / 1e9 / i)}')
  stop_all

  if [ "$LONG_POLL" = 1 ]; then
    start_mock
    start_bridge $((n + 100)) --long-poll 25
    run_load "bridge-lp-$n" "$n" "http://127.0.0.1:$BRIDGE_PORT/events" "$BRIDGE_PID" \
      "http://127.0.0.1:$MOCK_PORT/gate/Notification/Nasqueron" application/json "$BRIDGE_BODY" "$BENCH_PAD"
    stop_all
  fi

  if [ "$HAVE_NCHAN" = 1 ]; then
    if [ -z "$NCHAN_PAD" ]; then
      # Same event size as the bridge's: nchan's data is the body itself.
      bytes=$(get "bridge-$n" event_bytes)
      NCHAN_PAD=$(( ${bytes:-$((BENCH_PAD + 150))} - 22 ))
      [ "$NCHAN_PAD" -lt 0 ] && NCHAN_PAD=0
    fi
    for w in $BENCH_WORKERS; do
      start_nginx "$w" "$n"
      run_load "nchan-w$w-$n" "$n" "http://127.0.0.1:$NGINX_PORT/sub" "$NGINX_PIDS" \
        "http://127.0.0.1:$NGINX_PORT/pub" text/plain "$NCHAN_BODY" "$NCHAN_PAD"
      stop_all
    done
  fi
done

# --- RSS per connection at a slower arrival rate -------------------------------------
if [ -n "$BENCH_SLOW_RATE" ] && [ "$BENCH_SLOW_RATE" != 0 ]; then
  n=$BENCH_SLOW_N
  export RUN_RATE=$BENCH_SLOW_RATE RUN_EVENTS=2
  if [ -n "$BENCH_BASELINE" ]; then
    start_mock
    BRIDGE_EXE=$BENCH_BASELINE start_bridge $((n + 100))
    run_load "slow-base-$n" "$n" "http://127.0.0.1:$BRIDGE_PORT/events" "$BRIDGE_PID" \
      "http://127.0.0.1:$MOCK_PORT/gate/Notification/Nasqueron" application/json "$BRIDGE_BODY" "$BENCH_PAD"
    stop_all
  fi
  start_mock
  start_bridge $((n + 100))
  run_load "slow-bridge-$n" "$n" "http://127.0.0.1:$BRIDGE_PORT/events" "$BRIDGE_PID" \
    "http://127.0.0.1:$MOCK_PORT/gate/Notification/Nasqueron" application/json "$BRIDGE_BODY" "$BENCH_PAD"
  stop_all
  if [ "$HAVE_NCHAN" = 1 ]; then
    for w in $BENCH_WORKERS; do
      [ "$w" = "$CORES" ] || [ "$(echo $BENCH_WORKERS | wc -w)" = 1 ] || continue
      start_nginx "$w" "$n"
      run_load "slow-nchan-w$w-$n" "$n" "http://127.0.0.1:$NGINX_PORT/sub" "$NGINX_PIDS" \
        "http://127.0.0.1:$NGINX_PORT/pub" text/plain "$NCHAN_BODY" "${NCHAN_PAD:-100}"
      stop_all
    done
  fi
  unset RUN_RATE RUN_EVENTS
fi

# --- Extras: no clients, idle streams, upstream requests per interval ---------------
RSS_IDLE="" IDLE_PCT="" IDLE_HELD="" POLLS_1_RATE=""
if [ "$BENCH_EXTRAS" = 1 ]; then
  say ""
  say "== bridge without clients, then $BENCH_IDLE_N idle streams for ${BENCH_IDLE_S} s"
  start_mock
  start_bridge $((BENCH_IDLE_N + 100))
  sleep 3
  RSS_IDLE=$(awk '/^VmRSS:/ {print $2}' "/proc/$BRIDGE_PID/status")
  # One client, no events: upstream requests per interval.
  p0=$(polls_total) t0=$(date +%s%N)
  timeout 30 "$LOAD" --url "http://127.0.0.1:$BRIDGE_PORT/events" -n 1 --duration 5 \
    --server-pid "$BRIDGE_PID" --label polls-1 -q >"$OUT/polls-1.txt" 2>&1 &
  one=$!
  PIDS+=("$one")
  wait "$one" || true
  forget_pid "$one"
  p1=$(polls_total) t1=$(date +%s%N)
  POLLS_1_RATE=$(awk -v p=$((p1 - p0)) -v t=$((t1 - t0)) -v i="$BENCH_POLL" 'BEGIN {printf "%.2f", p / (t / 1e9 / i)}')
  run_load "idle-$BENCH_IDLE_N" "$BENCH_IDLE_N" "http://127.0.0.1:$BRIDGE_PORT/events" "$BRIDGE_PID" \
    "" "" "" 0 --expect 0 --duration "$BENCH_IDLE_S"
  IDLE_PCT=$(get "idle-$BENCH_IDLE_N" cpu_pct)
  IDLE_HELD=$(get "idle-$BENCH_IDLE_N" held)
  stop_all
fi

# Everything the table needs besides results.txt, for --table-only.
{
  for v in BENCH_N BENCH_EVENTS BENCH_INTERVAL BENCH_RATE BENCH_POLL BENCH_WORKERS \
    BENCH_PUBLISHER BENCH_EXTRAS BENCH_IDLE_S LONG_POLL LONG_POLL_NOTE RSS_IDLE IDLE_PCT \
    IDLE_HELD POLLS_1_RATE POLLS_N POLLS_N_RATE BENCH_BASELINE BENCH_SLOW_RATE BENCH_SLOW_N; do
    printf '%s=%q\n' "$v" "${!v}"
  done
} >"$OUT/meta.env"
else
  RESULTS=$OUT/results.txt
  [ -f "$RESULTS" ] && [ -f "$OUT/meta.env" ] || die "no results in $OUT: run bench/run.sh first"
  # shellcheck disable=SC1091
  . "$OUT/meta.env"
  CORES=$(nproc)
fi

# --- The table ---------------------------------------------------------------------------
# nchan's column: worker_processes = the number of cores, if measured.
NW=""
for w in $BENCH_WORKERS; do
  NW=$w
  [ "$w" = "$CORES" ] && break
done

TABLE=$OUT/table.md
{
  echo "Machine: $CORES cores, $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo) RAM, $(uname -sr); $(nginx -v 2>&1 | sed 's/.*: //') + nchan $(dpkg-query -W -f='${Version}' libnginx-mod-nchan 2>/dev/null)."
  echo "Workload: $BENCH_EVENTS events, one every $BENCH_INTERVAL s, $(get "bridge-${BENCH_N%% *}" event_bytes) B of data each; streams opened at $BENCH_RATE/s; publisher: $BENCH_PUBLISHER; bridge --poll-interval $BENCH_POLL; nchan worker_processes ${NW:-none}."
  echo ""
  printf '| N | figure'
  [ -n "$BENCH_BASELINE" ] && printf ' | baseline bridge'
  printf ' | bridge (poll %s s)' "$BENCH_POLL"
  [ "$LONG_POLL" = 1 ] && printf ' | bridge (long-poll)'
  printf ' | nchan (%s workers) | bridge / nchan |\n' "${NW:--}"
  printf '|---|---'
  [ -n "$BENCH_BASELINE" ] && printf '|---'
  printf '|---'
  [ "$LONG_POLL" = 1 ] && printf '|---'
  printf '|---|---|\n'
  for n in $BENCH_N; do
    b=bridge-$n l=bridge-lp-$n c=nchan-w$NW-$n a=base-$n
    row() {  # row TITLE EXPR_KEY(S) FORMAT
      local title=$1 kind=$2 bv cv lv av ratio
      case $kind in
        held) bv="$(get "$b" held)/$n"; lv="$(get "$l" held)/$n"; cv="$(get "$c" held)/$n"
              av="$(get "$a" held)/$n"
              ratio=$(awk -v x="$(get "$b" held)" -v y="$(get "$c" held)" 'BEGIN {if (y > 0) printf "%.2f", x / y; else print "-"}') ;;
        events) bv="$(get "$b" deliveries)/$((n * BENCH_EVENTS))"; lv="$(get "$l" deliveries)/$((n * BENCH_EVENTS))"
              av="$(get "$a" deliveries)/$((n * BENCH_EVENTS))"
              cv="$(get "$c" deliveries)/$((n * BENCH_EVENTS))"
              ratio=$(awk -v x="$(get "$b" deliveries)" -v y="$(get "$c" deliveries)" 'BEGIN {if (y > 0) printf "%.2f", x / y; else print "-"}') ;;
        *) bv=$(get "$b" "$kind"); lv=$(get "$l" "$kind"); cv=$(get "$c" "$kind"); av=$(get "$a" "$kind")
           ratio=$(awk -v x="$bv" -v y="$cv" 'BEGIN {if (y > 0) printf "%.1f", x / y; else print "-"}')
           case $kind in client_us_per_delivery | others_cpu_pct) ratio="" ;; esac
           local fmt=%.1f
           [ "$kind" = threads ] && fmt=%d
           bv=$(awk -v x="$bv" -v f="$fmt" 'BEGIN {if (x == "") print "-"; else printf f, x}')
           av=$(awk -v x="$av" -v f="$fmt" 'BEGIN {if (x == "") print "-"; else printf f, x}')
           lv=$(awk -v x="$lv" -v f="$fmt" 'BEGIN {if (x == "") print "-"; else printf f, x}')
           cv=$(awk -v x="$cv" -v f="$fmt" 'BEGIN {if (x == "") print "-"; else printf f, x}') ;;
      esac
      printf '| %s | %s' "$n" "$title"
      [ -n "$BENCH_BASELINE" ] && printf ' | %s' "$av"
      printf ' | %s' "$bv"
      [ "$LONG_POLL" = 1 ] && printf ' | %s' "$lv"
      printf ' | %s | %s |\n' "$cv" "$ratio"
    }
    row "connections held" held
    row "events got / expected" events
    row "latency p50 ms (bridge: includes polling)" lat_p50_ms
    row "latency p99 ms (bridge: includes polling)" lat_p99_ms
    row "fan-out spread p99 ms" spread_p99_ms
    row "server CPU per delivery µs" cpu_us_per_delivery
    row "  of which user µs (10 ms ticks)" cpu_user_us_per_delivery
    row "  of which system µs (10 ms ticks)" cpu_sys_us_per_delivery
    row "server CPU per stream while connecting µs" connect_us_per_stream
    row "server RSS per connection KB" rss_per_conn_kb
    row "server threads" threads
    row "load client CPU per delivery µs" client_us_per_delivery
    row "other work on the box while measuring, % of a core" others_cpu_pct
    if [ -n "$BENCH_SLOW_RATE" ] && [ "$BENCH_SLOW_RATE" != 0 ] && [ "$n" = "$BENCH_SLOW_N" ]; then
      b=slow-bridge-$n l=none c=slow-nchan-w$NW-$n a=slow-base-$n
      row "server RSS per connection KB, streams opened at $BENCH_SLOW_RATE/s" rss_per_conn_kb
      row "server CPU per stream while connecting µs, at $BENCH_SLOW_RATE/s" connect_us_per_stream
    fi
  done
  echo ""
  echo "Latency: from the moment an event is handed to the system (the POST to the mock's gate, or to nchan's publisher, is written) to the moment each client has parsed it; the bridge's includes waiting for its next poll (--poll-interval $BENCH_POLL s: $(awk -v i="$BENCH_POLL" 'BEGIN {printf "%.0f", i * 500}') ms on average) and the mock's answer. Fan-out spread (last receipt - first receipt of one event across all streams) does not depend on how the event got in: it is the comparable figure."
  echo "$LONG_POLL_NOTE."
  if [ "$BENCH_EXTRAS" = 1 ]; then
    echo ""
    echo "| bridge, other figures | measured |"
    echo "|---|---|"
    echo "| RSS with no clients (3 s after start) | ${RSS_IDLE:-?} KB |"
    echo "| CPU with ${IDLE_HELD:-?} idle streams (no events, ${BENCH_IDLE_S} s, --poll-interval $BENCH_POLL, heartbeat 15 s) | ${IDLE_PCT:-?} % of a core |"
    echo "| upstream requests per poll interval, 1 client | ${POLLS_1_RATE:-?} |"
    echo "| upstream requests per poll interval, ${POLLS_N:-?} clients (during its run) | ${POLLS_N_RATE:-?} |"
  fi
} >"$TABLE"
say ""
cat "$TABLE"
say ""
say "Raw outputs: $OUT (results.txt: one RESULT line per run)"
exit 0
