#!/usr/bin/env bash
# Every NOTIFICATIONS_BRIDGE_* variable named by the deployment files and
# docs/deploy.md is one the bridge reads (its --help lists them: "Env:..."
# for each flag, plus the secrets NOTIFICATIONS_BRIDGE_TOKEN,
# NOTIFICATIONS_BRIDGE_STREAM_TOKEN and NOTIFICATIONS_BRIDGE_AMQP_PASSWORD),
# and the settings file shipped in the
# .deb documents every one of them. A renamed flag cannot leave a setting
# silently ignored in production.
#
# Usage: env_names_test.sh BRIDGE_EXE   (ctest: packaging_env_names)
set -euo pipefail
bridge="$1"
src="$(cd "$(dirname "$0")/../.." && pwd)"
fail() { echo "FAIL: $*" >&2; exit 1; }

help="$("$bridge" --help)"
known="$(grep -oE 'Env:NOTIFICATIONS_BRIDGE_[A-Z0-9_]+' <<<"$help" | sed 's/^Env://' | sort -u)"
[ "$(wc -l <<<"$known")" -ge 20 ] || fail "too few Env: names in --help"
for secret in NOTIFICATIONS_BRIDGE_TOKEN NOTIFICATIONS_BRIDGE_STREAM_TOKEN \
    NOTIFICATIONS_BRIDGE_AMQP_PASSWORD; do
  grep -qF "$secret" <<<"$help" || fail "--help does not mention $secret"
  known="$(printf '%s\n%s' "$known" "$secret" | sort -u)"
done

files=()
while IFS= read -r f; do files+=("$f"); done < <(
  cd "$src" && find packaging -type f ! -path 'packaging/tests/*' | sort
  cd "$src" && ls Jenkinsfile docs/deploy.md 2>/dev/null || true)
bad=0
for f in "${files[@]}"; do
  while IFS= read -r name; do
    if ! grep -qx "$name" <<<"$known"; then
      echo "$f: $name is not a variable the bridge reads" >&2
      bad=1
    fi
  done < <(grep -oE 'NOTIFICATIONS_BRIDGE_[A-Z0-9_]*[A-Z0-9]' "$src/$f" | sort -u)
done
[ "$bad" = 0 ] || fail "unknown variable names (see above)"

env_file="$src/packaging/debian/bridge.env"
while IFS= read -r name; do
  grep -qE "^#?$name=" "$env_file" || fail "bridge.env does not document $name"
done <<<"$known"
echo "$(wc -l <<<"$known") variables, ${#files[@]} files: ok"
echo "PASS"
