#!/usr/bin/env bash
# End-to-end benchmark: the seed's baseline (plans/phase2-baseline.toml, ~16.7 M bars) fetched
# from `barfill sim` (its own process, unthrottled) into PostgreSQL and into SQLite, each beside
# its ceiling measured in the same run on the same rows:
#   PostgreSQL: two parallel psql \copy ... (FORMAT binary) streams (barfill writes with two
#               sessions) of the very rows barfill stored, into an empty table of the same shape
#               (primary key included); one stream is measured too;
#   SQLite:     the same rows inserted with one prepared INSERT in one transaction.
# Then a rate-limited scenario: simulator and client both at 600/min; efficiency = ideal time
# (requests / rate) / actual wall time, and the number of 429s (must be 0).
#   bench/e2e/run.sh [--build-dir build] [--out bench/results/e2e.json] [--quick]
# --quick runs a 10-ticker slice of the baseline (for trying the script out).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=build
out=bench/results/e2e.json
quick=0
while (($#)); do
  case $1 in
    --build-dir) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    *) echo "error: unknown argument $1" >&2; exit 2 ;;
  esac
done
barfill=$build/barfill
[[ -x $barfill && -x $build/bench/e2e/sqlite_ceiling ]] ||
  { echo "error: build first: cmake --build $build --target barfill_cli sqlite_ceiling" >&2; exit 2; }

# Our own throwaway PostgreSQL, configured like the measurements in docs/design.md §12.
if [[ -z ${BARFILL_E2E_IN_PG:-} ]]; then
  export BARFILL_E2E_IN_PG=1
  export BARFILL_PG_SETTINGS="shared_buffers = 2GB
max_wal_size = 8GB
checkpoint_timeout = 30min
wal_compression = off"
  exec scripts/with-postgres.sh "$0" --build-dir "$build" --out "$out" $([[ $quick == 1 ]] && echo --quick)
fi

work=$(mktemp -d /tmp/barfill-bench.XXXXXX)
chmod 755 "$work"
sim_pid=
cleanup() { [[ -n $sim_pid ]] && kill "$sim_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# shellcheck source=bench/lib.sh
source bench/lib.sh
plan_args=(--plan plans/phase2-baseline.toml)
if [[ $quick == 1 ]]; then
  plan_args+=(--tickers AAPL,MSFT,NVDA,AMZN,GOOGL,META,TSLA,BRK.B,X:BTCUSD,X:ETHUSD)
fi
run_backfill() {  # run_backfill NAME DB [extra flags...]
  local name=$1 db=$2
  shift 2
  echo "bench: $name ..." >&2
  POLYGON_API_KEY=bench "$barfill" backfill "${plan_args[@]}" --db "$db" --base-url "$sim_url" \
    --rate 100000/s --concurrency 8 --no-progress --report-json "$work/$name.json" "$@" >"$work/$name.txt"
}

start_sim
# 1. PostgreSQL end to end, then the bare COPY of the same rows.
createdb bench_e2e
run_backfill pg postgresql:///bench_e2e
echo "bench: PostgreSQL ceiling (psql \\copy binary of the same rows, one stream and two parallel ones) ..." >&2
read -r pg_ceiling_rows pg_ceiling_s pg_ceiling2_s < <(pg_copy_ceiling bench_e2e)

# 2. SQLite end to end, then one prepared INSERT in one transaction of the same rows.
run_backfill sqlite "sqlite:$work/e2e.db"
echo "bench: SQLite ceiling (one prepared INSERT, one transaction) ..." >&2
"$build/bench/e2e/sqlite_ceiling" "$work/e2e.db" "$work/ceiling.db" >"$work/sqlite_ceiling.json"

# 3. Rate limited: both sides at 600/min.
start_sim --rate-limit 600/min
echo "bench: rate limited (600/min on both sides) ..." >&2
POLYGON_API_KEY=bench "$barfill" backfill --tickers X:BTCUSD,X:ETHUSD,X:SOLUSD,X:XRPUSD,X:ADAUSD --timeframes 1m,1h \
  --from 2025-01-01 --to 2025-12-31 --db "sqlite:$work/rate.db" --base-url "$sim_url" --rate 600/min \
  --concurrency 4 --no-progress --report-json "$work/rate.json" >"$work/rate.txt"
sim_stats=$(curl -s "$sim_url/__stats")

mkdir -p "$(dirname "$out")"
python3 - "$work" "$pg_ceiling_rows" "$pg_ceiling_s" "$sim_stats" "$out" "$pg_ceiling2_s" <<'PY'
import json, sys
work, pg_rows, pg_s, sim_stats, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), json.loads(sys.argv[4]), sys.argv[5]
pg2_s = float(sys.argv[6])
load = lambda name: json.load(open(f"{work}/{name}.json"))
pg, sq, rate, sq_ceiling = load("pg"), load("sqlite"), load("rate"), load("sqlite_ceiling")
pg_ceiling = pg_rows / pg2_s  # two parallel streams, as barfill's two sessions
pg_one_stream = pg_rows / pg_s
sq_ceiling_rate = sq_ceiling["rows"] / sq_ceiling["seconds"]
ideal = rate["requests"]["total"] / 10.0  # 600/min = 10/s
result = {
  "postgresql": {"records": pg["records"], "duration_s": pg["duration_s"], "records_per_s": pg["records_per_s"],
                 "db_share": pg["db_share"], "api_share": pg["api_share"], "peak_rss_mib": pg["peak_rss_bytes"] / 2**20,
                 "ceiling_rows": pg_rows, "ceiling_s": pg2_s, "ceiling_rows_per_s": pg_ceiling,
                 "one_stream_s": pg_s, "one_stream_rows_per_s": pg_one_stream,
                 "ratio": pg["records_per_s"] / pg_ceiling, "jobs": pg["jobs"], "ranges": pg["ranges"],
                 "requests": pg["requests"]},
  "sqlite": {"records": sq["records"], "duration_s": sq["duration_s"], "records_per_s": sq["records_per_s"],
             "db_share": sq["db_share"], "peak_rss_mib": sq["peak_rss_bytes"] / 2**20,
             "ceiling_rows": sq_ceiling["rows"], "ceiling_s": sq_ceiling["seconds"],
             "ceiling_rows_per_s": sq_ceiling_rate, "ratio": sq["records_per_s"] / sq_ceiling_rate},
  "rate_limited": {"requests": rate["requests"]["total"], "rate_per_min": 600, "ideal_s": ideal,
                   "duration_s": rate["duration_s"], "efficiency": ideal / rate["duration_s"] if rate["duration_s"] else 0,
                   "client_429": rate["requests"]["rate_limited"], "sim_rate_limited": sim_stats.get("rate_limited")},
  "seed": {"records": 186506, "duration_s": 208.89, "records_per_s": 892.84, "db_share": 0.897, "jobs_succeeded_share": 0.40},
}
json.dump(result, open(out, "w"), indent=2)
p, s, r = result["postgresql"], result["sqlite"], result["rate_limited"]
print(f"""
| scenario | records | wall s | records/s | ceiling rows/s | ratio | DB share | peak RSS |
|---|---|---|---|---|---|---|---|
| seed (Python, row-by-row INSERT) | 186,506 | 208.89 | 893 | | | 89.7% | |
| baseline -> PostgreSQL | {p['records']:,} | {p['duration_s']:.1f} | {p['records_per_s']:,.0f} | {p['ceiling_rows_per_s']:,.0f} (2 parallel psql \\copy binary; one stream {p['one_stream_rows_per_s']:,.0f}) | {p['ratio']:.2f} | {100*p['db_share']:.0f}% | {p['peak_rss_mib']:.0f} MiB |
| baseline -> SQLite | {s['records']:,} | {s['duration_s']:.1f} | {s['records_per_s']:,.0f} | {s['ceiling_rows_per_s']:,.0f} (1 INSERT, 1 tx) | {s['ratio']:.2f} | {100*s['db_share']:.0f}% | {s['peak_rss_mib']:.0f} MiB |

rate limited at 600/min on both sides: {r['requests']} requests in {r['duration_s']:.2f} s, ideal {r['ideal_s']:.2f} s,
efficiency {100*r['efficiency']:.1f}%, 429s seen by the client: {r['client_429']}
jobs into PostgreSQL: {p['jobs']['succeeded']}/{p['jobs']['total']} succeeded, {p['requests']['made']} requests (minimum {p['requests']['minimum']}); results in {out}
""")
PY
