// barfill's own NYSE rules checked against QuantLib over the whole covered range: every day
// QuantLib closes gets a name, and every year has each holiday exactly once.
#include "calendar/nyse.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "calendar/quantlib_nyse.h"

namespace barfill::calendar {
namespace {

CalendarDay Day(const char* text) { return *CalendarDay::Parse(text); }

TEST(NyseRules, EasterSundayKnownDates) {
  for (const char* easter : {"1990-04-15", "2000-04-23", "2008-03-23", "2011-04-24", "2019-04-21",
                             "2024-03-31", "2025-04-20", "2026-04-05", "2038-04-25", "2099-04-12"}) {
    const CalendarDay expected = Day(easter);
    EXPECT_EQ(nyse::EasterSunday(expected.year), expected) << easter;
  }
}

TEST(NyseRules, HolidayNamesFollowTheRules) {
  EXPECT_EQ(nyse::HolidayName(Day("2024-01-15")), "Martin Luther King Jr. Day");
  EXPECT_EQ(nyse::HolidayName(Day("2023-01-02")), "New Year's Day (observed)");
  EXPECT_EQ(nyse::HolidayName(Day("2027-06-18")), "Juneteenth (observed)");  // June 19 a Saturday
  EXPECT_EQ(nyse::HolidayName(Day("2021-07-05")), "Independence Day (observed)");
  EXPECT_EQ(nyse::HolidayName(Day("2025-11-27")), "Thanksgiving Day");
  EXPECT_EQ(nyse::HolidayName(Day("2025-04-18")), "Good Friday");
  EXPECT_EQ(nyse::HolidayName(Day("2012-10-30")), "Hurricane Sandy");
  // A Friday before a Saturday New Year's Day is not a holiday, so it has no name.
  EXPECT_EQ(nyse::HolidayName(Day("2021-12-31")), nyse::kUnnamedHoliday);
  EXPECT_EQ(nyse::HolidayName(Day("2025-03-12")), nyse::kUnnamedHoliday);
}

// The name without " (observed)", so a holiday counts once whichever day it is kept.
std::string HolidayOf(std::string_view reason) {
  constexpr std::string_view kObserved = " (observed)";
  if (reason.ends_with(kObserved)) reason.remove_suffix(kObserved.size());
  return std::string(reason);
}

TEST(NyseRules, QuantLibClosingsAreNamedAndEachHolidayComesOncePerYear) {
  std::map<int, std::map<std::string, int>> holidays_by_year;
  for (CalendarDay day = ExchangeCalendar::kFirstDay; day <= ExchangeCalendar::kLastDay;
       day = day.AddDays(1)) {
    const unsigned weekday = day.Weekday();
    if (weekday == nyse::kSaturday || weekday == nyse::kSunday) {
      ASSERT_TRUE(quantlib::NyseClosed(day)) << day.ToString();
      continue;
    }
    if (!quantlib::NyseClosed(day)) continue;
    const std::string_view name = nyse::HolidayName(day);
    ASSERT_NE(name, nyse::kUnnamedHoliday) << "QuantLib closes " << day.ToString();
    ++holidays_by_year[day.year][HolidayOf(name)];
  }
  for (int year = ExchangeCalendar::kFirstDay.year; year <= ExchangeCalendar::kLastDay.year; ++year) {
    std::map<std::string, int> expected = {
        {"Washington's Birthday", 1}, {"Good Friday", 1},   {"Memorial Day", 1},
        {"Independence Day", 1},      {"Labor Day", 1},     {"Thanksgiving Day", 1},
        {"Christmas Day", 1}};
    // A Saturday New Year's Day is not kept on the Friday before (it closes the year).
    if (CalendarDay{year, 1, 1}.Weekday() != nyse::kSaturday) expected["New Year's Day"] = 1;
    if (year >= 1998) expected["Martin Luther King Jr. Day"] = 1;
    if (year >= 2022) expected["Juneteenth"] = 1;
    for (const nyse::SpecialClosing& closing : nyse::SpecialClosings()) {
      if (closing.day.year == year) ++expected[std::string(closing.reason)];
    }
    EXPECT_EQ(holidays_by_year[year], expected) << year;
  }
}

TEST(NyseRules, QuantLibIsPatchedOnlyForWhatItLacks) {
  const std::string version(quantlib::Version());
  const size_t dot = version.find('.');
  ASSERT_NE(dot, std::string::npos) << version;
  const int major = std::stoi(version.substr(0, dot));
  const int minor = std::stoi(version.substr(dot + 1));
  const std::vector<CalendarDay> patched = quantlib::PatchedClosings();
  // QuantLib added the Carter day of mourning in 1.37; the earlier special closings it has.
  if (major == 1 && minor < 37) {
    EXPECT_EQ(patched, std::vector<CalendarDay>{Day("2025-01-09")}) << "QuantLib " << version;
  } else {
    EXPECT_TRUE(patched.empty()) << "QuantLib " << version;
  }
  EXPECT_TRUE(quantlib::NyseClosed(Day("2025-01-09")));
}

TEST(NyseRules, SpecialClosingsAreWeekdaysInOrder) {
  CalendarDay previous = ExchangeCalendar::kFirstDay;
  for (const nyse::SpecialClosing& closing : nyse::SpecialClosings()) {
    EXPECT_LT(previous, closing.day);
    EXPECT_NE(closing.day.Weekday(), nyse::kSaturday);
    EXPECT_NE(closing.day.Weekday(), nyse::kSunday);
    previous = closing.day;
  }
}

}  // namespace
}  // namespace barfill::calendar
