#!/usr/bin/env bash
# The systemd unit and its settings file:
#  1. `systemd-analyze verify` accepts the unit (on a copy whose ExecStart
#     is the build's binary and whose EnvironmentFile is a copy of the
#     shipped one: verify wants both to exist);
#  2. it keeps the sandbox docs/deploy.md promises, and
#     `systemd-analyze security --offline` rates it (exposure printed,
#     must stay under 2.0, "OK");
#  3. every default written in the settings file, uncommented, is accepted
#     by the bridge: it starts with them and answers /status.
#
# Usage: systemd_test.sh BRIDGE_EXE WORK_DIR   (ctest: packaging_systemd)
# Needs systemd-analyze (Debian's systemd; scripts/install-deps.sh test);
# exits 77 (skipped) without it.
set -euo pipefail
bridge="$1"
work="$2"
src="$(cd "$(dirname "$0")/../.." && pwd)"
unit_src="$src/packaging/systemd/notifications-bridge.service"
env_src="$src/packaging/debian/bridge.env"
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$src/packaging/tests/prerequisites.sh"
rm -rf "$work"
mkdir -p "$work"
work="$(cd "$work" && pwd)"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "== directives"
for directive in DynamicUser=yes NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
  PrivateTmp=yes StateDirectory=notifications-bridge Restart=on-failure \
  EnvironmentFile=/etc/notifications-bridge/bridge.env \
  ExecStart=/usr/bin/notifications-bridge; do
  grep -qx "$directive" "$unit_src" || fail "unit lacks $directive"
done
grep -q '^RestrictAddressFamilies=' "$unit_src" || fail "unit lacks RestrictAddressFamilies"
nofile="$(sed -n 's/^LimitNOFILE=//p' "$unit_src")"
max_clients="$(sed -n 's/^#NOTIFICATIONS_BRIDGE_MAX_CLIENTS=//p' "$env_src")"
[ "$nofile" -gt "$((max_clients * 2))" ] || fail "LimitNOFILE $nofile too low for $max_clients clients"
tasks="$(sed -n 's/^TasksMax=//p' "$unit_src")"
[ "$tasks" -gt "$((max_clients + 64))" ] || fail "TasksMax $tasks too low for $max_clients streams (a thread each)"
# The state file is where StateDirectory= puts it.
grep -qx 'NOTIFICATIONS_BRIDGE_STATE_FILE=/var/lib/notifications-bridge/cursor' "$env_src" \
  || fail "bridge.env does not put the state file in the StateDirectory"

command -v systemd-analyze >/dev/null \
  || missing_prerequisite "(the rest) systemd-analyze not found (scripts/install-deps.sh test)"

echo "== systemd-analyze verify"
cp "$env_src" "$work/bridge.env"
unit="$work/notifications-bridge.service"
sed -e "s|^ExecStart=/usr/bin/notifications-bridge|ExecStart=$bridge|" \
    -e "s|^EnvironmentFile=.*|EnvironmentFile=$work/bridge.env|" "$unit_src" >"$unit"
grep -q "^ExecStart=$bridge\$" "$unit" || fail "could not point ExecStart at $bridge"
# --man=no: the man page is checked by the install test, not installed here.
if ! out="$(systemd-analyze verify --man=no "$unit" 2>&1)"; then
  echo "$out" >&2
  fail "systemd-analyze verify"
fi
# It exits 0 on some problems; anything it says about our unit is one.
if grep -i 'notifications-bridge' <<<"$out"; then fail "systemd-analyze verify complained"; fi
echo "verify: ok"

echo "== systemd-analyze security --offline"
security="$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1 || true)"
line="$(grep -E 'Overall exposure level' <<<"$security" || true)"
[ -n "$line" ] || { echo "$security" >&2; fail "no exposure level"; }
echo "$line"
score="$(sed -E 's/.*: ([0-9.]+).*/\1/' <<<"$line")"
awk -v s="$score" 'BEGIN { exit !(s < 2.0) }' || { echo "$security" >&2; fail "exposure $score >= 2.0"; }

echo "== every default in bridge.env is accepted by the bridge"
defaults="$work/defaults.env"
# "#NOTIFICATIONS_BRIDGE_X=value" lines with a value; the page's installed
# directory may not exist on this machine; upstream and port are the test's.
grep -E '^#?NOTIFICATIONS_BRIDGE_[A-Z0-9_]+=.+' "$env_src" | sed 's/^#//' \
  | grep -vE '^NOTIFICATIONS_BRIDGE_(PUBLIC_DIR|DELIVERY_URL|LISTEN|STATE_FILE)=' >"$defaults"
[ "$(wc -l <"$defaults")" -ge 15 ] || fail "too few defaults in bridge.env: $(wc -l <"$defaults")"
env_args=()
while IFS= read -r kv; do env_args+=("$kv"); done <"$defaults"
env -i PATH=/usr/bin:/bin "${env_args[@]}" \
  NOTIFICATIONS_BRIDGE_DELIVERY_URL=http://127.0.0.1:9/delivery \
  NOTIFICATIONS_BRIDGE_LISTEN=127.0.0.1:0 \
  NOTIFICATIONS_BRIDGE_STATE_FILE="$work/cursor" \
  NOTIFICATIONS_BRIDGE_LOG_LEVEL=error \
  "$bridge" >"$work/bridge.out" 2>&1 &
pids+=($!)
port=""
for _ in $(seq 100); do
  line="$(grep -o 'listening on http://[^ /]*' "$work/bridge.out" 2>/dev/null | head -1 || true)"
  [ -n "$line" ] && { port="${line##*:}"; break; }
  kill -0 "${pids[-1]}" 2>/dev/null || break
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/bridge.out" >&2; fail "the bridge refused bridge.env's defaults"; }
[ "$(curl -fsS "http://127.0.0.1:$port/status")" = ALIVE ] || fail "/status"
echo "$(wc -l <"$defaults") defaults accepted"
echo "PASS"
