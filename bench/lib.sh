# Shared by the benchmark scripts (sourced, not run). Expects $barfill (the binary) and $work (a
# scratch directory the caller removes); start_sim sets $sim_pid, which the caller kills on exit.

now() { date +%s.%N; }

start_sim() {  # start_sim [sim flags...] -> sets sim_url; a running simulator is stopped first
  [[ -n ${sim_pid:-} ]] && { kill "$sim_pid"; wait "$sim_pid" 2>/dev/null || true; }
  "$barfill" sim --port 0 --seed 1 --api-key bench "$@" >"$work/sim.out" 2>&1 &
  sim_pid=$!
  for _ in $(seq 100); do grep -q listening "$work/sim.out" && break; sleep 0.05; done
  sim_url=$(awk '/listening/ {print $3; exit}' "$work/sim.out")
}

# pg_copy_ceiling DB: the bare COPY ceiling for the rows of DB's bars table. Dumps them in the
# primary key's order (whole, and split by ticker into two halves as two writer sessions split
# them), then times one `psql \copy (FORMAT binary)` stream into an empty table of the same shape
# (primary key included), and two parallel ones into another. Prints "ROWS ONE_STREAM_S TWO_STREAMS_S".
pg_copy_ceiling() {
  local db=$1 order="ORDER BY ticker, timeframe, adjusted, ts" t0 t1 t2 t3 rows copy0
  psql -qX -d "$db" -c "\\copy (SELECT * FROM bars $order) TO '$work/bars.bin' (FORMAT binary)"
  psql -qX -d "$db" -c "\\copy (SELECT * FROM bars WHERE hashtext(ticker) % 2 = 0 $order) TO '$work/bars0.bin' (FORMAT binary)"
  psql -qX -d "$db" -c "\\copy (SELECT * FROM bars WHERE hashtext(ticker) % 2 <> 0 $order) TO '$work/bars1.bin' (FORMAT binary)"
  psql -qX -d "$db" -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS bars_ceiling, bars_ceiling2" \
    -c "CREATE TABLE bars_ceiling (LIKE bars INCLUDING ALL)" -c "CREATE TABLE bars_ceiling2 (LIKE bars INCLUDING ALL)" \
    -c "CHECKPOINT"
  t0=$(now)
  psql -qX -d "$db" -c "\\copy bars_ceiling FROM '$work/bars.bin' (FORMAT binary)"
  t1=$(now)
  rows=$(psql -qXtA -d "$db" -c "SELECT count(*) FROM bars_ceiling")
  psql -qX -d "$db" -c "CHECKPOINT"
  t2=$(now)
  psql -qX -d "$db" -c "\\copy bars_ceiling2 FROM '$work/bars0.bin' (FORMAT binary)" &
  copy0=$!
  psql -qX -d "$db" -c "\\copy bars_ceiling2 FROM '$work/bars1.bin' (FORMAT binary)"
  wait "$copy0"
  t3=$(now)
  rm -f "$work/bars.bin" "$work/bars0.bin" "$work/bars1.bin"
  echo "$rows $(python3 -c "print($t1 - $t0)") $(python3 -c "print($t3 - $t2)")"
}
