// How fast the simulator makes and serves bars: the ground truth alone, pages written to JSON
// in-process (the server's CPU work without sockets), and the real server over loopback with
// keep-alive and limit=50000, up to the seed's whole baseline (45 stocks + 5 crypto pairs x
// 1m,5m,15m,1h,1d x 2025, about 17 M bars), which must take well under 20 s of one core.
#include <benchmark/benchmark.h>
#include <curl/curl.h>
#include <sys/resource.h>

#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "sim/aggs_api.h"
#include "sim/market_data.h"
#include "sim/sim_server.h"

namespace {

using namespace barfill;

constexpr uint64_t kSeed = 1;

double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

TimeRange Year2025(const Ticker& ticker) {
  return ticker.zone().DaysToRange(CalendarDay{2025, 1, 1}, CalendarDay{2025, 12, 31});
}

void BM_GroundTruth(benchmark::State& state, const char* symbol, const char* timeframe) {
  const Ticker ticker = *Ticker::Parse(symbol);
  const Timeframe tf = *Timeframe::Parse(timeframe);
  int64_t bars = 0;
  for (auto _ : state) {
    const BarBatch batch = sim::GroundTruth(kSeed, ticker, tf, true, Year2025(ticker));
    bars += static_cast<int64_t>(batch.size());
    benchmark::DoNotOptimize(batch.t.data());
  }
  state.counters["bars/s"] = benchmark::Counter(static_cast<double>(bars), benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_GroundTruth, stock_1m_year, "AAPL", "1m")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_GroundTruth, crypto_1m_year, "X:BTCUSD", "1m")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_GroundTruth, crypto_1d_year, "X:BTCUSD", "1d")->Unit(benchmark::kMillisecond);

/// Pages of 50000 minutes written to JSON as the server does, without sockets.
void BM_PagesToJson(benchmark::State& state, const char* symbol) {
  const std::string path = std::string("/v2/aggs/ticker/") + symbol + "/range/1/minute/2025-01-01/2025-12-31";
  const auto call = sim::ResolveAggsCall(*sim::MatchAggsPath(path), {{"limit", "50000"}});
  sim::Page page;
  sim::ByteBuffer body;
  int64_t bars = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    sim::PageQuery query;
    query.seed = kSeed;
    query.ticker = *call->ticker;
    query.timeframe = call->timeframe;
    query.range = call->range;
    query.limit = call->limit;
    do {
      sim::ReadPage(query, &page);
      body.Clear();
      const std::string next =
          page.more ? sim::NextUrl("http://127.0.0.1:1", *call, sim::NextBarStart(*call, page.bars.t.back())) : "";
      sim::WriteAggsBody(*call, page, "0123456789abcdef0123456789abcdef", next, {}, &body);
      bars += static_cast<int64_t>(page.bars.size());
      bytes += static_cast<int64_t>(body.size());
      if (page.more) query.range.from_ms = sim::NextBarStart(*call, page.bars.t.back());
    } while (page.more);
  }
  state.counters["bars/s"] = benchmark::Counter(static_cast<double>(bars), benchmark::Counter::kIsRate);
  state.counters["MB/s"] = benchmark::Counter(static_cast<double>(bytes) / 1e6, benchmark::Counter::kIsRate);
  state.counters["B/bar"] = static_cast<double>(bytes) / static_cast<double>(bars);
}
BENCHMARK_CAPTURE(BM_PagesToJson, stock_1m_year, "AAPL")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_PagesToJson, crypto_1m_year, "X:BTCUSD")->Unit(benchmark::kMillisecond);

/// A keep-alive libcurl client that follows next_url and keeps nothing but byte counts.
class LoopbackClient {
 public:
  explicit LoopbackClient(bool gzip) : curl_(curl_easy_init(), &curl_easy_cleanup) {
    curl_easy_setopt(curl_.get(), CURLOPT_WRITEFUNCTION, &Collect);
    curl_easy_setopt(curl_.get(), CURLOPT_WRITEDATA, &body_);
    curl_easy_setopt(curl_.get(), CURLOPT_NOSIGNAL, 1L);
    if (gzip) curl_easy_setopt(curl_.get(), CURLOPT_ACCEPT_ENCODING, "gzip");
    headers_ = curl_slist_append(nullptr, "Authorization: Bearer bench");
    curl_easy_setopt(curl_.get(), CURLOPT_HTTPHEADER, headers_);
  }
  ~LoopbackClient() { curl_slist_free_all(headers_); }

  /// Follows `url` to its last page; false on any failure.
  bool FollowAll(std::string url) {
    while (!url.empty()) {
      body_.clear();
      curl_easy_setopt(curl_.get(), CURLOPT_URL, url.c_str());
      long status = 0;
      if (curl_easy_perform(curl_.get()) != CURLE_OK) return false;
      curl_easy_getinfo(curl_.get(), CURLINFO_RESPONSE_CODE, &status);
      if (status != 200) return false;
      curl_off_t wire = 0;
      curl_easy_getinfo(curl_.get(), CURLINFO_SIZE_DOWNLOAD_T, &wire);
      wire_bytes_ += wire;
      json_bytes_ += static_cast<int64_t>(body_.size());
      ++pages_;
      // next_url is the body's last key.
      constexpr std::string_view kKey = "\"next_url\":\"";
      const size_t at = body_.rfind(kKey);
      url = at == std::string::npos ? "" : body_.substr(at + kKey.size(), body_.size() - 2 - at - kKey.size());
    }
    return true;
  }

  int64_t wire_bytes() const { return wire_bytes_; }
  int64_t json_bytes() const { return json_bytes_; }
  int64_t pages() const { return pages_; }

 private:
  static size_t Collect(char* data, size_t size, size_t count, void* user) {
    static_cast<std::string*>(user)->append(data, size * count);
    return size * count;
  }

  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl_;
  curl_slist* headers_ = nullptr;
  std::string body_;
  int64_t wire_bytes_ = 0;
  int64_t json_bytes_ = 0;
  int64_t pages_ = 0;
};

struct Series {
  std::string ticker;
  std::string timeframe;  // Polygon's "1/minute"
};

/// Serves `series` for 2025 over loopback and reports bars/s, MB/s and the CPU it took.
void ServeOverLoopback(benchmark::State& state, const std::vector<Series>& series, bool gzip) {
  auto server = sim::SimServer::Start(sim::SimOptions{});
  if (!server) {
    state.SkipWithError(server.error().message.c_str());
    return;
  }
  const std::string base = (*server)->BaseUrl();
  int64_t bars = 0;
  double process_cpu = 0;
  double client_cpu = 0;
  LoopbackClient client(gzip);
  for (auto _ : state) {
    const int64_t served_before = (*server)->Stats().bars_served;
    const double process_start = ProcessCpuSeconds();
    const double client_start = ThreadCpuSeconds();
    for (const Series& s : series) {
      if (!client.FollowAll(base + "/v2/aggs/ticker/" + s.ticker + "/range/" + s.timeframe +
                            "/2025-01-01/2025-12-31?limit=50000")) {
        state.SkipWithError("a request failed");
        return;
      }
    }
    client_cpu += ThreadCpuSeconds() - client_start;
    process_cpu += ProcessCpuSeconds() - process_start;
    bars += (*server)->Stats().bars_served - served_before;
  }
  const double b = static_cast<double>(bars);
  state.counters["bars"] = b / static_cast<double>(state.iterations());
  state.counters["pages"] = static_cast<double>(client.pages()) / static_cast<double>(state.iterations());
  state.counters["bars/s"] = benchmark::Counter(b, benchmark::Counter::kIsRate);
  state.counters["MB/s"] = benchmark::Counter(static_cast<double>(client.json_bytes()) / 1e6, benchmark::Counter::kIsRate);
  state.counters["wire_MB/s"] = benchmark::Counter(static_cast<double>(client.wire_bytes()) / 1e6, benchmark::Counter::kIsRate);
  // CPU seconds per 16 M bars: the whole process (server and client), and the server alone
  // (the process minus the client thread).
  state.counters["cpu_s_per_16M"] = process_cpu / b * 16e6;
  state.counters["server_cpu_s_per_16M"] = (process_cpu - client_cpu) / b * 16e6;
}

void BM_ServeYearOf1m(benchmark::State& state) {
  ServeOverLoopback(state, {{"AAPL", "1/minute"}, {"MSFT", "1/minute"}, {"X:BTCUSD", "1/minute"}}, false);
}
BENCHMARK(BM_ServeYearOf1m)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2);

void BM_ServeYearOf1mGzip(benchmark::State& state) {
  ServeOverLoopback(state, {{"X:BTCUSD", "1/minute"}}, true);
}
BENCHMARK(BM_ServeYearOf1mGzip)->Unit(benchmark::kMillisecond)->UseRealTime();

std::vector<Series> SeedBaseline() {
  static const char* const kStocks[] = {
      "AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "BRK.B", "JPM", "V",    "UNH",  "XOM",
      "JNJ",  "WMT",  "MA",   "PG",   "HD",    "CVX",  "MRK",  "ABBV",  "KO",  "PEP",  "AVGO", "COST",
      "ADBE", "CRM",  "NFLX", "AMD",  "INTC",  "CSCO", "ORCL", "QCOM",  "TXN", "NKE",  "DIS",  "BAC",
      "WFC",  "MCD",  "LLY",  "PFE",  "T",     "VZ",   "SPY",  "QQQ",   "IWM"};
  static const char* const kCrypto[] = {"X:BTCUSD", "X:ETHUSD", "X:SOLUSD", "X:XRPUSD", "X:DOGEUSD"};
  static const char* const kTimeframes[] = {"1/minute", "5/minute", "15/minute", "1/hour", "1/day"};
  std::vector<Series> out;
  for (const char* tf : kTimeframes) {
    for (const char* s : kStocks) out.push_back({s, tf});
    for (const char* s : kCrypto) out.push_back({s, tf});
  }
  return out;
}

void BM_ServeSeedBaseline(benchmark::State& state) { ServeOverLoopback(state, SeedBaseline(), false); }
BENCHMARK(BM_ServeSeedBaseline)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
