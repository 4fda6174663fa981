#include "engine/refresh.h"

#include <algorithm>

#include "calendar/exchange_calendar.h"

namespace barfill::engine {
namespace {

/// How far back the last sessions are looked for (a month of holidays would still fit).
constexpr int kLookbackDays = 40;

/// The range of whole bars of `series` over its last `sessions` sessions that ended by `now_ms`
/// on or before `last_day`; empty when there is none.
TimeRange RecentSessions(const Series& series, CalendarDay last_day, int64_t now_ms, int sessions) {
  const calendar::ExchangeCalendar& cal = calendar::ExchangeCalendar::For(series.ticker.asset_class());
  const MarketZone zone = series.ticker.zone();
  const Timeframe& tf = series.timeframe;
  TimeRange range;
  int found = 0;
  CalendarDay day = std::min(last_day, zone.DayOf(now_ms));
  for (int back = 0; back < kLookbackDays && found < sessions; ++back, day = day.AddDays(-1)) {
    const auto session = cal.SessionOn(day);
    if (!session || !session->is_open() || session->extended.to_ms > now_ms) continue;
    // Intraday bars lie in the session's hours; day and longer bars start at the day's midnight.
    const TimeRange hours = tf.IsIntraday() ? session->extended : zone.DaysToRange(day, day);
    const TimeRange bars{BucketStart(tf, zone, hours.from_ms), NextBucketStart(tf, zone, hours.to_ms - 1)};
    range = found == 0 ? bars : TimeRange{bars.from_ms, range.to_ms};
    ++found;
  }
  return range;
}

int64_t Pages(int64_t base) { return std::max<int64_t>(1, (base + kMaxBaseAggregatesPerRequest - 1) / kMaxBaseAggregatesPerRequest); }

/// Takes `verify` out of the series' todo parts and ranges: the range to verify fetches it.
void GiveToVerify(SeriesWork& sw, TimeRange verify) {
  std::vector<TimeRange> todo;
  for (const TimeRange& part : sw.todo) {
    for (const TimeRange& piece : Subtract(part, {verify})) todo.push_back(piece);
  }
  std::vector<CoarseRange> ranges;
  for (const CoarseRange& r : sw.ranges) {
    for (const TimeRange& piece : Subtract(r.range, {verify})) {
      const auto part = std::find_if(todo.begin(), todo.end(), [&](const TimeRange& t) {
        return t.from_ms <= piece.from_ms && piece.to_ms <= t.to_ms;
      });
      ranges.push_back(CoarseRange{piece, static_cast<size_t>(part - todo.begin()), r.verify});
    }
  }
  sw.todo = std::move(todo);
  sw.ranges = std::move(ranges);
}

}  // namespace

int64_t AddRefreshRanges(WorkPlan& work, const Plan& plan, CalendarDay today, int64_t now_ms, int sessions,
                         const CoveredElsewhere& fetched_this_run) {
  const CalendarDay last_day = work.clamped_to ? *work.clamped_to : plan.to;
  if (sessions <= 0 || last_day < today.AddDays(-kRefreshHorizonDays)) return 0;
  int64_t added = 0;
  for (SeriesWork& sw : work.series) {
    const TimeRange recent = RecentSessions(sw.series, last_day, now_ms, sessions);
    const TimeRange wanted{std::max(recent.from_ms, sw.range.from_ms), std::min(recent.to_ms, sw.range.to_ms)};
    if (wanted.empty()) continue;
    // Only what is stored can be verified: from the first stored part of the recent sessions on.
    // The plan's own ranges inside them (the tail of a range fetched while it was live) go to
    // the range to verify, so every bar of those sessions is fetched once, by one request.
    const std::vector<TimeRange> stored = Subtract(wanted, sw.todo);
    if (stored.empty()) continue;
    if (fetched_this_run) {
      const std::vector<TimeRange> fresh = fetched_this_run(sw.series);
      const bool all_fresh = std::all_of(stored.begin(), stored.end(),
                                         [&](const TimeRange& s) { return Subtract(s, fresh).empty(); });
      if (all_fresh) continue;
    }
    const TimeRange verify{stored.front().from_ms, wanted.to_ms};
    const bool was_up_to_date = sw.todo.empty();
    const int64_t ranges_before = static_cast<int64_t>(sw.ranges.size());
    GiveToVerify(sw, verify);
    sw.todo.push_back(verify);
    sw.ranges.push_back(CoarseRange{verify, sw.todo.size() - 1, true});
    const int64_t pages = Pages(BaseCapacity(sw.series, verify));
    sw.requests.low += 1;
    sw.requests.high += pages;
    work.requests.low += 1;
    work.requests.high += pages;
    if (was_up_to_date) --work.series_up_to_date;
    work.ranges_todo += static_cast<int64_t>(sw.ranges.size()) - ranges_before;
    ++added;
  }
  work.ranges_to_verify += added;
  return added;
}

}  // namespace barfill::engine
