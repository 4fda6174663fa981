// What barfill itself knows about NYSE days (QuantLib only says open or closed): the names of
// holidays, the special closings, the scheduled early closes and the known delayed openings and
// halts. Internal to src/calendar; the rules and their sources are in docs/calendar.md.
#pragma once

#include <span>
#include <string_view>

#include "calendar/exchange_calendar.h"
#include "core/market_time.h"

namespace barfill::calendar::nyse {

// CalendarDay::Weekday() values.
inline constexpr unsigned kSunday = 0;
inline constexpr unsigned kMonday = 1;
inline constexpr unsigned kTuesday = 2;
inline constexpr unsigned kWednesday = 3;
inline constexpr unsigned kThursday = 4;
inline constexpr unsigned kFriday = 5;
inline constexpr unsigned kSaturday = 6;

// Minutes after midnight, New York time.
inline constexpr int kPreMarketOpen = 4 * 60;
inline constexpr int kRegularOpen = 9 * 60 + 30;
inline constexpr int kRegularClose = 16 * 60;
inline constexpr int kEarlyClose = 13 * 60;
/// Post-market trading ends this long after the scheduled close (20:00, or 17:00 on early closes).
inline constexpr int kPostMarketLength = 4 * 60;

/// The reason given to a closed weekday that no holiday rule names (a test keeps it unused).
inline constexpr std::string_view kUnnamedHoliday = "market holiday";

/// A whole weekday the exchange stayed closed outside the yearly holiday rules.
struct SpecialClosing {
  CalendarDay day;
  std::string_view reason;
};

/// Every special closing from kFirstDay on, oldest first.
std::span<const SpecialClosing> SpecialClosings();

/// How the NYSE trades on one day, in minutes after midnight New York.
struct NyseDay {
  SessionKind kind = SessionKind::kClosed;
  int regular_open = 0;
  int regular_close = 0;
  int extended_open = 0;
  int extended_close = 0;
  std::string_view reason;
};

/// Describes `day`, given whether the exchange is closed on it (QuantLib's answer).
NyseDay DescribeDay(CalendarDay day, bool closed);

/// The name of the holiday that closes the weekday `day` ("Christmas Day (observed)", ...), or
/// kUnnamedHoliday when no rule matches.
std::string_view HolidayName(CalendarDay day);

/// Easter Sunday of `year` in the Gregorian calendar (Good Friday is two days before).
CalendarDay EasterSunday(int year);

}  // namespace barfill::calendar::nyse
