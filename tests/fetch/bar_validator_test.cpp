#include "fetch/bar_validator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "fetch/asset_profile.h"

namespace barfill::fetch {
namespace {

constexpr int64_t kMin = kMsPerMinute;

Chunk MinuteChunk(const char* ticker = "X:BTCUSD", int64_t from = 0, int64_t to = 100 * kMin) {
  return Chunk{Series{*Ticker::Parse(ticker), *Timeframe::Parse("1m"), true}, TimeRange{from, to}};
}

Bar Good(int64_t t, double price = 10) { return Bar{t, price, price + 1, price - 1, price, 5, price, 3}; }

BarBatch Batch(std::initializer_list<Bar> bars) {
  BarBatch b;
  for (const Bar& bar : bars) b.push_back(bar);
  return b;
}

TEST(BarValidatorTest, AcceptsGoodBarsUnchanged) {
  BarBatch batch = Batch({Good(0), Good(kMin), Good(5 * kMin)});
  const BarBatch before = batch;
  ValidationReport report;
  ASSERT_TRUE(ValidateBars(MinuteChunk(), batch, report));
  EXPECT_EQ(batch, before);
  EXPECT_FALSE(report.reordered);
  EXPECT_EQ(report.duplicates_dropped, 0);
}

TEST(BarValidatorTest, SortsAndDropsIdenticalDuplicates) {
  BarBatch batch = Batch({Good(5 * kMin), Good(0), Good(kMin), Good(0), Good(5 * kMin)});
  ValidationReport report;
  ASSERT_TRUE(ValidateBars(MinuteChunk(), batch, report));
  EXPECT_EQ(batch, Batch({Good(0), Good(kMin), Good(5 * kMin)}));
  EXPECT_TRUE(report.reordered);
  EXPECT_EQ(report.duplicates_dropped, 2);
}

TEST(BarValidatorTest, ConflictingDuplicatesRejectTheChunkNamingBoth) {
  BarBatch batch = Batch({Good(0), Good(kMin, 10), Good(kMin, 11)});
  ValidationReport report;
  const Status status = ValidateBars(MinuteChunk(), batch, report);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidData);
  const std::string& m = status.error().message;
  EXPECT_NE(m.find("X:BTCUSD"), std::string::npos) << m;
  EXPECT_NE(m.find("t=60000"), std::string::npos) << m;
  EXPECT_NE(m.find("o=10 "), std::string::npos) << m;
  EXPECT_NE(m.find("o=11 "), std::string::npos) << m;
}

TEST(BarValidatorTest, RejectsBrokenBars) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const struct {
    Bar bar;
    const char* why;
  } cases[] = {
      {Bar{0, 10, 9, 8, 9, 1}, "high below"},
      {Bar{0, 10, 12, 11, 11, 1}, "low above"},
      {Bar{0, 10, 12, 9, 13, 1}, "high below"},
      {Bar{0, 10, 12, 9, 8, 1}, "low above"},
      {Bar{0, 10, 12, 9, 11, -1}, "negative volume"},
      {Bar{0, nan, 12, 9, 11, 1}, "non-finite"},
      {Bar{0, 10, inf, 9, 11, 1}, "non-finite"},
      {Bar{0, 10, 12, 9, 11, inf}, "non-finite"},
      {Bar{0, 10, 12, 9, 11, 1, inf}, "non-finite"},
      {Bar{0, 10, 12, 9, 11, 1, 10, -5}, "negative trade"},
      {Bar{30'000, 10, 12, 9, 11, 1}, "not aligned"},
      {Bar{-kMin, 10, 12, 9, 11, 1}, "outside the requested range"},
      {Bar{100 * kMin, 10, 12, 9, 11, 1}, "outside the requested range"},
  };
  for (const auto& c : cases) {
    BarBatch batch = Batch({c.bar});
    ValidationReport report;
    const Status status = ValidateBars(MinuteChunk(), batch, report);
    ASSERT_FALSE(status) << c.why;
    EXPECT_EQ(status.error().code, ErrorCode::kInvalidData);
    EXPECT_NE(status.error().message.find(c.why), std::string::npos) << status.error().message;
    EXPECT_NE(status.error().message.find("t=" + std::to_string(c.bar.t)), std::string::npos);
  }
}

TEST(BarValidatorTest, DayBarsAlignToTheMarketZone) {
  // 2005-04-01 and 2005-04-04 at 00:00 New York, across the DST change (fixture values).
  const Chunk stocks{Series{*Ticker::Parse("AAPL"), *Timeframe::Parse("1d"), true},
                     TimeRange{1112331600000, 1112677200000}};
  BarBatch batch = Batch({Good(1112331600000), Good(1112587200000)});
  ValidationReport report;
  EXPECT_TRUE(ValidateBars(stocks, batch, report));
  batch = Batch({Good(1112331600000 + kMsPerHour)});
  EXPECT_FALSE(ValidateBars(stocks, batch, report));
  // Crypto days start at 00:00 UTC.
  const Chunk crypto{Series{*Ticker::Parse("X:BTCUSD"), *Timeframe::Parse("1d"), true},
                     TimeRange{0, 10 * kMsPerDay}};
  batch = Batch({Good(kMsPerDay), Good(2 * kMsPerDay)});
  EXPECT_TRUE(ValidateBars(crypto, batch, report));
}

TEST(AssetProfileTest, ChunksStayUnderTheBaseAggregateLimit) {
  for (const AssetClass asset : {AssetClass::kStock, AssetClass::kCrypto, AssetClass::kFx,
                                 AssetClass::kIndex, AssetClass::kOption}) {
    for (const char* tf : {"1m", "5m", "15m", "1h", "4h"}) {
      const Timeframe timeframe = *Timeframe::Parse(tf);
      const int64_t days = MaxChunkMs(timeframe, asset) / kMsPerDay;
      EXPECT_LE(days * ProfileFor(asset).base_minutes_per_day, kMaxBaseAggregatesPerRequest) << tf;
    }
  }
  EXPECT_LE(MaxChunkMs(*Timeframe::Parse("1m"), AssetClass::kCrypto), 35 * kMsPerDay);
  EXPECT_GT(ProfileFor(AssetClass::kCrypto).max_attempts, 0);
}

}  // namespace
}  // namespace barfill::fetch
