#!/usr/bin/env bash
# Opt-in (NB_TEST_PODMAN=1): builds packaging/docker/Dockerfile with podman
# and runs the image. See packaging/docker/README.md for why it is opt-in
# and what it needs. Skipped (77) otherwise.
#
# Usage: podman_test.sh WORK_DIR   (ctest: packaging_podman)
set -euo pipefail
work="$1"
src="$(cd "$(dirname "$0")/../.." && pwd)"
if [ "${NB_TEST_PODMAN:-}" != 1 ]; then
  echo "SKIPPED: set NB_TEST_PODMAN=1 to build and run the container with podman"
  exit 77
fi
exec "$src/packaging/docker/podman-build-and-run.sh" "$work"
