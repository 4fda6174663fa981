#include "quality/sessions.h"

#include <algorithm>
#include <map>

namespace barfill::quality {
namespace {

/// The hours the market's usual trading day has: the most common length among its regular sessions.
int64_t UsualSessionMs(const std::vector<calendar::Session>& sessions) {
  std::map<int64_t, int> lengths;
  for (const calendar::Session& s : sessions) {
    if (s.kind == calendar::SessionKind::kRegular) ++lengths[s.extended.DurationMs()];
  }
  int64_t usual = 0;
  int most = 0;
  for (const auto& [length, count] : lengths) {
    if (count > most) {
      most = count;
      usual = length;
    }
  }
  return usual;
}

}  // namespace

Result<std::vector<SessionWindow>> SessionWindows(const Series& series, CalendarDay from, CalendarDay to) {
  const calendar::ExchangeCalendar& cal = calendar::ExchangeCalendar::For(series.ticker.asset_class());
  auto sessions = cal.Sessions(from, to);
  if (!sessions) return Fail(sessions.error());
  const Timeframe& tf = series.timeframe;
  const MarketZone zone = series.ticker.zone();
  std::vector<SessionWindow> units;
  if (tf.IsIntraday() || tf == Timeframe(1, Timespan::kDay)) {
    const int64_t usual_ms = UsualSessionMs(*sessions);
    units.reserve(sessions->size());
    for (const calendar::Session& s : *sessions) {
      SessionWindow unit{s.day, s.day, s.kind, s.reason, zone.DaysToRange(s.day, s.day), 1};
      if (s.is_open() && tf.IsIntraday()) {
        unit.window = TimeRange{BucketStart(tf, zone, s.extended.from_ms), s.extended.to_ms};
        if (usual_ms > 0) unit.share = static_cast<double>(s.extended.DurationMs()) / static_cast<double>(usual_ms);
      }
      units.push_back(unit);
    }
    return units;
  }
  // Longer bars: one unit per bucket the days touch, open when any of its days trades.
  const TimeRange days = zone.DaysToRange(from, to);
  size_t next_session = 0;
  for (int64_t start = BucketStart(tf, zone, days.from_ms); start < days.to_ms; start = NextBucketStart(tf, zone, start)) {
    const int64_t end = NextBucketStart(tf, zone, start);
    SessionWindow unit{zone.DayOf(start), zone.DayOf(end - 1), calendar::SessionKind::kClosed, {}, {start, end}, 1};
    for (; next_session < sessions->size() && zone.DayStartMs((*sessions)[next_session].day) < end; ++next_session) {
      if ((*sessions)[next_session].is_open()) unit.kind = calendar::SessionKind::kRegular;
    }
    if (!unit.is_open()) unit.reason = "no trading day";
    units.push_back(unit);
  }
  return units;
}

}  // namespace barfill::quality
