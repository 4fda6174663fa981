// ChunkFetcher against the simulator on loopback: every fault kind, bar for bar against the
// ground truth; the rate limit; refused keys; and no API key in any error.
#include <gtest/gtest.h>

#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "fetch/chunk_fetcher.h"
#include "core/clock.h"
#include "fetch/rate_limiter.h"
#include "sim/market_data.h"
#include "sim/sim_server.h"
#include "fetch/sim_fetch_support.h"

namespace barfill::fetch {
namespace {

using testing::FaultCase;
using testing::kKey;
using testing::Only;
using testing::Remember;
using testing::SimConfig;

constexpr uint64_t kSeed = 7;

std::unique_ptr<sim::SimServer> StartSim(sim::SimOptions options) {
  return testing::StartSimWithSeed(std::move(options), kSeed);
}

struct FetchResult {
  Status status;
  BarBatch bars;
  FetchStats stats;
};

// One fetch of `chunk` by a fresh fetcher aimed at `server`; `tweak` adjusts the settings first.
FetchResult FetchOnce(const sim::SimServer& server, const Chunk& chunk,
                      const std::function<void(FetchShared&)>& tweak = nullptr) {
  FetchShared shared;
  shared.config = SimConfig(server);
  if (tweak) tweak(shared);
  ChunkFetcher fetcher(shared);
  FetchResult r;
  r.status = fetcher.Fetch(chunk, r.bars, r.stats);
  if (!r.status) Remember(r.status.error());
  return r;
}

Chunk MakeChunk(const char* ticker, const char* tf, const char* from, const char* to) {
  const Ticker t = *Ticker::Parse(ticker);
  const Timeframe timeframe = *Timeframe::Parse(tf);
  const TimeRange days = t.zone().DaysToRange(*CalendarDay::Parse(from), *CalendarDay::Parse(to));
  return Chunk{Series{t, timeframe, true}, SnapToBuckets(timeframe, t.zone(), days)};
}

// Stocks and crypto, 1m/5m/1h/1d; with a page limit of 1000 base bars each intraday one needs
// several pages.
std::vector<Chunk> FaultChunks() {
  return {
      MakeChunk("AAPL", "1m", "2024-03-06", "2024-03-08"),
      MakeChunk("AAPL", "5m", "2024-03-04", "2024-03-08"),
      MakeChunk("MSFT", "1h", "2024-02-01", "2024-02-29"),
      MakeChunk("AAPL", "1d", "2023-01-01", "2024-12-31"),
      MakeChunk("X:BTCUSD", "1m", "2024-03-09", "2024-03-10"),
      MakeChunk("X:ETHUSD", "5m", "2024-03-01", "2024-03-03"),
      MakeChunk("X:BTCUSD", "1h", "2024-02-01", "2024-02-10"),
      MakeChunk("X:BTCUSD", "1d", "2023-01-01", "2024-12-31"),
  };
}

void ExpectGroundTruth(const Chunk& chunk, const BarBatch& got) {
  const BarBatch want = sim::GroundTruth(kSeed, chunk.series.ticker, chunk.series.timeframe,
                                         chunk.series.adjusted, chunk.range);
  ASSERT_FALSE(want.empty()) << chunk.Describe();
  ASSERT_EQ(got.size(), want.size()) << chunk.Describe();
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(got[i], want[i]) << chunk.Describe() << " bar " << i << " t=" << want.t[i];
  }
}

class FetchUnderFaultsTest : public ::testing::TestWithParam<FaultCase> {};

TEST_P(FetchUnderFaultsTest, EveryRangeMatchesTheGroundTruth) {
  sim::SimOptions options;
  options.faults = GetParam().rates;
  options.fault_seed = 11;
  auto server = StartSim(options);
  ASSERT_TRUE(server);
  FetchShared shared;
  shared.config = SimConfig(*server, 1000);
  shared.config.api_key_in_query = std::string(GetParam().name) == "all";
  ChunkFetcher fetcher(shared);
  FetchStats total;
  for (const Chunk& chunk : FaultChunks()) {
    BarBatch out;
    FetchStats stats;
    const Status status = fetcher.Fetch(chunk, out, stats);
    if (!status) Remember(status.error());
    ASSERT_TRUE(status) << chunk.Describe() << ": " << status.error().message;
    ExpectGroundTruth(chunk, out);
    total.Add(stats);
  }
  const sim::SimStats sim_stats = server->Stats();
  EXPECT_GT(total.pages, static_cast<int64_t>(FaultChunks().size()));  // pagination happened
  EXPECT_EQ(total.requests, total.pages + total.retries);
  const int64_t injected = sim_stats.http429 + sim_stats.http5xx + sim_stats.reset + sim_stats.truncate +
                           sim_stats.badjson;
  EXPECT_EQ(total.retries, injected) << "every injected fault costs exactly one retry";
  EXPECT_EQ(total.rate_limited, sim_stats.http429);
  EXPECT_EQ(total.server_errors, sim_stats.http5xx);
  if (GetParam().rates.slow > 0) {
    EXPECT_GT(sim_stats.slow, 0);
  }
  RecordProperty("requests", static_cast<int>(total.requests));
}

INSTANTIATE_TEST_SUITE_P(
    Faults, FetchUnderFaultsTest,
    ::testing::Values(FaultCase{"none", {}},
                      FaultCase{"http429", Only(&sim::FaultRates::http429, 0.3)},
                      FaultCase{"http5xx", Only(&sim::FaultRates::http5xx, 0.3)},
                      FaultCase{"reset", Only(&sim::FaultRates::reset, 0.3)},
                      FaultCase{"truncate", Only(&sim::FaultRates::truncate, 0.3)},
                      FaultCase{"badjson", Only(&sim::FaultRates::badjson, 0.3)},
                      FaultCase{"slow", Only(&sim::FaultRates::slow, 0.3)},
                      FaultCase{"all", sim::FaultRates{.http429 = 0.06, .http5xx = 0.06, .reset = 0.06,
                                                       .truncate = 0.06, .badjson = 0.06, .slow = 0.05,
                                                       .delayed = 0.3, .expvol = 0.3}}),
    [](const ::testing::TestParamInfo<FaultCase>& param) { return std::string(param.param.name); });

TEST(FetchSimTest, DelayedAndExponentFormsParseExactly) {
  sim::SimOptions options;
  options.faults.delayed = 1;
  options.faults.expvol = 1;
  auto server = StartSim(options);
  ASSERT_TRUE(server);
  FetchShared shared;
  shared.config = SimConfig(*server, 2000);
  ChunkFetcher fetcher(shared);
  for (const Chunk& chunk : FaultChunks()) {
    BarBatch out;
    FetchStats stats;
    const Status status = fetcher.Fetch(chunk, out, stats);
    ASSERT_TRUE(status) << status.error().message;
    ExpectGroundTruth(chunk, out);
    EXPECT_EQ(stats.delayed_pages, stats.pages);
    EXPECT_EQ(stats.retries, 0);
  }
  EXPECT_GT(server->Stats().expvol, 0);
}

TEST(FetchSimTest, SeveralThreadsShareOneLimiterWithoutA429) {
  // The sim counts a sliding 60 s window; the client limiter runs at the same nominal rate.
  constexpr int kPerMinute = 1200;
  constexpr int kChunks = 320;
  sim::SimOptions options;
  options.rate_limit_per_min = kPerMinute;
  auto server = StartSim(options);
  ASSERT_TRUE(server);
  RateLimiter limiter(*ParseRate(std::to_string(kPerMinute) + "/min"), RealClock());
  RetryBudget budget(0.2, 100);
  FetchShared shared;
  shared.config = SimConfig(*server);
  shared.limiter = &limiter;
  shared.budget = &budget;
  std::vector<Chunk> chunks;
  const Chunk base = MakeChunk("X:BTCUSD", "1h", "2023-01-01", "2023-01-01");
  for (int i = 0; i < kChunks; ++i) {
    Chunk c = base;
    c.range.from_ms += i * kMsPerDay;
    c.range.to_ms += i * kMsPerDay;
    chunks.push_back(c);
  }
  std::atomic<size_t> next{0};
  std::mutex stats_mutex;
  FetchStats total;
  std::vector<std::thread> threads;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      ChunkFetcher fetcher(shared);
      for (size_t i = next++; i < chunks.size(); i = next++) {
        BarBatch out;
        FetchStats stats;
        const Status status = fetcher.Fetch(chunks[i], out, stats);
        EXPECT_TRUE(status) << (status ? "" : status.error().message);
        EXPECT_EQ(out.size(), 24u);
        std::lock_guard lock(stats_mutex);
        total.Add(stats);
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(total.requests, kChunks);
  EXPECT_EQ(total.rate_limited, 0);
  EXPECT_EQ(server->Stats().rate_limited, 0);
  // And it did use the rate: at most the configured pace, but not far below it.
  EXPECT_GE(seconds, (kChunks - RateLimiter::kMaxAutoBurst) / (kPerMinute / 60.0) - 0.5);
  EXPECT_LE(seconds, kChunks / (kPerMinute / 60.0) * 1.25 + 2);
}

TEST(FetchSimTest, RateLimitedAnswersCutTheSharedRateAndTheFetchStillCompletes) {
  sim::SimOptions options;
  options.faults.http429 = 0.2;  // half of them carry Retry-After: 1
  auto server = StartSim(options);
  ASSERT_TRUE(server);
  RateLimiter limiter(*ParseRate("50/s"), RealClock(),
                      RateLimiterOptions{.min_rate_fraction = 0.25, .recover_after = 5,
                                         .retry_after_cap_ms = 100, .min_pause_ms = 10});
  FetchShared shared;
  shared.config = SimConfig(*server);
  shared.limiter = &limiter;
  ChunkFetcher fetcher(shared);
  Chunk chunk = MakeChunk("X:BTCUSD", "1h", "2023-01-01", "2023-01-01");
  FetchStats total;
  for (int i = 0; i < 40; ++i) {
    BarBatch out;
    const Status status = fetcher.Fetch(chunk, out, total);
    ASSERT_TRUE(status) << status.error().message;
    ASSERT_EQ(out, sim::GroundTruth(kSeed, chunk.series.ticker, chunk.series.timeframe, true, chunk.range));
    chunk.range.from_ms += kMsPerDay;
    chunk.range.to_ms += kMsPerDay;
  }
  EXPECT_EQ(total.rate_limited, server->Stats().http429);
  EXPECT_GT(total.rate_limited, 0);
  EXPECT_GT(limiter.decreases(), 0);
  EXPECT_LE(limiter.CurrentRate(), limiter.MaxRate());
}

TEST(FetchSimTest, WrongKeyIsAuthAtOnce) {
  auto server = StartSim({});
  ASSERT_TRUE(server);
  for (const bool in_query : {false, true}) {
    const FetchResult r = FetchOnce(*server, MakeChunk("AAPL", "1d", "2024-01-01", "2024-01-31"), [&](FetchShared& s) {
      s.config.api_key = "Wrong-Key-123";
      s.config.api_key_in_query = in_query;
    });
    ASSERT_FALSE(r.status);
    const Error& e = r.status.error();
    EXPECT_EQ(e.code, ErrorCode::kAuth);
    EXPECT_EQ(e.http_status, 401);
    EXPECT_NE(e.message.find("Unknown API Key"), std::string::npos) << e.message;
    EXPECT_EQ(e.message.find("Wrong-Key-123"), std::string::npos);
    EXPECT_EQ(e.request.find("Wrong-Key-123"), std::string::npos);
    EXPECT_EQ(r.stats.requests, 1);
    EXPECT_EQ(r.stats.retries, 0);
  }
}

TEST(FetchSimTest, ForbiddenTickerIsAuthAtOnce) {
  sim::SimOptions options;
  options.forbidden_tickers = {"X:DOGEUSD"};
  auto server = StartSim(options);
  ASSERT_TRUE(server);
  const auto in_query = [](FetchShared& s) { s.config.api_key_in_query = true; };
  const FetchResult r = FetchOnce(*server, MakeChunk("X:DOGEUSD", "1m", "2024-01-01", "2024-01-01"), in_query);
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code, ErrorCode::kAuth);
  EXPECT_EQ(r.status.error().http_status, 403);
  EXPECT_EQ(r.stats.requests, 1);
  // Other tickers are fine.
  const FetchResult other = FetchOnce(*server, MakeChunk("X:BTCUSD", "1h", "2024-01-01", "2024-01-01"), in_query);
  ASSERT_TRUE(other.status);
  EXPECT_EQ(other.bars.size(), 24u);
}

TEST(FetchSimTest, InvertedRangeIsAClearErrorWithoutARequest) {
  auto server = StartSim({});
  ASSERT_TRUE(server);
  Chunk chunk = MakeChunk("AAPL", "1d", "2024-01-01", "2024-01-31");
  std::swap(chunk.range.from_ms, chunk.range.to_ms);
  const FetchResult r = FetchOnce(*server, chunk);
  ASSERT_FALSE(r.status);
  EXPECT_NE(r.status.error().message.find("must be after 'from'"), std::string::npos) << r.status.error().message;
  EXPECT_EQ(r.stats.requests, 0);
}

TEST(FetchSimTest, EmptyRangeIsAnEmptySuccess) {
  auto server = StartSim({});
  ASSERT_TRUE(server);
  // A Saturday and Sunday: no stock bars at all.
  const FetchResult r = FetchOnce(*server, MakeChunk("AAPL", "1m", "2024-03-09", "2024-03-10"));
  ASSERT_TRUE(r.status) << r.status.error().message;
  EXPECT_TRUE(r.bars.empty());
  EXPECT_EQ(r.stats.pages, 1);
}

TEST(FetchSimTest, ADeadServerExhaustsTheBudgetInsteadOfStorming) {
  sim::SimOptions options;
  options.faults.http5xx = 1;
  auto server = StartSim(options);
  ASSERT_TRUE(server);
  RetryBudget budget(0.1, 5);
  int64_t requests = 0;
  for (int i = 0; i < 4; ++i) {
    const FetchResult r = FetchOnce(*server, MakeChunk("AAPL", "1d", "2024-01-01", "2024-01-31"),
                                    [&](FetchShared& s) { s.budget = &budget; });
    ASSERT_FALSE(r.status);
    EXPECT_EQ(r.status.error().code, ErrorCode::kNetworkGaveUp);
    EXPECT_GE(r.status.error().http_status, 500);
    requests += r.stats.requests;
  }
  EXPECT_LE(budget.retries(), 5 + 1);
  EXPECT_LE(requests, 4 + 6);
}

TEST(FetchSimTest, CancelStopsABackoff) {
  sim::SimOptions options;
  options.faults.http5xx = 1;
  auto server = StartSim(options);
  ASSERT_TRUE(server);
  std::atomic<bool> cancel{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
  });
  const auto start = std::chrono::steady_clock::now();
  // Retry backoff is drawn from [0, 60 s]: unless the dice say ~0, the cancel cuts it short.
  const FetchResult r = FetchOnce(*server, MakeChunk("AAPL", "1d", "2024-01-01", "2024-01-31"), [&](FetchShared& s) {
    s.config.retry.base_backoff_ms = 60'000;
    s.config.retry.max_backoff_ms = 60'000;
    s.cancel = &cancel;
  });
  stopper.join();
  ASSERT_FALSE(r.status);
  EXPECT_EQ(r.status.error().code, ErrorCode::kInterrupted);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// Errors of every kind, with the key travelling in the query string: none may show it.
TEST(FetchSimTest, NoErrorCarriesTheKey) {
  const double sim::FaultRates::*kinds[] = {&sim::FaultRates::http429, &sim::FaultRates::http5xx,
                                            &sim::FaultRates::reset, &sim::FaultRates::truncate,
                                            &sim::FaultRates::badjson};
  for (const auto kind : kinds) {
    sim::SimOptions options;
    options.faults.*const_cast<double sim::FaultRates::*>(kind) = 1;
    auto server = StartSim(options);
    ASSERT_TRUE(server);
    const FetchResult r = FetchOnce(*server, MakeChunk("X:BTCUSD", "1m", "2024-01-01", "2024-01-01"), [](FetchShared& s) {
      s.config.api_key_in_query = true;
      s.config.retry.max_attempts = 2;
    });
    ASSERT_FALSE(r.status);
    // A server that keeps sending garbage fails the chunk; a failing network gives up.
    EXPECT_EQ(r.status.error().code, kind == &sim::FaultRates::badjson ? ErrorCode::kBadResponse : ErrorCode::kNetworkGaveUp);
    EXPECT_EQ(r.status.error().request.rfind(server->BaseUrl() + "/v2/aggs/ticker/X:BTCUSD/range/1/minute/", 0), 0u)
        << r.status.error().request;
    EXPECT_EQ(r.status.error().request.find("apiKey"), std::string::npos) << r.status.error().request;
  }
  // A transport failure before any answer: curl's own message must be clean too.
  FetchShared shared;
  shared.config.base_url = "http://127.0.0.1:1";
  shared.config.api_key = kKey;
  shared.config.api_key_in_query = true;
  shared.config.use_asset_profiles = false;
  shared.config.retry.max_attempts = 1;
  ChunkFetcher fetcher(shared);
  BarBatch out;
  FetchStats stats;
  const Status status = fetcher.Fetch(MakeChunk("AAPL", "1d", "2024-01-01", "2024-01-31"), out, stats);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kNetworkGaveUp);
  Remember(status.error());
}

}  // namespace
}  // namespace barfill::fetch
