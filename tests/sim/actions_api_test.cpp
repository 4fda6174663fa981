// The simulator's corporate-actions endpoints as plain functions: one event table behind v1 and v3,
// filters, sort, limit and cursor paging, and the data faults.
#include "sim/actions_api.h"

#include <gtest/gtest.h>

#include <set>

#include "polygon/actions_api.h"
#include "sim/action_table.h"

namespace barfill::sim {
namespace {

constexpr uint64_t kSeed = 7;

/// A stock with at least `splits` splits and some dividends in the simulator of kSeed.
std::string TickerWith(size_t splits, bool dividends) {
  for (char a = 'A'; a <= 'Z'; ++a) {
    for (char b = 'A'; b <= 'Z'; ++b) {
      const std::string symbol{a, b};
      const ActionTable t = TrueActions(kSeed, *Ticker::Parse(symbol));
      if (t.splits.size() >= splits && t.dividends.empty() != dividends) return symbol;
    }
  }
  return "";
}

/// Every page of a call, followed through next_url's cursor, parsed by barfill's own client parser.
polygon::ActionsPage FollowAll(ActionsEndpoint endpoint, QueryParams query, const Market& market,
                               const ActionFaults& faults = {}, int* pages = nullptr) {
  polygon::ActionsPage all;
  const bool splits = endpoint == ActionsEndpoint::kSplitsV1 || endpoint == ActionsEndpoint::kSplitsV3;
  for (int n = 1;; ++n) {
    auto call = ResolveActionsCall(endpoint, query);
    EXPECT_TRUE(call) << call.error().message;
    if (!call) return all;
    ByteBuffer body;
    WriteActionsBody(*call, market, faults, "http://sim", "rid", &body);
    auto page = polygon::ReadActionsResponse(splits ? polygon::ActionsKind::kSplits : polygon::ActionsKind::kDividends,
                                             200, body.view());
    EXPECT_TRUE(page) << page.error().message << "\n" << body.view();
    if (!page) return all;
    for (auto& s : page->splits) all.splits.push_back(s);
    for (auto& d : page->dividends) all.dividends.push_back(d);
    if (pages != nullptr) *pages = n;
    if (page->next_url.empty()) return all;
    const std::string cursor = page->next_url.substr(page->next_url.find("cursor=") + 7);
    EXPECT_EQ(cursor.size() % 4, 0u) << "the cursor keeps its base64 padding: " << cursor;
    query = {{"cursor", cursor}};
  }
}

TEST(ActionsApi, V1AndV3ListTheSameSplitsWithTheSameIds) {
  const std::string symbol = TickerWith(2, false);
  ASSERT_FALSE(symbol.empty());
  const Market market{kSeed};
  const auto v1 = FollowAll(ActionsEndpoint::kSplitsV1, {{"ticker", symbol}}, market);
  const auto v3 = FollowAll(ActionsEndpoint::kSplitsV3, {{"ticker", symbol}}, market);
  const ActionTable truth = ListedActions(market, *Ticker::Parse(symbol));
  ASSERT_EQ(v1.splits.size(), truth.splits.size());
  ASSERT_EQ(v3.splits.size(), truth.splits.size());
  std::set<std::string> ids;
  for (const SplitRecord& s : truth.splits) ids.insert(s.id);
  for (const SplitRecord& s : v1.splits) {
    EXPECT_EQ(ids.count(s.id), 1u);
    EXPECT_FALSE(std::isnan(s.vendor_factor)) << "v1 sends historical_adjustment_factor";
    EXPECT_FALSE(s.adjustment_type.empty());
  }
  for (const SplitRecord& s : v3.splits) {
    EXPECT_EQ(ids.count(s.id), 1u);
    EXPECT_TRUE(std::isnan(s.vendor_factor)) << "v3 has no factor";
    EXPECT_TRUE(s.adjustment_type.empty()) << "v3 has no type";
  }
  // v1's default order is the newest first; the factor of the newest is its own ratio.
  EXPECT_GT(v1.splits.front().execution_date, v1.splits.back().execution_date);
  EXPECT_EQ(v1.splits.front().vendor_factor, RoundFactor(v1.splits.front().split_from / v1.splits.front().split_to));
}

TEST(ActionsApi, PagesThroughACursorAndHonoursFiltersAndTheLimitCaps) {
  const std::string symbol = TickerWith(0, true);
  ASSERT_FALSE(symbol.empty());
  const Market market{kSeed};
  int pages = 0;
  const auto all = FollowAll(ActionsEndpoint::kDividendsV1, {{"ticker.any_of", symbol + ",zzzz"}, {"limit", "7"}}, market, {},
                             &pages);
  EXPECT_EQ(all.dividends.size(), 40u) << "quarterly over ten years";
  EXPECT_EQ(pages, 6);
  std::set<std::string> ids;
  for (const DividendRecord& d : all.dividends) ids.insert(d.id);
  EXPECT_EQ(ids.size(), all.dividends.size()) << "no row twice across pages";

  const auto in_2020 = FollowAll(ActionsEndpoint::kDividendsV1,
                                 {{"ticker", symbol}, {"ex_dividend_date.gte", "2020-01-01"}, {"ex_dividend_date.lt", "2021-01-01"},
                                  {"sort", "ex_dividend_date.desc"}},
                                 market);
  ASSERT_EQ(in_2020.dividends.size(), 4u);
  EXPECT_GT(in_2020.dividends.front().ex_dividend_date, in_2020.dividends.back().ex_dividend_date);
  EXPECT_TRUE(FollowAll(ActionsEndpoint::kDividendsV1, {{"ticker", symbol}, {"frequency", "12"}}, market).dividends.empty());

  auto capped = ResolveActionsCall(ActionsEndpoint::kSplitsV1, {{"ticker", "A"}, {"limit", "100000"}});
  ASSERT_TRUE(capped);
  EXPECT_EQ(capped->limit, 5000);
  EXPECT_EQ(ResolveActionsCall(ActionsEndpoint::kSplitsV3, {{"ticker", "A"}})->limit, 10);
  EXPECT_EQ(ResolveActionsCall(ActionsEndpoint::kSplitsV3, {{"ticker", "A"}, {"limit", "5000"}})->limit, 1000);
}

TEST(ActionsApi, RefusesWhatItCannotAnswer) {
  const auto no_ticker = ResolveActionsCall(ActionsEndpoint::kSplitsV1, {{"limit", "10"}});
  ASSERT_FALSE(no_ticker);
  EXPECT_EQ(no_ticker.error().http_status, 400);
  EXPECT_FALSE(ResolveActionsCall(ActionsEndpoint::kSplitsV1, {{"ticker", "A"}, {"limit", "x"}}));
  EXPECT_FALSE(ResolveActionsCall(ActionsEndpoint::kDividendsV1, {{"ticker", "A"}, {"frequency", "often"}}));
  EXPECT_FALSE(ResolveActionsCall(ActionsEndpoint::kSplitsV1, {{"ticker", "A"}, {"sort", "execution_date.sideways"}}));
  EXPECT_FALSE(ResolveActionsCall(ActionsEndpoint::kSplitsV1, {{"ticker", "A"}, {"cursor", "!!"}}));
  EXPECT_FALSE(MatchActionsPath("/stocks/v2/splits"));
  EXPECT_EQ(MatchActionsPath("/v3/reference/dividends"), ActionsEndpoint::kDividendsV3);
}

TEST(ActionsApi, FaultsDuplicateConflictingRowsExponentFormAndV3Disagreeing) {
  const std::string symbol = TickerWith(1, false);
  ASSERT_FALSE(symbol.empty());
  const Market market{kSeed};
  ActionFaults faults;
  faults.conflicting = {symbol};
  faults.exponent = {symbol};
  faults.v3_disagrees = true;
  const auto v1 = FollowAll(ActionsEndpoint::kSplitsV1, {{"ticker", symbol}}, market, faults);
  const auto v3 = FollowAll(ActionsEndpoint::kSplitsV3, {{"ticker", symbol}}, market, faults);
  const ActionTable truth = ListedActions(market, *Ticker::Parse(symbol));
  ASSERT_EQ(v1.splits.size(), truth.splits.size() + 1) << "one conflicting twin";
  const CalendarDay latest = truth.splits.back().execution_date;
  int on_latest = 0;
  for (const SplitRecord& s : v1.splits) {
    EXPECT_TRUE(s.exponent_form);
    on_latest += s.execution_date == latest ? 1 : 0;
  }
  EXPECT_EQ(on_latest, 2);
  for (const SplitRecord& s : v3.splits) EXPECT_NE(s.execution_date, latest) << "v3 leaves the latest split out";

  EXPECT_TRUE(ActionFaults::Parse("conflict=AAPL+MSFT,exponent=XYZ,v3disagree"));
  EXPECT_FALSE(ActionFaults::Parse("conflict"));
  EXPECT_FALSE(ActionFaults::Parse("dupes=AAPL"));
}

TEST(ActionsApi, AnInsertedSplitIsListedByBothGenerationsAndMovesTheFactors) {
  const std::string symbol = TickerWith(0, false);
  Market market{kSeed};
  const auto before = ListedSplitFactors(market, *Ticker::Parse(symbol));
  market.split_edits.push_back(SplitEdit{symbol, false, "", CalendarDay{2025, 6, 2}, 1, 3});
  const auto v1 = FollowAll(ActionsEndpoint::kSplitsV1, {{"ticker", symbol}, {"execution_date", "2025-06-02"}}, market);
  ASSERT_EQ(v1.splits.size(), 1u);
  EXPECT_EQ(v1.splits[0].split_to, 3);
  EXPECT_EQ(v1.splits[0].adjustment_type, "forward_split");
  const auto after = ListedSplitFactors(market, *Ticker::Parse(symbol));
  EXPECT_EQ(FactorFor(after, CalendarDay{2025, 5, 30})->split_price,
            (FactorFor(before, CalendarDay{2025, 5, 30}) != nullptr ? FactorFor(before, CalendarDay{2025, 5, 30})->split_price : 1) / 3);
  market.split_edits.push_back(SplitEdit{symbol, true, v1.splits[0].id, {}, 1, 1});
  EXPECT_TRUE(FollowAll(ActionsEndpoint::kSplitsV3, {{"ticker", symbol}, {"execution_date", "2025-06-02"}}, market).splits.empty());
}

}  // namespace
}  // namespace barfill::sim
