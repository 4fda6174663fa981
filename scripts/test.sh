#!/usr/bin/env bash
# The README's second command (and CI's): install what is missing (PostgreSQL included), build,
# and run every test suite against a throwaway PostgreSQL cluster that is removed afterwards:
#   1. Release build: unit, integration, pg and chaos tests;
#   2. ASan+UBSan build: unit, integration and pg tests again;
#   3. TSan build: the concurrent parts (rate limiter, pipeline, simulator, fetch path,
#      end-to-end runs with several PostgreSQL writers, the exchange calendars) again; not the
#      installed-package example: its program is configured from the installed package without
#      TSan flags against the TSan-built library, and that mix dies with a null read inside TSan's
#      runtime (Release and ASan run it and pass; to be looked into).
# Extra arguments go to every ctest call (e.g. -R Planner). BARFILL_SKIP_SANITIZERS=1 skips 2-3.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
jobs=$(nproc)
log() { printf '\n== %s ==\n' "$*"; }

log "release build"
scripts/build.sh build -DBARFILL_BUILD_TESTS=ON -DBARFILL_BUILD_BENCH=ON
log "release tests (unit, integration, pg, chaos)"
scripts/with-postgres.sh ctest --test-dir build --output-on-failure -j "$jobs" "$@"

if [[ ${BARFILL_SKIP_SANITIZERS:-0} == 1 ]]; then
  exit 0
fi

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
log "ASan+UBSan build"
scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBARFILL_SANITIZE=address,undefined \
  -DBARFILL_BUILD_BENCH=OFF
log "ASan+UBSan tests (unit, integration, pg)"
scripts/with-postgres.sh ctest --test-dir build-asan --output-on-failure -j "$jobs" -L 'unit|integration|pg' "$@"

export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/scripts/tsan.supp"
log "TSan build"
scripts/build.sh build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBARFILL_SANITIZE=thread -DBARFILL_BUILD_BENCH=OFF
log "TSan tests (concurrent parts)"
scripts/with-postgres.sh ctest --test-dir build-tsan --output-on-failure -j "$jobs" \
  -R 'RateLimiter|Retry|Backfill|BoundedQueue|Sim|Fetch|PgChaos|CrashChaos|ExchangeCalendar' \
  -E 'InstalledPackage' "$@"
