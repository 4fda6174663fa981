// The units a gap report judges a series by: each calendar session of its market for intraday
// and day bars, each bar bucket for longer bars (a week, a month), with the time window its
// bars lie in.
#pragma once

#include <string_view>
#include <vector>

#include "calendar/exchange_calendar.h"
#include "core/result.h"
#include "core/series.h"

namespace barfill::quality {

/// One unit of a series: a session, or a bucket of a week or longer.
struct SessionWindow {
  CalendarDay day;       ///< the session's day (a bucket: its first day), in the market's zone
  CalendarDay last_day;  ///< the same day for a session; a bucket's last day
  calendar::SessionKind kind = calendar::SessionKind::kClosed;  ///< a bucket: regular when any day trades
  std::string_view reason;  ///< why a session is closed or short ("weekend", "Good Friday", ...)
  TimeRange window;      ///< where the unit's bars start: the session's hours widened to whole bars, or the day or bucket
  /// The unit's trading time relative to the market's usual session (0.8125 for a 13:00 close of
  /// a stock's 04:00-20:00 day), for scaling the bars expected; 1 for day and longer bars.
  double share = 1;

  bool is_open() const { return kind != calendar::SessionKind::kClosed; }
  /// A shortened session (early close or late open).
  bool is_short() const {
    return kind == calendar::SessionKind::kEarlyClose || kind == calendar::SessionKind::kLateOpen;
  }
};

/// The units of `series` whose days lie from `from` to `to` (inclusive, the market's zone, both
/// inside the calendar's years), closed ones included, in time order.
Result<std::vector<SessionWindow>> SessionWindows(const Series& series, CalendarDay from, CalendarDay to);

}  // namespace barfill::quality
