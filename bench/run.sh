#!/usr/bin/env bash
# The benchmark suite, one command: builds (Release), then runs each benchmark beside its ceiling
# in the same run and keeps the results in bench/results/:
#   e2e    the seed's baseline end to end into PostgreSQL and SQLite vs psql \copy binary and a
#          bare SQLite INSERT of the same rows; the rate-limited scenario (efficiency, 429s);
#          peak RSS                                                         (bench/e2e/run.sh)
#   store  barfill's writers vs bare COPY / bare INSERT on 5 M rows          (bench/store/run.sh)
#   parse  the aggregates parser vs a plain simdjson On-Demand walk          (parse_bench)
#   fetch  ChunkFetcher vs the curl CLI on the same simulator pages          (fetch_bench)
#   sim    the simulator's generation and serving rate                       (sim_bench)
#   calendar  QuantLib's holiday test vs barfill's per-year session tables     (calendar_bench)
#   flatfiles  gunzip + CSV parse of a day file vs zlib inflate alone; day-file generation (flatfiles_bench)
#   requests  requests made vs the minimum, before (fixed chunk grid) and after (pages), for the
#          baseline and a 500-ticker skewed universe                         (bench/requests/run.sh)
# Not part of CI's pass/fail: the machines are noisy; compare the ratios, not the absolutes.
#   bench/run.sh [--quick] [--only e2e|store|parse|fetch|sim|calendar|requests|flatfiles]
set -euo pipefail
cd "$(dirname "$0")/.."
quick=()
only=
while (($#)); do
  case $1 in
    --quick) quick=(--quick); shift ;;
    --only) only=$2; shift 2 ;;
    *) echo "error: unknown argument $1 (use --quick or --only NAME)" >&2; exit 2 ;;
  esac
done
scripts/install-deps.sh --test
scripts/build.sh build -DBARFILL_BUILD_BENCH=ON
results=bench/results
mkdir -p "$results"
want() { [[ -z $only || $only == "$1" ]]; }
gbench() {  # gbench NAME BINARY [args]: Google Benchmark with JSON output
  local name=$1 binary=$2
  shift 2
  echo "== $name ==" >&2
  "$binary" --benchmark_out="$results/$name.json" --benchmark_out_format=json "$@" | tee "$results/$name.txt"
}

want parse && gbench parse build/bench/parse/parse_bench
want sim && gbench sim build/bench/sim/sim_bench
want fetch && gbench fetch build/bench/fetch/fetch_bench
want calendar && gbench calendar build/bench/calendar/calendar_bench
want flatfiles && gbench flatfiles build/bench/flatfiles/flatfiles_bench
if want store; then
  echo "== store ==" >&2
  bench/store/run.sh --build-dir build | tee "$results/store.txt"
fi
if want requests; then
  echo "== requests ==" >&2
  bench/requests/run.sh --build-dir build --out "$results/requests.json" "${quick[@]}" | tee "$results/requests.txt"
fi
if want e2e; then
  echo "== e2e ==" >&2
  bench/e2e/run.sh --build-dir build --out "$results/e2e.json" "${quick[@]}" | tee "$results/e2e.txt"
fi
echo "results in $results/" >&2
