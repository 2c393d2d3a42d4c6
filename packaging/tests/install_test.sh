#!/usr/bin/env bash
# Install rules (CMakeLists.txt):
#  1. `cmake --install BUILD --prefix P` puts the three programs in P/bin,
#     the page in P/share/<project>/public (identical to public/), the
#     systemd unit, the settings file (mode 600), the copyright file and,
#     when help2man was found, the man pages; the installed programs run.
#  2. A build configured for a prefix finds its installed page with no
#     --public-dir: its --help names the installed directory, and a file
#     added there is served at / (so it is not the source tree's public/).
#
# Usage: install_test.sh BUILD_DIR WORK_DIR   (ctest: packaging_install)
# WORK_DIR keeps a second, small build (NB_BUILD_TESTS=OFF) between runs;
# it is compiled with BUILD_DIR's flags (ccache shares their objects).
set -euo pipefail
build="$(cd "$1" && pwd)"
work="$2"
src="$(cd "$(dirname "$0")/../.." && pwd)"
project="nasqueron-notifications-bridge"
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$src/packaging/tests/prerequisites.sh"
mkdir -p "$work"
work="$(cd "$work" && pwd)"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# Waits for "listening on http://HOST:PORT" in FILE; prints PORT.
port_from() {
  local file="$1" line
  for _ in $(seq 100); do
    line="$(grep -o 'listening on http://[^ /]*' "$file" 2>/dev/null | head -1 || true)"
    if [ -n "$line" ]; then echo "${line##*:}"; return 0; fi
    sleep 0.1
  done
  cat "$file" >&2
  return 1
}

echo "== 1. cmake --install $build --prefix P"
p="$work/prefix-flag"
rm -rf "$p"
cmake --install "$build" --prefix "$p" >/dev/null
for exe in notifications-bridge notifications-mock-api notifications-tail; do
  [ -x "$p/bin/$exe" ] || fail "$p/bin/$exe missing"
  out="$("$p/bin/$exe" --version)" || fail "$exe --version failed"
  "$p/bin/$exe" --help >/dev/null || fail "$exe --help"
  [[ "$out" =~ ^$exe\ [0-9.]+$ ]] || fail "$exe --version: $out"
done
diff -r "$src/public" "$p/share/$project/public" || fail "installed page differs from public/"
unit="$p/lib/systemd/system/notifications-bridge.service"
[ -f "$unit" ] || fail "no systemd unit"
prefix_configured="$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")"
grep -qx "ExecStart=$prefix_configured/bin/notifications-bridge" "$unit" \
  || fail "unit's ExecStart is not the configured prefix's bin: $(grep ExecStart "$unit")"
env_file="$p/etc/notifications-bridge/bridge.env"
if [ "$prefix_configured" = /usr ]; then env_file="/etc/notifications-bridge/bridge.env"; fi
[ -f "$env_file" ] || fail "no $env_file"
[ "$(stat -c %a "$env_file")" = 600 ] || fail "$env_file is not mode 600"
[ -f "$p/share/doc/$project/copyright" ] || fail "no copyright file"
if grep -q '^NB_HELP2MAN:FILEPATH=/' "$build/CMakeCache.txt"; then
  for exe in notifications-bridge notifications-mock-api notifications-tail; do
    [ -f "$p/share/man/man1/$exe.1.gz" ] || fail "no man page for $exe"
  done
  zcat "$p/share/man/man1/notifications-bridge.1.gz" | grep -q 'delivery\\-url' \
    || fail "bridge man page lacks its flags"
  if zcat "$p/share/man/man1/notifications-bridge.1.gz" | sed 's/\\-/-/g' | grep -qF "$src/public"; then
    fail "man page names the source tree's public/ instead of the installed page"
  fi
  echo "man pages: ok"
else
  echo "man pages: not built (no help2man; scripts/install-deps.sh package)"
fi
echo "installed tree: ok ($(find "$p" -type f | wc -l) files)"

echo "== 2. a build for a prefix finds its installed page without --public-dir"
sb="$work/build-prefix"
p2="$work/prefix-configured"
build_for_prefix "$build" "$sb" "$p2"
rm -rf "$p2"
cmake --install "$sb" >/dev/null
installed_public="$p2/share/$project/public"
cd /
help="$("$p2/bin/notifications-bridge" --help)"
grep -qF -- "--public-dir TEXT=$installed_public " <<<"$help" \
  || fail "default --public-dir is not the installed page: $(grep -- --public-dir <<<"$help")"
echo "marker $$" >"$installed_public/nb-install-marker.txt"
"$p2/bin/notifications-mock-api" --port 0 --log-level warn >"$work/mock.out" 2>&1 &
pids+=($!)
mock_port="$(port_from "$work/mock.out")" || fail "mock did not start"
"$p2/bin/notifications-bridge" --delivery-url "http://127.0.0.1:$mock_port/delivery" \
  --listen 127.0.0.1:0 --log-level warn >"$work/bridge.out" 2>&1 &
pids+=($!)
bridge_port="$(port_from "$work/bridge.out")" || fail "bridge did not start"
curl -fsS "http://127.0.0.1:$bridge_port/" | cmp -s - "$src/public/index.html" || fail "/ is not the page"
[ "$(curl -fsS "http://127.0.0.1:$bridge_port/nb-install-marker.txt")" = "marker $$" ] \
  || fail "the page is not served from the installed directory"
echo "default public dir: $installed_public (served: ok)"
echo "PASS"
