#!/usr/bin/env bash
# Flat-file benchmark: one month (March 2025, 21 sessions) of whole-market stock minute files
# from `barfill sim`'s S3 bucket (its own process; 10,000 tickers with the simulator's
# liquidity skew: ~1.7 M rows and ~31 MB of gzip a day, the real market's size) into
# PostgreSQL, measured in one run beside:
#   hand     what a user writes by hand: curl (SigV4) the objects, then gunzip -c | psql \copy
#            csv file by file into a staging table and from there into the same bars table;
#   ceiling  two parallel psql \copy (FORMAT binary) streams of the very rows barfill stored,
#            into an empty table of the same shape (barfill writes with two sessions);
#   rest     the same bars through the REST path (--source rest, one request per ticker);
#   batch    barfill again with the month as one batch (--files-per-transaction 32).
# The simulator makes every object before the timed runs (a dry run lists the month), so its
# generation is not in any time.
#   bench/files/run.sh [--build-dir build] [--out bench/results/files.json] [--quick]
# --quick: 1,000 tickers and one week.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=build
out=bench/results/files.json
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
[[ -x $barfill ]] || { echo "error: build first: cmake --build $build --target barfill_cli" >&2; exit 2; }

if [[ -z ${BARFILL_FILES_IN_PG:-} ]]; then
  export BARFILL_FILES_IN_PG=1
  export BARFILL_PG_SETTINGS="shared_buffers = 2GB
max_wal_size = 8GB
checkpoint_timeout = 30min
wal_compression = off"
  exec scripts/with-postgres.sh "$0" --build-dir "$build" --out "$out" $([[ $quick == 1 ]] && echo --quick)
fi

tickers=10000
from=2025-03-01
to=2025-03-31
prefix=us_stocks_sip%2Fminute_aggs_v1%2F2025%2F03%2F
if [[ $quick == 1 ]]; then tickers=1000; to=2025-03-07; fi

work=$(mktemp -d /tmp/barfill-files-bench.XXXXXX)
chmod 755 "$work"
sim_pid=
cleanup() { [[ -n $sim_pid ]] && kill "$sim_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
now() { date +%s.%N; }

python3 -c "print('\n'.join(f'U{i:05d}' for i in range(1, $tickers + 1)))" >"$work/tickers.txt"
export MASSIVE_S3_ACCESS_KEY_ID=BENCHKEY MASSIVE_S3_SECRET_ACCESS_KEY=bench-secret POLYGON_API_KEY=bench
# shellcheck disable=SC2046
"$barfill" sim --port 0 --seed 1 --liquidity skewed --s3-access-key "$MASSIVE_S3_ACCESS_KEY_ID" \
  --s3-secret-key "$MASSIVE_S3_SECRET_ACCESS_KEY" --s3-cache-mb 4096 --s3-tickers $(cat "$work/tickers.txt") \
  >"$work/sim.out" 2>&1 &
sim_pid=$!
for _ in $(seq 200); do grep -q listening "$work/sim.out" && break; sleep 0.05; done
sim_url=$(awk '/listening/ {print $3; exit}' "$work/sim.out")
common=(--timeframes 1m --from "$from" --to "$to" --adjusted false --files-url "$sim_url" --base-url "$sim_url" --no-progress)

echo "bench: the simulator makes the month's files (not timed) ..." >&2
# curl 7.88 signs with SigV4 when told the payload is unsigned (docs/flatfiles.md §1.1). The first
# listing makes every object of the month (a minute or more); barfill's listings find them made.
sign=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$MASSIVE_S3_ACCESS_KEY_ID:$MASSIVE_S3_SECRET_ACCESS_KEY"
      -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
curl -sf "${sign[@]}" "$sim_url/flatfiles?delimiter=%2F&list-type=2&prefix=$prefix" |
  grep -o '<Key>[^<]*</Key>' | sed 's/<[^>]*>//g' |
  awk -v from="$from" -v to="$to" '{ day = substr($0, length($0) - 16, 10); if (day >= from && day <= to) print }' \
  >"$work/keys.txt"
"$barfill" backfill --tickers all "${common[@]}" --source files --db "sqlite:$work/dry.db" --dry-run >"$work/dry.txt"
files=$(grep -o '[0-9]* to load' "$work/dry.txt" | awk '{print $1}')

# 1. barfill, flat files into PostgreSQL.
createdb bench_files
psql -qX -d bench_files -c CHECKPOINT  # every timed load starts from a checkpoint
echo "bench: barfill --source files ($files day files) ..." >&2
/usr/bin/time -f "%M" -o "$work/barfill.rss" "$barfill" backfill --tickers all "${common[@]}" --source files \
  --db postgresql:///bench_files --report-json "$work/barfill.json" >"$work/barfill.txt"
mkdir -p "$(dirname "$out")"; cp "$work/barfill.txt" "${out%.json}.barfill.txt"  # the whole report, for the phases
# The same load as one batch (--files-per-transaction 32 holds the month): each writer's stretch
# of tickers goes in once, with no second batch's rows landing in the middle of the index.
createdb bench_batch
psql -qX -d bench_batch -c CHECKPOINT
echo "bench: barfill --source files, the month as one batch ..." >&2
"$barfill" backfill --tickers all "${common[@]}" --source files --files-per-transaction 32 \
  --db postgresql:///bench_batch --report-json "$work/batch.json" >"$work/batch.txt"
dropdb bench_batch

# 2. By hand, as the issue describes a user doing it: download the objects with curl, then
# gunzip -c | psql \copy (FORMAT csv, HEADER) into the same table. The files' columns are not
# the table's (window_start in ns, no timeframe), so each file goes through a staging table.
createdb bench_hand
# The same bars table (`barfill migrate` creates no schema in an empty database): barfill's own.
pg_dump -sx -t bars bench_files | psql -qX -v ON_ERROR_STOP=1 -d bench_hand >/dev/null
psql -qX -d bench_hand -c "CREATE UNLOGGED TABLE stage (ticker text, volume double precision, open double precision,
  close double precision, high double precision, low double precision, window_start bigint, transactions bigint)"
echo "bench: by hand, curl then gunzip | psql \\copy csv ($(wc -l <"$work/keys.txt") files) ..." >&2
mkdir -p "$work/hand"
psql -qX -d bench_hand -c CHECKPOINT
t0=$(now)
while read -r key; do
  curl -sf "${sign[@]}" -o "$work/hand/$(basename "$key")" "$sim_url/flatfiles/$key"
done <"$work/keys.txt"
t1=$(now)
for file in "$work"/hand/*.csv.gz; do
  gunzip -c "$file" | psql -qX -v ON_ERROR_STOP=1 -d bench_hand -c "TRUNCATE stage" \
    -c "\\copy stage FROM STDIN (FORMAT csv, HEADER true)" \
    -c "INSERT INTO bars SELECT ticker, '1m', false, to_timestamp(window_start / 1e9), open, high, low, close, volume,
        NULL, transactions FROM stage"
done
t2=$(now)
hand_s=$(python3 -c "print($t2 - $t0)")
hand_download_s=$(python3 -c "print($t1 - $t0)")
hand_rows=$(psql -qXtA -d bench_hand -c "SELECT count(*) FROM bars")

# 3. The ceiling: two parallel binary COPY streams of barfill's rows.
psql -qX -d bench_files -c "\\copy (SELECT * FROM bars WHERE hashtext(ticker) % 2 = 0 ORDER BY ticker, timeframe, adjusted, ts) TO '$work/bars0.bin' (FORMAT binary)"
psql -qX -d bench_files -c "\\copy (SELECT * FROM bars WHERE hashtext(ticker) % 2 <> 0 ORDER BY ticker, timeframe, adjusted, ts) TO '$work/bars1.bin' (FORMAT binary)"
psql -qX -d bench_files -c "CREATE TABLE bars_ceiling (LIKE bars INCLUDING ALL)" -c CHECKPOINT
echo "bench: ceiling, two parallel psql \\copy binary ..." >&2
t0=$(now)
psql -qX -d bench_files -c "\\copy bars_ceiling FROM '$work/bars0.bin' (FORMAT binary)" &
copy0=$!
psql -qX -d bench_files -c "\\copy bars_ceiling FROM '$work/bars1.bin' (FORMAT binary)"
wait $copy0
t1=$(now)
ceiling_s=$(python3 -c "print($t1 - $t0)")
ceiling_rows=$(psql -qXtA -d bench_files -c "SELECT count(*) FROM bars_ceiling")
# The same rows as one stream (what one writer could reach).
psql -qX -d bench_files -c "\\copy (SELECT * FROM bars ORDER BY ticker, timeframe, adjusted, ts) TO '$work/bars.bin' (FORMAT binary)"
rm -f "$work/bars0.bin" "$work/bars1.bin"
psql -qX -d bench_files -c "DROP TABLE bars_ceiling" -c "CREATE TABLE bars_ceiling1 (LIKE bars INCLUDING ALL)" -c CHECKPOINT
echo "bench: ceiling, one psql \\copy binary stream ..." >&2
t0=$(now)
psql -qX -d bench_files -c "\\copy bars_ceiling1 FROM '$work/bars.bin' (FORMAT binary)"
t1=$(now)
ceiling1_s=$(python3 -c "print($t1 - $t0)")
rm -f "$work/bars.bin"

# 4. The same bars through REST.
createdb bench_rest
echo "bench: barfill --source rest ($tickers tickers) ..." >&2
"$barfill" backfill --tickers "@$work/tickers.txt" "${common[@]}" --source rest --rate 100000/s --concurrency 8 \
  --db postgresql:///bench_rest --report-json "$work/rest.json" >"$work/rest.txt"

mkdir -p "$(dirname "$out")"
python3 - "$work" "$out" "$hand_s" "$hand_rows" "$ceiling_s" "$ceiling_rows" "$tickers" "$from" "$to" "$hand_download_s" "$ceiling1_s" <<'PY'
import json, sys
work, out = sys.argv[1], sys.argv[2]
hand_s, hand_rows, ceiling_s, ceiling_rows = float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
tickers, first, last = int(sys.argv[7]), sys.argv[8], sys.argv[9]
hand_download_s = float(sys.argv[10])
ceiling1_s = float(sys.argv[11])
b = json.load(open(f"{work}/barfill.json"))
r = json.load(open(f"{work}/rest.json"))
one = json.load(open(f"{work}/batch.json"))
rss_mib = int(open(f"{work}/barfill.rss").read().split()[-1]) / 1024
f = b["files"]
rate = lambda rows, s: rows / s if s else 0
result = {
  "month": f"{first}..{last}", "tickers": tickers,
  "barfill": {"files": f["fetched"], "rows": b["records"], "duration_s": b["duration_s"],
              "rows_per_s": rate(b["records"], b["duration_s"]), "gzip_mib": f["bytes"] / 2**20,
              "download_s": f["download_s"], "parse_thread_s": f["parse_s"], "db_s": f["db_s"], "peak_rss_mib": rss_mib},
  "barfill_one_batch": {"rows": one["records"], "duration_s": one["duration_s"], "files_per_transaction": 32,
                        "rows_per_s": rate(one["records"], one["duration_s"]), "parse_thread_s": one["files"]["parse_s"]},
  "hand": {"rows": hand_rows, "seconds": hand_s, "download_s": hand_download_s, "rows_per_s": rate(hand_rows, hand_s)},
  "ceiling": {"rows": ceiling_rows, "seconds": ceiling_s, "rows_per_s": rate(ceiling_rows, ceiling_s)},
  "ceiling_one_stream": {"rows": ceiling_rows, "seconds": ceiling1_s, "rows_per_s": rate(ceiling_rows, ceiling1_s)},
  "rest": {"rows": r["records"], "duration_s": r["duration_s"], "rows_per_s": r["records_per_s"],
           "requests": r["requests"]["made"]},
}
bb, h, c, rr = result["barfill"], result["hand"], result["ceiling"], result["rest"]
result["speedup_vs_hand"] = h["seconds"] / bb["duration_s"] if bb["duration_s"] else 0
result["ratio_to_ceiling"] = bb["rows_per_s"] / c["rows_per_s"] if c["rows_per_s"] else 0
ob = result["barfill_one_batch"]
result["one_batch_ratio_to_ceiling"] = ob["rows_per_s"] / c["rows_per_s"] if c["rows_per_s"] else 0
json.dump(result, open(out, "w"), indent=2)
print(f"""
{tickers} tickers, stock minute files {first}..{last}: {bb['files']} files, {bb['gzip_mib']:.0f} MiB of gzip, {bb['rows']:,} bars

| path | rows | wall s | rows/s | vs barfill files |
|---|---|---|---|---|
| barfill --source files -> PostgreSQL | {bb['rows']:,} | {bb['duration_s']:.1f} | {bb['rows_per_s']:,.0f} | 1.00 |
| barfill, the month as one batch (--files-per-transaction 32) | {ob['rows']:,} | {ob['duration_s']:.1f} | {ob['rows_per_s']:,.0f} | {bb['duration_s'] / ob['duration_s'] if ob['duration_s'] else 0:.2f} |
| by hand: curl, then gunzip, psql \\copy csv via a staging table | {h['rows']:,} | {h['seconds']:.1f} | {h['rows_per_s']:,.0f} | {bb['duration_s'] / h['seconds'] if h['seconds'] else 0:.2f} |
| ceiling: 2 parallel psql \\copy binary | {c['rows']:,} | {c['seconds']:.1f} | {c['rows_per_s']:,.0f} | {bb['duration_s'] / c['seconds'] if c['seconds'] else 0:.2f} |
| ceiling: 1 psql \\copy binary stream | {c['rows']:,} | {ceiling1_s:.1f} | {rate(c['rows'], ceiling1_s):,.0f} | {bb['duration_s'] / ceiling1_s if ceiling1_s else 0:.2f} |
| barfill --source rest ({rr['requests']:,} requests) | {rr['rows']:,} | {rr['duration_s']:.1f} | {rr['rows_per_s']:,.0f} | {bb['duration_s'] / rr['duration_s'] if rr['duration_s'] else 0:.2f} |

barfill vs hand: {result['speedup_vs_hand']:.2f}x faster; vs ceiling: {result['ratio_to_ceiling']:.2f} of its rows/s ({result['one_batch_ratio_to_ceiling']:.2f} as one batch);
barfill's time: download {bb['download_s']:.1f} s, gunzip+CSV {bb['parse_thread_s']:.1f} thread-s, database {bb['db_s']:.1f} s; peak RSS {bb['peak_rss_mib']:.0f} MiB
results in {out}
""")
PY
