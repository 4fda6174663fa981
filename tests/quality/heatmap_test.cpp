#include "quality/heatmap.h"

#include <gtest/gtest.h>

namespace barfill::quality {
namespace {

CalendarDay Day(const char* text) { return *CalendarDay::Parse(text); }

TEST(Heatmap, WeeksForHalfAYearMonthsBeyond) {
  EXPECT_EQ(PeriodFor(Day("2025-01-01"), Day("2025-06-30")), Period::kWeek);
  EXPECT_EQ(PeriodFor(Day("2025-01-01"), Day("2025-07-31")), Period::kMonth);
  EXPECT_EQ(PeriodStart(Period::kWeek, Day("2025-03-09")).ToString(), "2025-03-03") << "a Sunday belongs to the week of its Monday";
  EXPECT_EQ(PeriodStart(Period::kWeek, Day("2025-03-03")).ToString(), "2025-03-03");
  EXPECT_EQ(PeriodStart(Period::kMonth, Day("2025-03-31")).ToString(), "2025-03-01");
  EXPECT_EQ(NextPeriodStart(Period::kMonth, Day("2025-12-01")).ToString(), "2026-01-01");
  EXPECT_EQ(NextPeriodStart(Period::kWeek, Day("2025-12-29")).ToString(), "2026-01-05");
  EXPECT_EQ(PeriodLabel(Period::kWeek, Day("2025-03-03")), "week of 2025-03-03");
  EXPECT_EQ(PeriodLabel(Period::kMonth, Day("2025-03-01")), "2025-03");
}

TEST(Heatmap, ACellShowsTheWorstOfItsSessions) {
  HeatCell cell;
  cell.non_trading = 2;
  EXPECT_EQ(cell.Class(), CellClass::kNonTrading);
  cell.complete = 4;
  EXPECT_EQ(cell.Class(), CellClass::kComplete);
  cell.never_fetched = 1;
  EXPECT_EQ(cell.Class(), CellClass::kMissing);
  cell.suspicious = 1;
  EXPECT_EQ(cell.Class(), CellClass::kSuspicious);
  cell.failed = 1;
  EXPECT_EQ(cell.Class(), CellClass::kFailed);
}

TEST(Heatmap, RowsGatherSessionsByPeriodAndKeepTheFirstProblem) {
  SeriesGaps gaps;
  gaps.series = Series{*Ticker::Parse("AAPL"), *Timeframe::Parse("1m"), true};
  const auto sessions = SessionWindows(gaps.series, Day("2025-03-03"), Day("2025-03-16"));
  ASSERT_TRUE(sessions);
  for (const SessionWindow& s : *sessions) {
    SessionVerdict v;
    v.session = s;
    v.cls = !s.is_open() ? SessionClass::kNonTrading : s.day == Day("2025-03-12") ? SessionClass::kSuspicious : SessionClass::kComplete;
    v.bars = s.is_open() ? 800 : 0;
    v.detail = "empty";
    gaps.sessions.push_back(v);
  }
  const HeatRow row = RowOf(gaps, Period::kWeek);
  ASSERT_EQ(row.cells.size(), 2u);
  EXPECT_TRUE(row.problems);
  EXPECT_EQ(row.cells[0].complete, 5);
  EXPECT_EQ(row.cells[0].non_trading, 2);
  EXPECT_EQ(row.cells[0].bars, 4000);
  EXPECT_EQ(row.cells[0].Class(), CellClass::kComplete);
  EXPECT_EQ(row.cells[1].suspicious, 1);
  EXPECT_EQ(row.cells[1].first_problem, "2025-03-12 suspicious: empty");
  EXPECT_EQ(row.cells[1].Class(), CellClass::kSuspicious);
}

}  // namespace
}  // namespace barfill::quality
