#include "core/market_time.h"

#include <gtest/gtest.h>

namespace barfill {
namespace {

CalendarDay Day(const char* text) { return *CalendarDay::Parse(text); }

TEST(CalendarDay, ParsesAndRejects) {
  EXPECT_EQ(Day("2024-02-29").ToString(), "2024-02-29");  // leap year
  for (const char* bad : {"2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "2024-1-01",
                          "24-01-01", "2024/01/01", "", "2024-01-01x", "abcd-ef-gh", "1969-12-31"}) {
    const auto d = CalendarDay::Parse(bad);
    EXPECT_FALSE(d) << bad;
  }
  EXPECT_EQ(CalendarDay::Parse("2024-13-01").error().message,
            "'2024-13-01' is not a valid YYYY-MM-DD date");
  EXPECT_EQ(CalendarDay::Parse("1969-12-31").error().message, "'1969-12-31' is before 1970-01-01");
}

TEST(CalendarDay, ArithmeticAndWeekday) {
  EXPECT_EQ(Day("1970-01-01").DaysSinceEpoch(), 0);
  EXPECT_EQ(Day("2024-02-28").AddDays(1).ToString(), "2024-02-29");
  EXPECT_EQ(Day("2023-02-28").AddDays(1).ToString(), "2023-03-01");
  EXPECT_EQ(Day("2024-12-31").AddDays(1).ToString(), "2025-01-01");
  EXPECT_EQ(Day("2025-03-09").Weekday(), 0u);  // Sunday
  EXPECT_EQ(Day("2025-03-10").Weekday(), 1u);
  EXPECT_LT(Day("2025-01-01"), Day("2025-01-02"));
}

TEST(MarketZone, NewYorkDayStartsAcrossDst) {
  const MarketZone ny = MarketZone::NewYork();
  // The fixture's daily bars: 2005-04-01 at 05:00Z (EST), 2005-04-04 at 04:00Z (EDT).
  EXPECT_EQ(ny.DayStartMs(Day("2005-04-01")), 1112331600000);
  EXPECT_EQ(ny.DayStartMs(Day("2005-04-04")), 1112587200000);
  // Spring forward 2025-03-09 is a 23-hour day; fall back 2025-11-02 a 25-hour day.
  const TimeRange spring = ny.DaysToRange(Day("2025-03-09"), Day("2025-03-09"));
  EXPECT_EQ(spring.DurationMs(), 23 * kMsPerHour);
  const TimeRange fall = ny.DaysToRange(Day("2025-11-02"), Day("2025-11-02"));
  EXPECT_EQ(fall.DurationMs(), 25 * kMsPerHour);
  EXPECT_EQ(ny.UtcOffsetMs(ny.DayStartMs(Day("2025-01-15"))), -5 * kMsPerHour);
  EXPECT_EQ(ny.UtcOffsetMs(ny.DayStartMs(Day("2025-07-15"))), -4 * kMsPerHour);
}

TEST(MarketZone, UtcAndInclusiveRanges) {
  const MarketZone utc = MarketZone::Utc();
  const TimeRange year = utc.DaysToRange(Day("2024-01-01"), Day("2024-12-31"));
  EXPECT_EQ(year.DurationMs(), 366 * kMsPerDay);  // leap year, both days inclusive
  EXPECT_EQ(year.from_ms, 1704067200000);
  EXPECT_EQ(utc.DayOf(year.to_ms - 1).ToString(), "2024-12-31");
  const MarketZone ny = MarketZone::NewYork();
  // 2025-01-02 03:00Z is still Jan 1 in New York.
  EXPECT_EQ(ny.DayOf(1735786800000).ToString(), "2025-01-01");
}

TEST(Buckets, IntradayAlignsToEpochMultiples) {
  const MarketZone ny = MarketZone::NewYork();
  const Timeframe m5 = *Timeframe::Parse("5m");
  const int64_t t = 1735810000123;  // 2025-01-02T09:26:40.123Z
  EXPECT_EQ(BucketStart(m5, ny, t), 1735809900000);
  EXPECT_EQ(NextBucketStart(m5, ny, t), 1735810200000);
  const Timeframe h1 = *Timeframe::Parse("1h");
  EXPECT_EQ(BucketStart(h1, ny, t) % kMsPerHour, 0);
}

TEST(Buckets, DaysWeeksMonthsInTheMarketZone) {
  const MarketZone ny = MarketZone::NewYork();
  const Timeframe d1 = *Timeframe::Parse("1d");
  // 2025-03-10 02:00Z is 2025-03-09 22:00 EDT: the bucket starts at 2025-03-09 00:00 EST.
  EXPECT_EQ(BucketStart(d1, ny, 1741572000000), ny.DayStartMs(Day("2025-03-09")));
  EXPECT_EQ(NextBucketStart(d1, ny, 1741572000000), ny.DayStartMs(Day("2025-03-10")));
  const Timeframe w1 = *Timeframe::Parse("1w");
  // Wednesday 2025-03-12 -> Sunday 2025-03-09.
  EXPECT_EQ(BucketStart(w1, ny, ny.DayStartMs(Day("2025-03-12")) + 5), ny.DayStartMs(Day("2025-03-09")));
  const Timeframe mo = *Timeframe::Parse("1mo");
  EXPECT_EQ(BucketStart(mo, ny, ny.DayStartMs(Day("2024-02-29"))), ny.DayStartMs(Day("2024-02-01")));
  EXPECT_EQ(NextBucketStart(mo, ny, ny.DayStartMs(Day("2024-12-15"))), ny.DayStartMs(Day("2025-01-01")));
  const Timeframe q = *Timeframe::Parse("1q");
  EXPECT_EQ(BucketStart(q, MarketZone::Utc(), MarketZone::Utc().DayStartMs(Day("2025-05-20"))),
            MarketZone::Utc().DayStartMs(Day("2025-04-01")));
  const Timeframe y = *Timeframe::Parse("1y");
  EXPECT_EQ(NextBucketStart(y, MarketZone::Utc(), 0), MarketZone::Utc().DayStartMs(Day("1971-01-01")));
}

TEST(Buckets, SnapCoversWholeBars) {
  const MarketZone utc = MarketZone::Utc();
  const Timeframe h4 = *Timeframe::Parse("4h");
  const TimeRange snapped = SnapToBuckets(h4, utc, TimeRange{kMsPerHour, 5 * kMsPerHour});
  EXPECT_EQ(snapped, (TimeRange{0, 8 * kMsPerHour}));
  EXPECT_TRUE(SnapToBuckets(h4, utc, TimeRange{10, 10}).empty());
}

TEST(FormatIsoUtc, Formats) {
  EXPECT_EQ(FormatIsoUtc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatIsoUtc(1112331600000), "2005-04-01T05:00:00Z");
  EXPECT_EQ(FormatIsoUtc(1112331600123), "2005-04-01T05:00:00.123Z");
}

}  // namespace
}  // namespace barfill
