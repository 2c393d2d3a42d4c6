#!/usr/bin/env bash
# The page's tarball for infra.nasqueron.org (packaging/jenkins/
# page-tarball.sh, run by the Jenkinsfile): extracted, it is public/ under
# notifications/, byte for byte, except the stream URL written into the
# meta tag; files 644, directories 755, owner 0; the same commit gives the
# same bytes; a bad URL is refused. The Jenkinsfile archives and publishes
# the file the script writes.
#
# Usage: page_tarball_test.sh WORK_DIR   (ctest: packaging_page_tarball)
set -euo pipefail
work="$1"
src="$(cd "$(dirname "$0")/../.." && pwd)"
script="$src/packaging/jenkins/page-tarball.sh"
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"
url='https://api.nasqueron.org/notifications/events'
export SOURCE_DATE_EPOCH=1700000000

"$script" "$work/a.tar.gz" "$url"
"$script" "$work/b.tar.gz" "$url"
cmp -s "$work/a.tar.gz" "$work/b.tar.gz" || fail "two runs differ: not reproducible"

mkdir "$work/x"
tar -xzf "$work/a.tar.gz" -C "$work/x"
[ "$(ls "$work/x")" = notifications ] || fail "tarball root is not notifications/"
diff -r -x index.html "$src/public" "$work/x/notifications" || fail "files differ from public/"
diff <(grep -v 'name="notifications-stream"' "$src/public/index.html") \
     <(grep -v 'name="notifications-stream"' "$work/x/notifications/index.html") \
  || fail "index.html differs beyond the meta tag"
grep -qF "<meta name=\"notifications-stream\" content=\"$url\">" "$work/x/notifications/index.html" \
  || fail "stream URL not in the meta tag"
bad="$(tar -tvzf "$work/a.tar.gz" | awk '($1 !~ /^d/ && $1 != "-rw-r--r--") || ($1 ~ /^d/ && $1 != "drwxr-xr-x") || $2 != "0/0"')"
[ -z "$bad" ] || fail "modes or owners: $bad"

"$script" "$work/c.tar.gz"
tar -xzOf "$work/c.tar.gz" notifications/index.html | cmp -s - "$src/public/index.html" \
  || fail "without a URL, index.html must be unchanged"
if "$script" "$work/d.tar.gz" 'javascript:alert(1)' 2>/dev/null; then fail "accepted a non-http URL"; fi

jf="$src/Jenkinsfile"
grep -qF "packaging/jenkins/page-tarball.sh www-nasqueron-infra-notifications.tar.gz" "$jf" \
  || fail "Jenkinsfile does not run the script"
[ "$(grep -c "www-nasqueron-infra-notifications.tar.gz" "$jf")" -ge 3 ] \
  || fail "Jenkinsfile does not archive and publish the same file"
echo "$(tar -tzf "$work/a.tar.gz" | grep -vc '/$') files, sha256 $(sha256sum <"$work/a.tar.gz" | cut -c1-16)…"
echo "PASS"
