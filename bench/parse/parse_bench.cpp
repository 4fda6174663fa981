// Parsing a 50,000-bar aggregates body: barfill's parser (straight into a BarBatch) beside a
// plain simdjson On-Demand walk of the same body into structs, the ceiling (docs/design.md §12).
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <cstdio>
#include <string>
#include <vector>

#include "core/series.h"
#include "fetch/bar_validator.h"
#include "polygon/aggs_parser.h"

namespace barfill {
namespace {

constexpr int kBars = 50'000;
constexpr int64_t kStart = 1'704'067'200'000;  // 2024-01-01T00:00:00Z

// A compact body in the API's own key order (v, vw, o, c, h, l, t, n), ~100 B per bar.
const std::string& Body() {
  static const std::string body = [] {
    std::string s = R"({"ticker":"X:BTCUSD","queryCount":50000,"resultsCount":50000,"adjusted":true,"results":[)";
    uint64_t x = 88172645463325252ull;
    double price = 42000;
    char buf[256];
    for (int i = 0; i < kBars; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      const double move = static_cast<double>(x % 2001) / 100.0 - 10.0;
      const double open = price;
      const double close = price + move;
      const double high = std::max(open, close) + static_cast<double>(x % 700) / 100.0;
      const double low = std::min(open, close) - static_cast<double>(x % 500) / 100.0;
      price = close;
      std::snprintf(buf, sizeof buf,
                    R"(%s{"v":%.0f,"vw":%.4f,"o":%.2f,"c":%.2f,"h":%.2f,"l":%.2f,"t":%lld,"n":%llu})",
                    i == 0 ? "" : ",", static_cast<double>(x % 100000 + 1), (open + close) / 2, open,
                    close, high, low, static_cast<long long>(kStart + int64_t{i} * 60'000),
                    static_cast<unsigned long long>(x % 5000 + 1));
      s += buf;
    }
    s += R"(],"status":"OK","request_id":"6a7e466379af0a71039d60cc78e72282","count":50000})";
    return s;
  }();
  return body;
}

std::string Padded() {
  std::string p = Body();
  p.append(simdjson::SIMDJSON_PADDING, '\0');
  return p;
}

void Count(benchmark::State& state) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(Body().size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kBars);
  state.counters["body_MB"] = static_cast<double>(Body().size()) / 1e6;
}

void BM_AggsParser(benchmark::State& state) {
  const std::string padded = Padded();
  polygon::AggsParser parser;
  BarBatch batch;
  for (auto _ : state) {
    batch.clear();
    auto page = parser.Parse(padded.data(), Body().size(), padded.size(), batch);
    if (!page || batch.size() != kBars) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(batch.close.data());
  }
  Count(state);
}
BENCHMARK(BM_AggsParser);

// What the fetcher does per page: parse, then validate (sort check, dedupe, invariants, range).
void BM_AggsParserAndValidate(benchmark::State& state) {
  const std::string padded = Padded();
  const Chunk chunk{Series{*Ticker::Parse("X:BTCUSD"), Timeframe(1, Timespan::kMinute), true},
                    TimeRange{kStart, kStart + int64_t{kBars} * 60'000}};
  polygon::AggsParser parser;
  BarBatch batch;
  for (auto _ : state) {
    batch.clear();
    auto page = parser.Parse(padded.data(), Body().size(), padded.size(), batch);
    fetch::ValidationReport report;
    if (!page || !fetch::ValidateBars(chunk, batch, report) || batch.size() != kBars) state.SkipWithError("failed");
    benchmark::DoNotOptimize(batch.close.data());
  }
  Count(state);
}
BENCHMARK(BM_AggsParserAndValidate);

// A plain On-Demand walk of "results" into a vector of structs; `read` fills one bar.
template <typename ReadBar>
void WalkResults(benchmark::State& state, ReadBar read) {
  const std::string padded = Padded();
  simdjson::ondemand::parser parser;
  std::vector<Bar> bars;
  bars.reserve(kBars);
  for (auto _ : state) {
    bars.clear();
    auto doc = parser.iterate(simdjson::padded_string_view(padded.data(), Body().size(), padded.size()));
    for (auto element : doc["results"]) {
      simdjson::ondemand::object o = element.get_object();
      Bar b;
      read(o, b);
      bars.push_back(b);
    }
    if (bars.size() != kBars) state.SkipWithError("walk failed");
    benchmark::DoNotOptimize(bars.data());
  }
  Count(state);
}

// The ceiling: ordered lookups in document order (the fastest idiom in docs/design.md §12).
void BM_SimdjsonOrderedLookups(benchmark::State& state) {
  WalkResults(state, [](simdjson::ondemand::object& o, Bar& b) {
    b.volume = o["v"].get_double();
    b.vwap = o["vw"].get_double();
    b.open = o["o"].get_double();
    b.close = o["c"].get_double();
    b.high = o["h"].get_double();
    b.low = o["l"].get_double();
    b.t = o["t"].get_int64();
    b.trades = o["n"].get_int64();
  });
}
BENCHMARK(BM_SimdjsonOrderedLookups);

// The other common idiom: loop over fields comparing raw keys.
void BM_SimdjsonRawKeyLoop(benchmark::State& state) {
  WalkResults(state, [](simdjson::ondemand::object& o, Bar& b) {
    for (auto field : o) {
      const simdjson::ondemand::raw_json_string key = field.key();
      if (key == "v") b.volume = field.value().get_double();
      else if (key == "vw") b.vwap = field.value().get_double();
      else if (key == "o") b.open = field.value().get_double();
      else if (key == "c") b.close = field.value().get_double();
      else if (key == "h") b.high = field.value().get_double();
      else if (key == "l") b.low = field.value().get_double();
      else if (key == "t") b.t = field.value().get_int64();
      else if (key == "n") b.trades = field.value().get_int64();
    }
  });
}
BENCHMARK(BM_SimdjsonRawKeyLoop);

}  // namespace
}  // namespace barfill

BENCHMARK_MAIN();
