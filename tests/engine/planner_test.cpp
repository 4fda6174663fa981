#include "engine/planner.h"

#include <gtest/gtest.h>

#include "engine/ledger_fake.h"
#include "fetch/asset_profile.h"

namespace barfill::engine {
namespace {

CalendarDay Day(const char* text) { return *CalendarDay::Parse(text); }

Plan MakePlan(std::vector<std::string> tickers, std::vector<std::string> tfs, const char* from, const char* to) {
  return *ParsePlan(PlanText{"", std::move(tickers), std::move(tfs), from, to}, TodayUtc());
}

TEST(Planner, ChunksTileTheRangeUnderTheLimit) {
  const Plan plan = MakePlan({"AAPL", "X:BTCUSD"}, {"1m", "5m", "4h", "1d", "1w"}, "2025-01-01", "2025-12-31");
  testing::LedgerFake ledger;
  const auto work = BuildWorkPlan(plan, ledger, Day("2026-11-28"));
  ASSERT_TRUE(work);
  ASSERT_EQ(work->series.size(), 10u);
  for (const SeriesWork& sw : work->series) {
    const auto chunks = SplitIntoChunks(sw.series, sw.range);
    ASSERT_FALSE(chunks.empty());
    EXPECT_EQ(chunks.front().from_ms, sw.range.from_ms) << sw.series.Describe();
    EXPECT_EQ(chunks.back().to_ms, sw.range.to_ms) << sw.series.Describe();
    const MarketZone zone = sw.series.ticker.zone();
    for (size_t i = 0; i < chunks.size(); ++i) {
      if (i > 0) {
        EXPECT_EQ(chunks[i].from_ms, chunks[i - 1].to_ms) << "chunks must tile the range";
      }
      // Every boundary is a bar boundary, so no bar is split between two chunks.
      EXPECT_EQ(BucketStart(sw.series.timeframe, zone, chunks[i].from_ms), chunks[i].from_ms) << sw.series.Describe();
      // Base aggregates per request stay under the API's 50,000.
      if (sw.series.timeframe.IsIntraday()) {
        const int64_t days = (chunks[i].DurationMs() + kMsPerDay - 1) / kMsPerDay;
        EXPECT_LE(days * fetch::ProfileFor(sw.series.ticker.asset_class()).base_minutes_per_day, kMaxBaseAggregatesPerRequest)
            << sw.series.Describe();
      }
    }
    EXPECT_EQ(sw.chunks_total, static_cast<int64_t>(chunks.size()));
    EXPECT_EQ(sw.chunks_todo, sw.chunks_total);
  }
  // A year of 24/7 minutes needs about 12 chunks of at most 31 days.
  EXPECT_GE(work->series[5].chunks_total, 12);
  EXPECT_LE(work->series[5].chunks_total, 13);
}

TEST(Planner, StockRangesFollowNewYorkDays) {
  const Plan plan = MakePlan({"AAPL"}, {"1d"}, "2025-03-01", "2025-03-31");
  testing::LedgerFake ledger;
  const auto work = BuildWorkPlan(plan, ledger, Day("2026-11-28"));
  ASSERT_TRUE(work);
  const MarketZone ny = MarketZone::NewYork();
  EXPECT_EQ(work->series[0].range.from_ms, ny.DayStartMs(Day("2025-03-01")));  // 05:00Z, EST
  EXPECT_EQ(work->series[0].range.to_ms, ny.DayStartMs(Day("2025-04-01")));    // 04:00Z, EDT
}

TEST(Planner, GridDoesNotDependOnTheRange) {
  const Series s{*Ticker::Parse("X:ETHUSD"), *Timeframe::Parse("1m"), true};
  const MarketZone utc = MarketZone::Utc();
  const auto year = SplitIntoChunks(s, utc.DaysToRange(Day("2025-01-01"), Day("2025-12-31")));
  const auto later = SplitIntoChunks(s, utc.DaysToRange(Day("2025-03-15"), Day("2025-12-31")));
  // Apart from the first, the chunks of the shorter range are chunks of the longer one.
  for (size_t i = 1; i < later.size(); ++i) {
    EXPECT_NE(std::find(year.begin(), year.end(), later[i]), year.end()) << i;
  }
}

TEST(Planner, DoneChunksAreSkippedFailedOnesRetried) {
  const Plan plan = MakePlan({"X:BTCUSD"}, {"1h"}, "2025-01-01", "2025-06-30");
  testing::LedgerFake ledger;
  auto first = BuildWorkPlan(plan, ledger, Day("2026-11-28"));
  ASSERT_TRUE(first);
  const auto chunks = SplitIntoChunks(first->series[0].series, first->series[0].range);
  ASSERT_GE(chunks.size(), 5u);
  BarBatch one;
  one.push_back(Bar{chunks[0].from_ms, 1, 1, 1, 1, 1, 1, 1});
  BarBatch none;
  const Series& series = first->series[0].series;
  const ChunkWrite writes[] = {{Chunk{series, chunks[0]}, &one, 1}, {Chunk{series, chunks[2]}, &none, 1}};
  ASSERT_TRUE(ledger.CommitChunks(writes));
  ASSERT_TRUE(ledger.RecordFailure(Chunk{series, chunks[1]}, Error(ErrorCode::kBadRequest, "x"), 3));

  auto second = BuildWorkPlan(plan, ledger, Day("2026-11-28"));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->chunks_total, first->chunks_total);
  EXPECT_EQ(second->chunks_skipped, 2) << "done and empty chunks make no request";
  EXPECT_EQ(second->chunks_todo, first->chunks_todo - 2);
  EXPECT_EQ(second->series[0].chunks_previously_failed, 1);
  ChunkCursor cursor(*second);
  std::vector<TimeRange> handed_out;
  while (auto item = cursor.Next()) handed_out.push_back(item->chunk.range);
  EXPECT_EQ(static_cast<int64_t>(handed_out.size()), second->chunks_todo);
  EXPECT_EQ(handed_out.front(), chunks[1]) << "the failed chunk is fetched again";
  EXPECT_EQ(std::find(handed_out.begin(), handed_out.end(), chunks[0]), handed_out.end());
  EXPECT_EQ(std::find(handed_out.begin(), handed_out.end(), chunks[2]), handed_out.end());
}

TEST(Planner, ChunksWrittenBeforeTheirEndAreFetchedAgain) {
  const Plan plan = MakePlan({"X:BTCUSD"}, {"1d"}, "2025-01-01", "2025-01-31");
  testing::LedgerFake ledger;
  auto work = BuildWorkPlan(plan, ledger, Day("2026-11-28"));
  ASSERT_TRUE(work);
  const SeriesWork& sw = work->series[0];
  ledger.entries.push_back(LedgerEntry{sw.series, sw.range, ChunkState::kDone, 10, 1, "", sw.range.to_ms - 1});
  auto again = BuildWorkPlan(plan, ledger, Day("2026-11-28"));
  EXPECT_EQ(again->chunks_todo, work->chunks_todo) << "a chunk stored while still open is not complete";
}

TEST(Planner, FutureEndIsClampedAndFutureStartRefused) {
  const Plan plan = MakePlan({"AAPL"}, {"1d"}, "2026-11-01", "2027-01-31");
  testing::LedgerFake ledger;
  auto work = BuildWorkPlan(plan, ledger, Day("2026-11-28"));
  ASSERT_TRUE(work);
  ASSERT_TRUE(work->clamped_to.has_value());
  EXPECT_EQ(work->clamped_to->ToString(), "2026-11-28");
  const Plan future = MakePlan({"AAPL"}, {"1d"}, "2027-01-01", "2027-01-31");
  auto refused = BuildWorkPlan(future, ledger, Day("2026-11-28"));
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
  auto work = BuildWorkPlan(plan, ledger, Day("2026-11-28"));
  ASSERT_TRUE(work);
  const std::string text = DescribeWorkPlan(plan, *work, 5.0 / 60, 4);
  EXPECT_NE(text.find("2 tickers x 2 timeframes = 4 series"), std::string::npos) << text;
  EXPECT_NE(text.find("chunks: " + std::to_string(work->chunks_total) + " in all, 0 already done"), std::string::npos) << text;
  EXPECT_NE(text.find("X:BTCUSD 1m"), std::string::npos) << text;
  EXPECT_NE(text.find(" min at 0.08333 requests/s"), std::string::npos) << text;
}

TEST(Planner, ACalendarYearOfDailyBarsIsOneChunk) {
  const Series aapl{*Ticker::Parse("AAPL"), *Timeframe::Parse("1d"), true};
  const MarketZone ny = aapl.ticker.zone();
  const auto year = SplitIntoChunks(aapl, ny.DaysToRange(Day("2025-01-01"), Day("2025-12-31")));
  EXPECT_EQ(year.size(), 1u);
  const auto decade = SplitIntoChunks(aapl, ny.DaysToRange(Day("2012-03-01"), Day("2024-12-31")));
  ASSERT_EQ(decade.size(), 3u);  // 2012-2014, 2015-2019, 2020-2024
  EXPECT_EQ(decade[1].from_ms, ny.DayStartMs(Day("2015-01-01")));
  EXPECT_EQ(decade[2].from_ms, ny.DayStartMs(Day("2020-01-01")));
}

}  // namespace
}  // namespace barfill::engine
