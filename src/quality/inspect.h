// The gap report's reads: what the store holds of one series (ledger, bars per session,
// verifications), handed to the pure Classify. One series at a time, so memory does not grow
// with the number of series.
#pragma once

#include <optional>

#include "quality/classify.h"
#include "store/bar_store.h"

namespace barfill::quality {

/// Which days of a series to report on, and how.
struct InspectOptions {
  std::optional<CalendarDay> from;  ///< default: the first day the series' ledger covers
  std::optional<CalendarDay> to;    ///< default: its last day (never after today)
  /// Days before `from` read only to learn the usual session (reports of a few days still have
  /// a history to judge by).
  int history_days = 90;
  int64_t now_ms = 0;  ///< sessions not over by then are left out
  SuspicionRules rules;
  /// Every series the store holds: a day (or longer) series is judged with the help of its
  /// ticker's finest intraday one, when there is one.
  std::vector<Series> known_series;
};

/// Reads `series` from `store` and judges its sessions. A series without ledger rows and without
/// days given has nothing to report (no sessions).
Result<SeriesGaps> InspectSeries(BarStore& store, const Series& series, const InspectOptions& options);

}  // namespace barfill::quality
