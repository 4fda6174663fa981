#!/usr/bin/env bash
# The README's second command (and CI's): install what is missing (PostgreSQL included), build,
# and run every test suite against a throwaway PostgreSQL cluster that is removed afterwards:
#   1. Release build: unit, integration, pg and chaos tests;
#   2. ASan+UBSan build: unit, integration and pg tests again;
#   3. TSan build of the executables marked TSAN (target tsan_tests): the concurrent parts (rate
#      limiter, pipeline, simulator, fetch path, end-to-end runs with several writers, flat-file
#      and grouped passes, workers, the exchange calendars) again.
# The sanitizer builds compile the code under test at -O1 -g1 and the test code at -O0
# (cmake/Barfill.cmake): instrumented -O2 -g builds took most of CI's time.
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
sanitized=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -DNDEBUG" -DBARFILL_BUILD_BENCH=OFF)
scripts/build.sh build-asan "${sanitized[@]}" -DBARFILL_SANITIZE=address,undefined
log "ASan+UBSan tests (unit, integration, pg)"
scripts/with-postgres.sh ctest --test-dir build-asan --output-on-failure -j "$jobs" -L 'unit|integration|pg' "$@"

export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/scripts/tsan.supp"
log "TSan build"
BARFILL_TARGET=tsan_tests scripts/build.sh build-tsan "${sanitized[@]}" -DBARFILL_SANITIZE=thread
log "TSan tests (concurrent parts)"
# Only the tests of the executables marked TSAN (labels *_tsan; the others are not built here), and
# not NetworkChaos and the bad-input scenarios, which wait out timeouts by design (Release runs
# them). The installed-package example is not among them: its program, configured from the
# installed package without TSan flags, dies in TSan's runtime against the TSan-built library.
scripts/with-postgres.sh ctest --test-dir build-tsan --output-on-failure -j "$jobs" -L tsan \
  -E 'NetworkChaos|BadApiAnswers|BadInputs' "$@"
