#!/usr/bin/env bash
# The README's second command (and CI's): install what is missing (PostgreSQL included), build,
# and run every test suite against a throwaway PostgreSQL cluster that is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh build -DBARFILL_BUILD_TESTS=ON -DBARFILL_BUILD_BENCH=ON
jobs=$(nproc)
scripts/with-postgres.sh ctest --test-dir build --output-on-failure -j "$jobs" "$@"
