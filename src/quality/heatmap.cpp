#include "quality/heatmap.h"

namespace barfill::quality {
namespace {

constexpr int kMostWeeks = 26;

}  // namespace

std::string_view CellClassName(CellClass c) {
  switch (c) {
    case CellClass::kFailed: return "failed";
    case CellClass::kSuspicious: return "suspicious";
    case CellClass::kMissing: return "missing";
    case CellClass::kComplete: return "complete";
    case CellClass::kNonTrading: return "non-trading";
  }
  return "?";
}

Period PeriodFor(CalendarDay first, CalendarDay last) {
  return last.DaysSinceEpoch() - first.DaysSinceEpoch() < 7 * kMostWeeks ? Period::kWeek : Period::kMonth;
}

CalendarDay PeriodStart(Period period, CalendarDay day) {
  if (period == Period::kMonth) return CalendarDay{day.year, day.month, 1};
  const int back = (static_cast<int>(day.Weekday()) + 6) % 7;  // Monday = 0
  return day.AddDays(-back);
}

CalendarDay NextPeriodStart(Period period, CalendarDay start) {
  if (period == Period::kWeek) return start.AddDays(7);
  return start.month == 12 ? CalendarDay{start.year + 1, 1, 1} : CalendarDay{start.year, start.month + 1, 1};
}

std::string PeriodLabel(Period period, CalendarDay start) {
  if (period == Period::kWeek) return "week of " + start.ToString();
  return start.ToString().substr(0, 7);
}

CellClass HeatCell::Class() const {
  if (failed > 0) return CellClass::kFailed;
  if (suspicious > 0) return CellClass::kSuspicious;
  if (never_fetched > 0) return CellClass::kMissing;
  if (complete > 0) return CellClass::kComplete;
  return CellClass::kNonTrading;
}

HeatRow RowOf(const SeriesGaps& gaps, Period period) {
  HeatRow row;
  row.series = gaps.series;
  for (const SessionVerdict& v : gaps.sessions) {
    const CalendarDay start = PeriodStart(period, v.session.day);
    if (row.cells.empty() || row.cells.back().start != start) row.cells.push_back(HeatCell{start});
    HeatCell& cell = row.cells.back();
    cell.bars += v.bars;
    switch (v.cls) {
      case SessionClass::kComplete:
      case SessionClass::kEarlyClose: ++cell.complete; break;
      case SessionClass::kNonTrading: ++cell.non_trading; break;
      case SessionClass::kSuspicious: ++cell.suspicious; break;
      case SessionClass::kNeverFetched: ++cell.never_fetched; break;
      case SessionClass::kFailed: ++cell.failed; break;
    }
    if (IsProblem(v.cls)) {
      row.problems = true;
      if (cell.first_problem.empty()) {
        cell.first_problem = v.session.day.ToString() + " " + std::string(SessionClassLabel(v.cls)) + ": " + v.detail;
      }
    }
  }
  return row;
}

}  // namespace barfill::quality
