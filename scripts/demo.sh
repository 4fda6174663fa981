#!/usr/bin/env bash
# The README's first command: install what is missing, build, and run `barfill demo` (the seed's
# baseline against the built-in simulator, into an embedded SQLite file).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build -DBARFILL_BUILD_TESTS=OFF -DBARFILL_BUILD_BENCH=OFF
exec build/barfill demo "$@"
