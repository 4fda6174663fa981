#!/usr/bin/env bash
# Configures and builds barfill. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
# Default: build/ in Release, every target; BARFILL_TARGET=barfill_cli builds only the
# executable. The barfill binary lands in BUILD_DIR/barfill.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}
shift || true
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [[ ! -f $build_dir/CMakeCache.txt ]]; then
  cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
elif (($#)); then
  cmake "$build_dir" "$@"
fi
cmake --build "$build_dir" -j "$(nproc)" ${BARFILL_TARGET:+--target "$BARFILL_TARGET"}
