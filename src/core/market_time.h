// Calendar days, market time zones and bar buckets. Everything is Unix milliseconds (UTC) once
// it leaves this file; calendar days are always read in the market's own zone.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/timeframe.h"

namespace date {
class time_zone;
}

namespace barfill {

/// a / b rounded toward negative infinity (b > 0), for bucketing instants before 1970 too.
inline int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

/// A half-open span of time [from_ms, to_ms) in Unix milliseconds.
struct TimeRange {
  int64_t from_ms = 0;
  int64_t to_ms = 0;

  int64_t DurationMs() const { return to_ms - from_ms; }
  bool empty() const { return to_ms <= from_ms; }
  bool Contains(int64_t t) const { return t >= from_ms && t < to_ms; }
  friend bool operator==(const TimeRange&, const TimeRange&) = default;
};

/// A proleptic Gregorian calendar day, e.g. 2025-03-09.
struct CalendarDay {
  int year = 1970;
  unsigned month = 1;
  unsigned day = 1;

  /// Parses exactly "YYYY-MM-DD" and rejects days that do not exist (2023-02-29, 2024-13-01).
  static Result<CalendarDay> Parse(std::string_view text);
  /// Days since 1970-01-01 (negative before).
  int64_t DaysSinceEpoch() const;
  static CalendarDay FromDaysSinceEpoch(int64_t days);
  CalendarDay AddDays(int64_t days) const { return FromDaysSinceEpoch(DaysSinceEpoch() + days); }
  /// 0 = Sunday ... 6 = Saturday.
  unsigned Weekday() const;
  std::string ToString() const;

  friend auto operator<=>(const CalendarDay&, const CalendarDay&) = default;
};

/// The time zone a market's calendar days, sessions and day bars are counted in.
class MarketZone {
 public:
  /// UTC: crypto and forex.
  static MarketZone Utc() { return MarketZone(nullptr); }
  /// America/New_York: US stocks, indices and options. Loads the system tzdata once.
  static MarketZone NewYork();

  bool IsUtc() const { return zone_ == nullptr; }
  std::string_view Name() const;

  /// The instant at which `day` begins (00:00 local), correct across DST changes.
  int64_t DayStartMs(CalendarDay day) const;
  /// The local calendar day containing the instant `ms`.
  CalendarDay DayOf(int64_t ms) const;
  /// Local time minus UTC at instant `ms`, in ms (-4 h or -5 h in New York).
  int64_t UtcOffsetMs(int64_t ms) const;

  /// [start of `from`, start of the day after `to`): inclusive calendar days to a range.
  TimeRange DaysToRange(CalendarDay from, CalendarDay to) const;
  /// The same with either side open: no `from` starts at the beginning of time, no `to` runs to
  /// its end (for readers that take "everything from day X on").
  TimeRange DaysToRange(std::optional<CalendarDay> from, std::optional<CalendarDay> to) const;

  friend bool operator==(const MarketZone&, const MarketZone&) = default;

 private:
  explicit MarketZone(const date::time_zone* zone) : zone_(zone) {}
  const date::time_zone* zone_;
};

/// Start of the bar bucket of `tf` that contains `ms`. Seconds, minutes and hours are aligned
/// to multiples of the bar length since the Unix epoch; days start at 00:00 in `zone`; weeks on
/// Sunday 00:00; months, quarters and years on their first day.
int64_t BucketStart(const Timeframe& tf, const MarketZone& zone, int64_t ms);
/// Start of the bucket after the one containing `ms`.
int64_t NextBucketStart(const Timeframe& tf, const MarketZone& zone, int64_t ms);
/// The smallest range of whole buckets covering `range` (from snapped back, to snapped forward).
TimeRange SnapToBuckets(const Timeframe& tf, const MarketZone& zone, TimeRange range);

/// Today's calendar day in UTC, from the system clock.
CalendarDay TodayUtc();

/// "2025-03-09T07:30:00Z"; milliseconds are shown only when not zero.
std::string FormatIsoUtc(int64_t ms);

}  // namespace barfill
