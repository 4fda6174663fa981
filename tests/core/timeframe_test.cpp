#include "core/timeframe.h"

#include <gtest/gtest.h>

namespace barfill {
namespace {

TEST(Timeframe, ParsesEveryShortForm) {
  struct Case { const char* text; int mult; Timespan span; const char* polygon; };
  const Case cases[] = {
      {"1m", 1, Timespan::kMinute, "minute"}, {"5m", 5, Timespan::kMinute, "minute"},
      {"15m", 15, Timespan::kMinute, "minute"}, {"1h", 1, Timespan::kHour, "hour"},
      {"4h", 4, Timespan::kHour, "hour"}, {"1d", 1, Timespan::kDay, "day"},
      {"1w", 1, Timespan::kWeek, "week"}, {"1mo", 1, Timespan::kMonth, "month"},
      {"1q", 1, Timespan::kQuarter, "quarter"}, {"1y", 1, Timespan::kYear, "year"},
      {"30s", 30, Timespan::kSecond, "second"},
  };
  for (const Case& c : cases) {
    const auto tf = Timeframe::Parse(c.text);
    ASSERT_TRUE(tf) << c.text;
    EXPECT_EQ(tf->multiplier(), c.mult) << c.text;
    EXPECT_EQ(tf->timespan(), c.span) << c.text;
    EXPECT_EQ(tf->PolygonTimespan(), c.polygon) << c.text;
    EXPECT_EQ(tf->ToString(), c.text) << "round trip";
  }
}

TEST(Timeframe, MonthIsNotMinute) {
  EXPECT_EQ(Timeframe::Parse("1mo")->timespan(), Timespan::kMonth);
  EXPECT_EQ(Timeframe::Parse("1m")->timespan(), Timespan::kMinute);
  const auto upper = Timeframe::Parse("1M");
  ASSERT_FALSE(upper);
  EXPECT_NE(upper.error().message.find("ambiguous"), std::string::npos);
}

TEST(Timeframe, RejectsBadStrings) {
  for (const char* bad : {"", "m", "0m", "-1m", "1", "1x", "minutes", "5 m", "1.5h", "99999999999m", "1mm"}) {
    const auto tf = Timeframe::Parse(bad);
    EXPECT_FALSE(tf) << bad;
    if (!tf) {
      EXPECT_EQ(tf.error().code, ErrorCode::kUsage) << bad;
    }
  }
}

TEST(Timeframe, FromPolygonIsCaseInsensitive) {
  EXPECT_EQ(Timeframe::FromPolygon(5, "MINUTE")->ToString(), "5m");
  EXPECT_EQ(Timeframe::FromPolygon(1, "day")->ToString(), "1d");
  EXPECT_FALSE(Timeframe::FromPolygon(1, "minutes"));
  EXPECT_FALSE(Timeframe::FromPolygon(0, "minute"));
  const auto bad = Timeframe::FromPolygon(1, "minutes");
  EXPECT_EQ(bad.error().message,
            "timespan 'minutes' must be one of second, minute, hour, day, week, month, quarter, year");
}

TEST(Timeframe, BaseAggregatesPerBar) {
  EXPECT_EQ(Timeframe::Parse("5m")->base(), BaseAggregate::kMinute);
  EXPECT_EQ(Timeframe::Parse("1h")->base(), BaseAggregate::kMinute);
  EXPECT_EQ(Timeframe::Parse("1d")->base(), BaseAggregate::kDay);
  EXPECT_EQ(Timeframe::Parse("1mo")->base(), BaseAggregate::kDay);
  EXPECT_EQ(Timeframe::Parse("1m")->BasePerBar(), 1);
  EXPECT_EQ(Timeframe::Parse("15m")->BasePerBar(), 15);
  EXPECT_EQ(Timeframe::Parse("4h")->BasePerBar(), 240);
  EXPECT_EQ(Timeframe::Parse("1d")->BasePerBar(), 1);
  EXPECT_EQ(Timeframe::Parse("1w")->BasePerBar(), 7);
  EXPECT_EQ(Timeframe::Parse("1q")->BasePerBar(), 92);
  EXPECT_TRUE(Timeframe::Parse("1h")->IsIntraday());
  EXPECT_FALSE(Timeframe::Parse("1d")->IsIntraday());
  EXPECT_EQ(Timeframe::Parse("15m")->NominalMs(), 15 * kMsPerMinute);
}

}  // namespace
}  // namespace barfill
