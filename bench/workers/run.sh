#!/usr/bin/env bash
# Workers: the same REST plan fetched by 1, 2 and 4 `barfill worker` processes sharing one queue
# and one rate limit in PostgreSQL, beside the ceilings that bound them:
#   (a) rate-limited: 120 day-bar series (120 requests) with the simulator limiting the key to
#       600/min and every worker given --rate 600/min: the wall time beside requests / rate, and
#       the simulator's rejections (must be 0);
#   (b) unthrottled: 20 tickers x 1m over a quarter (~1.2 M bars): rows/s with 1, 2 and 4
#       workers beside one `barfill backfill` of the same plan (two COPY sessions, the
#       single-process path) and the ceiling: two parallel bare `psql \copy (FORMAT binary)`
#       streams of the very rows, into an empty table of the same shape.
# Runs inside its own throwaway PostgreSQL (scripts/with-postgres.sh) and simulator.
#   bench/workers/run.sh [--build-dir build] [--out bench/results/workers.json]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=build
out=bench/results/workers.json
while (($#)); do
  case $1 in
    --build-dir) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --inside) inside=1; shift ;;
    *) echo "error: unknown argument $1" >&2; exit 2 ;;
  esac
done
barfill=$PWD/$build/barfill
[[ -x $barfill ]] || { echo "error: build first: cmake --build $build --target barfill_cli" >&2; exit 2; }
if [[ -z ${inside:-} ]]; then
  exec scripts/with-postgres.sh "$0" --build-dir "$build" --out "$out" --inside
fi

work=$(mktemp -d /tmp/barfill-workers.XXXXXX)
sim_pid=
cleanup() { [[ -n $sim_pid ]] && kill "$sim_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# shellcheck source=bench/lib.sh
source bench/lib.sh
stat() { curl -s "$sim_url/__stats" | python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
fresh_db() { psql -q -X -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null; }

run_workers() {  # run_workers NAME N RATE PLAN...: enqueue, N workers to the end; prints JSON
  local name=$1 n=$2 rate=$3
  shift 3
  fresh_db "$name"
  curl -s "$sim_url/__reset" >/dev/null
  POLYGON_API_KEY=bench "$barfill" enqueue "$@" --db "dbname=$name" >/dev/null
  local t0 t1 pids=()
  t0=$(now)
  for i in $(seq "$n"); do
    POLYGON_API_KEY=bench "$barfill" worker --db "dbname=$name" --base-url "$sim_url" --rate "$rate" \
      --exit-when-empty --no-progress 2>"$work/$name.$i.err" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || { echo "error: a worker failed:" >&2; cat "$work/$name".*.err >&2; exit 1; }; done
  t1=$(now)
  local rows
  rows=$(psql -q -X -t -A -d "$name" -c "SELECT count(*) FROM bars")
  echo "{\"workers\": $n, \"wall_s\": $(python3 -c "print(round($t1 - $t0, 3))"), \"requests\": $(stat data_requests), \"rejected\": $(stat rate_limited), \"rows\": $rows}"
}

run_backfill() {  # run_backfill NAME PLAN...: one backfill; prints JSON
  local name=$1
  shift
  fresh_db "$name"
  curl -s "$sim_url/__reset" >/dev/null
  local t0 t1
  t0=$(now)
  POLYGON_API_KEY=bench "$barfill" backfill "$@" --db "dbname=$name" --base-url "$sim_url" --rate 100000/s \
    --no-progress >/dev/null 2>"$work/$name.err"
  t1=$(now)
  local rows
  rows=$(psql -q -X -t -A -d "$name" -c "SELECT count(*) FROM bars")
  echo "{\"backfill\": 1, \"wall_s\": $(python3 -c "print(round($t1 - $t0, 3))"), \"requests\": $(stat data_requests), \"rows\": $rows}"
}

tickers=$(python3 -c "print(','.join(f'W{i:03d}' for i in range(1, 121)))")
limited=(--tickers "$tickers" --timeframes 1d --from 2025-01-01 --to 2025-12-31)
start_sim --rate-limit 600/min --no-gzip
echo "bench: rate-limited plan (120 requests at 600/min = 12.0 s ideal) ..." >&2
lim1=$(run_workers lim1 1 600/min "${limited[@]}")
lim2=$(run_workers lim2 2 600/min "${limited[@]}")
lim4=$(run_workers lim4 4 600/min "${limited[@]}")

bulk_tickers=$(python3 -c "print(','.join(f'B{i:03d}' for i in range(1, 21)))")
bulk=(--tickers "$bulk_tickers" --timeframes 1m --from 2025-01-01 --to 2025-03-31)
start_sim --no-gzip
echo "bench: unthrottled plan (20 tickers x 1m x a quarter) ..." >&2
one=$(run_backfill bf "${bulk[@]}")
echo "bench: the ceiling: two parallel psql \\copy binary streams of the same rows ..." >&2
read -r ceiling_rows _ ceiling_s < <(pg_copy_ceiling bf)
un1=$(run_workers un1 1 100000/s "${bulk[@]}")
un2=$(run_workers un2 2 100000/s "${bulk[@]}")
un4=$(run_workers un4 4 100000/s "${bulk[@]}")

mkdir -p "$(dirname "$out")"
python3 - "$out" <<PY
import json, sys
lim = [json.loads(s) for s in ('''$lim1''', '''$lim2''', '''$lim4''')]
bulk = [json.loads(s) for s in ('''$one''', '''$un1''', '''$un2''', '''$un4''')]
print("rate-limited (600/min on both sides):")
print("  workers  requests  wall_s  ideal_s  wall/ideal  rejected")
for r in lim:
    ideal = r["requests"] / 10.0
    r["ideal_s"] = ideal
    print(f"  {r['workers']:7d}  {r['requests']:8d}  {r['wall_s']:6.2f}  {ideal:7.2f}  {r['wall_s']/ideal:10.3f}  {r['rejected']:8d}")
ceiling = {"ceiling": "2 parallel psql \\copy binary", "rows": $ceiling_rows, "wall_s": round($ceiling_s, 3)}
bulk.append(ceiling)
print("unthrottled (rows/s):")
for r in bulk:
    r["rows_per_s"] = round(r["rows"] / r["wall_s"])
    who = ("backfill (1 process, 2 COPY sessions)" if "backfill" in r
           else r["ceiling"] + " (ceiling)" if "ceiling" in r else f"{r['workers']} worker(s)")
    print(f"  {who:40s} {r['rows']:9d} rows  {r['wall_s']:6.2f} s  {r['rows_per_s']:8d} rows/s")
json.dump({"rate_limited": lim, "unthrottled": bulk}, open(sys.argv[1], "w"), indent=1)
PY
