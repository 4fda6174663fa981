#include "engine/grouped_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engine/ledger_fake.h"

namespace barfill::engine {
namespace {

CalendarDay Day(const char* text) { return *CalendarDay::Parse(text); }

std::vector<std::string> ManyStocks(int n) {
  std::vector<std::string> tickers;
  for (int i = 0; i < n; ++i) tickers.push_back(std::string("T") + static_cast<char>('A' + i / 26) + static_cast<char>('A' + i % 26));
  return tickers;
}

WorkPlan Work(const std::vector<std::string>& tickers, const char* from, const char* to, testing::LedgerFake& ledger,
              std::vector<std::string> timeframes = {"1d"}) {
  const Plan plan = *ParsePlan(PlanText{"", tickers, std::move(timeframes), from, to}, TodayUtc());
  return *BuildWorkPlan(plan, ledger, Day("2026-11-28"), 8);
}

const int64_t kLongAgo = ZoneFor(AssetClass::kStock).DayStartMs(Day("2026-11-28"));

TEST(GroupedPlan, ManyTickersTakeOneRequestPerSessionClosedDaysFoldedIn) {
  testing::LedgerFake ledger;
  // March 2025: 21 weekdays (no holiday), five weekends (1-2, 8-9, ..., 29-30) and Monday the 31st.
  const WorkPlan work = Work(ManyStocks(30), "2025-03-01", "2025-03-31", ledger, {"1d", "1h"});
  const GroupedPlan plan = PlanGrouped(work, kLongAgo);
  ASSERT_EQ(plan.markets.size(), 1u);
  EXPECT_TRUE(plan.markets[0].chosen);
  EXPECT_EQ(plan.markets[0].per_ticker_requests, 30);
  EXPECT_EQ(plan.markets[0].rest_after, 0) << "the weekends fold into the Mondays";
  ASSERT_EQ(plan.Requests(), 21);
  EXPECT_EQ(plan.series.size(), 30u) << "only the 1d series";
  const MarketZone ny = ZoneFor(AssetClass::kStock);
  EXPECT_EQ(plan.days.front().date, Day("2025-03-03"));
  EXPECT_EQ(plan.days.front().range, ny.DaysToRange(Day("2025-03-01"), Day("2025-03-03"))) << "the weekend before";
  EXPECT_EQ(plan.days.back().date, Day("2025-03-31"));
  // February 2025: Presidents' Day (the 17th) is folded into the 18th with the weekend before.
  const GroupedPlan february = PlanGrouped(Work(ManyStocks(30), "2025-02-01", "2025-02-28", ledger), kLongAgo);
  EXPECT_EQ(february.Requests(), 19);
  const auto tuesday = std::find_if(february.days.begin(), february.days.end(),
                                    [](const GroupedDayWork& d) { return d.date == Day("2025-02-18"); });
  ASSERT_NE(tuesday, february.days.end());
  EXPECT_EQ(tuesday->range, ny.DaysToRange(Day("2025-02-15"), Day("2025-02-18")));
  for (const GroupedDayWork& d : plan.days) {
    EXPECT_EQ(d.series.size(), 30u);
    EXPECT_TRUE(d.expect_bars) << d.date.ToString();
  }
  // REST is left the 1h series only.
  const Series aa{*Ticker::Parse("TAA"), Timeframe(1, Timespan::kDay), true};
  std::vector<TimeRange> covered = GroupedCoverage(plan, aa);
  EXPECT_TRUE(Subtract(work.series[0].range, covered).empty());
  EXPECT_TRUE(GroupedCoverage(plan, Series{*Ticker::Parse("TAA"), Timeframe(1, Timespan::kHour), true}).empty());
}

TEST(GroupedPlan, AdjustedAndUnadjustedSeriesAreAskedApart) {
  testing::LedgerFake ledger;
  PlanText text{"", ManyStocks(30), {"1d"}, "2025-03-03", "2025-03-07"};
  text.unadjusted_too = true;  // adjusted "both"
  const Plan both = *ParsePlan(text, TodayUtc());
  const WorkPlan work = *BuildWorkPlan(both, ledger, Day("2026-11-28"), 8);
  const GroupedPlan plan = PlanGrouped(work, kLongAgo);
  ASSERT_EQ(plan.Requests(), 10) << "each weekday once adjusted, once not";
  ASSERT_EQ(plan.markets.size(), 2u);
  for (const GroupedDayWork& d : plan.days) {
    ASSERT_EQ(d.series.size(), 30u);
    for (const size_t s : d.series) EXPECT_EQ(plan.series[s].adjusted, d.adjusted);
  }
  const Series raw{*Ticker::Parse("TAA"), Timeframe(1, Timespan::kDay), false};
  EXPECT_EQ(GroupedCoverage(plan, raw).size(), 5u);
  EXPECT_NE(DescribeGroupedPlan(plan).find("grouped daily stocks unadjusted: 5 requests"), std::string::npos)
      << DescribeGroupedPlan(plan);
}

TEST(GroupedPlan, FewTickersKeepPerTickerRanges) {
  testing::LedgerFake ledger;
  const WorkPlan work = Work({"AAPL", "MSFT", "X:BTCUSD"}, "2025-01-01", "2025-12-31", ledger);
  const GroupedPlan plan = PlanGrouped(work, kLongAgo);
  EXPECT_TRUE(plan.days.empty());
  ASSERT_EQ(plan.markets.size(), 2u);
  EXPECT_FALSE(plan.markets[0].chosen);
  EXPECT_EQ(plan.markets[0].days, 250) << "2025's NYSE sessions";
  EXPECT_EQ(plan.markets[0].per_ticker_requests, 2);
  EXPECT_EQ(plan.markets[1].days, 365) << "crypto trades every day";
  EXPECT_NE(DescribeGroupedPlan(plan).find("not used"), std::string::npos);
}

TEST(GroupedPlan, IndicesAndTheUnfinishedDayStayWithRest) {
  testing::LedgerFake ledger;
  std::vector<std::string> tickers = ManyStocks(10);
  tickers.push_back("I:SPX");  // no grouped market for indices
  // Thursday noon: Monday to Wednesday have ended.
  const int64_t now = ZoneFor(AssetClass::kStock).DayStartMs(Day("2025-03-06")) + 12 * kMsPerHour;
  const GroupedPlan ended = PlanGrouped(Work(tickers, "2025-03-03", "2025-03-05", ledger), now);
  ASSERT_EQ(ended.Requests(), 3);
  EXPECT_EQ(ended.series.size(), 10u) << "not the index";
  // Up to Friday: Thursday and Friday would still cost a request per ticker, 3 + 10 > 10.
  const GroupedPlan open = PlanGrouped(Work(tickers, "2025-03-03", "2025-03-07", ledger), now);
  EXPECT_TRUE(open.days.empty());
  ASSERT_EQ(open.markets.size(), 1u);
  EXPECT_EQ(open.markets[0].days, 3);
  EXPECT_EQ(open.markets[0].rest_after, 10);
}

TEST(GroupedPlan, ADailyRerunNeedsPerTickerRequestsForTodayAnywaySoKeepsThem) {
  testing::LedgerFake ledger;
  // Yesterday done grouped would still leave today for REST: 1 + 10 > 10.
  const WorkPlan work = Work(ManyStocks(10), "2025-03-05", "2025-03-06", ledger);
  const int64_t now = ZoneFor(AssetClass::kStock).DayStartMs(Day("2025-03-06")) + 12 * kMsPerHour;
  const GroupedPlan plan = PlanGrouped(work, now);
  EXPECT_TRUE(plan.days.empty());
  ASSERT_EQ(plan.markets.size(), 1u);
  EXPECT_EQ(plan.markets[0].days, 1);
  EXPECT_EQ(plan.markets[0].rest_after, 10);
}

TEST(GroupedPlan, DaysTheLedgerHoldsAreNotAskedAgain) {
  testing::LedgerFake ledger;
  const MarketZone ny = ZoneFor(AssetClass::kStock);
  const std::vector<std::string> tickers = ManyStocks(20);
  for (const std::string& t : tickers) {
    const Series s{*Ticker::Parse(t), Timeframe(1, Timespan::kDay), true};
    LedgerEntry done;
    done.series = s;
    done.range = ny.DaysToRange(Day("2025-03-01"), Day("2025-03-16"));
    done.state = ChunkState::kDone;
    done.rows = 10;
    ledger.entries.push_back(done);
  }
  const WorkPlan work = Work(tickers, "2025-03-01", "2025-03-31", ledger);
  const GroupedPlan plan = PlanGrouped(work, kLongAgo);
  ASSERT_EQ(plan.Requests(), 11) << "March 17 to 31";
  EXPECT_EQ(plan.days.front().date, Day("2025-03-17"));
}

TEST(GroupedPlan, WritesForADayGiveEverySeriesItsBarAnEmptyWriteOrAFailure) {
  testing::LedgerFake ledger;
  const WorkPlan work = Work(ManyStocks(12), "2025-03-01", "2025-03-04", ledger);
  const GroupedPlan plan = PlanGrouped(work, kLongAgo);
  ASSERT_EQ(plan.Requests(), 2);
  const GroupedDayWork& monday = plan.days[0];
  fetch::FetchedDay fetched;
  fetched.range = ZoneFor(AssetClass::kStock).DaysToRange(monday.date, monday.date);
  // TAA and TAC traded; TAB's bar was rejected; the others did not trade.
  for (const char* t : {"TAA", "TAC"}) {
    fetched.day.tickers.push_back(*Ticker::Parse(t));
    fetched.day.bars.push_back(Bar{fetched.range.from_ms, 1, 2, 0.5, 1.5, 100, 1.2, 7});
  }
  fetched.rejected.push_back({*Ticker::Parse("TAB"), Error(ErrorCode::kInvalidData, "high < low")});
  const GroupedDayWrites writes = WritesForDay(plan, monday, fetched);
  ASSERT_EQ(writes.writes.size(), 11u);
  EXPECT_EQ(writes.rows, 2);
  EXPECT_EQ(writes.series, 11);
  ASSERT_EQ(writes.rejected.size(), 1u);
  EXPECT_EQ(writes.rejected[0].chunk.series.ticker.symbol(), "TAB");
  EXPECT_EQ(writes.rejected[0].chunk.range, monday.range) << "Monday and the weekend before fail for TAB";
  EXPECT_EQ(writes.writes[0].chunk.series.ticker.symbol(), "TAA");
  EXPECT_EQ(writes.writes[0].bars->size(), 1u);
  EXPECT_EQ(writes.writes[0].chunk.range, monday.range);
  EXPECT_EQ(writes.writes[1].chunk.series.ticker.symbol(), "TAC");
  EXPECT_EQ(writes.writes[1].bars->size(), 1u);
  EXPECT_EQ(writes.writes[2].bars->size(), 0u) << "TAD did not trade: an empty write, final";
  for (const ChunkWrite& w : writes.writes) EXPECT_EQ(w.requests, 0);
  // Committed, Monday and the weekend are final for the eleven series; REST has nothing of them.
  ASSERT_TRUE(ledger.CommitChunks(writes.writes));
  const Series tad{*Ticker::Parse("TAD"), Timeframe(1, Timespan::kDay), true};
  auto entries = ledger.ReadLedger(tad);
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].state, ChunkState::kEmpty);
}

TEST(GroupedPlan, DaysCommittedTogetherMergeIntoOneWritePerSeries) {
  testing::LedgerFake ledger;
  const WorkPlan work = Work(ManyStocks(12), "2025-03-03", "2025-03-07", ledger);
  const GroupedPlan plan = PlanGrouped(work, kLongAgo);
  ASSERT_EQ(plan.Requests(), 5);
  std::vector<GroupedDayWrites> days;
  for (const size_t d : {size_t{0}, size_t{1}, size_t{3}}) {  // Monday, Tuesday and Thursday
    fetch::FetchedDay fetched;
    fetched.range = plan.days[d].range;
    fetched.day.tickers.push_back(*Ticker::Parse("TAA"));
    fetched.day.bars.push_back(Bar{fetched.range.from_ms, 1, 2, 0.5, 1.5, 100, 1.2, 7});
    days.push_back(WritesForDay(plan, plan.days[d], fetched));
  }
  const GroupedDayWrites merged = MergeDays(std::move(days));
  ASSERT_EQ(merged.writes.size(), 24u) << "per series Monday-Tuesday, and Thursday apart";
  EXPECT_EQ(merged.rows, 3);
  const ChunkWrite& first = merged.writes[0];
  EXPECT_EQ(first.chunk.series.ticker.symbol(), "TAA");
  EXPECT_EQ(first.chunk.range, TimeRange(plan.days[0].range.from_ms, plan.days[1].range.to_ms));
  EXPECT_EQ(first.bars->size(), 2u);
  EXPECT_EQ(first.base_aggregates, 2);
  ASSERT_TRUE(ledger.CommitChunks(merged.writes));
}

}  // namespace
}  // namespace barfill::engine
