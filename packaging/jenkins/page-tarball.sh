#!/usr/bin/env bash
# Packs the page (public/) for infra.nasqueron.org, the way that site is
# published: a tarball Jenkins archives and extracts into the site's root
# (see Jenkinsfile). It holds notifications/index.html, notifications/js/…,
# so the page lands at https://infra.nasqueron.org/notifications/.
#
# Usage: page-tarball.sh OUTPUT.tar.gz [STREAM_URL]
#   STREAM_URL   the bridge's stream, written into the page's
#                <meta name="notifications-stream"> (docs/page.md); empty:
#                left empty ("events" next to the page, or ?stream=)
#   SOURCE_DATE_EPOCH (environment) file times in the tarball; default: the
#                last commit's time, so the same commit gives the same bytes
#   PAGE_DIR (environment) the folder name in the tarball (default notifications)
set -euo pipefail
out="$1"
stream_url="${2:-}"
src="$(cd "$(dirname "$0")/../.." && pwd)"
page_dir="${PAGE_DIR:-notifications}"
epoch="${SOURCE_DATE_EPOCH:-$(git -C "$src" log -1 --format=%ct 2>/dev/null || echo 0)}"

staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT
cp -R "$src/public" "$staging/$page_dir"
if [ -n "$stream_url" ]; then
  case "$stream_url" in
    http://*|https://*) ;;
    *) echo "page-tarball: STREAM_URL must be an http(s) URL, got: $stream_url" >&2; exit 2 ;;
  esac
  meta='<meta name="notifications-stream" content="">'
  grep -qF "$meta" "$staging/$page_dir/index.html" \
    || { echo "page-tarball: public/index.html has no empty $meta" >&2; exit 1; }
  escaped="$(sed -e 's/&/\&amp;/g; s/"/\&quot;/g; s/</\&lt;/g' <<<"$stream_url" | sed -e 's/[|&\\]/\\&/g')"
  sed -i "s|$meta|<meta name=\"notifications-stream\" content=\"$escaped\">|" "$staging/$page_dir/index.html"
fi
find "$staging" -type d -exec chmod 755 {} +
find "$staging" -type f -exec chmod 644 {} +
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
  -C "$staging" -cf - "$page_dir" | gzip -9n >"$out"
echo "$out: $(tar -tzf "$out" | grep -vc '/$') files under $page_dir/"
