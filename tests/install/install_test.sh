#!/usr/bin/env bash
# The installed library, used as another project would: install barfill into a temporary
# prefix, build examples/backfill_and_read against it with CMake (find_package) and with
# pkg-config, run it against the simulator, and check what it read against the database.
#   tests/install/install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d /tmp/barfill-install.XXXXXX)
sim_pid=
cleanup() {
  [[ -n $sim_pid ]] && kill "$sim_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
prefix=$tmp/prefix
[[ -x $prefix/bin/barfill ]] || fail "the barfill executable is not installed"
lib=$(dirname "$(find "$prefix" -name 'libbarfill.so*' -type f | head -n1)")
[[ -d $lib ]] || fail "libbarfill.so is not installed"
# Only the public headers are installed, and they include nothing but each other and std.
internal=$(grep -rhoE '#include "[^"]+"' "$prefix/include/barfill" | grep -v '"barfill/' || true)
[[ -z $internal ]] || fail "installed headers include internal ones: $internal"
[[ -z $(find "$prefix/include" -name '*.h' -not -path '*/barfill/*') ]] || fail "headers outside include/barfill were installed"
# The library exports the API and nothing of its internals (no engine::, store::, fetch:: symbols).
leaked=$(nm -DC --defined-only "$lib/libbarfill.so" | grep -E 'barfill::(engine|store|fetch|polygon|http|sim|cli)::' | head -n3 || true)
[[ -z $leaked ]] || fail "libbarfill.so exports internal symbols: $leaked"

# 1. CMake: find_package(barfill) from the installed prefix.
cmake -S "$src/examples/backfill_and_read" -B "$tmp/example" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" >"$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; fail "configure"; }
cmake --build "$tmp/example" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "build with CMake"; }
# 2. pkg-config, no CMake.
PKG_CONFIG_PATH=$lib/pkgconfig g++ -std=c++20 -o "$tmp/example-pc" "$src/examples/backfill_and_read/main.cpp" \
  $(PKG_CONFIG_PATH=$lib/pkgconfig pkg-config --cflags --libs barfill) -Wl,-rpath,"$lib" ||
  fail "build with pkg-config"

# The simulator, from the installed executable.
"$prefix/bin/barfill" sim --port 0 --api-key demo >"$tmp/sim.out" 2>&1 &
sim_pid=$!
for _ in $(seq 100); do grep -q '^listening on ' "$tmp/sim.out" && break; sleep 0.1; done
url=$(sed -n 's/^listening on //p' "$tmp/sim.out")
[[ -n $url ]] || fail "the simulator did not start: $(cat "$tmp/sim.out")"

db=sqlite:$tmp/bars.db
POLYGON_API_KEY=demo "$tmp/example/backfill_and_read" "$url" "$db" >"$tmp/run1.out" 2>"$tmp/run1.err" ||
  { cat "$tmp/run1.out" "$tmp/run1.err"; fail "the CMake-built example failed"; }
cat "$tmp/run1.out"
grep -q '^backfill: done, [1-9][0-9]* bars written' "$tmp/run1.out" || fail "no bars written"
grep -q '(final)' "$tmp/run1.err" || fail "the observer heard no final progress"
written=$(sed -n 's/^backfill: done, \([0-9]*\) bars written.*/\1/p' "$tmp/run1.out")
read_total=$(sed -n 's/^read \([0-9]*\) bars in all$/\1/p' "$tmp/run1.out")
[[ $written == "$read_total" ]] || fail "wrote $written bars but read back $read_total"
for ticker in AAPL X:BTCUSD; do
  from_example=$(sed -n "s/^read $ticker 1h: \([0-9]*\) bars.*/\1/p" "$tmp/run1.out")
  in_db=$("$prefix/bin/barfill" export --db "$db" --ticker "$ticker" --timeframe 1h --from 2025-03-01 --to 2025-03-31 \
    --format jsonl | wc -l)
  [[ $from_example -gt 0 && $from_example == "$in_db" ]] || fail "$ticker: the example read $from_example bars, the database holds $in_db"
done

# A second run, by the pkg-config build: nothing left to fetch, the same bars read back.
requests_before=$(curl -s "$url/__stats" | sed -n 's/.*"data_requests":\([0-9]*\).*/\1/p')
POLYGON_API_KEY=demo "$tmp/example-pc" "$url" "$db" >"$tmp/run2.out" 2>"$tmp/run2.err" ||
  { cat "$tmp/run2.out" "$tmp/run2.err"; fail "the pkg-config-built example failed"; }
grep -q '^backfill: done, 0 bars written, 0 requests' "$tmp/run2.out" || fail "a re-run fetched again: $(cat "$tmp/run2.out")"
grep -q "^read $read_total bars in all\$" "$tmp/run2.out" || fail "a re-run read other bars: $(cat "$tmp/run2.out")"
requests_after=$(curl -s "$url/__stats" | sed -n 's/.*"data_requests":\([0-9]*\).*/\1/p')
[[ $requests_before == "$requests_after" ]] || fail "the re-run made data requests ($requests_before -> $requests_after)"
echo "PASS: installed package built with CMake and pkg-config; $written bars written and read back"
