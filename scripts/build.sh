#!/usr/bin/env bash
# scripts/build.sh [BUILD_DIR] - configure (once) and build with meson.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
b=${1:-$src/build}
[ -f "$b/build.ninja" ] || meson setup "$b" "$src" >/dev/null
ninja -C "$b"
