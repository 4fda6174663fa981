#!/usr/bin/env bash
# The README's first command: install what is missing, build, and run `barfill demo` (the seed's
# baseline against the built-in simulator, into an embedded SQLite file).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
BARFILL_TARGET=barfill_cli scripts/build.sh build
exec build/barfill demo "$@"
