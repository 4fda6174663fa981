#!/usr/bin/env bash
# Runs the storage benchmark against its own throwaway PostgreSQL cluster, configured like the
# measurements in docs/design.md §12 (shared_buffers=2GB, max_wal_size=8GB, checkpoint_timeout=30min,
# wal_compression=off). Arguments go to store_bench (e.g. --repeat 5, --no-merge).
#   bench/store/run.sh [--build-dir build] [store_bench args...]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=build
if [[ ${1:-} == --build-dir ]]; then build=$2; shift 2; fi
bench=$build/bench/store/store_bench
[[ -x $bench ]] || { echo "error: $bench is not built (cmake --build $build --target store_bench)" >&2; exit 2; }
export BARFILL_PG_SETTINGS="shared_buffers = 2GB
max_wal_size = 8GB
checkpoint_timeout = 30min
wal_compression = off"
exec scripts/with-postgres.sh "$bench" "$@"
