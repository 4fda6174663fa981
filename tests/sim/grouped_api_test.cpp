// The simulator's grouped daily as plain functions: route, arguments, the day it reads from the
// market, and the exact body.
#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

#include "sim/aggs_api.h"
#include "sim/action_table.h"
#include "sim/market_data.h"

namespace barfill::sim {
namespace {

constexpr uint64_t kSeed = 5;

GroupedCall Resolve(const std::string& path, const std::string& query = "") {
  const auto matched = MatchGroupedPath(path);
  EXPECT_TRUE(matched.has_value()) << path;
  if (!matched) return {};
  auto call = ResolveGroupedCall(*matched, ParseQuery(query));
  EXPECT_TRUE(call.has_value()) << path << " " << (call ? "" : call.error().message);
  return call ? *call : GroupedCall{};
}

std::vector<Ticker> Tickers(std::initializer_list<const char*> symbols) {
  std::vector<Ticker> out;
  for (const char* s : symbols) out.push_back(*Ticker::Parse(s));
  return out;
}

TEST(GroupedApi, MatchesTheThreeMarketsOnly) {
  const auto stocks = MatchGroupedPath("/v2/aggs/grouped/locale/us/market/stocks/2025-03-10");
  ASSERT_TRUE(stocks);
  EXPECT_EQ(stocks->asset, AssetClass::kStock);
  EXPECT_EQ(stocks->date, "2025-03-10");
  EXPECT_EQ(MatchGroupedPath("/v2/aggs/grouped/locale/global/market/crypto/2025-03-10")->asset, AssetClass::kCrypto);
  EXPECT_EQ(MatchGroupedPath("/v2/aggs/grouped/locale/global/market/fx/2025-03-10")->asset, AssetClass::kFx);
  // As the API answered in 2020 (polygon-io/issues#3).
  EXPECT_EQ(MatchGroupedPath("/v2/aggs/grouped/locale/US/market/STOCKS/2020-04-07")->asset, AssetClass::kStock);
  for (const char* path : {"/v2/aggs/grouped/locale/us/market/options/2025-03-10",
                           "/v2/aggs/grouped/locale/us/market/crypto/2025-03-10",
                           "/v2/aggs/grouped/locale/global/market/stocks/2025-03-10",
                           "/v2/aggs/grouped/locale/us/market/stocks/", "/v2/aggs/grouped/locale/us/market/stocks",
                           "/v2/aggs/grouped/locale/us/market/stocks/2025-03-10/",
                           "/v2/aggs/grouped/locale/us/market/stocks/2025-03-10/x", "/v2/aggs/grouped/"}) {
    EXPECT_FALSE(MatchGroupedPath(path)) << path;
  }
}

TEST(GroupedApi, TheDateIsADayOfTheMarketsZone) {
  const GroupedCall stocks = Resolve("/v2/aggs/grouped/locale/us/market/stocks/2024-03-11");
  EXPECT_EQ(stocks.day, MarketZone::NewYork().DaysToRange(CalendarDay{2024, 3, 11}, CalendarDay{2024, 3, 11}));
  EXPECT_TRUE(stocks.adjusted);
  const GroupedCall fx = Resolve("/v2/aggs/grouped/locale/global/market/fx/2024-03-11", "adjusted=false&include_otc=true");
  EXPECT_EQ(fx.day, (TimeRange{1710115200000, 1710201600000}));
  EXPECT_FALSE(fx.adjusted);
  EXPECT_FALSE(Resolve("/v2/aggs/grouped/locale/us/market/stocks/2024-03-11", "unadjusted=true").adjusted);
}

TEST(GroupedApi, BadArgumentsAre400sWithTheirText) {
  const struct {
    const char* date;
    const char* query;
    std::string_view text;
  } cases[] = {
      {"2025-1-02", "", kTextBadDate},
      {"2025-02-30", "", kTextBadDate},
      {"1741582800000", "", kTextBadDate},
      {"tomorrow", "", kTextBadDate},
      {"2025-03-10", "adjusted=yes", "The parameter 'adjusted' must be true or false"},
      {"2025-03-10", "include_otc=1", "The parameter 'include_otc' must be true or false"},
  };
  for (const auto& c : cases) {
    const auto matched = MatchGroupedPath(std::string("/v2/aggs/grouped/locale/us/market/stocks/") + c.date);
    ASSERT_TRUE(matched) << c.date;
    const auto call = ResolveGroupedCall(*matched, ParseQuery(c.query));
    ASSERT_FALSE(call) << c.date << " " << c.query;
    EXPECT_EQ(call.error().http_status, 400);
    EXPECT_EQ(call.error().message, c.text);
  }
}

// Each ticker's bar is its 1d ground truth; stocks sit at 16:00 New York on both sides of DST.
TEST(GroupedApi, TheDayIsTheGroundTruthStampedAsTheApiStampsIt) {
  const Market market(kSeed);
  const std::vector<Ticker> universe = Tickers({"AAPL", "X:BTCUSD", "BRK.B", "C:EURUSD", "I:SPX", "MSFT"});
  const std::vector<std::string> odd = {"ADSw"};
  const Timeframe daily(1, Timespan::kDay);
  for (const auto& [date, four_pm_utc_hour] : {std::pair{"2024-03-08", 21}, std::pair{"2024-03-11", 20}}) {
    const GroupedCall call = Resolve(std::string("/v2/aggs/grouped/locale/us/market/stocks/") + date);
    GroupedPage page;
    ReadGroupedPage(market, call, universe, odd, &page);
    ASSERT_EQ(page.symbols, (std::vector<std::string>{"AAPL", "BRK.B", "MSFT", "ADSw"})) << date;
    for (size_t i = 0; i < page.symbols.size(); ++i) {
      std::string upper = page.symbols[i];
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      const Ticker ticker = *Ticker::Parse(upper);  // ADSw carries the bars of ADSW
      const BarBatch truth = GroundTruth(market, ticker, daily, true, call.day);
      ASSERT_EQ(truth.size(), 1u);
      Bar want = truth[0];
      want.t = call.day.from_ms - call.day.from_ms % kMsPerDay + four_pm_utc_hour * kMsPerHour;
      EXPECT_EQ(page.bars[i], want) << date << " " << page.symbols[i];
    }
  }
  // Crypto and forex keep 00:00 UTC, and only their own tickers.
  const GroupedCall crypto = Resolve("/v2/aggs/grouped/locale/global/market/crypto/2024-03-10");
  GroupedPage page;
  ReadGroupedPage(market, crypto, universe, odd, &page);
  ASSERT_EQ(page.symbols, (std::vector<std::string>{"X:BTCUSD"}));
  EXPECT_EQ(page.bars, GroundTruth(market, universe[1], daily, true, crypto.day));
  // A weekend has no stock bars, and a split shows in unadjusted days.
  ReadGroupedPage(market, Resolve("/v2/aggs/grouped/locale/us/market/stocks/2024-03-09"), universe, odd, &page);
  EXPECT_TRUE(page.symbols.empty());
  EXPECT_TRUE(page.bars.empty());
}

TEST(GroupedApi, UnadjustedDaysCarryTheSplit) {
  const Market market(kSeed);
  // Stocks with a listed split after the day asked for: their unadjusted prices differ.
  const CalendarDay day{2025, 1, 6};
  std::vector<Ticker> universe;
  std::vector<FactorRange> factors;
  std::vector<Ticker> candidates;
  for (char a = 'A'; a <= 'Z'; ++a) {
    for (char b = 'A'; b <= 'Z'; ++b) candidates.push_back(*Ticker::Parse(std::string{'Q', a, b}));
  }
  for (const Ticker& t : candidates) {
    const std::vector<FactorRange> listed = ListedSplitFactors(market, t);
    const FactorRange* f = FactorFor(listed, day);
    if (f == nullptr || f->split_price == 1) continue;
    universe.push_back(t);
    factors.push_back(*f);
    if (universe.size() == 8) break;
  }
  ASSERT_FALSE(universe.empty());
  GroupedPage adjusted;
  GroupedPage unadjusted;
  ReadGroupedPage(market, Resolve("/v2/aggs/grouped/locale/us/market/stocks/2025-01-06"), universe, {}, &adjusted);
  ReadGroupedPage(market, Resolve("/v2/aggs/grouped/locale/us/market/stocks/2025-01-06", "adjusted=false"), universe, {},
                  &unadjusted);
  ASSERT_EQ(adjusted.bars.size(), universe.size());
  ASSERT_EQ(unadjusted.bars.size(), universe.size());
  for (size_t i = 0; i < universe.size(); ++i) {
    EXPECT_EQ(adjusted.bars[i], AdjustBar(unadjusted.bars[i], factors[i], Adjustment::kSplits)) << universe[i].symbol();
    EXPECT_NE(adjusted.bars.close[i], unadjusted.bars.close[i]) << universe[i].symbol();
  }
}

TEST(GroupedApi, BodiesHaveTheRealKeyOrder) {
  const GroupedCall call = Resolve("/v2/aggs/grouped/locale/us/market/stocks/2023-01-09");
  GroupedPage page;
  ByteBuffer out;
  WriteGroupedBody(call, page, "229c3d7e3cf9d42a28f5c945d9da7901", {}, &out);
  EXPECT_EQ(out.view(),
            R"({"queryCount":0,"resultsCount":0,"adjusted":true,"status":"OK","request_id":"229c3d7e3cf9d42a28f5c945d9da7901"})");
  // The TTMI row of polygon-io/issues#250, and a symbol that needs escaping.
  page.symbols = {"TTMI", "A\"B"};
  page.bars.push_back(Bar{1673298000000, 15.96, 16.335, 15.96, 16.08, 394280, 16.1078, 5416});
  page.bars.push_back(Bar{1673298000000, 1, 2, 0.5, 1.5, 10, 1.2, 3});
  out.Clear();
  WriteGroupedBody(call, page, "id", {.delayed = true}, &out);
  EXPECT_EQ(out.view(),
            R"({"queryCount":2,"resultsCount":2,"adjusted":true,"results":[)"
            R"({"T":"TTMI","v":394280,"vw":16.1078,"o":15.96,"c":16.08,"h":16.335,"l":15.96,"t":1673298000000,"n":5416},)"
            R"({"T":"A\"B","v":10,"vw":1.2,"o":1,"c":1.5,"h":2,"l":0.5,"t":1673298000000,"n":3}],)"
            R"("status":"DELAYED","request_id":"id","count":2})");
}

}  // namespace
}  // namespace barfill::sim
