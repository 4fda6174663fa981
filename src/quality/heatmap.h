// The coverage picture's cells: the sessions of a series gathered by week or month, each cell
// classed by the worst of its sessions (failed, suspicious, missing, complete, non-trading).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "quality/classify.h"

namespace barfill::quality {

/// What a cell shows, worst first.
enum class CellClass { kFailed, kSuspicious, kMissing, kComplete, kNonTrading };

/// "failed", "suspicious", "missing", "complete", "non-trading" (the page's CSS classes).
std::string_view CellClassName(CellClass c);

/// The span of one cell.
enum class Period { kWeek, kMonth };

/// Weeks for up to 26 weeks of days (a cell per week stays readable), months beyond.
Period PeriodFor(CalendarDay first, CalendarDay last);
/// The first day of the period holding `day`: its Monday, or the 1st of its month.
CalendarDay PeriodStart(Period period, CalendarDay day);
/// The first day of the next period.
CalendarDay NextPeriodStart(Period period, CalendarDay start);
/// "week of 2025-03-03" or "2025-03".
std::string PeriodLabel(Period period, CalendarDay start);

/// The sessions of one series in one period.
struct HeatCell {
  CalendarDay start;  ///< the period's first day
  int complete = 0;   ///< early closes included
  int non_trading = 0;
  int suspicious = 0;
  int never_fetched = 0;
  int failed = 0;
  int64_t bars = 0;
  std::string first_problem;  ///< "2025-03-04 suspicious: empty; ..." for the hover title

  CellClass Class() const;
};

/// One series' cells, one per period that holds any of its reported sessions, in time order.
struct HeatRow {
  Series series;
  std::vector<HeatCell> cells;
  bool problems = false;  ///< any cell failed, suspicious or missing
};

/// Gathers `gaps`' sessions into cells of `period`.
HeatRow RowOf(const SeriesGaps& gaps, Period period);

}  // namespace barfill::quality
