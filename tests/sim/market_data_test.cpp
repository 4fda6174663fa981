#include "sim/market_data.h"
#include "sim/action_table.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "calendar/exchange_calendar.h"

namespace barfill::sim {
namespace {

constexpr uint64_t kSeed = 7;

Ticker T(const char* symbol) { return *Ticker::Parse(symbol); }
Timeframe Tf(const char* text) { return *Timeframe::Parse(text); }
CalendarDay Day(const char* text) { return *CalendarDay::Parse(text); }

TimeRange NyDays(const char* from, const char* to) {
  return MarketZone::NewYork().DaysToRange(Day(from), Day(to));
}
TimeRange UtcDays(const char* from, const char* to) { return MarketZone::Utc().DaysToRange(Day(from), Day(to)); }

/// Minutes since 00:00 New York of the instant `ms`.
int64_t NyMinuteOfDay(int64_t ms) {
  const MarketZone ny = MarketZone::NewYork();
  const int64_t local = ms + ny.UtcOffsetMs(ms);
  return ((local % kMsPerDay) + kMsPerDay) % kMsPerDay / kMsPerMinute;
}

/// The volume-weighted mean of the minutes' vwaps, as an aggregate's vw should be before rounding.
struct Expected {
  Bar bar;
  double vwap_volume = 0;
  int64_t count = 0;
};

/// Aggregates `bars` into buckets given by `bucket_of`, the way the API defines coarser bars.
template <typename BucketOf>
std::map<int64_t, Expected> Aggregate(const BarBatch& bars, BucketOf bucket_of) {
  std::map<int64_t, Expected> out;
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar b = bars[i];
    Expected& e = out[bucket_of(b.t)];
    if (e.count == 0) {
      e.bar = b;
      e.bar.t = bucket_of(b.t);
    } else {
      e.bar.high = std::max(e.bar.high, b.high);
      e.bar.low = std::min(e.bar.low, b.low);
      e.bar.close = b.close;
      e.bar.volume += b.volume;
      e.bar.trades += b.trades;
    }
    e.vwap_volume += b.vwap * b.volume;
    ++e.count;
  }
  return out;
}

void ExpectAggregatesMatch(const BarBatch& coarse, const std::map<int64_t, Expected>& expected,
                           double vwap_tolerance, const std::string& what) {
  ASSERT_EQ(coarse.size(), expected.size()) << what;
  size_t i = 0;
  for (const auto& [t, e] : expected) {
    const Bar got = coarse[i++];
    ASSERT_EQ(got.t, t) << what;
    EXPECT_EQ(got.open, e.bar.open) << what << " t=" << t;
    EXPECT_EQ(got.close, e.bar.close) << what << " t=" << t;
    EXPECT_EQ(got.high, e.bar.high) << what << " t=" << t;
    EXPECT_EQ(got.low, e.bar.low) << what << " t=" << t;
    EXPECT_EQ(got.trades, e.bar.trades) << what << " t=" << t;
    EXPECT_DOUBLE_EQ(got.volume, e.bar.volume) << what << " t=" << t;
    EXPECT_NEAR(got.vwap, e.vwap_volume / e.bar.volume, vwap_tolerance) << what << " t=" << t;
  }
}

void ExpectInvariants(const BarBatch& bars, bool integer_volume, double price_scale, const std::string& what) {
  for (size_t i = 0; i < bars.size(); ++i) {
    const Bar b = bars[i];
    ASSERT_GT(b.low, 0) << what;
    ASSERT_LE(b.low, b.open) << what << " t=" << b.t;
    ASSERT_LE(b.low, b.close) << what << " t=" << b.t;
    ASSERT_GE(b.high, b.open) << what << " t=" << b.t;
    ASSERT_GE(b.high, b.close) << what << " t=" << b.t;
    ASSERT_TRUE(b.HasVwap()) << what;
    ASSERT_GE(b.vwap, b.low) << what << " t=" << b.t;
    ASSERT_LE(b.vwap, b.high) << what << " t=" << b.t;
    ASSERT_GT(b.volume, 0) << what;
    ASSERT_GE(b.trades, 1) << what;
    if (integer_volume) {
      ASSERT_EQ(b.volume, std::floor(b.volume)) << what;
      ASSERT_LE(static_cast<double>(b.trades), b.volume) << what;
    }
    for (const double price : {b.open, b.high, b.low, b.close}) {
      ASSERT_EQ(price, std::nearbyint(price * price_scale) / price_scale) << what << " price " << price;
    }
    if (i > 0) {
      ASSERT_LT(bars.t[i - 1], b.t) << what;
    }
  }
}

TEST(GroundTruth, IsAPureFunctionOfSeedTickerAndTime) {
  const TimeRange week = NyDays("2025-03-03", "2025-03-07");
  const BarBatch whole = GroundTruth(kSeed, T("AAPL"), Tf("1m"), true, week);
  ASSERT_GT(whole.size(), 4000u);
  EXPECT_EQ(GroundTruth(kSeed, T("AAPL"), Tf("1m"), true, week), whole);

  // Pieces cut at arbitrary minutes, generated in reverse order, concatenate to the whole.
  const int64_t cuts[] = {week.from_ms, week.from_ms + 777 * kMsPerMinute, week.from_ms + 2 * kMsPerDay + 13 * kMsPerMinute,
                          week.to_ms - 61 * kMsPerMinute, week.to_ms};
  std::vector<BarBatch> pieces;
  for (int i = 3; i >= 0; --i) pieces.push_back(GroundTruth(kSeed, T("AAPL"), Tf("1m"), true, {cuts[i], cuts[i + 1]}));
  BarBatch joined;
  for (int i = 3; i >= 0; --i) joined.Append(pieces[i]);
  EXPECT_EQ(joined, whole);

  // A single minute asked on its own is the same bar.
  const size_t k = whole.size() / 2;
  const BarBatch one = GroundTruth(kSeed, T("AAPL"), Tf("1m"), true, {whole.t[k], whole.t[k] + kMsPerMinute});
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0], whole[k]);

  EXPECT_FALSE(GroundTruth(kSeed + 1, T("AAPL"), Tf("1m"), true, week) == whole);
  EXPECT_FALSE(GroundTruth(kSeed, T("MSFT"), Tf("1m"), true, week) == whole);
}

TEST(GroundTruth, BarsKeepOhlcInvariants) {
  const TimeRange month = NyDays("2025-01-01", "2025-01-31");
  for (const char* tf : {"1m", "5m", "15m", "1h", "4h", "1d", "1w", "1mo"}) {
    ExpectInvariants(GroundTruth(kSeed, T("AAPL"), Tf(tf), true, month), true, 100, std::string("AAPL ") + tf);
    ExpectInvariants(GroundTruth(kSeed, T("BRK.B"), Tf(tf), false, month), true, 100, std::string("BRK.B ") + tf);
    ExpectInvariants(GroundTruth(kSeed, T("X:BTCUSD"), Tf(tf), true, month), false, 1e6, std::string("BTC ") + tf);
    ExpectInvariants(GroundTruth(kSeed, T("C:EURUSD"), Tf(tf), true, month), false, 1e5, std::string("EUR ") + tf);
  }
}

TEST(GroundTruth, StocksTradeWeekdays0400To2000NewYorkWithQuietMinutes) {
  const MarketZone ny = MarketZone::NewYork();
  const BarBatch week = GroundTruth(kSeed, T("MSFT"), Tf("1m"), true, NyDays("2025-06-02", "2025-06-08"));
  int64_t regular = 0;
  int64_t extended = 0;
  for (size_t i = 0; i < week.size(); ++i) {
    const int64_t minute = NyMinuteOfDay(week.t[i]);
    ASSERT_GE(minute, 4 * 60);
    ASSERT_LT(minute, 20 * 60);
    const unsigned weekday = ny.DayOf(week.t[i]).Weekday();
    ASSERT_TRUE(weekday >= 1 && weekday <= 5) << FormatIsoUtc(week.t[i]);
    (minute >= 9 * 60 + 30 && minute < 16 * 60 ? regular : extended) += 1;
  }
  // Five sessions of 390 regular and 570 extended minutes, some of them quiet, more so outside
  // regular hours.
  EXPECT_LT(regular, 5 * 390);
  EXPECT_GT(regular, 5 * 390 * 95 / 100);
  EXPECT_LT(extended, 5 * 570 * 92 / 100);
  EXPECT_GT(extended, 5 * 570 * 70 / 100);
  EXPECT_LT(static_cast<double>(extended) / (5 * 570), static_cast<double>(regular) / (5 * 390));

  for (const char* tf : {"1m", "1h", "1d"}) {
    EXPECT_TRUE(GroundTruth(kSeed, T("MSFT"), Tf(tf), true, NyDays("2025-06-07", "2025-06-08")).empty()) << tf;
  }
  EXPECT_FALSE(GroundTruth(kSeed, T("X:ETHUSD"), Tf("1d"), true, UtcDays("2025-06-07", "2025-06-08")).empty());
}

TEST(GroundTruth, StocksFollowTheNyseCalendar) {
  // Holidays and special closings have no bar at all, in any timeframe.
  for (const char* closed : {"2025-01-01", "2025-01-09", "2025-04-18", "2024-07-04", "2024-11-28"}) {
    for (const char* tf : {"1m", "1h", "1d"}) {
      EXPECT_TRUE(GroundTruth(kSeed, T("AAPL"), Tf(tf), true, NyDays(closed, closed)).empty()) << closed << " " << tf;
      EXPECT_TRUE(GroundTruth(kSeed, T("I:SPX"), Tf(tf), true, NyDays(closed, closed)).empty()) << closed << " " << tf;
    }
  }
  // The week of 2025-01-09 has four day bars, not five.
  EXPECT_EQ(GroundTruth(kSeed, T("AAPL"), Tf("1d"), true, NyDays("2025-01-06", "2025-01-10")).size(), 4u);

  // Early closes: the regular session ends 13:00 with its closing cross, extended hours at 17:00.
  for (const char* early : {"2024-12-24", "2024-11-29", "2025-07-03"}) {
    const BarBatch day = GroundTruth(kSeed, T("MSFT"), Tf("1m"), true, NyDays(early, early));
    ASSERT_FALSE(day.empty()) << early;
    int64_t regular = 0;
    bool closing_cross = false;
    for (size_t i = 0; i < day.size(); ++i) {
      const int64_t minute = NyMinuteOfDay(day.t[i]);
      ASSERT_GE(minute, 4 * 60) << early;
      ASSERT_LT(minute, 17 * 60) << early << " " << FormatIsoUtc(day.t[i]);
      regular += minute >= 9 * 60 + 30 && minute < 13 * 60 ? 1 : 0;
      closing_cross = closing_cross || minute == 13 * 60;
    }
    EXPECT_GT(regular, 210 * 95 / 100) << early;
    EXPECT_TRUE(closing_cross) << early << ": the 13:00 closing cross always trades";
    EXPECT_EQ(GroundTruth(kSeed, T("MSFT"), Tf("1h"), true, NyDays(early, early)).size(), 13u) << early;
    EXPECT_EQ(GroundTruth(kSeed, T("MSFT"), Tf("1d"), true, NyDays(early, early)).size(), 1u) << early;
  }

  // Indices and options trade the regular session only: 09:30-16:00, 09:30-13:00 on an early close.
  const BarBatch spx = GroundTruth(kSeed, T("I:SPX"), Tf("1m"), true, NyDays("2025-03-03", "2025-03-07"));
  ASSERT_GT(spx.size(), 5u * 380);
  for (size_t i = 0; i < spx.size(); ++i) {
    const int64_t minute = NyMinuteOfDay(spx.t[i]);
    ASSERT_GE(minute, 9 * 60 + 30) << FormatIsoUtc(spx.t[i]);
    ASSERT_LT(minute, 16 * 60) << FormatIsoUtc(spx.t[i]);
  }
  const BarBatch spx_early = GroundTruth(kSeed, T("I:SPX"), Tf("1m"), true, NyDays("2024-12-24", "2024-12-24"));
  ASSERT_FALSE(spx_early.empty());
  EXPECT_LT(NyMinuteOfDay(spx_early.t.back()), 13 * 60);

  // A delayed opening (2002-09-11, 12:00) keeps pre-market trading until the late open.
  const BarBatch late = GroundTruth(kSeed, T("IBM"), Tf("1m"), true, NyDays("2002-09-11", "2002-09-11"));
  int64_t before_noon = 0;
  for (size_t i = 0; i < late.size(); ++i) before_noon += NyMinuteOfDay(late.t[i]) < 12 * 60 ? 1 : 0;
  EXPECT_LT(static_cast<double>(before_noon), (12 * 60 - 4 * 60) * 0.9) << "pre-market minutes are quiet ones";
  EXPECT_GT(before_noon, (12 * 60 - 4 * 60) * 0.7);

  // Crypto is unchanged: every UTC day, holidays included.
  EXPECT_EQ(GroundTruth(kSeed, T("X:BTCUSD"), Tf("1m"), true, UtcDays("2025-01-01", "2025-01-01")).size(), 1440u);
}

TEST(GroundTruth, SessionsFollowNewYorkAcrossDst) {
  // Friday before the spring change (EST, UTC-5) and the Monday after it (EDT, UTC-4).
  const BarBatch friday = GroundTruth(kSeed, T("SPY"), Tf("1h"), true, NyDays("2025-03-07", "2025-03-07"));
  const BarBatch monday = GroundTruth(kSeed, T("SPY"), Tf("1h"), true, NyDays("2025-03-10", "2025-03-10"));
  ASSERT_EQ(friday.size(), 16u);
  ASSERT_EQ(monday.size(), 16u);
  EXPECT_EQ(FormatIsoUtc(friday.t.front()), "2025-03-07T09:00:00Z");
  EXPECT_EQ(FormatIsoUtc(friday.t.back()), "2025-03-08T00:00:00Z");
  EXPECT_EQ(FormatIsoUtc(monday.t.front()), "2025-03-10T08:00:00Z");
  EXPECT_EQ(FormatIsoUtc(monday.t.back()), "2025-03-10T23:00:00Z");

  // Day bars sit at 00:00 New York: 05:00Z in winter, 04:00Z in summer (the fixture's 2005 days too).
  const BarBatch days = GroundTruth(kSeed, T("AAPL"), Tf("1d"), true, NyDays("2005-04-01", "2005-04-04"));
  ASSERT_EQ(days.size(), 2u);
  EXPECT_EQ(days.t[0], 1112331600000);
  EXPECT_EQ(days.t[1], 1112587200000);

  // The fall-back week: Sunday 2025-11-02 is 25 hours long; Monday opens at 09:00Z again.
  const BarBatch fall = GroundTruth(kSeed, T("SPY"), Tf("1d"), true, NyDays("2025-10-31", "2025-11-03"));
  ASSERT_EQ(fall.size(), 2u);
  EXPECT_EQ(FormatIsoUtc(fall.t[0]), "2025-10-31T04:00:00Z");
  EXPECT_EQ(FormatIsoUtc(fall.t[1]), "2025-11-03T05:00:00Z");
}

TEST(GroundTruth, CryptoTradesAroundTheClockWithFractionalVolumes) {
  const BarBatch day = GroundTruth(kSeed, T("X:BTCUSD"), Tf("1m"), true, UtcDays("2025-03-09", "2025-03-09"));
  ASSERT_EQ(day.size(), 1440u);  // a Sunday, and a DST day in New York: irrelevant to crypto
  int fractional = 0;
  for (size_t i = 0; i < day.size(); ++i) fractional += day.volume[i] != std::floor(day.volume[i]);
  EXPECT_GT(fractional, 1400);
  const BarBatch daily = GroundTruth(kSeed, T("X:BTCUSD"), Tf("1d"), true, UtcDays("2025-03-01", "2025-03-31"));
  ASSERT_EQ(daily.size(), 31u);
  EXPECT_EQ(FormatIsoUtc(daily.t[0]), "2025-03-01T00:00:00Z");
}

TEST(GroundTruth, IntradayBarsAggregateMinuteBars) {
  struct Case {
    const char* ticker;
    TimeRange range;
  };
  const Case cases[] = {{"AAPL", NyDays("2025-03-06", "2025-03-12")}, {"X:SOLUSD", UtcDays("2025-03-08", "2025-03-10")}};
  for (const Case& c : cases) {
    const BarBatch minutes = GroundTruth(kSeed, T(c.ticker), Tf("1m"), true, c.range);
    const double tolerance = T(c.ticker).asset_class() == AssetClass::kStock ? 0.5e-4 + 1e-9 : 1e-3;
    for (const char* tf : {"5m", "15m", "1h", "4h"}) {
      const int64_t length = Tf(tf).NominalMs();
      const auto expected = Aggregate(minutes, [&](int64_t t) { return t / length * length; });
      ExpectAggregatesMatch(GroundTruth(kSeed, T(c.ticker), Tf(tf), true, c.range), expected, tolerance,
                            std::string(c.ticker) + " " + tf);
    }
  }
}

TEST(GroundTruth, DayAndCalendarBarsAggregateInTheMarketZone) {
  const MarketZone ny = MarketZone::NewYork();
  const TimeRange quarter = NyDays("2025-01-01", "2025-03-31");
  const BarBatch minutes = GroundTruth(kSeed, T("NVDA"), Tf("1m"), true, quarter);
  const auto by_day = Aggregate(minutes, [&](int64_t t) { return ny.DayStartMs(ny.DayOf(t)); });
  const BarBatch days = GroundTruth(kSeed, T("NVDA"), Tf("1d"), true, quarter);
  ExpectAggregatesMatch(days, by_day, 0.5e-4 + 1e-9, "NVDA 1d");

  // Weeks (Sunday 00:00 New York) and months are built from the day bars.
  for (const char* tf : {"1w", "1mo", "1q"}) {
    const Timeframe timeframe = Tf(tf);
    const TimeRange whole = SnapToBuckets(timeframe, ny, quarter);
    const BarBatch day_bars = GroundTruth(kSeed, T("NVDA"), Tf("1d"), true, whole);
    const auto expected = Aggregate(day_bars, [&](int64_t t) { return BucketStart(timeframe, ny, t); });
    ExpectAggregatesMatch(GroundTruth(kSeed, T("NVDA"), timeframe, true, whole), expected, 0.5e-4 + 1e-9,
                          std::string("NVDA ") + tf);
  }
  const BarBatch weeks = GroundTruth(kSeed, T("NVDA"), Tf("1w"), true, quarter);
  for (size_t i = 0; i < weeks.size(); ++i) EXPECT_EQ(ny.DayOf(weeks.t[i]).Weekday(), 0u);

  const MarketZone utc = MarketZone::Utc();
  const TimeRange march = UtcDays("2025-03-01", "2025-03-31");
  const auto crypto_days = Aggregate(GroundTruth(kSeed, T("X:ETHUSD"), Tf("1m"), true, march),
                                     [&](int64_t t) { return t / kMsPerDay * kMsPerDay; });
  ExpectAggregatesMatch(GroundTruth(kSeed, T("X:ETHUSD"), Tf("1d"), true, march), crypto_days, 1e-3, "ETH 1d");
  EXPECT_EQ(utc.DayOf(march.from_ms).ToString(), "2025-03-01");
}

TEST(GroundTruth, OnlyWholeBarsWhoseStartLiesInTheRange) {
  // A range starting mid-hour leaves out the hour it starts in; one ending mid-hour keeps the
  // whole last hour.
  const TimeRange day = UtcDays("2025-03-04", "2025-03-04");
  const BarBatch hours = GroundTruth(kSeed, T("X:BTCUSD"), Tf("1h"), true, day);
  ASSERT_EQ(hours.size(), 24u);
  const BarBatch inner = GroundTruth(kSeed, T("X:BTCUSD"), Tf("1h"), true,
                                     {day.from_ms + 30 * kMsPerMinute, day.from_ms + 150 * kMsPerMinute});
  ASSERT_EQ(inner.size(), 2u);
  EXPECT_EQ(inner[0], hours[1]);
  EXPECT_EQ(inner[1], hours[2]);
}

TEST(GroundTruth, AdjustedBarsAreRawBarsAdjustedByTheListedSplits) {
  int checked_splits = 0;
  for (const char* symbol : {"AAPL", "MSFT", "NVDA", "TSLA", "AMZN", "GOOGL", "META", "SPY", "QQQ", "AMD"}) {
    const ActionTable table = TrueActions(kSeed, T(symbol));
    const std::vector<FactorRange> factors = TrueSplitFactors(kSeed, T(symbol));
    const MarketZone ny = MarketZone::NewYork();
    for (const SplitRecord& split : table.splits) {
      ++checked_splits;
      const TimeRange around = ny.DaysToRange(split.execution_date.AddDays(-5), split.execution_date.AddDays(5));
      const int64_t split_ms = ny.DayStartMs(split.execution_date);
      for (const char* tf : {"1m", "1h", "1d"}) {
        const BarBatch adjusted = GroundTruth(kSeed, T(symbol), Tf(tf), true, around);
        const BarBatch raw = GroundTruth(kSeed, T(symbol), Tf(tf), false, around);
        ASSERT_EQ(adjusted.size(), raw.size()) << symbol << " " << tf;
        int before = 0;
        for (size_t i = 0; i < raw.size(); ++i) {
          const Bar r = raw[i];
          EXPECT_EQ(r.volume, std::floor(r.volume)) << "raw stock volumes are whole shares";
          const FactorRange* f = FactorFor(factors, ny.DayOf(r.t));
          if (f == nullptr) {
            EXPECT_EQ(adjusted[i], r);
            continue;
          }
          if (r.t < split_ms) ++before;
          EXPECT_EQ(adjusted[i], AdjustBar(r, *f, Adjustment::kSplits)) << symbol << " " << tf << " " << r.t;
        }
        EXPECT_GT(before, 0) << symbol << " " << tf;
      }
      // Across the split the raw price jumps by about the ratio; the adjusted one does not.
      const BarBatch days = GroundTruth(kSeed, T(symbol), Tf("1d"), false, around);
      const BarBatch adjusted_days = GroundTruth(kSeed, T(symbol), Tf("1d"), true, around);
      for (size_t i = 1; i < days.size(); ++i) {
        if (days.t[i] != split_ms) continue;
        const double ratio = split.split_to / split.split_from;
        EXPECT_NEAR(days.close[i - 1] / days.open[i], ratio, 0.05 * ratio + 0.02) << symbol;
        EXPECT_NEAR(adjusted_days.close[i - 1] / adjusted_days.open[i], 1, 0.05) << symbol;
      }
    }
  }
  EXPECT_GT(checked_splits, 2) << "about half the stock tickers have splits";
  EXPECT_TRUE(TrueActions(kSeed, T("X:BTCUSD")).splits.empty());
}

TEST(GroundTruth, SecondTimeframesAreNotSimulated) {
  EXPECT_TRUE(GroundTruth(kSeed, T("AAPL"), Tf("30s"), true, NyDays("2025-03-03", "2025-03-03")).empty());
}

PageQuery Query(const char* ticker, const char* tf, TimeRange range, int64_t limit) {
  PageQuery q;
  q.seed = kSeed;
  q.ticker = T(ticker);
  q.timeframe = Tf(tf);
  q.range = SnapToBuckets(q.timeframe, q.ticker.zone(), range);
  q.limit = limit;
  q.true_splits = TrueSplitFactors(kSeed, q.ticker);
  q.listed_splits = ListedSplitFactors(Market{kSeed}, q.ticker);
  return q;
}

TEST(ReadPage, LimitCountsBaseAggregatesAndDropsThePartialBar) {
  const TimeRange day = UtcDays("2025-03-04", "2025-03-04");
  Page page;
  ReadPage(Query("X:BTCUSD", "5m", day, 100), &page);
  EXPECT_EQ(page.bars.size(), 20u);
  EXPECT_EQ(page.query_count, 100);
  EXPECT_TRUE(page.more);

  // 103 minutes end three minutes into bar 21, which is dropped rather than served partial.
  ReadPage(Query("X:BTCUSD", "5m", day, 103), &page);
  EXPECT_EQ(page.bars.size(), 20u);
  EXPECT_EQ(page.query_count, 100);
  EXPECT_TRUE(page.more);

  // A limit below one bar still yields one whole bar, so paging moves on.
  ReadPage(Query("X:BTCUSD", "1h", day, 3), &page);
  ASSERT_EQ(page.bars.size(), 1u);
  EXPECT_EQ(page.query_count, 60);
  EXPECT_TRUE(page.more);

  // Day-and-up requests count day bars.
  ReadPage(Query("X:BTCUSD", "1w", UtcDays("2025-03-02", "2025-03-29"), 10), &page);
  EXPECT_EQ(page.bars.size(), 1u);
  EXPECT_EQ(page.query_count, 7);

  // Exactly the bars of the range: no more.
  ReadPage(Query("X:BTCUSD", "1h", day, 1440), &page);
  EXPECT_EQ(page.bars.size(), 24u);
  EXPECT_EQ(page.query_count, 1440);
  EXPECT_FALSE(page.more);
}

TEST(ReadPage, PagingFromEachNextStartRebuildsTheGroundTruth) {
  struct Case {
    const char* ticker;
    const char* tf;
    TimeRange range;
    int64_t limit;
  };
  const Case cases[] = {{"AAPL", "1m", NyDays("2025-03-06", "2025-03-11"), 997},
                        {"AAPL", "15m", NyDays("2025-03-06", "2025-03-11"), 50},
                        {"X:BTCUSD", "1h", UtcDays("2025-03-01", "2025-03-05"), 200},
                        {"AAPL", "1d", NyDays("2025-01-01", "2025-03-31"), 7},
                        {"X:BTCUSD", "1mo", UtcDays("2025-01-01", "2025-06-30"), 40}};
  for (const Case& c : cases) {
    PageQuery q = Query(c.ticker, c.tf, c.range, c.limit);
    const int64_t end = q.range.to_ms;
    BarBatch collected;
    Page page;
    int pages = 0;
    while (true) {
      ReadPage(q, &page);
      ++pages;
      if (page.more) {
        ASSERT_FALSE(page.bars.empty());
      }
      collected.Append(page.bars);
      if (!page.more) break;
      q.range.from_ms = NextBucketStart(q.timeframe, q.ticker.zone(), page.bars.t.back());
      ASSERT_LT(q.range.from_ms, end);
    }
    EXPECT_GT(pages, 2) << c.ticker << " " << c.tf;
    EXPECT_EQ(collected, GroundTruth(kSeed, q.ticker, q.timeframe, true, c.range)) << c.ticker << " " << c.tf;
  }
}

TEST(Liquidity, ThinTickersTradeInTheirShareOfMinutesAndDenseOnesAreUnchanged) {
  const TimeRange year = NyDays("2025-01-01", "2025-12-31");
  Market market{kSeed};
  market.activity = {{"THIN", 0.02}};
  const BarBatch dense = GroundTruth(kSeed, T("AAPL"), Tf("1m"), true, year);
  EXPECT_EQ(GroundTruth(market, T("AAPL"), Tf("1m"), true, year), dense) << "a dense ticker's bars stay what they were";
  const BarBatch thin_dense = GroundTruth(kSeed, T("THIN"), Tf("1m"), true, year);
  const BarBatch thin = GroundTruth(market, T("THIN"), Tf("1m"), true, year);
  const double share = static_cast<double>(thin.size()) / static_cast<double>(thin_dense.size());
  EXPECT_NEAR(share, 0.02, 0.004) << thin.size() << " of " << thin_dense.size();
  // Every thin minute is one the dense ticker also has, with the same values: only fewer minutes trade.
  size_t j = 0;
  for (size_t i = 0; i < thin.size(); ++i) {
    while (j < thin_dense.size() && thin_dense.t[j] < thin.t[i]) ++j;
    ASSERT_LT(j, thin_dense.size());
    ASSERT_EQ(thin[i], thin_dense[j]);
  }
}

TEST(Liquidity, LimitCountsTheBaseAggregatesThatExist) {
  // A thin ticker's year of 5m bars is built from few minutes, so one page of 50,000 holds it all.
  Market market{kSeed};
  market.activity = {{"THIN", 0.05}};
  PageQuery query;
  query.seed = kSeed;
  query.activity = market.ActivityOf(T("THIN"));
  query.ticker = T("THIN");
  query.timeframe = Tf("5m");
  query.range = NyDays("2025-01-01", "2025-12-31");
  query.limit = 50000;
  query.true_splits = TrueSplitFactors(kSeed, query.ticker);
  query.listed_splits = ListedSplitFactors(market, query.ticker);
  Page page;
  ReadPage(query, &page);
  const BarBatch minutes = GroundTruth(market, T("THIN"), Tf("1m"), true, query.range);
  EXPECT_FALSE(page.more);
  EXPECT_EQ(page.query_count, static_cast<int64_t>(minutes.size()));
  EXPECT_LT(minutes.size(), 50000u);
  EXPECT_EQ(page.bars, GroundTruth(market, T("THIN"), Tf("5m"), true, query.range));
}

TEST(Liquidity, SkewedMarketIsMostlyThinAndDeterministic) {
  Market skewed{kSeed, Liquidity::kSkewed};
  int thin = 0;
  int liquid = 0;
  for (int i = 0; i < 1000; ++i) {
    const double a = skewed.ActivityOf(T(("S" + std::to_string(i)).c_str()));
    ASSERT_GT(a, 0);
    ASSERT_LE(a, 1);
    thin += a < 0.1 ? 1 : 0;
    liquid += a >= 0.7 ? 1 : 0;
  }
  EXPECT_GT(thin, 550) << "most of a large universe trades in a small share of minutes";
  EXPECT_GT(liquid, 50);
  EXPECT_EQ(skewed.ActivityOf(T("AAPL")), (Market{kSeed, Liquidity::kSkewed}.ActivityOf(T("AAPL"))));
  EXPECT_NE(skewed.ActivityOf(T("AAPL")), (Market{kSeed + 1, Liquidity::kSkewed}.ActivityOf(T("AAPL"))));
}

TEST(Liquidity, ThinTickerListsAreCheckedClearly) {
  const auto parsed = Market::ParseActivity("XYZ=0.01, ABC=1");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->at("XYZ"), 0.01);
  EXPECT_EQ(parsed->at("ABC"), 1);
  for (const char* bad : {"XYZ", "=0.1", "XYZ=0", "XYZ=1.5", "XYZ=abc"}) {
    const auto r = Market::ParseActivity(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kUsage);
  }
}

/// Bars of `a` and `b` with the same t and other values, and bars only one of them has.
struct BarDiff {
  int64_t revised = 0;
  int64_t added = 0;    ///< in b only
  int64_t removed = 0;  ///< in a only
};
BarDiff DiffBars(const BarBatch& a, const BarBatch& b) {
  BarDiff d;
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a.t[i] < b.t[j])) {
      ++d.removed;
      ++i;
    } else if (i == a.size() || b.t[j] < a.t[i]) {
      ++d.added;
      ++j;
    } else {
      d.revised += a[i] == b[j] ? 0 : 1;
      ++i;
      ++j;
    }
  }
  return d;
}

Market WithEvents(double hole, double halt, double revise, int64_t as_of_ms = 0) {
  Market market{kSeed};
  market.events.seed = 5;
  market.events.hole = hole;
  market.events.halt = halt;
  market.events.revise = revise;
  market.events.as_of_ms = as_of_ms;
  return market;
}

TEST(MarketEvents, HolesAreTradingSessionsServedEmptyFirstAndFullInTheEnd) {
  const Market market = WithEvents(0.2, 0, 0);
  const std::vector<InjectedEvent> events = EventsOf(market, T("AAPL"), Day("2025-01-01"), Day("2025-03-31"));
  ASSERT_GT(events.size(), 5u);
  EXPECT_LT(events.size(), 25u) << "about a fifth of 60 sessions";
  const calendar::ExchangeCalendar& nyse = calendar::ExchangeCalendar::For(AssetClass::kStock);
  const Market plain{kSeed};
  for (const InjectedEvent& e : events) {
    ASSERT_EQ(e.kind, EventKind::kHole);
    const calendar::Session session = *nyse.SessionOn(e.day);
    ASSERT_TRUE(session.is_open()) << e.day.ToString() << ": holes only on trading days";
    EXPECT_EQ(e.window, session.extended);
    const TimeRange day = NyDays(e.day.ToString().c_str(), e.day.ToString().c_str());
    for (const char* tf : {"1m", "1h", "1d"}) {
      EXPECT_TRUE(GroundTruth(market, T("AAPL"), Tf(tf), true, day, DataVersion::kFirstServed).empty()) << tf;
      EXPECT_EQ(GroundTruth(market, T("AAPL"), Tf(tf), true, day), GroundTruth(plain, T("AAPL"), Tf(tf), true, day)) << tf;
    }
  }
  // The same seed draws the same holes; another seed others; other tickers their own.
  EXPECT_EQ(EventsOf(market, T("AAPL"), Day("2025-01-01"), Day("2025-03-31")).size(), events.size());
  Market other = market;
  other.events.seed = 6;
  std::vector<std::string> days;
  std::vector<std::string> other_days;
  for (const auto& e : events) days.push_back(e.day.ToString());
  for (const auto& e : EventsOf(other, T("AAPL"), Day("2025-01-01"), Day("2025-03-31"))) other_days.push_back(e.day.ToString());
  EXPECT_NE(days, other_days);
  // Only the event tickers get them.
  Market only_msft = market;
  only_msft.events.tickers = {"MSFT"};
  EXPECT_TRUE(EventsOf(only_msft, T("AAPL"), Day("2025-01-01"), Day("2025-03-31")).empty());
  EXPECT_FALSE(EventsOf(only_msft, T("MSFT"), Day("2025-01-01"), Day("2025-03-31")).empty());
  EXPECT_EQ(GroundTruth(only_msft, T("AAPL"), Tf("1m"), true, NyDays("2025-01-01", "2025-03-31"), DataVersion::kFirstServed),
            GroundTruth(plain, T("AAPL"), Tf("1m"), true, NyDays("2025-01-01", "2025-03-31")));
}

TEST(MarketEvents, HaltsTakeHoursOutOfRegularSessionsForGood) {
  const Market market = WithEvents(0, 0.3, 0);
  const Market plain{kSeed};
  const std::vector<InjectedEvent> halts = EventsOf(market, T("MSFT"), Day("2024-11-01"), Day("2024-12-31"));
  ASSERT_GT(halts.size(), 5u);
  const calendar::ExchangeCalendar& nyse = calendar::ExchangeCalendar::For(AssetClass::kStock);
  for (const InjectedEvent& e : halts) {
    ASSERT_EQ(e.kind, EventKind::kHalt);
    const calendar::Session session = *nyse.SessionOn(e.day);
    EXPECT_EQ(session.kind, calendar::SessionKind::kRegular) << e.day.ToString() << ": no halt on an early close";
    EXPECT_GE(e.window.from_ms, session.regular.from_ms + 30 * kMsPerMinute);
    EXPECT_LE(e.window.from_ms, session.regular.from_ms + 120 * kMsPerMinute);
    EXPECT_LE(e.window.to_ms, session.regular.to_ms);
    EXPECT_GE(e.window.DurationMs(), 210 * kMsPerMinute) << "even a late halt ends at the close after 270 minutes";
    EXPECT_LE(e.window.DurationMs(), 330 * kMsPerMinute);
    const TimeRange day = NyDays(e.day.ToString().c_str(), e.day.ToString().c_str());
    const BarBatch halted = GroundTruth(market, T("MSFT"), Tf("1m"), true, day);
    const BarBatch usual = GroundTruth(plain, T("MSFT"), Tf("1m"), true, day);
    // Exactly the minutes of the halt are gone, first served and final alike.
    BarBatch expected;
    for (size_t i = 0; i < usual.size(); ++i) {
      if (!e.window.Contains(usual.t[i])) expected.push_back(usual[i]);
    }
    EXPECT_EQ(halted, expected) << e.day.ToString();
    EXPECT_LT(halted.size() + 200, usual.size()) << e.day.ToString();
    EXPECT_EQ(GroundTruth(market, T("MSFT"), Tf("1m"), true, day, DataVersion::kFirstServed), halted);
  }
}

TEST(MarketEvents, RevisionsChangeTheLastSessionsAfterTheyWereFirstServed) {
  // As of Wednesday 2025-03-12 15:00 New York: the last two sessions that had ended are Monday
  // and Tuesday (Wednesday's is still running).
  const int64_t as_of = MarketZone::NewYork().DayStartMs(Day("2025-03-12")) + 15 * kMsPerHour;
  const Market market = WithEvents(0, 0, 1, as_of);
  const std::vector<InjectedEvent> revisions = EventsOf(market, T("NVDA"), Day("2025-03-01"), Day("2025-03-31"));
  ASSERT_EQ(revisions.size(), 2u);
  EXPECT_EQ(revisions[0].day.ToString(), "2025-03-10");
  EXPECT_EQ(revisions[1].day.ToString(), "2025-03-11");
  const Market plain{kSeed};
  for (const InjectedEvent& e : revisions) {
    const TimeRange day = NyDays(e.day.ToString().c_str(), e.day.ToString().c_str());
    const BarBatch first = GroundTruth(market, T("NVDA"), Tf("1m"), true, day, DataVersion::kFirstServed);
    const BarBatch revised = GroundTruth(market, T("NVDA"), Tf("1m"), true, day);
    EXPECT_EQ(first, GroundTruth(plain, T("NVDA"), Tf("1m"), true, day));
    const BarDiff d = DiffBars(first, revised);
    EXPECT_NEAR(static_cast<double>(d.revised), 0.05 * first.size(), 20) << e.day.ToString();
    EXPECT_GT(d.removed, 0);
    EXPECT_GT(d.added, 0);
    ExpectInvariants(revised, true, 100, "revised NVDA");
    // Coarser bars are aggregates of the revised minutes.
    EXPECT_NE(GroundTruth(market, T("NVDA"), Tf("1d"), true, day), GroundTruth(plain, T("NVDA"), Tf("1d"), true, day));
  }
  // Older sessions and other days are untouched.
  EXPECT_EQ(GroundTruth(market, T("NVDA"), Tf("1m"), true, NyDays("2025-03-03", "2025-03-07")),
            GroundTruth(plain, T("NVDA"), Tf("1m"), true, NyDays("2025-03-03", "2025-03-07")));
  // Crypto sessions are UTC days: the last two that ended are 03-10 and 03-11 UTC too.
  const auto crypto = EventsOf(market, T("X:BTCUSD"), Day("2025-03-01"), Day("2025-03-31"));
  ASSERT_EQ(crypto.size(), 2u);
  EXPECT_EQ(crypto[1].day.ToString(), "2025-03-11");
}

TEST(MarketEvents, PagesAskHowEachEventDayIsServedNow) {
  const Market market = WithEvents(1, 0, 0);
  PageQuery q = Query("AAPL", "1d", NyDays("2025-03-03", "2025-03-07"), 0);
  q.events = &market.events;
  std::vector<std::string> asked;
  q.serving = [&](CalendarDay day) {
    asked.push_back(day.ToString());
    return DayServing{day.ToString() == "2025-03-05", false};
  };
  Page page;
  ReadPage(q, &page);
  EXPECT_EQ(asked, (std::vector<std::string>{"2025-03-03", "2025-03-04", "2025-03-05", "2025-03-06", "2025-03-07"}));
  ASSERT_EQ(page.bars.size(), 4u) << "only the open hole is empty";
  for (size_t i = 0; i < page.bars.size(); ++i) {
    EXPECT_NE(MarketZone::NewYork().DayOf(page.bars.t[i]).ToString(), "2025-03-05");
  }
}

}  // namespace
}  // namespace barfill::sim
