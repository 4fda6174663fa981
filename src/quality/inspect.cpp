#include "quality/inspect.h"

#include <algorithm>
#include <limits>

namespace barfill::quality {

namespace {

/// The ticker's intraday series with the shortest bars, if the store holds one.
std::optional<Series> FinestIntradaySibling(const Series& series, const std::vector<Series>& known) {
  std::optional<Series> best;
  for (const Series& s : known) {
    if (s.ticker != series.ticker || s.adjusted != series.adjusted || !s.timeframe.IsIntraday()) continue;
    if (!best || s.timeframe.NominalMs() < best->timeframe.NominalMs()) best = s;
  }
  return best;
}

/// Reads the ledger, the session windows and their bar counts of `series` from `from` to `to`.
Status ReadEvidence(BarStore& store, CalendarDay from, CalendarDay to, SeriesEvidence* evidence) {
  auto sessions = SessionWindows(evidence->series, from, to);
  if (!sessions) return Fail(sessions.error());
  evidence->sessions = std::move(*sessions);
  std::vector<TimeRange> windows;
  windows.reserve(evidence->sessions.size());
  for (const SessionWindow& s : evidence->sessions) windows.push_back(s.window);
  auto counts = store.CountBarsIn(evidence->series, windows);
  if (!counts) return Fail(counts.error());
  evidence->counts = std::move(*counts);
  return Ok();
}

}  // namespace

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

  BARFILL_TRY(ReadEvidence(store, history_from, last_day, &evidence));
  evidence.report_from = first_day;
  if (!series.timeframe.IsIntraday()) {
    evidence.sibling = FinestIntradaySibling(series, options.known_series);
    if (evidence.sibling) {
      SeriesEvidence sibling;
      sibling.series = *evidence.sibling;
      sibling.now_ms = options.now_ms;
      auto sibling_ledger = store.ReadLedger(sibling.series);
      if (!sibling_ledger) return Fail(sibling_ledger.error());
      sibling.ledger = std::move(*sibling_ledger);
      BARFILL_TRY(ReadEvidence(store, history_from, last_day, &sibling));
      evidence.sibling_usual = UsualSessionOf(sibling);
    }
  }
  auto checks = store.ReadChecks(series);
  if (!checks) return Fail(checks.error());
  evidence.checks = std::move(*checks);
  return Classify(evidence, options.rules);
}

}  // namespace barfill::quality
