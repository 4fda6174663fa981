#include "engine/planner.h"

#include <gtest/gtest.h>

#include "engine/ledger_fake.h"

namespace barfill::engine {
namespace {

CalendarDay Day(const char* text) { return *CalendarDay::Parse(text); }

Plan MakePlan(std::vector<std::string> tickers, std::vector<std::string> tfs, const char* from, const char* to) {
  return *ParsePlan(PlanText{"", std::move(tickers), std::move(tfs), from, to}, TodayUtc());
}

/// Every range handed out, in order, with its series.
std::vector<std::pair<size_t, TimeRange>> HandedOut(const WorkPlan& work) {
  RangeCursor cursor(work);
  std::vector<std::pair<size_t, TimeRange>> out;
  while (auto item = cursor.Next()) out.emplace_back(item->series_index, work.series[item->series_index].ranges[item->range_index].range);
  return out;
}

TEST(Planner, EnoughSeriesMeansOneWideRangeEach) {
  const Plan plan = MakePlan({"AAPL", "X:BTCUSD"}, {"1m", "5m", "4h", "1d", "1w"}, "2025-01-01", "2025-12-31");
  testing::LedgerFake ledger;
  const auto work = BuildWorkPlan(plan, ledger, Day("2026-11-28"), 8);
  ASSERT_TRUE(work);
  ASSERT_EQ(work->series.size(), 10u);
  EXPECT_EQ(work->ranges_todo, 10);
  for (const SeriesWork& sw : work->series) {
    ASSERT_EQ(sw.ranges.size(), 1u) << sw.series.Describe();
    EXPECT_EQ(sw.ranges[0].range, sw.range) << "the whole year in one request, paged by next_url";
    EXPECT_EQ(sw.requests.low, 1) << "nothing seen yet: a thin ticker needs one request";
    EXPECT_GE(sw.requests.high, 1);
  }
  EXPECT_EQ(HandedOut(*work).size(), 10u);
}

TEST(Planner, FewSeriesAreCutSoEveryFetcherWorksButNotWhereACutCostsMore) {
  testing::LedgerFake ledger;
  const auto one = BuildWorkPlan(MakePlan({"X:BTCUSD"}, {"1m"}, "2025-01-01", "2025-12-31"), ledger, Day("2026-11-28"), 8);
  ASSERT_TRUE(one);
  const SeriesWork& sw = one->series[0];
  ASSERT_EQ(sw.ranges.size(), 8u) << "525,600 minutes are 11 pages: worth cutting for 8 fetchers";
  EXPECT_EQ(sw.ranges.front().range.from_ms, sw.range.from_ms);
  EXPECT_EQ(sw.ranges.back().range.to_ms, sw.range.to_ms);
  for (size_t i = 1; i < sw.ranges.size(); ++i) {
    EXPECT_EQ(sw.ranges[i].range.from_ms, sw.ranges[i - 1].range.to_ms) << "the cuts tile the range";
    EXPECT_EQ(sw.ranges[i].range.from_ms % kMsPerMinute, 0) << "on a bar boundary";
    EXPECT_EQ(sw.ranges[i].part, 0u) << "all one part: its minimum is counted whole";
  }
  // A year of daily bars is one page: cutting it would only add requests.
  const auto daily = BuildWorkPlan(MakePlan({"AAPL"}, {"1d"}, "2020-01-01", "2025-12-31"), ledger, Day("2026-11-28"), 8);
  ASSERT_TRUE(daily);
  EXPECT_EQ(daily->series[0].ranges.size(), 1u);
  EXPECT_EQ(daily->series[0].requests.high, 1);
}

TEST(Planner, FinalLedgerRangesAreSkippedFailedOnesAndLiveTailsFetched) {
  const Plan plan = MakePlan({"X:BTCUSD"}, {"1h"}, "2025-01-01", "2025-06-30");
  testing::LedgerFake ledger;
  auto first = BuildWorkPlan(plan, ledger, Day("2026-11-28"), 1);
  ASSERT_TRUE(first);
  const SeriesWork& sw0 = first->series[0];
  const Series& series = sw0.series;
  const int64_t march = MarketZone::Utc().DayStartMs(Day("2025-03-01"));
  const int64_t may = MarketZone::Utc().DayStartMs(Day("2025-05-01"));
  // Stored up to March, failed from there; May..June final (and empty).
  ledger.entries.push_back(LedgerEntry{series, TimeRange{sw0.range.from_ms, march}, ChunkState::kDone, 1416, 1, "", 0, 1, 1416});
  ledger.entries.push_back(LedgerEntry{series, TimeRange{march, sw0.range.to_ms}, ChunkState::kFailed, 0, 6, "reset", 0});
  ledger.entries.push_back(LedgerEntry{series, TimeRange{may, sw0.range.to_ms}, ChunkState::kEmpty, 0, 1, "", 0, 1, 0});
  auto second = BuildWorkPlan(plan, ledger, Day("2026-11-28"), 1);
  ASSERT_TRUE(second);
  const SeriesWork& sw = second->series[0];
  ASSERT_EQ(sw.todo, (std::vector<TimeRange>{{march, may}})) << "from where the failure stopped, to the final part";
  EXPECT_EQ(sw.failed_before, 1);
  EXPECT_GT(sw.density, 0) << "1416 base aggregates over two months were seen";
  // Everything final: no range, no request.
  ledger.entries.push_back(LedgerEntry{series, TimeRange{march, may}, ChunkState::kDone, 10, 1, "", 0, 1, 10});
  auto third = BuildWorkPlan(plan, ledger, Day("2026-11-28"), 1);
  ASSERT_TRUE(third);
  EXPECT_EQ(third->ranges_todo, 0);
  EXPECT_EQ(third->series_up_to_date, 1);
  EXPECT_EQ(third->requests.high, 0);
}

TEST(Planner, RequestBoundsComeFromTheCalendarAndWhatWasSeen) {
  testing::LedgerFake ledger;
  const Plan plan = MakePlan({"AAPL"}, {"1m"}, "2025-01-01", "2025-12-31");
  auto work = BuildWorkPlan(plan, ledger, Day("2026-11-28"), 1);
  ASSERT_TRUE(work);
  const SeriesWork& sw = work->series[0];
  const int64_t capacity = BaseCapacity(sw.series, sw.range);
  EXPECT_EQ(sw.requests.high, (capacity + 49999) / 50000);
  EXPECT_EQ(sw.requests.low, 1);
  // A thin ticker seen before: 10,000 minutes in 2024 predict one request.
  const int64_t y2024 = MarketZone::NewYork().DayStartMs(Day("2024-01-01"));
  ledger.entries.push_back(LedgerEntry{sw.series, TimeRange{y2024, sw.range.from_ms}, ChunkState::kDone, 10000, 1, "", 0, 1, 10000});
  work = BuildWorkPlan(plan, ledger, Day("2026-11-28"), 1);
  ASSERT_TRUE(work);
  EXPECT_EQ(work->series[0].requests.low, 1);
  EXPECT_EQ(work->series[0].requests.high, (capacity + 49999) / 50000);
}

TEST(Planner, BaseCapacityFollowsTheExchangeCalendar) {
  const auto series = [](const char* ticker, const char* tf) {
    return Series{*Ticker::Parse(ticker), *Timeframe::Parse(tf), true};
  };
  const MarketZone ny = MarketZone::NewYork();
  const MarketZone utc = MarketZone::Utc();
  EXPECT_EQ(BaseCapacity(series("AAPL", "1d"), ny.DaysToRange(Day("2025-01-01"), Day("2025-12-31"))), 250)
      << "NYSE's 2025 sessions (Carter's day of mourning included as closed)";
  EXPECT_EQ(BaseCapacity(series("AAPL", "1m"), ny.DaysToRange(Day("2025-11-27"), Day("2025-11-27"))), 0)
      << "Thanksgiving";
  EXPECT_EQ(BaseCapacity(series("AAPL", "5m"), ny.DaysToRange(Day("2025-11-28"), Day("2025-11-28"))), 13 * 60)
      << "the day after: 04:00-17:00 around a 13:00 close";
  EXPECT_EQ(BaseCapacity(series("AAPL", "1h"), ny.DaysToRange(Day("2025-12-01"), Day("2025-12-01"))), 16 * 60);
  EXPECT_EQ(BaseCapacity(series("X:BTCUSD", "1m"), utc.DaysToRange(Day("2025-12-25"), Day("2025-12-25"))), 1440);
  EXPECT_EQ(BaseCapacity(series("X:BTCUSD", "1d"), utc.DaysToRange(Day("2024-01-01"), Day("2024-12-31"))), 366);
}

TEST(Planner, StockRangesFollowNewYorkDays) {
  const Plan plan = MakePlan({"AAPL"}, {"1d"}, "2025-03-01", "2025-03-31");
  testing::LedgerFake ledger;
  const auto work = BuildWorkPlan(plan, ledger, Day("2026-11-28"), 8);
  ASSERT_TRUE(work);
  const MarketZone ny = MarketZone::NewYork();
  EXPECT_EQ(work->series[0].range.from_ms, ny.DayStartMs(Day("2025-03-01")));  // 05:00Z, EST
  EXPECT_EQ(work->series[0].range.to_ms, ny.DayStartMs(Day("2025-04-01")));    // 04:00Z, EDT
}

TEST(Planner, FutureEndIsClampedAndFutureStartRefused) {
  const Plan plan = MakePlan({"AAPL"}, {"1d"}, "2026-11-01", "2027-01-31");
  testing::LedgerFake ledger;
  auto work = BuildWorkPlan(plan, ledger, Day("2026-11-28"), 8);
  ASSERT_TRUE(work);
  ASSERT_TRUE(work->clamped_to.has_value());
  EXPECT_EQ(work->clamped_to->ToString(), "2026-11-28");
  const Plan future = MakePlan({"AAPL"}, {"1d"}, "2027-01-01", "2027-01-31");
  auto refused = BuildWorkPlan(future, ledger, Day("2026-11-28"), 8);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().message, "the first day 2027-01-01 is in the future (today is 2026-11-28 UTC)");
}

TEST(Planner, SubtractRanges) {
  const TimeRange r{0, 100};
  EXPECT_EQ(Subtract(r, {}), (std::vector<TimeRange>{{0, 100}}));
  EXPECT_EQ(Subtract(r, {{20, 30}, {10, 25}, {90, 200}}), (std::vector<TimeRange>{{0, 10}, {30, 90}}));
  EXPECT_TRUE(Subtract(r, {{-5, 150}}).empty());
}

TEST(Planner, DryRunDescription) {
  const Plan plan = MakePlan({"AAPL", "X:BTCUSD"}, {"1m", "1d"}, "2025-01-01", "2025-12-31");
  testing::LedgerFake ledger;
  auto work = BuildWorkPlan(plan, ledger, Day("2026-11-28"), 4);
  ASSERT_TRUE(work);
  const std::string text = DescribeWorkPlan(plan, *work, 5.0 / 60, 4);
  EXPECT_NE(text.find("2 tickers x 2 timeframes = 4 series"), std::string::npos) << text;
  EXPECT_NE(text.find("ranges: 4 to fetch; 0 series already complete"), std::string::npos) << text;
  EXPECT_NE(text.find("requests: 4 to " + std::to_string(work->requests.high)), std::string::npos) << text;
  EXPECT_NE(text.find("X:BTCUSD 1m"), std::string::npos) << text;
  EXPECT_NE(text.find(" at 0.08333 requests/s"), std::string::npos) << text;
}

}  // namespace
}  // namespace barfill::engine
