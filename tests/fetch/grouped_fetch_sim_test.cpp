// GroupedFetcher against the simulator on loopback: one request per market day, and every bar
// equal to the range endpoint's day bar of the same ticker (fetched by ChunkFetcher from the same
// server) and to the ground truth, for stocks across DST changes, crypto and forex, adjusted or
// not; faults retried; keys refused.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "fetch/chunk_fetcher.h"
#include "fetch/grouped_fetcher.h"
#include "fetch/sim_fetch_support.h"
#include "http/http_client.h"
#include "sim/action_table.h"
#include "sim/market_data.h"
#include "sim/sim_server.h"

namespace barfill::fetch {
namespace {

using polygon::GroupedMarket;
using testing::FaultCase;
using testing::kKey;
using testing::Only;
using testing::Remember;
using testing::SimConfig;

constexpr uint64_t kSeed = 23;
const Timeframe kDaily(1, Timespan::kDay);

// Liquid stocks (two with synthetic 2025 splits among them), a thin one that misses days, a
// share class, and the other markets; every grouped stocks day also carries the simulator's two
// test symbols, which barfill cannot hold.
const char* const kUniverse[] = {"AAPL", "MSFT", "BRK.B", "SPY", "NVDA", "THIN", "X:BTCUSD", "X:ETHUSD",
                                 "C:EURUSD", "C:USDJPY", "I:SPX"};

sim::SimOptions Options() {
  sim::SimOptions options;
  options.seed = kSeed;
  for (const char* symbol : kUniverse) options.s3.universe.push_back(*Ticker::Parse(symbol));
  options.activity = {{"THIN", 0.0005}};  // trades on some days only
  return options;
}

std::unique_ptr<sim::SimServer> StartSim(sim::SimOptions options = Options()) {
  return testing::StartSimWithSeed(std::move(options), kSeed);
}

std::vector<Ticker> TickersOf(GroupedMarket market) {
  std::vector<Ticker> out;
  for (const char* symbol : kUniverse) {
    const Ticker t = *Ticker::Parse(symbol);
    if (t.asset_class() == polygon::AssetClassOf(market)) out.push_back(t);
  }
  return out;
}

std::vector<std::string> GroupedRequestsLogged(const sim::SimServer& server) {
  // /__requests is a JSON array of strings without escapes worth decoding here.
  http::HttpClient client(http::HttpOptions{});
  auto got = client.Get(server.BaseUrl() + "/__requests", {});
  EXPECT_TRUE(got);
  std::vector<std::string> out;
  if (!got) return out;
  const std::string body((*got)->body.view());
  for (size_t at = body.find("\"/v2/aggs/grouped/"); at != std::string::npos;
       at = body.find("\"/v2/aggs/grouped/", at + 1)) {
    out.push_back(body.substr(at + 1, body.find('"', at + 1) - at - 1));
  }
  return out;
}

struct MarketCase {
  const char* name;
  GroupedMarket market;
  bool adjusted;
  CalendarDay from;
  CalendarDay to;
};

class GroupedEqualsRangesTest : public ::testing::TestWithParam<MarketCase> {};

// A week of grouped days, one request each, is bar for bar the series a range request gives.
TEST_P(GroupedEqualsRangesTest, OneRequestPerDayAndTheSameSeriesAsRanges) {
  const MarketCase& c = GetParam();
  auto server = StartSim();
  ASSERT_TRUE(server);
  FetchShared shared;
  shared.config = SimConfig(*server);
  GroupedFetcher grouped(shared);
  ChunkFetcher ranges(shared);
  const std::vector<Ticker> tickers = TickersOf(c.market);
  const MarketZone zone = ZoneFor(polygon::AssetClassOf(c.market));

  std::map<std::string, BarBatch> from_grouped;
  int days = 0;
  int trading_days = 0;
  int64_t restamped = 0;
  FetchStats total;
  for (CalendarDay day = c.from; day <= c.to; day = day.AddDays(1), ++days) {
    FetchStats stats;
    const auto fetched = grouped.FetchDay({.request = {.market = c.market, .date = day, .adjusted = c.adjusted}}, stats);
    ASSERT_TRUE(fetched) << day.ToString() << ": " << fetched.error().message;
    EXPECT_EQ(fetched->requests, 1);
    EXPECT_EQ(stats.requests, 1);
    EXPECT_EQ(stats.pages, 1);
    EXPECT_TRUE(fetched->rejected.empty());
    EXPECT_EQ(fetched->range, zone.DaysToRange(day, day));
    const polygon::GroupedDay& d = fetched->day;
    ASSERT_EQ(d.tickers.size(), d.bars.size());
    if (!d.bars.empty()) ++trading_days;
    // Only the simulator's test symbols are skipped, and only on stock days that traded.
    EXPECT_EQ(d.skipped, c.market == GroupedMarket::kStocks && !d.bars.empty() ? 2 : 0) << day.ToString();
    restamped += d.restamped;
    for (size_t i = 0; i < d.bars.size(); ++i) {
      if (i > 0) {
        EXPECT_LT(d.tickers[i - 1].symbol(), d.tickers[i].symbol());
      }
      from_grouped[d.tickers[i].symbol()].push_back(d.bars[i]);
    }
    total.Add(stats);
  }
  EXPECT_EQ(total.requests, days);
  EXPECT_GT(trading_days, 0);
  // Stocks come stamped 16:00 New York and are moved; crypto and forex already sit at 00:00 UTC.
  EXPECT_EQ(restamped > 0, c.market == GroupedMarket::kStocks);
  const std::vector<std::string> logged = GroupedRequestsLogged(*server);
  ASSERT_EQ(logged.size(), static_cast<size_t>(days));
  EXPECT_EQ(logged.front(), "/v2/aggs/grouped/locale/" + std::string(c.market == GroupedMarket::kStocks ? "us" : "global") +
                                "/market/" + std::string(polygon::GroupedMarketName(c.market)) + "/" + c.from.ToString() +
                                (c.adjusted ? "?adjusted=true" : "?adjusted=false") + "&include_otc=false");

  const TimeRange week = zone.DaysToRange(c.from, c.to);
  int compared = 0;
  for (const Ticker& ticker : tickers) {
    const Chunk chunk{Series{ticker, kDaily, c.adjusted}, week};
    BarBatch by_range;
    FetchStats stats;
    const Status status = ranges.Fetch(chunk, by_range, stats);
    ASSERT_TRUE(status) << chunk.Describe() << ": " << status.error().message;
    EXPECT_EQ(from_grouped[ticker.symbol()], by_range) << chunk.Describe();
    EXPECT_EQ(by_range, sim::GroundTruth(sim::MarketOf(Options()), ticker, kDaily, c.adjusted, week))
        << chunk.Describe();
    compared += static_cast<int>(by_range.size());
  }
  EXPECT_GT(compared, 0);
  EXPECT_EQ(from_grouped.size(), tickers.size()) << "a ticker of another market came through";
}

INSTANTIATE_TEST_SUITE_P(
    Markets, GroupedEqualsRangesTest,
    // 2025-03-09 is the spring DST change in New York (and a Sunday); 2025 holds the splits.
    ::testing::Values(MarketCase{"stocks", GroupedMarket::kStocks, true, {2025, 3, 6}, {2025, 3, 12}},
                      MarketCase{"stocks_unadjusted", GroupedMarket::kStocks, false, {2025, 3, 6}, {2025, 3, 12}},
                      MarketCase{"stocks_fall_dst", GroupedMarket::kStocks, true, {2024, 10, 31}, {2024, 11, 5}},
                      MarketCase{"crypto", GroupedMarket::kCrypto, true, {2025, 3, 7}, {2025, 3, 10}},
                      MarketCase{"crypto_unadjusted", GroupedMarket::kCrypto, false, {2025, 3, 7}, {2025, 3, 10}},
                      MarketCase{"fx", GroupedMarket::kFx, true, {2025, 3, 7}, {2025, 3, 10}},
                      MarketCase{"fx_unadjusted", GroupedMarket::kFx, false, {2025, 3, 7}, {2025, 3, 10}}),
    [](const ::testing::TestParamInfo<MarketCase>& param) { return std::string(param.param.name); });

// The unadjusted days really are unadjusted: a split stock's prices differ from the adjusted ones.
TEST(GroupedFetchSimTest, UnadjustedDaysDifferWhereASplitLies) {
  auto server = StartSim();
  ASSERT_TRUE(server);
  FetchShared shared;
  shared.config = SimConfig(*server);
  GroupedFetcher fetcher(shared);
  FetchStats stats;
  const CalendarDay day{2025, 1, 6};
  const auto adjusted = fetcher.FetchDay({.request = {.date = day, .adjusted = true}}, stats);
  const auto unadjusted = fetcher.FetchDay({.request = {.date = day, .adjusted = false}}, stats);
  ASSERT_TRUE(adjusted && unadjusted);
  ASSERT_EQ(adjusted->day.tickers.size(), unadjusted->day.tickers.size());
  int split_before = 0;
  for (size_t i = 0; i < adjusted->day.tickers.size(); ++i) {
    const std::vector<FactorRange> listed = sim::ListedSplitFactors(sim::Market(kSeed), adjusted->day.tickers[i]);
    const FactorRange* split = FactorFor(listed, day);
    const bool differs = !(adjusted->day.bars[i] == unadjusted->day.bars[i]);
    EXPECT_EQ(differs, split != nullptr && split->split_price != 1) << adjusted->day.tickers[i].symbol();
    split_before += differs ? 1 : 0;
  }
  EXPECT_GT(split_before, 0) << "the universe should hold a stock split later in 2025";
}

class GroupedUnderFaultsTest : public ::testing::TestWithParam<FaultCase> {};

TEST_P(GroupedUnderFaultsTest, EveryDayMatchesTheGroundTruth) {
  sim::SimOptions options = Options();
  options.faults = GetParam().rates;
  options.fault_seed = 13;
  auto server = StartSim(options);
  ASSERT_TRUE(server);
  FetchShared shared;
  shared.config = SimConfig(*server);
  shared.config.api_key_in_query = std::string(GetParam().name) == "all";
  GroupedFetcher fetcher(shared);
  const sim::Market market = sim::MarketOf(options);
  FetchStats total;
  int days = 0;
  for (CalendarDay day{2025, 3, 3}; day <= CalendarDay{2025, 3, 14}; day = day.AddDays(1), ++days) {
    const auto fetched = fetcher.FetchDay({.request = {.date = day}}, total);
    if (!fetched) Remember(fetched.error());
    ASSERT_TRUE(fetched) << day.ToString() << ": " << fetched.error().message;
    const TimeRange range = MarketZone::NewYork().DaysToRange(day, day);
    std::map<std::string, Bar> got;
    for (size_t i = 0; i < fetched->day.tickers.size(); ++i) got[fetched->day.tickers[i].symbol()] = fetched->day.bars[i];
    std::map<std::string, Bar> want;
    for (const Ticker& ticker : TickersOf(GroupedMarket::kStocks)) {
      const BarBatch truth = sim::GroundTruth(market, ticker, kDaily, true, range);
      if (!truth.empty()) want[ticker.symbol()] = truth[0];
    }
    EXPECT_EQ(got, want) << day.ToString();
  }
  const sim::SimStats sim_stats = server->Stats();
  EXPECT_EQ(total.pages, days);
  EXPECT_EQ(total.requests, total.pages + total.retries);
  const int64_t injected =
      sim_stats.http429 + sim_stats.http5xx + sim_stats.reset + sim_stats.truncate + sim_stats.badjson;
  EXPECT_EQ(total.retries, injected) << "every injected fault costs exactly one retry";
  EXPECT_EQ(total.rate_limited, sim_stats.http429);
  EXPECT_EQ(total.server_errors, sim_stats.http5xx);
  // A DELAYED body that a fault then spoilt counts on the server only.
  EXPECT_LE(total.delayed_pages, sim_stats.delayed);
  if (GetParam().rates.delayed > 0) {
    EXPECT_GT(total.delayed_pages, 0);
  }
  if (std::string(GetParam().name) != "none") {
    EXPECT_GT(injected + sim_stats.slow, 0) << "no fault fired";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Faults, GroupedUnderFaultsTest,
    ::testing::Values(FaultCase{"none", {}}, FaultCase{"http429", Only(&sim::FaultRates::http429, 0.4)},
                      FaultCase{"http5xx", Only(&sim::FaultRates::http5xx, 0.4)},
                      FaultCase{"reset", Only(&sim::FaultRates::reset, 0.4)},
                      FaultCase{"truncate", Only(&sim::FaultRates::truncate, 0.4)},
                      FaultCase{"badjson", Only(&sim::FaultRates::badjson, 0.4)},
                      FaultCase{"slow", Only(&sim::FaultRates::slow, 0.25)},
                      FaultCase{"all", sim::FaultRates{.http429 = 0.08, .http5xx = 0.08, .reset = 0.08,
                                                       .truncate = 0.08, .badjson = 0.08, .slow = 0.05,
                                                       .delayed = 0.3, .expvol = 0.3}}),
    [](const ::testing::TestParamInfo<FaultCase>& param) { return std::string(param.param.name); });

TEST(GroupedFetchSimTest, AWeekendIsAnEmptyDayUnlessBarsAreExpected) {
  auto server = StartSim();
  ASSERT_TRUE(server);
  FetchShared shared;
  shared.config = SimConfig(*server);
  shared.config.retry.max_attempts = 3;
  GroupedFetcher fetcher(shared);
  const polygon::GroupedDailyRequest saturday{.date = {2025, 3, 8}};
  FetchStats stats;
  const auto empty = fetcher.FetchDay({.request = saturday}, stats);
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_TRUE(empty->day.bars.empty());
  EXPECT_EQ(empty->day.skipped, 0);
  EXPECT_EQ(stats.requests, 1);

  // A caller whose calendar says the market traded does not take an empty answer for a day.
  FetchStats expecting;
  const auto refused = fetcher.FetchDay({.request = saturday, .expect_bars = true}, expecting);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kBadResponse);
  EXPECT_NE(refused.error().message.find("grouped daily stocks 2025-03-08: gave up after 3 attempts: no bars"),
            std::string::npos)
      << refused.error().message;
  EXPECT_EQ(expecting.requests, 3);
  EXPECT_EQ(expecting.bad_responses, 3);
  Remember(refused.error());
}

TEST(GroupedFetchSimTest, WrongKeyIsAuthAtOnceWithoutShowingIt) {
  auto server = StartSim();
  ASSERT_TRUE(server);
  for (const bool in_query : {false, true}) {
    FetchShared shared;
    shared.config = SimConfig(*server);
    shared.config.api_key = "Wrong-Key-123";
    shared.config.api_key_in_query = in_query;
    GroupedFetcher fetcher(shared);
    FetchStats stats;
    const auto day = fetcher.FetchDay({.request = {.market = GroupedMarket::kCrypto, .date = {2025, 3, 8}}}, stats);
    ASSERT_FALSE(day);
    const Error& e = day.error();
    EXPECT_EQ(e.code, ErrorCode::kAuth);
    EXPECT_EQ(e.http_status, 401);
    EXPECT_NE(e.message.find("grouped daily crypto 2025-03-08: "), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("Unknown API Key"), std::string::npos) << e.message;
    EXPECT_EQ(e.ToString().find("Wrong-Key-123"), std::string::npos);
    EXPECT_EQ(e.request.find("Wrong-Key-123"), std::string::npos);
    EXPECT_EQ(e.request, server->BaseUrl() + "/v2/aggs/grouped/locale/global/market/crypto/2025-03-08?adjusted=true&include_otc=false");
    EXPECT_EQ(stats.requests, 1);
    EXPECT_EQ(stats.retries, 0);
  }
}

TEST(GroupedFetchSimTest, ADayThatIsNoDayIsRefusedBeforeAnyRequest) {
  auto server = StartSim();
  ASSERT_TRUE(server);
  FetchShared shared;
  shared.config = SimConfig(*server);
  GroupedFetcher fetcher(shared);
  FetchStats stats;
  const auto day = fetcher.FetchDay({.request = {.date = {2025, 2, 30}}}, stats);
  ASSERT_FALSE(day);
  EXPECT_EQ(day.error().code, ErrorCode::kUsage);
  EXPECT_NE(day.error().message.find("2025-02-30"), std::string::npos);
  EXPECT_EQ(stats.requests, 0);
  EXPECT_EQ(server->Stats().requests, 0);
  // And a base URL that cannot work says so, also without a request.
  shared.config.base_url = "ftp://example.com";
  GroupedFetcher bad_base(shared);
  const auto refused = bad_base.FetchDay({.request = {.date = {2025, 3, 10}}}, stats);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConfig);
  EXPECT_EQ(stats.requests, 0);
}

TEST(GroupedFetchSimTest, ABadGatewayForeverGivesUpTheNetwork) {
  sim::SimOptions options = Options();
  options.faults.http5xx = 1;
  auto server = StartSim(options);
  ASSERT_TRUE(server);
  FetchShared shared;
  shared.config = SimConfig(*server);
  shared.config.api_key_in_query = true;
  shared.config.retry.max_attempts = 4;
  GroupedFetcher fetcher(shared);
  FetchStats stats;
  const auto day = fetcher.FetchDay({.request = {.date = {2025, 3, 10}}}, stats);
  ASSERT_FALSE(day);
  EXPECT_EQ(day.error().code, ErrorCode::kNetworkGaveUp);
  EXPECT_GE(day.error().http_status, 502);
  EXPECT_EQ(stats.requests, 4);
  EXPECT_EQ(stats.server_errors, 4);
  EXPECT_EQ(day.error().request.find("apiKey"), std::string::npos) << day.error().request;
  Remember(day.error());
}

}  // namespace
}  // namespace barfill::fetch
