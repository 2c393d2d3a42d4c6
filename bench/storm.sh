#!/usr/bin/env bash
# Reconnect storms (issue 13): a whole audience of SSE clients coming back at
# once, with real processes on 127.0.0.1: the mock delivery API, bridges,
# nginx rendered from packaging/nginx's shipped files, and nb-storm holding
# the streams the way the page does in a browser (EventSource's reconnection
# after the jittered `retry:` with Last-Event-ID; the page's own backoff
# with jitter and ?lastEventId= when EventSource gives up). See
# bench/README.md ("Reconnect storms") and docs/performance.md.
#
#   bench/storm.sh                         # A (1,000 streams), B (10,000), C
#   BENCH_QUICK=1 bench/storm.sh           # A and B small: under a minute
#   BENCH_STORM_N=5000 BENCH_STORM_SCENARIOS=B bench/storm.sh
#   BENCH_STORM_RETRY="1 3 10" BENCH_STORM_SCENARIOS=B bench/storm.sh  # spread?
#   bench/storm.sh --table-only            # the table again from $BENCH_STORM_OUT
#
# Scenarios:
#   A  three bridges behind nginx (packaging/nginx/notifications-upstream.conf
#      and notifications-replicas.conf, rendered as tests/support/
#      nginx_proxy.cc does) hold BENCH_STORM_A_N streams; the one holding the
#      most is killed (SIGKILL); its clients come back through nginx to the
#      two others with Last-Event-ID while notifications keep coming; the
#      killed one is started again on its port BENCH_STORM_A_RESTART_S later.
#   B  one bridge holds BENCH_STORM_N streams and restarts: SIGTERM, then a
#      new process on the same port (with --state-file unless
#      BENCH_STORM_STATE_FILE=0); every client comes back with Last-Event-ID.
#   C  for comparison, nginx + nchan (Debian's libnginx-mod-nchan) holds
#      BENCH_STORM_N streams and restarts the same way (SIGTERM, a new nginx
#      on the same port). nchan keeps its messages in memory: after a
#      restart it cannot resume anyone, so only the reconnection compares.
#      Skipped when nchan is missing.
#
# Settings (environment):
#   BENCH_QUICK          1: A with 300 streams, B with 1,000, --retry 1, no C;
#                        under a minute                            0
#   BENCH_STORM_SCENARIOS  which scenarios                         "A B C"
#   BENCH_STORM_A_N      streams in A (over three replicas)        1000
#   BENCH_STORM_N        streams in B and C: 10000, or less when the hard
#                        limit on descriptors (ulimit -Hn) is lower (the
#                        bridge's --max-clients is set above it)   10000
#   BENCH_STORM_RETRY    the bridges' --retry, seconds (a run per value;
#                        each stream gets S plus up to 2/3 S)      3
#   BENCH_STORM_A_RESTART_S  A: seconds from the kill to the new process
#                        (default: the largest retry + 1 s, so that the
#                        storm lands on the two survivors)         5/3 R + 1
#   BENCH_STORM_POLL     the bridges' --poll-interval              1
#   BENCH_STORM_PUBLISH_INTERVAL  seconds between notifications    1
#   BENCH_STORM_PUBLISH_AFTER  seconds of publishing after the storm starts
#                        (default: the largest retry, 5/3 R, + 5.5)
#   BENCH_STORM_RATE     streams opened per second at the start    1000
#   BENCH_STORM_BASELINE_S  seconds measured before the storm (upstream
#                        requests and CPU with no storm)           5
#   BENCH_STORM_STATE_FILE  B: restart with --state-file (1) or not (0)  1
#   BENCH_STORM_NGINX_WORKERS  nginx worker_processes in A and C   1
#   BENCH_STORM_BRIDGE_ARGS  extra flags for every bridge          ""
#   BENCH_STORM_BUILD    build directory                           build-bench
#   BENCH_STORM_OUT      where the raw results go    $BENCH_STORM_BUILD/storm-results
#
# Writes, per run (LABEL = scenario-N-retry): LABEL.txt (nb-storm's report),
# LABEL.streams.csv (one line per stream), LABEL.timeline.csv (100 ms
# buckets: ends, connection attempts, reconnections, caught up, server CPU),
# and appends its RESULT and DRIVER lines to results.txt; then prints the
# table (also table.md). Exits 0 after the runs, whatever they measured; 1
# when something cannot be built or started. Every process it starts is
# stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_QUICK=${BENCH_QUICK:-0}
# What fits: the bridge holds a descriptor per stream (nb-storm too, in its
# own process), plus its own; nginx (A) two per stream.
hard_fds=$(ulimit -Hn)
fit_n=10000
if [ "$hard_fds" != unlimited ] && [ "$hard_fds" -lt $((fit_n + 1024)) ]; then
  fit_n=$((hard_fds - 1024))
fi
if [ "$BENCH_QUICK" = 1 ]; then
  BENCH_STORM_SCENARIOS=${BENCH_STORM_SCENARIOS:-"A B"}
  BENCH_STORM_A_N=${BENCH_STORM_A_N:-300}
  BENCH_STORM_N=${BENCH_STORM_N:-1000}
  BENCH_STORM_RETRY=${BENCH_STORM_RETRY:-1}
  BENCH_STORM_BASELINE_S=${BENCH_STORM_BASELINE_S:-2}
  BENCH_STORM_PUBLISH_AFTER=${BENCH_STORM_PUBLISH_AFTER:-4}
fi
BENCH_STORM_SCENARIOS=${BENCH_STORM_SCENARIOS:-"A B C"}
BENCH_STORM_A_N=${BENCH_STORM_A_N:-1000}
BENCH_STORM_N=${BENCH_STORM_N:-$fit_n}
BENCH_STORM_RETRY=${BENCH_STORM_RETRY:-3}
BENCH_STORM_A_RESTART_S=${BENCH_STORM_A_RESTART_S:-}
BENCH_STORM_POLL=${BENCH_STORM_POLL:-1}
BENCH_STORM_PUBLISH_INTERVAL=${BENCH_STORM_PUBLISH_INTERVAL:-1}
BENCH_STORM_PUBLISH_AFTER=${BENCH_STORM_PUBLISH_AFTER:-}
BENCH_STORM_RATE=${BENCH_STORM_RATE:-1000}
BENCH_STORM_BASELINE_S=${BENCH_STORM_BASELINE_S:-5}
BENCH_STORM_STATE_FILE=${BENCH_STORM_STATE_FILE:-1}
BENCH_STORM_NGINX_WORKERS=${BENCH_STORM_NGINX_WORKERS:-1}
read -r -a BRIDGE_ARGS <<< "${BENCH_STORM_BRIDGE_ARGS:-}"
BUILD=${BENCH_STORM_BUILD:-build-bench}
OUT=${BENCH_STORM_OUT:-$BUILD/storm-results}
ENTRY=/notifications  # The replicas' location (api_entry_point), A only.

TABLE_ONLY=0
case ${1:-} in
  --table-only) TABLE_ONLY=1 ;;
  "") ;;
  *) echo "usage: bench/storm.sh [--table-only] (settings: see the top of this file)" >&2; exit 2 ;;
esac

STORM=$BUILD/bench/nb-storm
BRIDGE=$BUILD/notifications-bridge
MOCK=$BUILD/notifications-mock-api
NCHAN_MODULE=/usr/lib/nginx/modules/ngx_nchan_module.so

# say, die, stop_pid, forget_pid, stop_all, wait_line, start_mock,
# nginx_temp_paths, nginx_ready; TMP, PIDS and traps.
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_start bench/storm.sh

RESULTS=$OUT/results.txt

# field KIND LABEL KEY: a value from LABEL's RESULT or DRIVER line ("" if none).
field() {
  awk -v kind="$1" -v label="$2" -v key="$3" '
    $1 == kind { found = 0
      for (i = 2; i <= NF; i++) if ($i == "label=" label) found = 1
      if (!found) next
      for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) v = substr($i, length(key) + 2) } }
    END { print v }' "$RESULTS"
}

if [ "$TABLE_ONLY" = 0 ]; then
# --- Build, tools, limits ----------------------------------------------------------
if [ ! -f "$BUILD/build.ninja" ] && [ ! -f "$BUILD/Makefile" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DNB_BUILD_TESTS=OFF >/dev/null \
    || die "cmake configure failed"
fi
cmake --build "$BUILD" --target nb-storm notifications-bridge notifications-mock-api >/dev/null \
  || die "build failed: cmake --build $BUILD"
[ -x "$STORM" ] || die "$STORM missing (is bench/ in the build? NB_BUILD_BENCH=ON)"
if ! command -v nginx >/dev/null || ! command -v curl >/dev/null || [ ! -f "$NCHAN_MODULE" ]; then
  say "Installing nginx, libnginx-mod-nchan, curl (packaging/debian-packages.txt, group bench)"
  scripts/install-deps.sh bench || true
fi
command -v curl >/dev/null || die "curl is needed (scripts/install-deps.sh bench)"
HAVE_NGINX=1 HAVE_NCHAN=1
command -v nginx >/dev/null || HAVE_NGINX=0
{ [ "$HAVE_NGINX" = 1 ] && [ -f "$NCHAN_MODULE" ]; } || HAVE_NCHAN=0

# Descriptors one process needs: B and C hold one per stream; nginx in A
# two (the client's and the replica's).
need=$((BENCH_STORM_N + 1024))
[ $((2 * BENCH_STORM_A_N + 1024)) -gt "$need" ] && need=$((2 * BENCH_STORM_A_N + 1024))
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
  if ! { ulimit -Hn "$need" && ulimit -n "$need"; } 2>/dev/null; then
    say "bench/storm.sh: ulimit -n is $(ulimit -n), below $need: large runs will fail"
  fi
fi

mkdir -p "$OUT"
: >"$RESULTS"

# --- Processes ------------------------------------------------------------------------
# port_of FILE: the port of the "listening on http://HOST:PORT/" line.
port_of() { sed -n 's#.* listening on http://[^:]*:\([0-9]*\)/.*#\1#p' "$1" | head -1; }

# start_bridge NAME PORT MAX_CLIENTS RETRY [flags]: sets BRIDGE_PID, BRIDGE_PORT.
# PORT 0 picks a free one; a fixed port (a restart) is retried for 5 s while
# the old process's socket goes away.
BRIDGE_PID="" BRIDGE_PORT=""
start_bridge() {
  local name=$1 port=$2 max=$3 retry=$4 try
  shift 4
  for try in $(seq 50); do
    "$BRIDGE" --delivery-url "http://127.0.0.1:$MOCK_PORT/delivery" --listen "127.0.0.1:$port" \
      --poll-interval "$BENCH_STORM_POLL" --retry "$retry" --max-clients "$max" --log-level warn \
      ${BRIDGE_ARGS[@]+"${BRIDGE_ARGS[@]}"} "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    BRIDGE_PID=$!
    PIDS+=("$BRIDGE_PID")
    if wait_line "$TMP/$name.out" 'listening on' 10; then
      BRIDGE_PORT=$(port_of "$TMP/$name.out")
      return 0
    fi
    kill -0 "$BRIDGE_PID" 2>/dev/null && die "bridge $name did not start: $(cat "$TMP/$name.err")"
    wait "$BRIDGE_PID" 2>/dev/null || true
    forget_pid "$BRIDGE_PID"
    [ "$port" = 0 ] && break
    sleep 0.1
  done
  die "bridge $name did not start: $(cat "$TMP/$name.err")"
}

# start_nginx NAME FDS HTTP_CONF SERVER_CONF: nginx (FDS connections) with these includes in its
# http block and in its server block; sets NGINX_PORT, NGINX_MASTER and
# NGINX_PIDS (master and workers, space-separated). NGINX_PORT, when set,
# is reused (a restart).
NGINX_PORT="" NGINX_MASTER="" NGINX_PIDS=""
start_nginx() {
  local name=$1 n=$2 dir=$TMP/$1 try fixed=${NGINX_PORT:-}
  mkdir -p "$dir"
  cp "$3" "$dir/http.conf"
  cp "$4" "$dir/server.conf"
  for try in $(seq 20); do
    # Outside the ephemeral range (32768-60999): no clash with the clients' ports.
    NGINX_PORT=${fixed:-$((20000 + RANDOM % 12000))}
    cat >"$dir/nginx.conf" <<EOF
$( [ "$HAVE_NCHAN" = 1 ] && echo "load_module $NCHAN_MODULE;" )
worker_processes $BENCH_STORM_NGINX_WORKERS;
worker_rlimit_nofile $((n + 1024));
pid $dir/nginx.pid;
error_log $dir/error.log warn;
daemon off;
events { worker_connections $((n + 512)); multi_accept on; }
http {
$(nginx_temp_paths "$dir")
  include $dir/http.conf;
  server {
    # nginx listens with a backlog of 511 by default: a storm overflows it.
    listen 127.0.0.1:$NGINX_PORT backlog=4096;
    include $dir/server.conf;
  }
}
EOF
    nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" >"$dir/out" 2>&1 &
    NGINX_MASTER=$!
    PIDS+=("$NGINX_MASTER")
    nginx_ready "$NGINX_MASTER" "$NGINX_PORT" "$BENCH_STORM_NGINX_WORKERS" && return 0
    stop_pid "$NGINX_MASTER"
    forget_pid "$NGINX_MASTER"
    [ -n "$fixed" ] && sleep 0.1
  done
  die "nginx did not start: $(tail -5 "$dir/error.log" "$dir/out" 2>/dev/null)"
}

# render_upstream PORTS...: notifications-upstream.conf with its loop over
# replica_ports expanded, as the operations repository's Jinja would (and as
# tests/support/nginx_proxy.cc does).
render_upstream() {
  awk -v ports="$*" '
    /\{% for [a-z_]+ in replica_ports %\}/ { loop = 1; var = $3; body = ""; found = 1; next }
    loop && /\{% endfor %\}/ {
      n = split(ports, p, " ")
      for (i = 1; i <= n; i++) { line = body; gsub("\\{\\{ " var " \\}\\}", p[i], line); printf "%s", line }
      loop = 0; next }
    loop { body = body $0 "\n"; next }
    { print }
    END { if (!found) exit 1 }' packaging/nginx/notifications-upstream.conf
}

# metrics URL: the counters the table needs, as "key=value ..." (absent: no key).
metrics() {
  curl -s --max-time 5 "$1" | awk '
    $1 ~ /^notifications_bridge_(polls_total|gap_fetches_total|gap_requests_total|gap_shared_total|gap_rejected_total|streams_opened_total|streams_rejected_total|clients_connected)$/ {
      sub(/^notifications_bridge_/, "", $1); printf "%s=%s ", $1, $2 }'
}
# value "key=value ..." KEY: the value, 0 if absent.
value() { printf '%s\n' "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { v = $2 } END { print v + 0 }'; }
# hwm PID: VmHWM in KB (0 when gone).
hwm() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
now_ns() { date +%s%N; }

# run_storm LABEL N URL PUBLISH_URL [nb-storm flags]: starts nb-storm in the
# background (STORM_PID), its output in $OUT/LABEL.txt.
STORM_PID=""
run_storm() {
  local label=$1 n=$2 url=$3 pub=$4
  shift 4
  "$STORM" --url "$url" -n "$n" --rate "$BENCH_STORM_RATE" --publish-url "$pub" \
    --publish-interval "$BENCH_STORM_PUBLISH_INTERVAL" --publish-after "$PUBLISH_AFTER" \
    --server-pids-file "$TMP/pids" --raw "$OUT/$label" --label "$label" "$@" \
    >"$OUT/$label.txt" 2>"$OUT/$label.err" &
  STORM_PID=$!
  PIDS+=("$STORM_PID")
}

# until_steady LABEL N: waits for nb-storm's STEADY line.
until_steady() {
  local limit=$((60 + $2 / (BENCH_STORM_RATE > 0 ? BENCH_STORM_RATE : 1000) * 2))
  wait_line "$OUT/$1.txt" '^STEADY' "$limit" || die "$1: no STEADY after $limit s: $(tail -3 "$OUT/$1.err")"
  say "  $(grep -E '^(READY|STEADY)' "$OUT/$1.txt" | tr '\n' ' ')"
}

finish_storm() {  # finish_storm LABEL: waits for nb-storm, prints its report.
  wait "$STORM_PID" || say "bench/storm.sh: nb-storm exited $? (see $OUT/$1.err)"
  forget_pid "$STORM_PID"
  grep -vE '^(READY|STEADY|STORM)' "$OUT/$1.txt" >&2 || true
  grep '^RESULT ' "$OUT/$1.txt" >>"$RESULTS" || say "bench/storm.sh: $1 produced no RESULT (see $OUT/$1.err)"
}

# mock_requests: GET <base>/notifications requests the mock answered so far
# (polls and gap fetches of every bridge), from its GET /delivery/faults.
mock_requests() {
  curl -s --max-time 5 "http://127.0.0.1:$MOCK_PORT/delivery/faults" \
    | sed -n 's/.*"requests":\([0-9]*\).*/\1/p'
}
# secs NS_FROM NS_TO: seconds between two date +%s%N stamps.
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b - a) / 1e9}'; }
# expected BRIDGE_SECONDS: upstream requests that many bridge-seconds of
# polling make (one per --poll-interval each).
expected() { awk -v s="$1" -v i="$BENCH_STORM_POLL" 'BEGIN {printf "%.0f", s / i}'; }
# per_interval REQUESTS BRIDGES SECONDS: requests per bridge per --poll-interval.
per_interval() {
  awk -v p="$1" -v b="$2" -v s="$3" -v i="$BENCH_STORM_POLL" 'BEGIN {printf "%.2f", p / b / (s / i)}'
}

# --- Scenario A: three replicas behind nginx, one killed and started again ------------
scenario_a() {
  local retry=$1 n=$BENCH_STORM_A_N label=A-$BENCH_STORM_A_N-r$1 i
  local restart_s=${BENCH_STORM_A_RESTART_S:-$(awk -v r="$retry" 'BEGIN {printf "%.1f", r * 5 / 3 + 1}')}
  say ""
  say "== $label: 3 bridges behind nginx, $n streams, --retry $retry; the busiest is killed (SIGKILL) and started again after $restart_s s"
  start_mock
  local pids=() ports=()
  for i in 0 1 2; do
    start_bridge "replica$i" 0 $((n + 100)) "$retry" --base-path "$ENTRY"
    pids+=("$BRIDGE_PID")
    ports+=("$BRIDGE_PORT")
  done
  render_upstream "${ports[@]}" >"$TMP/upstream.conf" || die "no replica_ports loop in notifications-upstream.conf"
  sed "s#{{ api_entry_point }}#$ENTRY#g" packaging/nginx/notifications-replicas.conf >"$TMP/location.conf"
  NGINX_PORT=""
  start_nginx "nginx-$label" $((2 * n)) "$TMP/upstream.conf" "$TMP/location.conf"
  printf 'bridges %s\nnginx %s\n' "${pids[*]}" "$NGINX_PIDS" >"$TMP/pids"
  run_storm "$label" "$n" "http://127.0.0.1:$NGINX_PORT$ENTRY/events" \
    "http://127.0.0.1:$MOCK_PORT/gate/Notification/Nasqueron"
  until_steady "$label" "$n"

  local base=() held=() victim=0 most=-1 m_before m_base
  m_before=$(mock_requests)
  sleep "$BENCH_STORM_BASELINE_S"
  m_base=$(mock_requests)
  for i in 0 1 2; do
    base[i]=$(metrics "http://127.0.0.1:${ports[i]}$ENTRY/metrics")
    held[i]=$(value "${base[i]}" clients_connected)
    if [ "${held[i]}" -gt "$most" ]; then most=${held[i]}; victim=$i; fi
  done
  local t0 hwm_victim
  t0=$(now_ns)
  hwm_victim=$(hwm "${pids[victim]}")
  kill -KILL "${pids[victim]}"
  wait "${pids[victim]}" 2>/dev/null || true
  forget_pid "${pids[victim]}"
  local survivors=()
  for i in 0 1 2; do [ "$i" = "$victim" ] || survivors+=("${pids[i]}"); done
  printf 'bridges %s\nnginx %s\n' "${survivors[*]}" "$NGINX_PIDS" >"$TMP/pids"
  say "  killed replica $victim (pid ${pids[victim]}) holding ${held[victim]} of $n streams (the others: ${held[*]})"
  sleep "$(awk -v r="$restart_s" -v a="$t0" -v b="$(now_ns)" 'BEGIN {d = r - (b - a) / 1e9; printf "%.2f", (d > 0 ? d : 0)}')"
  local t_restart
  t_restart=$(now_ns)
  start_bridge "replica$victim-2" "${ports[victim]}" $((n + 100)) "$retry" --base-path "$ENTRY"
  local restarted=$BRIDGE_PID
  printf 'bridges %s %s\nnginx %s\n' "${survivors[*]}" "$restarted" "$NGINX_PIDS" >"$TMP/pids"
  say "  replica $victim started again (pid $restarted) $(secs "$t0" "$t_restart") s after the kill"
  finish_storm "$label"
  local t1 m_after
  t1=$(now_ns)
  m_after=$(mock_requests)
  local polls=0 gaps=0 gap_requests=0 gap_shared=0 opened="" hwms="" nginx_hwm=0 after p
  for i in 0 1 2; do
    after=$(metrics "http://127.0.0.1:${ports[i]}$ENTRY/metrics")
    if [ "$i" = "$victim" ]; then
      # The new process counts from 0.
      polls=$((polls + $(value "$after" polls_total)))
      gaps=$((gaps + $(value "$after" gap_fetches_total)))
      opened+="${opened:+,}$(value "$after" streams_opened_total)"
      hwms+="${hwms:+,}$hwm_victim/$(hwm "$restarted")"
      continue
    fi
    polls=$((polls + $(value "$after" polls_total) - $(value "${base[i]}" polls_total)))
    gaps=$((gaps + $(value "$after" gap_fetches_total) - $(value "${base[i]}" gap_fetches_total)))
    gap_requests=$((gap_requests + $(value "$after" gap_requests_total) - $(value "${base[i]}" gap_requests_total)))
    gap_shared=$((gap_shared + $(value "$after" gap_shared_total) - $(value "${base[i]}" gap_shared_total)))
    opened+="${opened:+,}$(( $(value "$after" streams_opened_total) - $(value "${base[i]}" streams_opened_total) ))"
    hwms+="${hwms:+,}$(hwm "${pids[i]}")"
  done
  for p in $NGINX_PIDS; do nginx_hwm=$((nginx_hwm + $(hwm "$p"))); done
  local window bridge_s exp requests
  window=$(secs "$t0" "$t1")
  # Two survivors the whole window, the restarted one since its start.
  bridge_s=$(awk -v w="$window" -v r="$(secs "$t_restart" "$t1")" 'BEGIN {print 2 * w + r}')
  exp=$(expected "$bridge_s")
  requests=$((m_after - m_base))
  echo "DRIVER label=$label scenario=A n=$n retry=$retry victim=$victim victim_held=${held[victim]} held=$(IFS=,; echo "${held[*]}")" \
    "restart_s=$(secs "$t0" "$t_restart") window_s=$window" \
    "upstream_requests=$requests upstream_expected=$exp upstream_excess=$((requests - exp))" \
    "baseline_per_interval=$(per_interval $((m_base - m_before)) 3 "$BENCH_STORM_BASELINE_S")" \
    "polls=$polls gap_fetches=$gaps gap_requests=$gap_requests gap_shared=$gap_shared streams_opened=$opened" \
    "hwm_kb=$hwms nginx_hwm_kb=$nginx_hwm" >>"$RESULTS"
  tail -1 "$RESULTS" >&2
  stop_all
}

# --- Scenario B: one bridge restarts ------------------------------------------------
scenario_b() {
  local retry=$1 n=$BENCH_STORM_N label=B-$BENCH_STORM_N-r$1
  local state=()
  [ "$BENCH_STORM_STATE_FILE" = 1 ] && state=(--state-file "$TMP/state-$label")
  say ""
  say "== $label: one bridge, $n streams, --retry $retry; SIGTERM and a new process on its port${state[*]:+ (--state-file)}"
  start_mock
  start_bridge "bridge-$label" 0 $((n + 100)) "$retry" ${state[@]+"${state[@]}"}
  local port=$BRIDGE_PORT old=$BRIDGE_PID
  printf 'bridges %s\n' "$old" >"$TMP/pids"
  run_storm "$label" "$n" "http://127.0.0.1:$port/events" \
    "http://127.0.0.1:$MOCK_PORT/gate/Notification/Nasqueron"
  until_steady "$label" "$n"
  local m_before m_base
  m_before=$(mock_requests)
  sleep "$BENCH_STORM_BASELINE_S"
  m_base=$(mock_requests)
  local t0 t_exit t_up hwm_old
  hwm_old=$(hwm "$old")
  t0=$(now_ns)
  kill -TERM "$old"
  wait "$old" 2>/dev/null || true
  forget_pid "$old"
  t_exit=$(now_ns)
  start_bridge "bridge-$label-2" "$port" $((n + 100)) "$retry" ${state[@]+"${state[@]}"}
  t_up=$(now_ns)
  printf 'bridges %s\n' "$BRIDGE_PID" >"$TMP/pids"
  say "  old bridge exited $(( (t_exit - t0) / 1000000 )) ms after SIGTERM; the new one listened $(( (t_up - t_exit) / 1000000 )) ms later"
  finish_storm "$label"
  local t1 after window m_after exp requests
  t1=$(now_ns)
  m_after=$(mock_requests)
  after=$(metrics "http://127.0.0.1:$port/metrics")
  window=$(secs "$t0" "$t1")
  # The old process until SIGTERM, the new one since it listened.
  exp=$(expected "$(awk -v a="$(secs "$t0" "$t_exit")" -v b="$(secs "$t_up" "$t1")" 'BEGIN {print a + b}')")
  requests=$((m_after - m_base))
  echo "DRIVER label=$label scenario=B n=$n retry=$retry state_file=$BENCH_STORM_STATE_FILE window_s=$window" \
    "exit_ms=$(( (t_exit - t0) / 1000000 )) down_ms=$(( (t_up - t0) / 1000000 ))" \
    "upstream_requests=$requests upstream_expected=$exp upstream_excess=$((requests - exp))" \
    "baseline_per_interval=$(per_interval $((m_base - m_before)) 1 "$BENCH_STORM_BASELINE_S")" \
    "polls=$(value "$after" polls_total) gap_fetches=$(value "$after" gap_fetches_total) gap_requests=$(value "$after" gap_requests_total)" \
    "gap_shared=$(value "$after" gap_shared_total) streams_opened=$(value "$after" streams_opened_total)" \
    "hwm_kb=$hwm_old/$(hwm "$BRIDGE_PID")" >>"$RESULTS"
  tail -1 "$RESULTS" >&2
  stop_all
}

# --- Scenario C: nginx + nchan restarts (comparison) -----------------------------------
scenario_c() {
  local n=$BENCH_STORM_N label=C-$BENCH_STORM_N-nchan
  say ""
  say "== $label: nginx + nchan, $n streams; nginx stops (SIGTERM) and a new one starts on its port"
  : >"$TMP/empty.conf"
  cat >"$TMP/nchan.conf" <<'EOF'
location = /pub { nchan_publisher; nchan_channel_id storm; }
location = /sub { nchan_subscriber eventsource; nchan_channel_id storm; }
EOF
  NGINX_PORT=""
  start_nginx "nchan-$label" "$n" "$TMP/empty.conf" "$TMP/nchan.conf"
  printf 'nginx %s\n' "$NGINX_PIDS" >"$TMP/pids"
  run_storm "$label" "$n" "http://127.0.0.1:$NGINX_PORT/sub" "http://127.0.0.1:$NGINX_PORT/pub" \
    --no-verify --publish-content-type text/plain --publish-body 'storm {i} t={t}'
  until_steady "$label" "$n"
  sleep "$BENCH_STORM_BASELINE_S"
  local t0 t_exit t_up hwm_old=0 p
  for p in $NGINX_PIDS; do hwm_old=$((hwm_old + $(hwm "$p"))); done
  t0=$(now_ns)
  kill -TERM "$NGINX_MASTER"
  wait "$NGINX_MASTER" 2>/dev/null || true
  forget_pid "$NGINX_MASTER"
  t_exit=$(now_ns)
  start_nginx "nchan-$label" "$n" "$TMP/empty.conf" "$TMP/nchan.conf"
  t_up=$(now_ns)
  printf 'nginx %s\n' "$NGINX_PIDS" >"$TMP/pids"
  say "  old nginx exited $(( (t_exit - t0) / 1000000 )) ms after SIGTERM; the new one answered $(( (t_up - t_exit) / 1000000 )) ms later"
  finish_storm "$label"
  local hwm_new=0
  for p in $NGINX_PIDS; do hwm_new=$((hwm_new + $(hwm "$p"))); done
  echo "DRIVER label=$label scenario=C n=$n exit_ms=$(( (t_exit - t0) / 1000000 ))" \
    "down_ms=$(( (t_up - t0) / 1000000 )) nginx_hwm_kb=$hwm_old,$hwm_new" >>"$RESULTS"
  tail -1 "$RESULTS" >&2
  stop_all
}

# --- The runs -------------------------------------------------------------------------
for retry in $BENCH_STORM_RETRY; do
  PUBLISH_AFTER=${BENCH_STORM_PUBLISH_AFTER:-$(awk -v r="$retry" 'BEGIN {printf "%.0f", r * 5 / 3 + 5.5}')}
  for s in $BENCH_STORM_SCENARIOS; do
    case $s in
      A) if [ "$HAVE_NGINX" = 1 ]; then scenario_a "$retry"; else say "A skipped: no nginx"; fi ;;
      B) scenario_b "$retry" ;;
      C) ;;  # Once, below: nchan has no retry: to jitter.
      *) die "unknown scenario $s (A, B or C)" ;;
    esac
  done
done
case " $BENCH_STORM_SCENARIOS " in
  *" C "*)
    if [ "$HAVE_NCHAN" = 1 ]; then
      PUBLISH_AFTER=${BENCH_STORM_PUBLISH_AFTER:-10}
      scenario_c
    else
      say "C skipped: nginx or $NCHAN_MODULE missing"
    fi ;;
esac
{
  printf 'CORES=%q\nMACHINE=%q\n' "$(nproc)" "$(uname -sr), $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo) RAM"
  for v in BENCH_STORM_SCENARIOS BENCH_STORM_A_N BENCH_STORM_N BENCH_STORM_RETRY BENCH_STORM_POLL BENCH_STORM_PUBLISH_INTERVAL \
    BENCH_STORM_RATE BENCH_STORM_BASELINE_S BENCH_STORM_STATE_FILE BENCH_STORM_NGINX_WORKERS; do
    printf '%s=%q\n' "$v" "${!v}"
  done
} >"$OUT/meta.env"
else
  [ -f "$RESULTS" ] && [ -f "$OUT/meta.env" ] || die "no results in $OUT: run bench/storm.sh first"
fi
# shellcheck disable=SC1091
. "$OUT/meta.env"

# --- The table ----------------------------------------------------------------------------
# mb_list "KB,KB/KB,...": the same in MB.
mb_list() {
  awk -v list="$1" 'BEGIN {n = split(list, a, ","); s = ""
    for (i = 1; i <= n; i++) { m = split(a[i], b, "/"); t = ""
      for (j = 1; j <= m; j++) t = t (j > 1 ? " / " : "") sprintf("%.0f", b[j] / 1024)
      s = s (s == "" ? "" : ", ") t }
    print (s == "" ? "-" : s)}'
}
fmt() { awk -v x="$1" -v f="$2" 'BEGIN {if (x == "" || x < 0) print "-"; else printf f, x}'; }
labels=$(awk '$1 == "RESULT" { for (i = 2; i <= NF; i++) if ($i ~ /^label=/) print substr($i, 7) }' "$RESULTS")
TABLE=$OUT/table.md
# row TITLE FUNCTION: one line, FUNCTION LABEL giving each run's cell.
row() {
  local l
  printf '| %s' "$1"
  for l in $labels; do printf ' | %s' "$("$2" "$l")"; done
  printf ' |\n'
}
r() { field RESULT "$L" "$1"; }
d() { field DRIVER "$L" "$1"; }
nchan() { case $L in C-*) return 0 ;; esac; return 1; }
c_what() {
  L=$1
  case $L in
    A-*) echo "A: 3 bridges + nginx, $(d victim_held) of $(r n) streams on the killed one (--retry $(d retry) s; restarted after $(d restart_s) s)" ;;
    B-*) echo "B: 1 bridge, $(r n) streams, restarted (--retry $(d retry) s)" ;;
    C-*) echo "C: nginx + nchan, $(r n) streams, restarted" ;;
  esac
}
c_cut() { L=$1; echo "$(r cut)"; }
c_retry() { L=$1; echo "$(r retry_min_ms) / $(r retry_p50_ms) / $(r retry_max_ms)"; }
c_back() { L=$1; echo "$(fmt "$(r back_p50_s)" %.2f) / $(fmt "$(r back_p99_s)" %.2f) / $(fmt "$(r back_all_s)" %.2f)"; }
c_caught() { L=$1; if nchan; then echo "n/a (no resume)"; else echo "$(fmt "$(r caught_p50_s)" %.2f) / $(fmt "$(r caught_p99_s)" %.2f) / **$(fmt "$(r caught_all_s)" %.2f)**"; fi; }
c_late() { L=$1; echo "$(r back_late_p50_ms) / $(r back_late_p99_ms) / $(r back_late_max_ms)"; }
c_target() { L=$1; if nchan; then echo "n/a"; elif [ "$(r target_met)" = 1 ]; then echo "met (≤ $(fmt "$(r target_s)" %.1f) s)"; else echo "**not met** ($(fmt "$(r target_s)" %.1f) s)"; fi; }
c_correct() { L=$1; if nchan; then echo "n/a / n/a / $(r resets) / $(r gave_up)"; else echo "$(r missing) / $(r duplicates) / $(r out_of_order) / $(r resets) / $(r gave_up)"; fi; }
c_peak() { L=$1; echo "$(r peak_per_s) /s ($(r peak_per_100ms) in 100 ms)"; }
c_attempts() { L=$1; echo "$(r storm_attempts) ($(r refused) refused)"; }
c_opened() { L=$1; if [ -n "$(d streams_opened)" ]; then echo "$(d streams_opened)"; else echo "-"; fi; }
c_upstream() { L=$1; if nchan; then echo "n/a"; else echo "$(d upstream_requests) in $(d window_s) s; $(d upstream_expected) expected: **$(d upstream_excess) extra**"; fi; }
c_gaps() { L=$1; if nchan; then echo "n/a"; else echo "$(d gap_fetches) / $(d gap_requests) / $(d gap_shared)"; fi; }
c_base() { L=$1; if nchan; then echo "n/a"; else echo "$(d baseline_per_interval)"; fi; }
c_cpu() {
  L=$1
  local k=bridges
  nchan && k=nginx
  echo "$(fmt "$(r "cpu_${k}_s")" %.2f) s in $(fmt "$(r storm_s)" %.1f) s: $(fmt "$(r "cpu_${k}_pct")" %.0f) % of a core ($(fmt "$(r "cpu_${k}_base_pct")" %.0f) % before)"
}
c_cpu_per() { L=$1; local k=bridges; nchan && k=nginx; echo "$(fmt "$(r "cpu_${k}_us_per_reconnect")" %.0f)"; }
c_nginx() { L=$1; if nchan || [ -z "$(r cpu_nginx_pct)" ]; then echo "-"; else echo "$(fmt "$(r cpu_nginx_s)" %.2f) s: $(fmt "$(r cpu_nginx_pct)" %.0f) %"; fi; }
c_rss() { L=$1; if nchan; then echo "nginx $(mb_list "$(d nginx_hwm_kb)")"; else echo "$(mb_list "$(d hwm_kb)")"; fi; }
c_nginx_rss() { L=$1; if nchan || [ -z "$(d nginx_hwm_kb)" ]; then echo "-"; else echo "$(mb_list "$(d nginx_hwm_kb)")"; fi; }
c_client() { L=$1; echo "$(r client_cpu_s) s; others $(r others_pct) % (load $(r load))"; }
{
  echo "Machine: $CORES cores (shared: other work on the box is shown), $MACHINE. Bridges: --poll-interval $BENCH_STORM_POLL; a notification every $BENCH_STORM_PUBLISH_INTERVAL s throughout; streams opened at $BENCH_STORM_RATE/s before the storm; nb-storm, the mock, nginx and the bridges share the same cores."
  echo ""
  printf '| figure'
  for L in $labels; do printf ' | %s' "$L"; done
  printf ' |\n|---'
  for L in $labels; do printf '|---'; done
  printf '|\n'
  row "run" c_what
  row "streams cut" c_cut
  row "retry: given (ms) min / p50 / max" c_retry
  row "all reconnected (s from the cut) p50 / p99 / max" c_back
  row "all caught up (s) p50 / p99 / max" c_caught
  row "reconnected after its own retry: (ms) p50 / p99 / max" c_late
  row "target: caught up ≤ max retry + 2 s, nothing lost" c_target
  row "missing / duplicates / out of order / resets / non-200" c_correct
  row "peak reconnections (1 s window)" c_peak
  row "connection attempts in the storm" c_attempts
  row "streams opened per bridge in the window" c_opened
  row "upstream requests (mock) in the storm window" c_upstream
  row "gap fetches / gap requests / shared" c_gaps
  row "upstream requests per bridge per interval before" c_base
  row "bridge CPU in the storm (nchan: nginx)" c_cpu
  row "  µs per reconnection above the baseline" c_cpu_per
  row "nginx CPU in the storm" c_nginx
  row "bridge peak RSS (VmHWM) MB (old / new process)" c_rss
  row "nginx peak RSS MB" c_nginx_rss
  row "load client CPU; other work on the box" c_client
  echo ""
  echo "Times from the first stream's end (the kill or the restart). Caught up: the stream has every notification published before it came back, each exactly once and in order (nb-storm checks every id against the publisher's answers; it includes waiting for the next poll for what was published just before it came back). Upstream requests: GET /delivery/notifications the mock answered from the kill or SIGTERM until nb-storm ended (publishing included), against one per --poll-interval per live bridge. Bridge CPU: from the first end until every stream caught up (nchan: back)."
} >"$TABLE"
say ""
cat "$TABLE"
say ""
say "Raw outputs: $OUT (results.txt: RESULT and DRIVER lines; LABEL.timeline.csv, LABEL.streams.csv)"
exit 0
