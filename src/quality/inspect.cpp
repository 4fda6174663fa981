#include "quality/inspect.h"

#include <algorithm>
#include <limits>

namespace barfill::quality {

Result<SeriesGaps> InspectSeries(BarStore& store, const Series& series, const InspectOptions& options) {
  SeriesEvidence evidence;
  evidence.series = series;
  evidence.now_ms = options.now_ms;
  auto ledger = store.ReadLedger(series);
  if (!ledger) return Fail(ledger.error());
  evidence.ledger = std::move(*ledger);

  const MarketZone zone = series.ticker.zone();
  std::optional<CalendarDay> from = options.from;
  std::optional<CalendarDay> to = options.to;
  if ((!from || !to) && !evidence.ledger.empty()) {
    int64_t first = std::numeric_limits<int64_t>::max();
    int64_t last = std::numeric_limits<int64_t>::min();
    for (const LedgerEntry& e : evidence.ledger) {
      first = std::min(first, e.range.from_ms);
      last = std::max(last, e.range.to_ms);
    }
    if (!from) from = zone.DayOf(first);
    if (!to) to = zone.DayOf(last - 1);
  }
  SeriesGaps nothing;
  nothing.series = series;
  if (!from || !to) return nothing;
  const CalendarDay today = zone.DayOf(options.now_ms);
  const CalendarDay last_day = std::min({*to, today, calendar::ExchangeCalendar::kLastDay});
  const CalendarDay first_day = std::max(*from, calendar::ExchangeCalendar::kFirstDay);
  if (last_day < first_day) return nothing;
  const CalendarDay history_from = std::max(first_day.AddDays(-options.history_days), calendar::ExchangeCalendar::kFirstDay);

  auto sessions = SessionWindows(series, history_from, last_day);
  if (!sessions) return Fail(sessions.error());
  evidence.sessions = std::move(*sessions);
  evidence.report_from = first_day;
  std::vector<TimeRange> windows;
  windows.reserve(evidence.sessions.size());
  for (const SessionWindow& s : evidence.sessions) windows.push_back(s.window);
  auto counts = store.CountBarsIn(series, windows);
  if (!counts) return Fail(counts.error());
  evidence.counts = std::move(*counts);
  auto checks = store.ReadChecks(series);
  if (!checks) return Fail(checks.error());
  evidence.checks = std::move(*checks);
  return Classify(evidence, options.rules);
}

}  // namespace barfill::quality
