#include "core/market_time.h"

#include <date/date.h>
#include <date/tz.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <limits>

namespace barfill {
namespace {

bool ParseFixedInt(std::string_view text, int& out) {
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// Index of a month counted from 1970-01 (0 = January 1970).
int64_t MonthIndex(CalendarDay day) { return (int64_t{day.year} - 1970) * 12 + (day.month - 1); }

CalendarDay FirstDayOfMonthIndex(int64_t index) {
  const int64_t year = 1970 + FloorDiv(index, 12);
  const int64_t month0 = index - FloorDiv(index, 12) * 12;
  return CalendarDay{static_cast<int>(year), static_cast<unsigned>(month0 + 1), 1};
}

}  // namespace

Result<CalendarDay> CalendarDay::Parse(std::string_view text) {
  const auto invalid = [&] {
    return Fail(ErrorCode::kUsage, "'" + std::string(text) + "' is not a valid YYYY-MM-DD date");
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return invalid();
  int year = 0;
  int month = 0;
  int day = 0;
  if (!ParseFixedInt(text.substr(0, 4), year) || !ParseFixedInt(text.substr(5, 2), month) ||
      !ParseFixedInt(text.substr(8, 2), day)) {
    return invalid();
  }
  const date::year_month_day ymd{date::year{year}, date::month{static_cast<unsigned>(month)},
                                 date::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return invalid();
  if (year < 1970) return Fail(ErrorCode::kUsage, "'" + std::string(text) + "' is before 1970-01-01");
  return CalendarDay{year, static_cast<unsigned>(month), static_cast<unsigned>(day)};
}

int64_t CalendarDay::DaysSinceEpoch() const {
  const date::sys_days days{date::year{year} / date::month{month} / date::day{this->day}};
  return days.time_since_epoch().count();
}

CalendarDay CalendarDay::FromDaysSinceEpoch(int64_t days) {
  const date::year_month_day ymd{date::sys_days{date::days{days}}};
  return CalendarDay{static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day())};
}

unsigned CalendarDay::Weekday() const {
  const date::weekday wd{date::sys_days{date::days{DaysSinceEpoch()}}};
  return wd.c_encoding();
}

std::string CalendarDay::ToString() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", year, month, day);
  return buf;
}

MarketZone MarketZone::NewYork() {
  static const date::time_zone* const zone = date::locate_zone("America/New_York");
  return MarketZone(zone);
}

std::string_view MarketZone::Name() const { return zone_ == nullptr ? "UTC" : "America/New_York"; }

int64_t MarketZone::DayStartMs(CalendarDay day) const {
  const int64_t utc_start = day.DaysSinceEpoch() * kMsPerDay;
  if (zone_ == nullptr) return utc_start;
  const date::local_days local{date::days{day.DaysSinceEpoch()}};
  const auto sys = zone_->to_sys(local, date::choose::earliest);
  return std::chrono::duration_cast<std::chrono::milliseconds>(sys.time_since_epoch()).count();
}

int64_t MarketZone::UtcOffsetMs(int64_t ms) const {
  if (zone_ == nullptr) return 0;
  const date::sys_time<std::chrono::milliseconds> instant{std::chrono::milliseconds{ms}};
  const date::sys_info info = zone_->get_info(instant);
  return std::chrono::duration_cast<std::chrono::milliseconds>(info.offset).count();
}

CalendarDay MarketZone::DayOf(int64_t ms) const {
  return CalendarDay::FromDaysSinceEpoch(FloorDiv(ms + UtcOffsetMs(ms), kMsPerDay));
}

TimeRange MarketZone::DaysToRange(CalendarDay from, CalendarDay to) const {
  return TimeRange{DayStartMs(from), DayStartMs(to.AddDays(1))};
}

TimeRange MarketZone::DaysToRange(std::optional<CalendarDay> from, std::optional<CalendarDay> to) const {
  return TimeRange{from ? DayStartMs(*from) : std::numeric_limits<int64_t>::min(),
                   to ? DayStartMs(to->AddDays(1)) : std::numeric_limits<int64_t>::max()};
}

int64_t BucketStart(const Timeframe& tf, const MarketZone& zone, int64_t ms) {
  const int64_t m = tf.multiplier();
  switch (tf.timespan()) {
    case Timespan::kSecond:
    case Timespan::kMinute:
    case Timespan::kHour: {
      const int64_t len = tf.NominalMs();
      return FloorDiv(ms, len) * len;
    }
    case Timespan::kDay: {
      const int64_t d = zone.DayOf(ms).DaysSinceEpoch();
      return zone.DayStartMs(CalendarDay::FromDaysSinceEpoch(FloorDiv(d, m) * m));
    }
    case Timespan::kWeek: {
      // Weeks start on Sunday; 1969-12-28 (day -4) is the Sunday before the epoch.
      const int64_t d = zone.DayOf(ms).DaysSinceEpoch();
      const int64_t week = FloorDiv(d + 4, 7);
      const int64_t first = FloorDiv(week, m) * m;
      return zone.DayStartMs(CalendarDay::FromDaysSinceEpoch(first * 7 - 4));
    }
    case Timespan::kMonth:
    case Timespan::kQuarter:
    case Timespan::kYear: {
      const int64_t months_per_bar =
          m * (tf.timespan() == Timespan::kMonth ? 1 : tf.timespan() == Timespan::kQuarter ? 3 : 12);
      const int64_t index = MonthIndex(zone.DayOf(ms));
      return zone.DayStartMs(FirstDayOfMonthIndex(FloorDiv(index, months_per_bar) * months_per_bar));
    }
  }
  return ms;
}

int64_t NextBucketStart(const Timeframe& tf, const MarketZone& zone, int64_t ms) {
  const int64_t start = BucketStart(tf, zone, ms);
  const int64_t m = tf.multiplier();
  switch (tf.timespan()) {
    case Timespan::kSecond:
    case Timespan::kMinute:
    case Timespan::kHour:
      return start + tf.NominalMs();
    case Timespan::kDay:
      return zone.DayStartMs(zone.DayOf(start).AddDays(m));
    case Timespan::kWeek:
      return zone.DayStartMs(zone.DayOf(start).AddDays(7 * m));
    case Timespan::kMonth:
    case Timespan::kQuarter:
    case Timespan::kYear: {
      const int64_t months_per_bar =
          m * (tf.timespan() == Timespan::kMonth ? 1 : tf.timespan() == Timespan::kQuarter ? 3 : 12);
      return zone.DayStartMs(FirstDayOfMonthIndex(MonthIndex(zone.DayOf(start)) + months_per_bar));
    }
  }
  return start;
}

TimeRange SnapToBuckets(const Timeframe& tf, const MarketZone& zone, TimeRange range) {
  if (range.empty()) return TimeRange{range.from_ms, range.from_ms};
  const int64_t from = BucketStart(tf, zone, range.from_ms);
  const int64_t last_start = BucketStart(tf, zone, range.to_ms - 1);
  return TimeRange{from, NextBucketStart(tf, zone, last_start)};
}

CalendarDay TodayUtc() {
  const auto now = std::chrono::system_clock::now();
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  return MarketZone::Utc().DayOf(ms);
}

std::string FormatIsoUtc(int64_t ms) {
  const int64_t days = FloorDiv(ms, kMsPerDay);
  const int64_t in_day = ms - days * kMsPerDay;
  const CalendarDay day = CalendarDay::FromDaysSinceEpoch(days);
  const int64_t hh = in_day / kMsPerHour;
  const int64_t mm = (in_day % kMsPerHour) / kMsPerMinute;
  const int64_t ss = (in_day % kMsPerMinute) / kMsPerSecond;
  const int64_t frac = in_day % kMsPerSecond;
  char buf[64];
  if (frac == 0) {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lldZ", day.year, day.month,
                  day.day, static_cast<long long>(hh), static_cast<long long>(mm),
                  static_cast<long long>(ss));
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", day.year,
                  day.month, day.day, static_cast<long long>(hh), static_cast<long long>(mm),
                  static_cast<long long>(ss), static_cast<long long>(frac));
  }
  return buf;
}

}  // namespace barfill
