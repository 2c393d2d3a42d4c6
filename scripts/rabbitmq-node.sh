# A throwaway RabbitMQ node for scripts (demo.sh --amqp, bench/amqp_latency.sh):
# Debian's rabbitmq-server run directly (not the /usr/sbin wrapper, not
# systemd) in a temporary directory, on 127.0.0.1:$1, with its own epmd port
# and HOME (its Erlang cookie). The C++ tests have the same in
# tests/support/rabbitmq_node.h. Source this file, then:
#
#   rabbitmq_node_start PORT DEFINITIONS_JSON_FILE   # boots, imports, waits
#   rabbitmq_node_ctl ARGS...                        # rabbitmqctl for it
#   rabbitmq_node_stop                               # shutdown, epmd, rm -rf
#
# Sets RABBITMQ_NODE_DIR. Needs rabbitmq-server (packaging/debian-packages.txt).

RABBITMQ_NODE_DIR=""
RABBITMQ_NODE_PORT_=""

rabbitmq_node_env() {
  local d=$RABBITMQ_NODE_DIR p=$RABBITMQ_NODE_PORT_
  env HOME="$d/home" RABBITMQ_NODENAME="nbscript$$@localhost" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$p" \
    RABBITMQ_DIST_PORT=$((p + 20000)) ERL_EPMD_PORT=$((p + 1)) \
    ERL_EPMD_ADDRESS=127.0.0.1 RABBITMQ_MNESIA_BASE="$d/mnesia" \
    RABBITMQ_LOG_BASE="$d/log" RABBITMQ_PID_FILE="$d/pid" \
    RABBITMQ_CONFIG_FILE="$d/rabbitmq.conf" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$d/none.config" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins" \
    RABBITMQ_CONF_ENV_FILE="$d/none.conf" "$@"
}

rabbitmq_node_ctl() { rabbitmq_node_env /usr/lib/rabbitmq/bin/rabbitmqctl "$@"; }

# rabbitmq_node_start PORT DEFINITIONS: returns 1 (with the log on stderr)
# when the node does not come up within 180 s.
rabbitmq_node_start() {
  RABBITMQ_NODE_PORT_=$1
  RABBITMQ_NODE_DIR="$(mktemp -d /tmp/nb-rabbitmq-XXXXXX)"
  local d=$RABBITMQ_NODE_DIR
  mkdir -p "$d/home" "$d/mnesia" "$d/log"
  chmod 700 "$d/home"
  printf 'listeners.tcp.default = 127.0.0.1:%s\nlog.console = true\nlog.console.level = warning\nlog.file = false\n' \
    "$RABBITMQ_NODE_PORT_" >"$d/rabbitmq.conf"
  echo '[].' >"$d/enabled_plugins"
  rabbitmq_node_env /usr/lib/rabbitmq/bin/rabbitmq-server >"$d/server.log" 2>&1 &
  echo $! >"$d/server.pid"
  if ! rabbitmq_node_ctl wait "$d/pid" --timeout 180 >/dev/null 2>&1; then
    echo "rabbitmq-server did not start; its log ($d/server.log):" >&2
    tail -20 "$d/server.log" >&2
    return 1
  fi
  rabbitmq_node_ctl import_definitions "$2" >/dev/null || return 1
  # The import finishes in the background: wait for its last queue.
  local last
  last=$(grep -o '"name": *"[^"]*"' "$2" | tail -1 | sed 's/.*"\([^"]*\)"$/\1/')
  local vhost
  vhost=$(grep -o '"vhost": *"[^"]*"' "$2" | tail -1 | sed 's/.*"\([^"]*\)"$/\1/')
  for _ in $(seq 100); do
    rabbitmq_node_ctl -q list_queues -p "${vhost:-/}" name 2>/dev/null | grep -qx "$last" && return 0
    sleep 0.2
  done
  return 0
}

rabbitmq_node_stop() {
  [ -n "$RABBITMQ_NODE_DIR" ] || return 0
  local pid
  pid="$(cat "$RABBITMQ_NODE_DIR/server.pid" 2>/dev/null || true)"
  rabbitmq_node_ctl shutdown >/dev/null 2>&1 || { [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; } || true
  # The start script's shell ends with the node (bounded: 20 s).
  for _ in $(seq 100); do
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  # epmd outlives the node: stop this node's own (its port is ours).
  rabbitmq_node_env epmd -kill >/dev/null 2>&1 || true
  rm -rf "$RABBITMQ_NODE_DIR"
  RABBITMQ_NODE_DIR=""
}
