#!/usr/bin/env bash
# The Debian package: builds it with `cpack -G DEB` from a build configured
# for /usr, checks its control fields (Depends derived by dpkg-shlibdeps:
# libcurl4, libcpp-httplib0.11, ...; the conffile; maintainer scripts) and
# its files, installs it with dpkg into a scratch root (a dpkg database of
# its own; maintainer scripts run with DPKG_ROOT set, so they leave the
# machine alone), runs the installed programs' --version, then removes and
# purges it and checks what each step leaves. Not root: `dpkg -x` instead.
#
# Usage: deb_test.sh BUILD_DIR WORK_DIR   (ctest: packaging_deb)
# WORK_DIR keeps the /usr build between runs, compiled with BUILD_DIR's
# flags (ccache shares their objects). Needs dpkg-dev and file
# (scripts/install-deps.sh package); exits 77 (skipped) without them.
set -euo pipefail
build="$(cd "$1" && pwd)"
work="$2"
src="$(cd "$(dirname "$0")/../.." && pwd)"
project="nasqueron-notifications-bridge"
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$src/packaging/tests/prerequisites.sh"
for tool in dpkg-deb dpkg-shlibdeps file cpack; do
  command -v "$tool" >/dev/null \
    || missing_prerequisite "$tool not found (scripts/install-deps.sh package)"
done
mkdir -p "$work"
work="$(cd "$work" && pwd)"
version="$(sed -n 's/^  VERSION \([0-9.]*\)$/\1/p' "$src/CMakeLists.txt" | head -1)"

echo "== build for /usr and cpack -G DEB"
b="$work/build-usr"
build_for_prefix "$build" "$b" /usr
rm -rf "$work/out"
(cd "$b" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log" >&2; fail "cpack"; }
debs=("$work"/out/*.deb)
[ "${#debs[@]}" = 1 ] && [ -f "${debs[0]}" ] || fail "expected one .deb in $work/out"
deb="${debs[0]}"
echo "$(basename "$deb"): $(stat -c %s "$deb") bytes"

echo "== control fields"
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = "$project" ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version), project $version"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] || fail "Architecture: $(field Architecture)"
depends="$(field Depends)"
echo "Depends: $depends"
depends_names="$(tr ',' '\n' <<<"$depends" | sed 's/^ *//; s/ .*//')"
for pkg in libcurl4 libcpp-httplib0.11 librabbitmq4 libc6 libstdc++6; do
  grep -qxF "$pkg" <<<"$depends_names" || fail "Depends lacks $pkg"
done
grep -q 'ca-certificates' <<<"$(field Recommends)" || fail "Recommends lacks ca-certificates"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"

ctl="$work/control"
rm -rf "$ctl"
dpkg-deb -e "$deb" "$ctl"
grep -qx /etc/notifications-bridge/bridge.env "$ctl/conffiles" || fail "bridge.env is not a conffile"
for script in postinst prerm postrm; do
  [ -x "$ctl/$script" ] || fail "no executable $script"
  sh -n "$ctl/$script" || fail "$script: syntax"
done
[ ! -e "$ctl/preinst" ] || fail "unexpected preinst"

echo "== files"
listing="$(dpkg-deb -c "$deb")"
has() { grep -qE " \./$1\$" <<<"$listing" || fail "package lacks /$1"; }
for exe in notifications-bridge notifications-mock-api notifications-tail; do
  has "usr/bin/$exe"
  has "usr/share/man/man1/$exe.1.gz"
done
has "usr/lib/systemd/system/notifications-bridge.service"
has "usr/share/$project/public/index.html"
has "usr/share/doc/$project/copyright"
grep -E ' \./etc/notifications-bridge/bridge\.env$' <<<"$listing" | grep -q '^-rw------- root/root' \
  || fail "bridge.env is not -rw------- root/root"
if grep -E ' \./usr/local/' <<<"$listing"; then fail "files under /usr/local"; fi
bins="$(awk '$6 ~ /^\.\/usr\/bin\/./ { print $6 }' <<<"$listing" | sort | tr '\n' ' ')"
[ "$bins" = "./usr/bin/notifications-bridge ./usr/bin/notifications-mock-api ./usr/bin/notifications-tail " ] \
  || fail "programs in the package: $bins"

root="$work/root"
rm -rf "$root"
mkdir -p "$root"
if [ "$(id -u)" = 0 ]; then
  echo "== dpkg --root (scratch database, maintainer scripts without chroot)"
  mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
  touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
  dpkg_root=(dpkg --root="$root" --force-script-chrootless --force-depends --log=/dev/null)
  "${dpkg_root[@]}" -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -i"; }
  status="$("${dpkg_root[@]}" -s "$project")"
  grep -qx 'Status: install ok installed' <<<"$status" || fail "not installed: $status"
  grep -q '^ /etc/notifications-bridge/bridge.env [0-9a-f]\{32\}$' <<<"$status" \
    || fail "dpkg does not track bridge.env as a conffile"
else
  echo "== dpkg -x (not root)"
  dpkg -x "$deb" "$root"
fi

bin="$root/usr/bin"
for exe in notifications-bridge notifications-mock-api notifications-tail; do
  out="$("$bin/$exe" --version)" || fail "$exe --version failed"
  [ "$out" = "$exe $version" ] || fail "$exe --version: $out"
  echo "$exe --version: $out"
done
# The installed page's directory is compiled in.
grep -qaF "/usr/share/$project/public" "$bin/notifications-bridge" \
  || fail "the bridge does not look for /usr/share/$project/public"
unit="$root/usr/lib/systemd/system/notifications-bridge.service"
grep -qx 'ExecStart=/usr/bin/notifications-bridge' "$unit" || fail "unit ExecStart"
grep -qx 'EnvironmentFile=/etc/notifications-bridge/bridge.env' "$unit" || fail "unit EnvironmentFile"

if [ "$(id -u)" = 0 ]; then
  echo "== dpkg -r, then -P"
  # As if the service had saved its cursor (DynamicUser: /var/lib/private).
  mkdir -p "$root/var/lib/private/notifications-bridge"
  echo "cursor" >"$root/var/lib/private/notifications-bridge/cursor"
  "${dpkg_root[@]}" -r "$project" >>"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -r"; }
  [ ! -e "$bin/notifications-bridge" ] || fail "binary left after remove"
  [ -f "$root/etc/notifications-bridge/bridge.env" ] || fail "remove must keep the conffile"
  grep -qx 'Status: deinstall ok config-files' <<<"$("${dpkg_root[@]}" -s "$project")" \
    || fail "not in config-files state after remove"
  "${dpkg_root[@]}" -P "$project" >>"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -P"; }
  [ ! -e "$root/etc/notifications-bridge/bridge.env" ] || fail "purge must delete the conffile"
  [ ! -e "$root/var/lib/private/notifications-bridge" ] || fail "purge must delete the state"
  left="$(find "$root" -path "$root/var/lib/dpkg" -prune -o -type f -print)"
  [ -z "$left" ] || fail "files left after purge: $left"
  if "${dpkg_root[@]}" -s "$project" >/dev/null 2>&1; then fail "still known to dpkg after purge"; fi
fi
rm -rf "$root"
echo "PASS"
