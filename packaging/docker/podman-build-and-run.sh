#!/usr/bin/env bash
# Builds packaging/docker/Dockerfile with podman and runs the image's
# programs the way a container engine would, without needing one that
# works on this machine. Run by packaging/tests/podman_test.sh when
# NB_TEST_PODMAN=1 (ctest: packaging_podman); needs root, podman,
# debootstrap (unless NB_PODMAN_BASE is given), unshare, chroot and ip.
#
# 1. Base image: with no registry at hand, debian:12 and debian:12-slim are
#    both replaced by a `debootstrap --variant=minbase bookworm` tree
#    imported with `podman import` (or by NB_PODMAN_BASE, an image name).
# 2. `podman build --format docker` (the OCI format has no HEALTHCHECK),
#    with `--isolation chroot`: RUN steps need no OCI runtime, cgroups or
#    CAP_SYS_RESOURCE, which sandboxes often lack.
# 3. The image's configuration: user 10080:10080, entrypoint, port 80, the
#    health check.
# 4. A container's filesystem (`podman create` + `podman mount`) run with
#    chroot as uid 10080, in a fresh network namespace where
#    net.ipv4.ip_unprivileged_port_start=0 (what Docker sets for every
#    container): the mock API and the bridge from the image, the bridge on
#    0.0.0.0:80 under API_ENTRY_POINT=/notifications; an event goes
#    through; the image's own HEALTHCHECK command succeeds; the cursor is
#    saved in the state volume's directory; SIGTERM exits 0. Then the same
#    bind to port 80 without that sysctl, to show it is what makes it work.
#
# Usage: podman-build-and-run.sh WORK_DIR
# Environment: NB_PODMAN_BASE (image), NB_DEBIAN_MIRROR (debootstrap mirror,
# default http://deb.debian.org/debian), NB_PODMAN_TAG (default
# localhost/notifications-bridge:test).
set -euo pipefail
work="$1"
src="$(cd "$(dirname "$0")/../.." && pwd)"
tag="${NB_PODMAN_TAG:-localhost/notifications-bridge:test}"
mirror="${NB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
fail() { echo "FAIL: $*" >&2; exit 1; }
for tool in podman unshare chroot ip; do
  command -v "$tool" >/dev/null || fail "$tool not found"
done
[ "$(id -u)" = 0 ] || fail "needs root (chroot, network namespace, podman mount)"
mkdir -p "$work"
work="$(cd "$work" && pwd)"

echo "== 1. base image"
base="${NB_PODMAN_BASE:-}"
if [ -z "$base" ]; then
  base=localhost/nb-debian-minbase:12
  if ! podman image exists "$base"; then
    command -v debootstrap >/dev/null || fail "debootstrap not found (or set NB_PODMAN_BASE)"
    rm -rf "$work/rootfs"
    debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
      || { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap"; }
    tar -C "$work/rootfs" -c . | podman import - "$base" >/dev/null
    rm -rf "$work/rootfs"
  fi
fi
echo "base: $base"

echo "== 2. podman build"
start=$(date +%s)
podman build --format docker --isolation chroot \
  --build-arg DEBIAN_IMAGE="$base" --build-arg DEBIAN_SLIM_IMAGE="$base" \
  --ignorefile "$src/packaging/docker/Dockerfile.dockerignore" \
  -f "$src/packaging/docker/Dockerfile" -t "$tag" "$src" >"$work/build.log" 2>&1 \
  || { tail -30 "$work/build.log" >&2; fail "podman build"; }
echo "built $tag in $(( $(date +%s) - start )) s, $(podman image inspect "$tag" --format '{{.Size}}') bytes"

echo "== 3. image configuration"
cfg() { podman image inspect "$tag" --format "$1"; }
[ "$(cfg '{{.Config.User}}')" = 10080:10080 ] || fail "user: $(cfg '{{.Config.User}}')"
[ "$(cfg '{{json .Config.Entrypoint}}')" = '["/usr/bin/notifications-bridge"]' ] || fail "entrypoint"
cfg '{{json .Config.ExposedPorts}}' | grep -q '"80/tcp"' || fail "port 80 not exposed"
health="$(cfg '{{index .Config.Healthcheck.Test 1}}')"
[ "$(cfg '{{index .Config.Healthcheck.Test 0}}')" = CMD-SHELL ] && [ -n "$health" ] || fail "no HEALTHCHECK"
image_env=()
while IFS= read -r kv; do image_env+=("$kv"); done < <(cfg '{{range .Config.Env}}{{println .}}{{end}}' | sed '/^$/d')

echo "== 4. run the container's filesystem as uid 10080, port 80, own network namespace"
ctr="$(podman create "$tag")"
cleanup() { podman umount "$ctr" >/dev/null 2>&1 || true; podman rm -f "$ctr" >/dev/null 2>&1 || true; }
trap cleanup EXIT
root="$(podman mount "$ctr")"
[ -x "$root/usr/bin/notifications-bridge" ] || fail "no bridge in the image"
# The run, inside a new network namespace (as a container has).
cat >"$work/inside.sh" <<'INSIDE'
set -euo pipefail
root="$1"; shift
health="$1"; shift
ip link set lo up
sysctl -qw net.ipv4.ip_unprivileged_port_start=0
as_user() { chroot --userspec=10080:10080 "$root" /usr/bin/env -i "$@"; }
# Started directly (not through a function) so that $! is the program
# itself: chroot and env exec it.
: >/tmp/nb-podman-mock.out
chroot --userspec=10080:10080 "$root" /usr/bin/env -i "$@" \
  /usr/bin/notifications-mock-api --port 0 --log-level warn >/tmp/nb-podman-mock.out 2>&1 &
mock=$!
for _ in $(seq 100); do grep -q 'listening on' /tmp/nb-podman-mock.out && break; sleep 0.1; done
mport="$(grep -o '127.0.0.1:[0-9]*' /tmp/nb-podman-mock.out | head -1 | cut -d: -f2)"
[ -n "$mport" ] || { cat /tmp/nb-podman-mock.out; exit 1; }
chroot --userspec=10080:10080 "$root" /usr/bin/env -i "$@" API_ENTRY_POINT=/notifications \
  NOTIFICATIONS_BRIDGE_DELIVERY_URL="http://127.0.0.1:$mport/delivery" \
  NOTIFICATIONS_BRIDGE_POLL_INTERVAL=0.2 /usr/bin/notifications-bridge >/tmp/nb-podman-bridge.out 2>&1 &
bridge=$!
for _ in $(seq 100); do grep -q 'listening on' /tmp/nb-podman-bridge.out && break; sleep 0.1; done
grep -q 'listening on http://0.0.0.0:80/notifications/' /tmp/nb-podman-bridge.out \
  || { cat /tmp/nb-podman-bridge.out; echo "bridge not on 0.0.0.0:80 under /notifications"; exit 1; }
echo "bridge (uid 10080) listening on 0.0.0.0:80/notifications/"
as_user "$@" API_ENTRY_POINT=/notifications /bin/sh -c "$health" || { echo "HEALTHCHECK failed"; exit 1; }
echo "image HEALTHCHECK: ok"
timeout 5 curl -sN "http://127.0.0.1:80/notifications/events" >/tmp/nb-podman-events.out &
sleep 0.5
curl -fsS -d '{"service":"DockerHub","group":"docker","type":"push","text":"in the image","link":""}' \
  "http://127.0.0.1:$mport/gate/Notification/Nasqueron" >/dev/null
for _ in $(seq 40); do grep -q 'in the image' /tmp/nb-podman-events.out && break; sleep 0.1; done
grep -q 'in the image' /tmp/nb-podman-events.out || { echo "no event through the stream"; exit 1; }
echo "event through http://127.0.0.1:80/notifications/events: ok"
[ -s "$root/var/lib/notifications-bridge/cursor" ] || { echo "no cursor in the state directory"; exit 1; }
[ "$(stat -c %u "$root/var/lib/notifications-bridge/cursor")" = 10080 ] || { echo "cursor not owned by 10080"; exit 1; }
echo "cursor saved in /var/lib/notifications-bridge: ok"
kill -TERM "$bridge"
rc=0; wait "$bridge" || rc=$?
[ "$rc" = 0 ] || { echo "bridge exited $rc on SIGTERM"; exit 1; }
echo "SIGTERM: exit 0"
kill "$mock" 2>/dev/null || true
# Without the sysctl, uid 10080 cannot bind port 80.
sysctl -qw net.ipv4.ip_unprivileged_port_start=1024
rc=0
as_user "$@" NOTIFICATIONS_BRIDGE_DELIVERY_URL=http://127.0.0.1:9/delivery \
  timeout 3 /usr/bin/notifications-bridge >/tmp/nb-podman-bridge2.out 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat /tmp/nb-podman-bridge2.out; echo "expected exit 1 (port 80 refused), got $rc"; exit 1; }
echo "without ip_unprivileged_port_start=0: exit 1, $(grep -m1 -i 'bind\|listen\|port' /tmp/nb-podman-bridge2.out)"
INSIDE
unshare --net bash "$work/inside.sh" "$root" "$health" "${image_env[@]}" || fail "run in the image"
echo "PASS"
