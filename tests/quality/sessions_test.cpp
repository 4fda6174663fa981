#include "quality/sessions.h"

#include <gtest/gtest.h>

namespace barfill::quality {
namespace {

Series S(const char* ticker, const char* tf) { return Series{*Ticker::Parse(ticker), *Timeframe::Parse(tf), true}; }
CalendarDay Day(const char* text) { return *CalendarDay::Parse(text); }

TEST(SessionWindows, IntradayWindowsAreTheExtendedHoursInWholeBars) {
  const auto units = SessionWindows(S("AAPL", "1m"), Day("2024-12-20"), Day("2024-12-26"));
  ASSERT_TRUE(units) << units.error().message;
  ASSERT_EQ(units->size(), 7u);
  const SessionWindow& friday = (*units)[0];
  EXPECT_EQ(friday.kind, calendar::SessionKind::kRegular);
  EXPECT_EQ(FormatIsoUtc(friday.window.from_ms), "2024-12-20T09:00:00Z");  // 04:00 New York
  EXPECT_EQ(FormatIsoUtc(friday.window.to_ms), "2024-12-21T01:00:00Z");    // 20:00 New York
  EXPECT_DOUBLE_EQ(friday.share, 1);
  EXPECT_FALSE((*units)[1].is_open());
  EXPECT_EQ((*units)[1].reason, "weekend");
  const SessionWindow& christmas_eve = (*units)[4];
  EXPECT_EQ(christmas_eve.kind, calendar::SessionKind::kEarlyClose);
  EXPECT_TRUE(christmas_eve.is_short());
  EXPECT_EQ(FormatIsoUtc(christmas_eve.window.to_ms), "2024-12-24T22:00:00Z");  // 17:00 New York
  EXPECT_DOUBLE_EQ(christmas_eve.share, 13.0 / 16.0);
  EXPECT_FALSE((*units)[5].is_open());
  EXPECT_EQ((*units)[5].reason, "Christmas Day");

  // Four-hour bars are aligned to UTC multiples: the window starts at the bucket holding 04:00.
  const auto four = SessionWindows(S("AAPL", "4h"), Day("2024-12-20"), Day("2024-12-20"));
  ASSERT_TRUE(four);
  EXPECT_EQ(FormatIsoUtc((*four)[0].window.from_ms), "2024-12-20T08:00:00Z");
  // Indices: the regular session only.
  const auto spx = SessionWindows(S("I:SPX", "1m"), Day("2024-12-20"), Day("2024-12-20"));
  ASSERT_TRUE(spx);
  EXPECT_EQ(FormatIsoUtc((*spx)[0].window.from_ms), "2024-12-20T14:30:00Z");
  EXPECT_EQ((*spx)[0].window.DurationMs(), 390 * kMsPerMinute);
}

TEST(SessionWindows, DayBarsAreCalendarDaysAndLongerBarsTheirBuckets) {
  const auto days = SessionWindows(S("AAPL", "1d"), Day("2025-01-08"), Day("2025-01-10"));
  ASSERT_TRUE(days);
  ASSERT_EQ(days->size(), 3u);
  EXPECT_EQ((*days)[1].reason, "National Day of Mourning (Carter)");
  EXPECT_EQ((*days)[2].window, MarketZone::NewYork().DaysToRange(Day("2025-01-10"), Day("2025-01-10")));
  EXPECT_DOUBLE_EQ((*days)[2].share, 1);

  const auto weeks = SessionWindows(S("AAPL", "1w"), Day("2025-01-01"), Day("2025-01-31"));
  ASSERT_TRUE(weeks);
  ASSERT_EQ(weeks->size(), 5u);  // the weeks starting Sundays 2024-12-29 .. 2025-01-26
  EXPECT_EQ((*weeks)[0].day.ToString(), "2024-12-29");
  EXPECT_EQ((*weeks)[0].last_day.ToString(), "2025-01-04");
  for (const SessionWindow& w : *weeks) EXPECT_TRUE(w.is_open());

  const auto crypto = SessionWindows(S("X:BTCUSD", "1h"), Day("2025-01-01"), Day("2025-01-01"));
  ASSERT_TRUE(crypto);
  EXPECT_EQ((*crypto)[0].window, MarketZone::Utc().DaysToRange(Day("2025-01-01"), Day("2025-01-01")));
  EXPECT_TRUE((*crypto)[0].is_open());

  EXPECT_FALSE(SessionWindows(S("AAPL", "1d"), Day("1980-01-01"), Day("1980-01-02")));
}

}  // namespace
}  // namespace barfill::quality
