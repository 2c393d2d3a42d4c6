#!/usr/bin/env bash
# Installs the Debian packages a group needs (packaging/debian-packages.txt),
# only those missing. Usage: scripts/install-deps.sh [--lists] build [test ...]
#   --lists   also make sure apt's package lists exist (apt-get update when
#             there are none), for the tests that check package names
set -euo pipefail
cd "$(dirname "$0")/.."

want_lists=0
if [ "${1:-}" = "--lists" ]; then
  want_lists=1
  shift
fi
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(build)

wanted=()
for group in "${groups[@]}"; do
  while read -r g pkg; do
    [ "$g" = "$group" ] && wanted+=("$pkg")
  done < <(grep -v '^#' packaging/debian-packages.txt)
done

missing=()
for pkg in "${wanted[@]}"; do
  if [ "$pkg" = nodejs ] && command -v node >/dev/null && command -v npm >/dev/null; then
    continue  # Any Node.js >= 18 with npm will do.
  fi
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$pkg")
done
if [ "$(printf '%s\n' "${missing[@]}" | grep -cx nodejs || true)" -gt 0 ]; then
  missing+=(npm)  # Debian ships npm separately.
fi

have_lists=1
ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || have_lists=0
if [ ${#missing[@]} -eq 0 ] && { [ "$want_lists" = 0 ] || [ "$have_lists" = 1 ]; }; then
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo; missing: ${missing[*]:-apt package lists}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
[ ${#missing[@]} -gt 0 ] || exit 0
echo "Installing: ${missing[*]}" >&2
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
