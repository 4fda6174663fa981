// The calendars against NYSE's published holiday and early-close lists (2020-2026), history's
// special closings, the rules' exceptions, DST weeks, crypto and forex.
#include "calendar/exchange_calendar.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/timeframe.h"

namespace barfill::calendar {
namespace {

CalendarDay Day(const char* text) { return *CalendarDay::Parse(text); }

// An instant written as a UTC day and time, computed without any time zone.
int64_t UtcMs(const char* day, int hour, int minute) {
  return Day(day).DaysSinceEpoch() * kMsPerDay + hour * kMsPerHour + minute * kMsPerMinute;
}

const ExchangeCalendar& Nyse() { return ExchangeCalendar::For(AssetClass::kStock); }

Session NyseOn(const char* day) {
  const Result<Session> session = Nyse().SessionOn(Day(day));
  EXPECT_TRUE(session) << day << ": " << session.error().message;
  return session ? *session : Session{};
}

struct Closing {
  std::string day;
  std::string reason;
  friend bool operator==(const Closing&, const Closing&) = default;
};

void PrintTo(const Closing& closing, std::ostream* out) {
  *out << closing.day << " " << closing.reason;
}

// Every weekday the NYSE was closed, as NYSE publishes them.
TEST(NyseCalendar, EveryHolidayFrom2020To2026) {
  const std::vector<Closing> expected = {
      {"2020-01-01", "New Year's Day"},
      {"2020-01-20", "Martin Luther King Jr. Day"},
      {"2020-02-17", "Washington's Birthday"},
      {"2020-04-10", "Good Friday"},
      {"2020-05-25", "Memorial Day"},
      {"2020-07-03", "Independence Day (observed)"},
      {"2020-09-07", "Labor Day"},
      {"2020-11-26", "Thanksgiving Day"},
      {"2020-12-25", "Christmas Day"},
      {"2021-01-01", "New Year's Day"},
      {"2021-01-18", "Martin Luther King Jr. Day"},
      {"2021-02-15", "Washington's Birthday"},
      {"2021-04-02", "Good Friday"},
      {"2021-05-31", "Memorial Day"},
      {"2021-07-05", "Independence Day (observed)"},
      {"2021-09-06", "Labor Day"},
      {"2021-11-25", "Thanksgiving Day"},
      {"2021-12-24", "Christmas Day (observed)"},
      {"2022-01-17", "Martin Luther King Jr. Day"},  // Saturday 2022-01-01 is not observed
      {"2022-02-21", "Washington's Birthday"},
      {"2022-04-15", "Good Friday"},
      {"2022-05-30", "Memorial Day"},
      {"2022-06-20", "Juneteenth (observed)"},
      {"2022-07-04", "Independence Day"},
      {"2022-09-05", "Labor Day"},
      {"2022-11-24", "Thanksgiving Day"},
      {"2022-12-26", "Christmas Day (observed)"},
      {"2023-01-02", "New Year's Day (observed)"},
      {"2023-01-16", "Martin Luther King Jr. Day"},
      {"2023-02-20", "Washington's Birthday"},
      {"2023-04-07", "Good Friday"},
      {"2023-05-29", "Memorial Day"},
      {"2023-06-19", "Juneteenth"},
      {"2023-07-04", "Independence Day"},
      {"2023-09-04", "Labor Day"},
      {"2023-11-23", "Thanksgiving Day"},
      {"2023-12-25", "Christmas Day"},
      {"2024-01-01", "New Year's Day"},
      {"2024-01-15", "Martin Luther King Jr. Day"},
      {"2024-02-19", "Washington's Birthday"},
      {"2024-03-29", "Good Friday"},
      {"2024-05-27", "Memorial Day"},
      {"2024-06-19", "Juneteenth"},
      {"2024-07-04", "Independence Day"},
      {"2024-09-02", "Labor Day"},
      {"2024-11-28", "Thanksgiving Day"},
      {"2024-12-25", "Christmas Day"},
      {"2025-01-01", "New Year's Day"},
      {"2025-01-09", "National Day of Mourning (Carter)"},
      {"2025-01-20", "Martin Luther King Jr. Day"},
      {"2025-02-17", "Washington's Birthday"},
      {"2025-04-18", "Good Friday"},
      {"2025-05-26", "Memorial Day"},
      {"2025-06-19", "Juneteenth"},
      {"2025-07-04", "Independence Day"},
      {"2025-09-01", "Labor Day"},
      {"2025-11-27", "Thanksgiving Day"},
      {"2025-12-25", "Christmas Day"},
      {"2026-01-01", "New Year's Day"},
      {"2026-01-19", "Martin Luther King Jr. Day"},
      {"2026-02-16", "Washington's Birthday"},
      {"2026-04-03", "Good Friday"},
      {"2026-05-25", "Memorial Day"},
      {"2026-06-19", "Juneteenth"},
      {"2026-07-03", "Independence Day (observed)"},
      {"2026-09-07", "Labor Day"},
      {"2026-11-26", "Thanksgiving Day"},
      {"2026-12-25", "Christmas Day"},
  };
  const auto sessions = Nyse().Sessions(Day("2020-01-01"), Day("2026-12-31"));
  ASSERT_TRUE(sessions) << sessions.error().message;
  std::vector<Closing> closed_weekdays;
  for (const Session& session : *sessions) {
    const bool weekend = session.day.Weekday() == 0 || session.day.Weekday() == 6;
    if (weekend) {
      EXPECT_EQ(session.kind, SessionKind::kClosed) << session.day.ToString();
      EXPECT_EQ(session.reason, "weekend");
    } else if (!session.is_open()) {
      closed_weekdays.push_back({session.day.ToString(), std::string(session.reason)});
      EXPECT_TRUE(session.regular.empty());
      EXPECT_TRUE(session.extended.empty());
    }
  }
  EXPECT_EQ(closed_weekdays, expected);
}

struct EarlyCloseDay {
  std::string day;
  int64_t close_ms;
  std::string reason;
  friend bool operator==(const EarlyCloseDay&, const EarlyCloseDay&) = default;
};

void PrintTo(const EarlyCloseDay& early, std::ostream* out) {
  *out << early.day << " " << FormatIsoUtc(early.close_ms) << " " << early.reason;
}

// Every shortened day, closing at 13:00 New York: 17:00Z in summer, 18:00Z in winter.
TEST(NyseCalendar, EveryEarlyCloseFrom2020To2026) {
  const std::vector<EarlyCloseDay> expected = {
      {"2020-11-27", UtcMs("2020-11-27", 18, 0), "day after Thanksgiving"},
      {"2020-12-24", UtcMs("2020-12-24", 18, 0), "Christmas Eve"},
      {"2021-11-26", UtcMs("2021-11-26", 18, 0), "day after Thanksgiving"},
      {"2022-11-25", UtcMs("2022-11-25", 18, 0), "day after Thanksgiving"},
      {"2023-07-03", UtcMs("2023-07-03", 17, 0), "day before Independence Day"},
      {"2023-11-24", UtcMs("2023-11-24", 18, 0), "day after Thanksgiving"},
      {"2024-07-03", UtcMs("2024-07-03", 17, 0), "day before Independence Day"},
      {"2024-11-29", UtcMs("2024-11-29", 18, 0), "day after Thanksgiving"},
      {"2024-12-24", UtcMs("2024-12-24", 18, 0), "Christmas Eve"},
      {"2025-07-03", UtcMs("2025-07-03", 17, 0), "day before Independence Day"},
      {"2025-11-28", UtcMs("2025-11-28", 18, 0), "day after Thanksgiving"},
      {"2025-12-24", UtcMs("2025-12-24", 18, 0), "Christmas Eve"},
      {"2026-11-27", UtcMs("2026-11-27", 18, 0), "day after Thanksgiving"},
      {"2026-12-24", UtcMs("2026-12-24", 18, 0), "Christmas Eve"},
  };
  const auto sessions = Nyse().Sessions(Day("2020-01-01"), Day("2026-12-31"));
  ASSERT_TRUE(sessions) << sessions.error().message;
  std::vector<EarlyCloseDay> early_closes;
  for (const Session& session : *sessions) {
    EXPECT_NE(session.kind, SessionKind::kLateOpen) << session.day.ToString();
    if (session.kind != SessionKind::kEarlyClose) continue;
    early_closes.push_back({session.day.ToString(), session.regular.to_ms, std::string(session.reason)});
    // The regular session still opens at 09:30; post-market ends at 17:00 New York.
    EXPECT_EQ(session.regular.DurationMs(), 3 * kMsPerHour + 30 * kMsPerMinute);
    EXPECT_EQ(session.extended.to_ms, session.regular.to_ms + 4 * kMsPerHour);
    EXPECT_EQ(session.extended.from_ms, session.regular.from_ms - 5 * kMsPerHour - 30 * kMsPerMinute);
  }
  EXPECT_EQ(early_closes, expected);
}

TEST(NyseCalendar, SpecialClosings) {
  const std::vector<Closing> closings = {
      {"1994-04-27", "National Day of Mourning (Nixon)"},
      {"2001-09-11", "September 11 attacks"},
      {"2001-09-12", "September 11 attacks"},
      {"2001-09-13", "September 11 attacks"},
      {"2001-09-14", "September 11 attacks"},
      {"2004-06-11", "National Day of Mourning (Reagan)"},
      {"2007-01-02", "National Day of Mourning (Ford)"},
      {"2012-10-29", "Hurricane Sandy"},
      {"2012-10-30", "Hurricane Sandy"},
      {"2018-12-05", "National Day of Mourning (G. H. W. Bush)"},
      {"2025-01-09", "National Day of Mourning (Carter)"},
  };
  for (const Closing& closing : closings) {
    const Session session = NyseOn(closing.day.c_str());
    EXPECT_EQ(session.kind, SessionKind::kClosed) << closing.day;
    EXPECT_EQ(session.reason, closing.reason) << closing.day;
  }
  // The days around them traded.
  EXPECT_EQ(NyseOn("2001-09-10").kind, SessionKind::kRegular);
  EXPECT_EQ(NyseOn("2012-10-31").kind, SessionKind::kRegular);
  EXPECT_EQ(NyseOn("2025-01-08").kind, SessionKind::kRegular);
  EXPECT_EQ(NyseOn("2025-01-10").kind, SessionKind::kRegular);
  // The market reopened on 2001-09-17 after a moment of silence, at 09:33.
  const Session reopening = NyseOn("2001-09-17");
  EXPECT_EQ(reopening.kind, SessionKind::kLateOpen);
  EXPECT_EQ(reopening.regular.from_ms, UtcMs("2001-09-17", 13, 33));
  EXPECT_EQ(reopening.regular.to_ms, UtcMs("2001-09-17", 20, 0));
  // The first anniversary opened at noon.
  EXPECT_EQ(NyseOn("2002-09-11").regular.from_ms, UtcMs("2002-09-11", 16, 0));
}

TEST(NyseCalendar, JuneteenthFrom2022Only) {
  EXPECT_EQ(NyseOn("2020-06-19").kind, SessionKind::kRegular);  // a Friday
  EXPECT_EQ(NyseOn("2021-06-18").kind, SessionKind::kRegular);  // Friday before a Saturday 19th
  EXPECT_EQ(NyseOn("2022-06-20").kind, SessionKind::kClosed);   // Monday after a Sunday 19th
  EXPECT_EQ(NyseOn("2023-06-19").kind, SessionKind::kClosed);
  EXPECT_EQ(NyseOn("2027-06-18").reason, "Juneteenth (observed)");
}

TEST(NyseCalendar, HolidaysOnWeekendsAreObservedButNotNewYearOnFriday) {
  EXPECT_EQ(NyseOn("2021-12-24").reason, "Christmas Day (observed)");  // Christmas a Saturday
  EXPECT_EQ(NyseOn("2022-12-26").reason, "Christmas Day (observed)");  // Christmas a Sunday
  EXPECT_EQ(NyseOn("2015-07-03").reason, "Independence Day (observed)");
  EXPECT_EQ(NyseOn("2017-01-02").reason, "New Year's Day (observed)");
  // New Year's Day on a Saturday closes neither the Friday before (a year end) nor the Monday.
  EXPECT_EQ(NyseOn("2021-12-31").kind, SessionKind::kRegular);
  EXPECT_EQ(NyseOn("2022-01-03").kind, SessionKind::kRegular);
  EXPECT_EQ(NyseOn("2010-12-31").kind, SessionKind::kRegular);
}

TEST(NyseCalendar, GoodFridayAndMartinLutherKingDay) {
  EXPECT_EQ(NyseOn("2024-03-29").reason, "Good Friday");
  EXPECT_EQ(NyseOn("2008-03-21").reason, "Good Friday");
  EXPECT_EQ(NyseOn("2008-03-24").kind, SessionKind::kRegular);  // Easter Monday trades
  EXPECT_EQ(NyseOn("1997-01-20").kind, SessionKind::kRegular);  // MLK Day closes from 1998
  EXPECT_EQ(NyseOn("1998-01-19").reason, "Martin Luther King Jr. Day");
}

TEST(NyseCalendar, EarlyCloseRulesAndTheirExceptions) {
  // Before 2013 a Thursday Independence Day shortened the Friday after, not the Wednesday before.
  EXPECT_EQ(NyseOn("2002-07-03").kind, SessionKind::kRegular);
  EXPECT_EQ(NyseOn("2002-07-05").reason, "day after Independence Day");
  EXPECT_EQ(NyseOn("2013-07-03").reason, "day before Independence Day");
  EXPECT_EQ(NyseOn("2019-07-05").kind, SessionKind::kRegular);
  EXPECT_EQ(NyseOn("2019-07-03").kind, SessionKind::kEarlyClose);
  EXPECT_EQ(NyseOn("2008-07-03").kind, SessionKind::kEarlyClose);  // Thursday
  // When July 3 is itself the holiday, July 2 is a full day.
  EXPECT_EQ(NyseOn("2026-07-02").kind, SessionKind::kRegular);
  EXPECT_EQ(NyseOn("2015-07-02").kind, SessionKind::kRegular);
  // A Friday Christmas Eve is the observed holiday, not a short day.
  EXPECT_EQ(NyseOn("2027-12-24").kind, SessionKind::kClosed);
  EXPECT_EQ(NyseOn("2023-12-22").kind, SessionKind::kRegular);  // Christmas Eve on a Sunday
  EXPECT_EQ(NyseOn("2003-12-26").reason, "day after Christmas");
  EXPECT_EQ(NyseOn("2003-12-26").regular.to_ms, UtcMs("2003-12-26", 18, 0));
  // Until 1992 the short days closed at 14:00, and the day after Thanksgiving was a full day.
  EXPECT_EQ(NyseOn("1990-12-24").regular.to_ms, UtcMs("1990-12-24", 19, 0));
  EXPECT_EQ(NyseOn("1992-11-27").regular.to_ms, UtcMs("1992-11-27", 19, 0));
  EXPECT_EQ(NyseOn("1991-11-29").kind, SessionKind::kRegular);
  EXPECT_EQ(NyseOn("1993-11-26").regular.to_ms, UtcMs("1993-11-26", 18, 0));
  // Unscheduled halts shorten the regular session only.
  const Session halted = NyseOn("1997-10-27");
  EXPECT_EQ(halted.kind, SessionKind::kEarlyClose);
  EXPECT_EQ(halted.regular.to_ms, UtcMs("1997-10-27", 20, 30));
  EXPECT_EQ(halted.extended.to_ms, UtcMs("1997-10-28", 1, 0));
}

TEST(NyseCalendar, SessionBoundsMoveAnHourAcrossDstSwitches) {
  struct Expected {
    const char* day;
    int open_hour_utc;  // 09:30 New York is 13:30Z (EDT) or 14:30Z (EST)
  };
  for (const Expected& e : {Expected{"2024-03-08", 14}, Expected{"2024-03-11", 13},
                            Expected{"2024-11-01", 13}, Expected{"2024-11-04", 14},
                            Expected{"2025-03-07", 14}, Expected{"2025-03-10", 13},
                            Expected{"2025-10-31", 13}, Expected{"2025-11-03", 14}}) {
    const Session session = NyseOn(e.day);
    EXPECT_EQ(session.kind, SessionKind::kRegular) << e.day;
    EXPECT_EQ(session.regular.from_ms, UtcMs(e.day, e.open_hour_utc, 30)) << e.day;
    EXPECT_EQ(session.regular.to_ms, UtcMs(e.day, e.open_hour_utc + 7, 0)) << e.day;
    EXPECT_EQ(session.extended.from_ms, UtcMs(e.day, e.open_hour_utc - 5, 0)) << e.day;
    EXPECT_EQ(session.extended.to_ms, UtcMs(e.day, e.open_hour_utc + 11, 0)) << e.day;
  }
}

// Over the whole covered range: regular days are 09:30-16:00 and 04:00-20:00 New York.
TEST(NyseCalendar, EveryRegularDayHasTheUsualHours) {
  const MarketZone new_york = MarketZone::NewYork();
  const auto sessions = Nyse().Sessions(ExchangeCalendar::kFirstDay, ExchangeCalendar::kLastDay);
  ASSERT_TRUE(sessions) << sessions.error().message;
  ASSERT_EQ(sessions->size(), static_cast<size_t>(ExchangeCalendar::kLastDay.DaysSinceEpoch() -
                                                  ExchangeCalendar::kFirstDay.DaysSinceEpoch() + 1));
  int trading_days = 0;
  for (const Session& session : *sessions) {
    if (!session.is_open()) continue;
    ++trading_days;
    EXPECT_EQ(new_york.DayOf(session.regular.from_ms), session.day);
    if (session.kind != SessionKind::kRegular) continue;
    ASSERT_EQ(session.regular.from_ms - new_york.DayStartMs(session.day), 9 * kMsPerHour + 30 * kMsPerMinute)
        << session.day.ToString();
    ASSERT_EQ(session.regular.DurationMs(), 6 * kMsPerHour + 30 * kMsPerMinute) << session.day.ToString();
    ASSERT_EQ(session.extended.DurationMs(), 16 * kMsPerHour) << session.day.ToString();
  }
  // About 252 trading days a year over 110 years.
  EXPECT_GT(trading_days, 110 * 248);
  EXPECT_LT(trading_days, 110 * 254);
}

TEST(NyseCalendar, IndicesAndOptionsTradeRegularHoursOnly) {
  const ExchangeCalendar& index = ExchangeCalendar::For(AssetClass::kIndex);
  EXPECT_EQ(&index, &ExchangeCalendar::For(AssetClass::kOption));
  EXPECT_EQ(index.name(), "NYSE regular hours");
  EXPECT_EQ(Nyse().name(), "NYSE");
  EXPECT_EQ(index.zone(), MarketZone::NewYork());
  const Session stock = NyseOn("2025-07-03");
  const Session option = *index.SessionOn(Day("2025-07-03"));
  EXPECT_EQ(option.kind, SessionKind::kEarlyClose);
  EXPECT_EQ(option.regular, stock.regular);
  EXPECT_EQ(option.extended, option.regular);
  EXPECT_EQ(index.SessionOn(Day("2025-01-09"))->kind, SessionKind::kClosed);
}

TEST(CryptoCalendar, TradesEveryUtcDay) {
  const ExchangeCalendar& crypto = ExchangeCalendar::For(AssetClass::kCrypto);
  EXPECT_EQ(crypto.zone(), MarketZone::Utc());
  const auto sessions = crypto.Sessions(Day("2024-01-01"), Day("2024-12-31"));
  ASSERT_TRUE(sessions);
  ASSERT_EQ(sessions->size(), 366u);
  for (const Session& session : *sessions) {
    EXPECT_EQ(session.kind, SessionKind::kRegular);
    EXPECT_EQ(session.regular.from_ms, session.day.DaysSinceEpoch() * kMsPerDay);
    EXPECT_EQ(session.regular.DurationMs(), kMsPerDay);
    EXPECT_EQ(session.extended, session.regular);
    EXPECT_TRUE(session.reason.empty());
  }
  EXPECT_EQ(*crypto.NextTradingDay(Day("2024-12-24")), Day("2024-12-25"));
}

TEST(ForexCalendar, SundayEveningToFridayEveningNewYork) {
  const ExchangeCalendar& forex = ExchangeCalendar::For(AssetClass::kFx);
  EXPECT_EQ(forex.zone(), MarketZone::Utc());
  // Sunday opens 17:00 New York, also on the DST switch days themselves.
  EXPECT_EQ(forex.SessionOn(Day("2025-03-02"))->regular,
            (TimeRange{UtcMs("2025-03-02", 22, 0), UtcMs("2025-03-03", 0, 0)}));
  EXPECT_EQ(forex.SessionOn(Day("2025-03-09"))->regular.from_ms, UtcMs("2025-03-09", 21, 0));
  EXPECT_EQ(forex.SessionOn(Day("2025-11-02"))->regular.from_ms, UtcMs("2025-11-02", 22, 0));
  EXPECT_EQ(forex.SessionOn(Day("2025-03-09"))->reason, "week opens 17:00 New York");
  // Friday closes 17:00 New York.
  EXPECT_EQ(forex.SessionOn(Day("2025-03-07"))->regular,
            (TimeRange{UtcMs("2025-03-07", 0, 0), UtcMs("2025-03-07", 22, 0)}));
  EXPECT_EQ(forex.SessionOn(Day("2025-03-14"))->regular.to_ms, UtcMs("2025-03-14", 21, 0));
  // Holidays trade; Saturdays never do. Every week is 120 hours, DST weeks included.
  EXPECT_EQ(forex.SessionOn(Day("2025-12-25"))->regular.DurationMs(), kMsPerDay);
  const auto sessions = forex.Sessions(Day("2024-01-07"), Day("2025-12-27"));  // Sunday to Saturday
  ASSERT_TRUE(sessions);
  int64_t week_ms = 0;
  for (const Session& session : *sessions) {
    EXPECT_EQ(session.is_open(), session.day.Weekday() != 6) << session.day.ToString();
    EXPECT_EQ(session.extended, session.regular);
    week_ms += session.regular.DurationMs();
    if (session.day.Weekday() == 6) {
      EXPECT_EQ(week_ms, 120 * kMsPerHour) << "week ending " << session.day.ToString();
      week_ms = 0;
    }
  }
  EXPECT_EQ(*forex.NextTradingDay(Day("2025-03-07")), Day("2025-03-09"));
}

TEST(ExchangeCalendar, NextAndPreviousTradingDaySkipClosedDays) {
  EXPECT_EQ(*Nyse().NextTradingDay(Day("2025-01-08")), Day("2025-01-10"));  // Carter
  EXPECT_EQ(*Nyse().NextTradingDay(Day("2025-04-17")), Day("2025-04-21"));  // Good Friday, weekend
  EXPECT_EQ(*Nyse().NextTradingDay(Day("2024-12-24")), Day("2024-12-26"));
  EXPECT_EQ(*Nyse().PreviousTradingDay(Day("2025-01-02")), Day("2024-12-31"));
  EXPECT_EQ(*Nyse().PreviousTradingDay(Day("2012-10-31")), Day("2012-10-26"));  // Sandy
}

// Leap days included: 1992-02-29, 2000-02-29 (a century leap year), ...
TEST(ExchangeCalendar, SessionOnAnswersForTheDayAsked) {
  for (AssetClass asset : {AssetClass::kStock, AssetClass::kCrypto, AssetClass::kFx}) {
    const ExchangeCalendar& calendar = ExchangeCalendar::For(asset);
    for (CalendarDay day = ExchangeCalendar::kFirstDay; day <= ExchangeCalendar::kLastDay;
         day = day.AddDays(1)) {
      const Result<Session> session = calendar.SessionOn(day);
      ASSERT_TRUE(session) << day.ToString() << ": " << session.error().message;
      ASSERT_EQ(session->day, day) << calendar.name();
    }
  }
}

TEST(ExchangeCalendar, SessionsSpanYearsInOrder) {
  const auto sessions = Nyse().Sessions(Day("2024-12-30"), Day("2025-01-03"));
  ASSERT_TRUE(sessions);
  ASSERT_EQ(sessions->size(), 5u);
  for (size_t i = 0; i < sessions->size(); ++i) {
    EXPECT_EQ((*sessions)[i].day, Day("2024-12-30").AddDays(static_cast<int64_t>(i)));
  }
  EXPECT_EQ((*sessions)[2].reason, "New Year's Day");
  EXPECT_EQ(Nyse().Sessions(Day("2025-06-02"), Day("2025-06-02"))->size(), 1u);
}

TEST(ExchangeCalendar, BadDaysGetOneLineErrors) {
  const auto expect_error = [](const auto& result, const std::string& message) {
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().code, ErrorCode::kUsage);
    EXPECT_EQ(result.error().message, message);
  };
  expect_error(Nyse().SessionOn(Day("1989-12-31")),
               "1989-12-31 is outside the NYSE calendar (1990-01-01 to 2099-12-31)");
  expect_error(ExchangeCalendar::For(AssetClass::kCrypto).SessionOn(Day("2100-01-01")),
               "2100-01-01 is outside the crypto 24/7 calendar (1990-01-01 to 2099-12-31)");
  expect_error(Nyse().SessionOn(CalendarDay{2025, 2, 30}), "2025-02-30 is not a valid date");
  expect_error(Nyse().SessionOn(CalendarDay{2025, 13, 1}), "2025-13-01 is not a valid date");
  expect_error(Nyse().SessionOn(CalendarDay{2025, 0, 1}), "2025-00-01 is not a valid date");
  expect_error(Nyse().SessionOn(CalendarDay{2025, 1, 0}), "2025-01-00 is not a valid date");
  expect_error(Nyse().SessionOn(CalendarDay{-40000, 1, 1}),
               "-40000-01-01 is outside the NYSE calendar (1990-01-01 to 2099-12-31)");
  expect_error(Nyse().SessionOn(CalendarDay{2023, 2, 29}), "2023-02-29 is not a valid date");
  expect_error(Nyse().Sessions(Day("2025-02-01"), Day("2025-01-01")),
               "calendar range 2025-02-01 to 2025-01-01 ends before it starts");
  expect_error(Nyse().Sessions(Day("2025-01-01"), Day("2200-01-01")),
               "2200-01-01 is outside the NYSE calendar (1990-01-01 to 2099-12-31)");
  // 1990-01-01 is New Year's Day: no trading day before it within the calendar.
  expect_error(Nyse().PreviousTradingDay(Day("1990-01-02")),
               "no NYSE trading day before 1990-01-02 within the calendar (1990-01-01 to 2099-12-31)");
  expect_error(ExchangeCalendar::For(AssetClass::kCrypto).NextTradingDay(Day("2099-12-31")),
               "no crypto 24/7 trading day after 2099-12-31 within the calendar (1990-01-01 to 2099-12-31)");
}

TEST(ExchangeCalendar, SessionKindNames) {
  EXPECT_EQ(SessionKindName(SessionKind::kClosed), "closed");
  EXPECT_EQ(SessionKindName(SessionKind::kRegular), "regular");
  EXPECT_EQ(SessionKindName(SessionKind::kEarlyClose), "early_close");
  EXPECT_EQ(SessionKindName(SessionKind::kLateOpen), "late_open");
}

// Threads that race to build the same years see the same sessions as a later single reader.
// The index calendar builds from the stock calendar's tables while others build those too.
TEST(ExchangeCalendar, ConcurrentFirstUseAgrees) {
  constexpr int kThreads = 9;
  constexpr std::array kAssets = {AssetClass::kStock, AssetClass::kIndex, AssetClass::kFx};
  const CalendarDay from = Day("2000-01-01");
  const CalendarDay to = Day("2030-12-31");
  std::vector<std::vector<std::pair<int64_t, int64_t>>> seen(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const ExchangeCalendar& calendar = ExchangeCalendar::For(kAssets[t % kAssets.size()]);
      for (CalendarDay day = from; day <= to; day = day.AddDays(1)) {
        const Result<Session> session = calendar.SessionOn(day);
        seen[t].emplace_back(session->regular.from_ms, session->regular.to_ms);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    const ExchangeCalendar& calendar = ExchangeCalendar::For(kAssets[t % kAssets.size()]);
    const auto sessions = calendar.Sessions(from, to);
    ASSERT_TRUE(sessions);
    ASSERT_EQ(seen[t].size(), sessions->size());
    for (size_t i = 0; i < sessions->size(); ++i) {
      ASSERT_EQ(seen[t][i], std::make_pair((*sessions)[i].regular.from_ms, (*sessions)[i].regular.to_ms));
    }
  }
}

}  // namespace
}  // namespace barfill::calendar
