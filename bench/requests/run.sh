#!/usr/bin/env bash
# Request efficiency, before and after in one run: how many API requests a backfill makes, beside
# the fewest any client could make for the same bars (ceil(base aggregates / 50,000) per series
# range), for
#   (a) the seed's baseline (plans/phase2-baseline.toml: 50 tickers x 1m,5m,15m,1h,1d x 2025,
#       every ticker dense), and
#   (b) a 500-ticker universe with the simulator's liquidity skew (most tickers thin), same
#       timeframes and year,
# each run by BEFORE = the release with the fixed chunk grid (commit c4ea56a, built once into
# build-before/) and AFTER = this tree, against the same simulator, at --rate 100/s into a fresh
# SQLite file. Requests are counted by the simulator (its /__stats), so both clients are measured
# alike; the minimum comes from AFTER's report (same bars). The free plan's time is projected
# (requests / 5 per minute).
#   bench/requests/run.sh [--build-dir build] [--out bench/results/requests.json] [--quick]
# --quick: 10 baseline tickers and a 50-ticker universe.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=build
out=bench/results/requests.json
quick=0
while (($#)); do
  case $1 in
    --build-dir) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    *) echo "error: unknown argument $1" >&2; exit 2 ;;
  esac
done
after=$build/barfill
[[ -x $after ]] || { echo "error: build first: cmake --build $build --target barfill_cli" >&2; exit 2; }

# BEFORE: the last release with the fixed chunk grid, built once from its commit.
before_commit=c4ea56a
before_build=$PWD/build-before-$before_commit
if [[ ! -x $before_build/barfill ]]; then
  echo "bench: building the release before (commit $before_commit) once into $before_build ..." >&2
  src=$(mktemp -d /tmp/barfill-before.XXXXXX)
  git worktree add --detach -q "$src" "$before_commit"
  (cd "$src" && BARFILL_TARGET=barfill_cli scripts/build.sh "$before_build" -DBARFILL_BUILD_TESTS=OFF -DBARFILL_BUILD_BENCH=OFF >/dev/null)
  git worktree remove --force "$src"
fi
before=$before_build/barfill

work=$(mktemp -d /tmp/barfill-requests.XXXXXX)
sim_pid=
cleanup() { [[ -n $sim_pid ]] && kill "$sim_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

barfill=$after  # the simulator is this tree's
# shellcheck source=bench/lib.sh
source bench/lib.sh
data_requests() { curl -s "$sim_url/__stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data_requests"])'; }

run() {  # run NAME BINARY [plan flags...]: one backfill into a fresh SQLite file, timed
  local name=$1 binary=$2
  shift 2
  echo "bench: $name ..." >&2
  curl -s "$sim_url/__reset" >/dev/null
  local t0 t1
  t0=$(date +%s.%N)
  POLYGON_API_KEY=bench "$binary" backfill "$@" --db "sqlite:$work/$name.db" --base-url "$sim_url" --rate 100/s \
    --concurrency 8 --no-progress --report-json "$work/$name.json" >"$work/$name.txt" 2>"$work/$name.err"
  t1=$(date +%s.%N)
  echo "{\"requests\": $(data_requests), \"wall_s\": $(python3 -c "print($t1 - $t0)")}" >"$work/$name.measured.json"
  rm -f "$work/$name.db"*
}

baseline=(--plan plans/phase2-baseline.toml)
universe_size=500
if [[ $quick == 1 ]]; then
  baseline+=(--tickers AAPL,MSFT,NVDA,AMZN,GOOGL,META,TSLA,BRK.B,X:BTCUSD,X:ETHUSD)
  universe_size=50
fi
universe_tickers=$(python3 -c "print(' '.join(f'U{i:04d}' for i in range(1, $universe_size + 1)))")
universe=(--tickers "${universe_tickers// /,}" --timeframes 1m,5m,15m,1h,1d --from 2025-01-01 --to 2025-12-31)

start_sim
run baseline-before "$before" "${baseline[@]}"
run baseline-after "$after" "${baseline[@]}"
# Grouped daily answers for the simulator's universe: make it the plan's tickers (the 1d series
# of 500 tickers are cheaper by market day).
# shellcheck disable=SC2086
start_sim --liquidity skewed --s3-tickers $universe_tickers
run universe-before "$before" "${universe[@]}"
run universe-after "$after" "${universe[@]}"

mkdir -p "$(dirname "$out")"
python3 - "$work" "$out" "$universe_size" <<'PY'
import json, sys
work, out, universe_size = sys.argv[1], sys.argv[2], int(sys.argv[3])
load = lambda name: json.load(open(f"{work}/{name}.json"))
result = {}
for scenario in ("baseline", "universe"):
    after_report = load(f"{scenario}-after")
    minimum = after_report["requests"]["minimum"]
    row = {"minimum": minimum, "records": after_report["records"], "series": after_report["jobs"]["total"]}
    for side in ("before", "after"):
        m = load(f"{scenario}-{side}.measured")
        rep = load(f"{scenario}-{side}")
        row[side] = {"requests": m["requests"], "wall_s": m["wall_s"], "records": rep["records"],
                     "per_minimum": m["requests"] / minimum if minimum else 0,
                     "free_plan_hours": m["requests"] / 5 / 60}
    row["fewer_requests_than_before"] = 1 - row["after"]["requests"] / row["before"]["requests"]
    result[scenario] = row
json.dump(result, open(out, "w"), indent=2)
names = {"baseline": f"the seed's baseline ({result['baseline']['series']} series, dense)",
         "universe": f"{universe_size} tickers, skewed liquidity ({result['universe']['series']} series)"}
print("\n| scenario | client | requests | minimum | requests / minimum | wall at 100/s | projected at free (5/min) | bars |")
print("|---|---|---|---|---|---|---|---|")
for scenario, row in result.items():
    for side in ("before", "after"):
        r = row[side]
        print(f"| {names[scenario]} | {side} | {r['requests']:,} | {row['minimum']:,} | {r['per_minimum']:.3f} | {r['wall_s']:.1f} s | "
              f"{r['free_plan_hours']:.1f} h | {r['records']:,} |")
for scenario, row in result.items():
    print(f"{names[scenario]}: {100 * row['fewer_requests_than_before']:.1f}% fewer requests than before")
print(f"results in {out}")
PY
