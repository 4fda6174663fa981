#include "calendar/nyse.h"

#include <optional>

namespace barfill::calendar::nyse {
namespace {

constexpr int At(int hour, int minute) { return hour * 60 + minute; }

// Before 1993 the scheduled short days closed at 14:00.
constexpr int kEarlyCloseBefore1993 = At(14, 0);

constexpr SpecialClosing kSpecialClosings[] = {
    {{1994, 4, 27}, "National Day of Mourning (Nixon)"},
    {{2001, 9, 11}, "September 11 attacks"},
    {{2001, 9, 12}, "September 11 attacks"},
    {{2001, 9, 13}, "September 11 attacks"},
    {{2001, 9, 14}, "September 11 attacks"},
    {{2004, 6, 11}, "National Day of Mourning (Reagan)"},
    {{2007, 1, 2}, "National Day of Mourning (Ford)"},
    {{2012, 10, 29}, "Hurricane Sandy"},
    {{2012, 10, 30}, "Hurricane Sandy"},
    {{2018, 12, 5}, "National Day of Mourning (G. H. W. Bush)"},
    {{2025, 1, 9}, "National Day of Mourning (Carter)"},
};

// Unscheduled delayed openings and early halts: the regular session's real bounds.
struct ShortenedSession {
  CalendarDay day;
  int open;
  int close;
  std::string_view reason;
};

constexpr ShortenedSession kShortenedSessions[] = {
    {{1990, 12, 27}, At(9, 31), kRegularClose, "delayed opening: Con Edison transformer explosion"},
    {{1991, 1, 17}, At(9, 31), kRegularClose, "delayed opening: Gulf War moment of silence"},
    {{1991, 2, 25}, At(9, 31), kRegularClose, "delayed opening: Gulf War moment of silence"},
    {{1994, 2, 11}, kRegularOpen, At(14, 30), "early close: snowstorm"},
    {{1995, 12, 18}, At(10, 30), kRegularClose, "delayed opening: computer systems trouble"},
    {{1996, 1, 8}, At(11, 0), At(14, 0), "delayed opening and early close: snowstorm"},
    {{1997, 10, 27}, kRegularOpen, At(15, 30), "early close: circuit breaker halt"},
    {{2001, 9, 17}, At(9, 33), kRegularClose, "delayed opening: September 11 moment of silence"},
    {{2001, 10, 8}, At(9, 31), kRegularClose, "delayed opening: moment of silence"},
    {{2002, 9, 11}, At(12, 0), kRegularClose, "delayed opening: September 11 anniversary"},
    {{2003, 3, 20}, At(9, 32), kRegularClose, "delayed opening: moment of silence"},
    {{2004, 6, 7}, At(9, 32), kRegularClose, "delayed opening: Reagan moment of silence"},
    {{2005, 6, 1}, kRegularOpen, At(15, 56), "early close: systems communication problem"},
    {{2006, 12, 27}, At(9, 32), kRegularClose, "delayed opening: Ford moment of silence"},
};

// A holiday on a fixed date. When it falls on a weekend it is observed on the Monday after a
// Sunday, and on the Friday before a Saturday unless that Friday closes a year (New Year's).
struct FixedDateHoliday {
  unsigned month;
  unsigned day;
  bool observed_on_friday_before;
  std::string_view name;
  std::string_view observed_name;
};

constexpr FixedDateHoliday kFixedDateHolidays[] = {
    {1, 1, false, "New Year's Day", "New Year's Day (observed)"},
    {6, 19, true, "Juneteenth", "Juneteenth (observed)"},
    {7, 4, true, "Independence Day", "Independence Day (observed)"},
    {12, 25, true, "Christmas Day", "Christmas Day (observed)"},
};

// A holiday on the Monday of a 7-day window of a month (the third Monday of January is the
// Monday from the 15th to the 21st).
struct MondayHoliday {
  unsigned month;
  unsigned first_day;
  std::string_view name;
};

constexpr MondayHoliday kMondayHolidays[] = {
    {1, 15, "Martin Luther King Jr. Day"},
    {2, 15, "Washington's Birthday"},
    {5, 25, "Memorial Day"},
    {9, 1, "Labor Day"},
};

// Thanksgiving is the fourth Thursday of November: the Thursday from the 22nd to the 28th.
constexpr unsigned kFourthThursdayFirstDay = 22;

bool IsDayAfterThanksgiving(CalendarDay day, unsigned weekday) {
  return day.month == 11 && weekday == kFriday && day.day >= kFourthThursdayFirstDay + 1 &&
         day.day <= kFourthThursdayFirstDay + 7;
}

struct EarlyClose {
  int close;
  std::string_view reason;
};

std::optional<EarlyClose> ScheduledEarlyClose(CalendarDay day) {
  const unsigned weekday = day.Weekday();
  const int short_day_close = day.year >= 1993 ? kEarlyClose : kEarlyCloseBefore1993;
  if (day.month == 7 && day.day == 3) {
    const bool mon_tue_thu = weekday == kMonday || weekday == kTuesday || weekday == kThursday;
    if ((mon_tue_thu && day.year >= 1995) || (weekday == kWednesday && day.year >= 2013)) {
      return EarlyClose{kEarlyClose, "day before Independence Day"};
    }
  }
  // Until 2012 a Thursday Independence Day shortened the Friday after, not the Wednesday before.
  if (day.month == 7 && day.day == 5 && weekday == kFriday && day.year >= 1996 && day.year <= 2012) {
    return EarlyClose{kEarlyClose, "day after Independence Day"};
  }
  if (IsDayAfterThanksgiving(day, weekday) && day.year >= 1992) {
    return EarlyClose{short_day_close, "day after Thanksgiving"};
  }
  if (day.month == 12 && day.day == 24 && weekday >= kMonday && weekday <= kThursday) {
    return EarlyClose{short_day_close, "Christmas Eve"};
  }
  if (day == CalendarDay{1997, 12, 26} || day == CalendarDay{2003, 12, 26}) {
    return EarlyClose{kEarlyClose, "day after Christmas"};
  }
  return std::nullopt;
}

const ShortenedSession* FindShortenedSession(CalendarDay day) {
  for (const ShortenedSession& shortened : kShortenedSessions) {
    if (shortened.day == day) return &shortened;
  }
  return nullptr;
}

}  // namespace

std::span<const SpecialClosing> SpecialClosings() { return kSpecialClosings; }

CalendarDay EasterSunday(int year) {
  // The anonymous Gregorian algorithm (Meeus/Jones/Butcher).
  const int a = year % 19;
  const int b = year / 100;
  const int c = year % 100;
  const int d = b / 4;
  const int e = b % 4;
  const int f = (b + 8) / 25;
  const int g = (b - f + 1) / 3;
  const int h = (19 * a + b - d - g + 15) % 30;
  const int i = c / 4;
  const int k = c % 4;
  const int l = (32 + 2 * e + 2 * i - h - k) % 7;
  const int m = (a + 11 * h + 22 * l) / 451;
  const int month = (h + l - 7 * m + 114) / 31;
  const int day = (h + l - 7 * m + 114) % 31 + 1;
  return CalendarDay{year, static_cast<unsigned>(month), static_cast<unsigned>(day)};
}

std::string_view HolidayName(CalendarDay day) {
  for (const SpecialClosing& closing : kSpecialClosings) {
    if (closing.day == day) return closing.reason;
  }
  const unsigned weekday = day.Weekday();
  for (const FixedDateHoliday& holiday : kFixedDateHolidays) {
    if (day.month != holiday.month) continue;
    if (day.day == holiday.day) return holiday.name;
    if (weekday == kMonday && day.day == holiday.day + 1) return holiday.observed_name;
    if (holiday.observed_on_friday_before && weekday == kFriday && day.day + 1 == holiday.day) {
      return holiday.observed_name;
    }
  }
  if (weekday == kMonday) {
    for (const MondayHoliday& holiday : kMondayHolidays) {
      if (day.month == holiday.month && day.day >= holiday.first_day &&
          day.day < holiday.first_day + 7) {
        return holiday.name;
      }
    }
  }
  if (day.month == 11 && weekday == kThursday && day.day >= kFourthThursdayFirstDay &&
      day.day < kFourthThursdayFirstDay + 7) {
    return "Thanksgiving Day";
  }
  if (day == EasterSunday(day.year).AddDays(-2)) return "Good Friday";
  return kUnnamedHoliday;
}

NyseDay DescribeDay(CalendarDay day, bool closed) {
  if (closed) {
    const unsigned weekday = day.Weekday();
    const bool weekend = weekday == kSaturday || weekday == kSunday;
    NyseDay closed_day;
    closed_day.reason = weekend ? "weekend" : HolidayName(day);
    return closed_day;
  }
  NyseDay open{.kind = SessionKind::kRegular,
               .regular_open = kRegularOpen,
               .regular_close = kRegularClose,
               .extended_open = kPreMarketOpen,
               .extended_close = kRegularClose + kPostMarketLength,
               .reason = {}};
  if (const ShortenedSession* shortened = FindShortenedSession(day)) {
    // An unscheduled halt or delay moves the regular session only; extended hours stay.
    open.kind = shortened->close < kRegularClose ? SessionKind::kEarlyClose : SessionKind::kLateOpen;
    open.regular_open = shortened->open;
    open.regular_close = shortened->close;
    open.reason = shortened->reason;
    return open;
  }
  if (const std::optional<EarlyClose> early = ScheduledEarlyClose(day)) {
    open.kind = SessionKind::kEarlyClose;
    open.regular_close = early->close;
    open.extended_close = early->close + kPostMarketLength;
    open.reason = early->reason;
  }
  return open;
}

}  // namespace barfill::calendar::nyse
