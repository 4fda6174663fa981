// Fetching every page of a large range from the simulator on loopback: barfill's fetch::ChunkFetcher
// (libcurl easy handle, keep-alive, parse straight into a BarBatch, validation) beside the curl
// command-line tool fetching the same URLs over one connection into /dev/null (the ceiling:
// transfer only, no parsing).
#include <benchmark/benchmark.h>
#include <simdjson.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "fetch/chunk_fetcher.h"
#include "http/http_client.h"
#include "sim/sim_server.h"

namespace barfill {
namespace {

constexpr const char* kKey = "bench-key";

sim::SimServer& Sim() {
  static std::unique_ptr<sim::SimServer> server = [] {
    sim::SimOptions options;
    options.api_key = kKey;
    auto started = sim::SimServer::Start(options);
    if (!started) {
      std::fprintf(stderr, "simulator: %s\n", started.error().message.c_str());
      std::exit(1);
    }
    return std::move(*started);
  }();
  return *server;
}

// 91 days of 24/7 minute bars: 131,040 bars in three 50,000-base-bar pages (~13 MB of JSON).
Chunk BigChunk() {
  const Ticker ticker = *Ticker::Parse("X:BTCUSD");
  const TimeRange range = ticker.zone().DaysToRange(*CalendarDay::Parse("2024-01-01"), *CalendarDay::Parse("2024-03-31"));
  return Chunk{Series{ticker, Timeframe(1, Timespan::kMinute), true}, range};
}

fetch::FetchShared Shared(bool compressed) {
  fetch::FetchShared shared;
  shared.config.base_url = Sim().BaseUrl();
  shared.config.api_key = kKey;
  shared.config.http.compressed = compressed;
  return shared;
}

void BM_ChunkFetcher(benchmark::State& state) {
  const bool compressed = state.range(0) != 0;
  fetch::ChunkFetcher fetcher(Shared(compressed));
  const Chunk chunk = BigChunk();
  BarBatch out;
  fetch::FetchStats total;
  for (auto _ : state) {
    fetch::FetchStats stats;
    const Status status = fetcher.Fetch(chunk, out, stats);
    if (!status) state.SkipWithError(status.error().message.c_str());
    total.Add(stats);
  }
  state.SetItemsProcessed(static_cast<int64_t>(out.size()) * state.iterations());
  state.SetBytesProcessed(total.bytes);
  state.counters["pages"] = static_cast<double>(total.pages) / static_cast<double>(state.iterations());
  state.counters["parse_share"] = total.parse_s / (total.network_s + total.parse_s);
}
BENCHMARK(BM_ChunkFetcher)->ArgName("gzip")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// Several fetcher threads at once, each with its own handle and connection (DNS and TLS
// sessions shared): the design the engine uses.
void BM_ChunkFetcherThreads(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const Chunk chunk = BigChunk();
  int64_t bars = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    std::vector<std::thread> pool;
    std::vector<fetch::FetchStats> stats(threads);
    std::vector<size_t> sizes(threads);
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        fetch::ChunkFetcher fetcher(Shared(false));
        BarBatch out;
        if (fetcher.Fetch(chunk, out, stats[t])) sizes[t] = out.size();
      });
    }
    for (auto& th : pool) th.join();
    for (int t = 0; t < threads; ++t) {
      bars += static_cast<int64_t>(sizes[t]);
      bytes += stats[t].bytes;
    }
  }
  state.SetItemsProcessed(bars);
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_ChunkFetcherThreads)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// The page URLs the fetcher requested, read back from the simulator's request log.
std::vector<std::string> PageUrls() {
  http::HttpClient client(http::HttpOptions{});
  (void)client.Get(Sim().BaseUrl() + "/__reset", {});
  fetch::ChunkFetcher fetcher(Shared(false));
  BarBatch out;
  fetch::FetchStats stats;
  if (!fetcher.Fetch(BigChunk(), out, stats)) return {};
  auto log = client.Get(Sim().BaseUrl() + "/__requests", {});
  std::vector<std::string> urls;
  if (!log) return urls;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse((*log)->body.data(), (*log)->body.size()).get(doc)) return urls;
  for (auto target : doc.get_array()) {
    std::string_view t;
    if (!target.get_string().get(t)) urls.push_back(Sim().BaseUrl() + std::string(t));
  }
  return urls;
}

void BM_CurlCli(benchmark::State& state) {
  const bool compressed = state.range(0) != 0;
  static const std::vector<std::string> urls = PageUrls();
  if (urls.empty()) {
    state.SkipWithError("no page URLs");
    return;
  }
  const std::string config_path = "/tmp/barfill_fetch_bench.curl";
  {
    std::ofstream config(config_path);
    config << "silent\nfail\nheader = \"Authorization: Bearer " << kKey << "\"\n";
    if (compressed) config << "compressed\n";
    for (const std::string& url : urls) config << "url = \"" << url << "\"\noutput = \"/dev/null\"\n";
  }
  const std::string command = "curl -K " + config_path;
  for (auto _ : state) {
    if (std::system(command.c_str()) != 0) state.SkipWithError("curl failed");
  }
  state.counters["pages"] = static_cast<double>(urls.size());
  const Chunk chunk = BigChunk();
  // Same items as the fetcher's run, for a like-for-like bars/s.
  state.SetItemsProcessed(static_cast<int64_t>(chunk.range.DurationMs() / kMsPerMinute) * state.iterations());
}
BENCHMARK(BM_CurlCli)->ArgName("gzip")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace barfill

BENCHMARK_MAIN();
