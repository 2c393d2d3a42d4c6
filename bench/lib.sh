# Shell helpers shared by the benchmark drivers (bench/run.sh,
# bench/storm.sh). Sourced, not run, from the repository's root.

say() { printf '%s\n' "$*" >&2; }
die() { say "$BENCH_SCRIPT: $*"; exit 1; }

# bench_start SCRIPT: sets BENCH_SCRIPT (for die), TMP (a fresh temporary
# directory) and PIDS (every process started, by pid: append to it), and
# traps that stop them all and remove TMP on exit, Ctrl-C included.
bench_start() {
  BENCH_SCRIPT=$1
  TMP=$(mktemp -d "/tmp/nb-$(basename "$1" .sh).XXXXXX")
  PIDS=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}
bench_cleanup() {
  stop_all
  rm -rf "$TMP"
}

# stop_pid PID: TERM, then KILL after 5 s.
stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# forget_pid PID: it has been waited for (its number may be reused).
forget_pid() {
  local kept=() p
  for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
  PIDS=(${kept[@]+"${kept[@]}"})
}

stop_all() {
  local pid
  for pid in ${PIDS[@]+"${PIDS[@]}"}; do stop_pid "$pid"; done
  PIDS=()
}

# wait_line FILE REGEX SECONDS: until a line of FILE matches.
wait_line() {
  local i
  for i in $(seq $(($3 * 20))); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# start_mock: notifications-mock-api ($MOCK) on a free port; sets MOCK_PID
# and MOCK_PORT.
MOCK_PORT="" MOCK_PID=""
start_mock() {
  "$MOCK" --port 0 --log-level warn >"$TMP/mock.out" 2>"$TMP/mock.err" &
  MOCK_PID=$!
  PIDS+=("$MOCK_PID")
  wait_line "$TMP/mock.out" 'listening on' 10 || die "mock did not start: $(cat "$TMP/mock.err")"
  MOCK_PORT=$(sed -n 's#^notifications-mock-api listening on http://[^:]*:\([0-9]*\)/.*#\1#p' "$TMP/mock.out")
}

# nginx_temp_paths DIR: the http-block lines that keep a throwaway nginx's
# files in DIR (and its access log off).
nginx_temp_paths() {
  printf '  access_log off;\n'
  printf '  %s_temp_path %s/%s;\n' client_body "$1" body proxy "$1" proxy \
    fastcgi "$1" fastcgi uwsgi "$1" uwsgi scgi "$1" scgi
}

# nginx_ready MASTER PORT WORKERS: waits (5 s at most) until nginx answers
# on PORT, then (2 s at most) for its WORKERS workers; sets NGINX_PIDS to
# "MASTER WORKER...". False when the master exited or never answered.
nginx_ready() {
  local master=$1 port=$2 workers=$3 i
  for i in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    kill -0 "$master" 2>/dev/null || break
    sleep 0.05
  done
  kill -0 "$master" 2>/dev/null && curl -s -o /dev/null "http://127.0.0.1:$port/" || return 1
  for i in $(seq 40); do
    [ "$(pgrep -P "$master" | wc -l)" -ge "$workers" ] && break
    sleep 0.05
  done
  NGINX_PIDS=$(echo "$master" $(pgrep -P "$master"))
}
