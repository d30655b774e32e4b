#!/usr/bin/env bash
# scripts/test.sh - every test: cmocka unit tests and the integration tests
# that run the real tgctl and trackgate on real bpffs mounts and DPDK devices.
# Installs what it needs, builds, runs `meson test`.  Needs root.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/scripts/deps.sh"
"$src/scripts/build.sh" "$src/build"
meson test -C "$src/build" --print-errorlogs --num-processes 1 "$@"
