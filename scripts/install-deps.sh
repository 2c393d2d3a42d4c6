#!/usr/bin/env bash
# Installs the Debian packages a group needs (packaging/debian-packages.txt),
# only those missing. Usage: scripts/install-deps.sh build [test ...]
set -euo pipefail
cd "$(dirname "$0")/.."

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

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing: ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo; missing: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
