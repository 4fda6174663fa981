#include "core/ticker.h"

#include <gtest/gtest.h>

#include "fetch/asset_profile.h"

namespace barfill {
namespace {

TEST(Ticker, AssetClassFromPrefix) {
  EXPECT_EQ(Ticker::Parse("AAPL")->asset_class(), AssetClass::kStock);
  EXPECT_EQ(Ticker::Parse("BRK.B")->asset_class(), AssetClass::kStock);
  EXPECT_EQ(Ticker::Parse("X:BTCUSD")->asset_class(), AssetClass::kCrypto);
  EXPECT_EQ(Ticker::Parse("C:EURUSD")->asset_class(), AssetClass::kFx);
  EXPECT_EQ(Ticker::Parse("I:SPX")->asset_class(), AssetClass::kIndex);
  EXPECT_EQ(Ticker::Parse("O:SPY251219C00650000")->asset_class(), AssetClass::kOption);
  EXPECT_EQ(Ticker::Parse("X:BTCUSD")->symbol(), "X:BTCUSD");
}

TEST(Ticker, ZonesPerMarket) {
  EXPECT_FALSE(Ticker::Parse("AAPL")->zone().IsUtc());
  EXPECT_FALSE(Ticker::Parse("I:SPX")->zone().IsUtc());
  EXPECT_TRUE(Ticker::Parse("X:ETHUSD")->zone().IsUtc());
  EXPECT_TRUE(Ticker::Parse("C:EURUSD")->zone().IsUtc());
}

TEST(Ticker, RejectsBadTickersWithClearMessages) {
  EXPECT_EQ(Ticker::Parse("BTCUSD").error().message, "crypto tickers look like X:BTCUSD (got BTCUSD)");
  EXPECT_EQ(Ticker::Parse("ETHUSDT").error().message, "crypto tickers look like X:ETHUSDT (got ETHUSDT)");
  EXPECT_EQ(Ticker::Parse("").error().message, "empty ticker");
  EXPECT_NE(Ticker::Parse("aapl").error().message.find("did you mean AAPL"), std::string::npos);
  EXPECT_FALSE(Ticker::Parse("Z:FOO"));
  EXPECT_FALSE(Ticker::Parse("X:"));
  EXPECT_FALSE(Ticker::Parse("AA PL"));
  EXPECT_FALSE(Ticker::Parse("AAPL/"));
  EXPECT_FALSE(Ticker::Parse(std::string(100, 'A')));
  EXPECT_TRUE(Ticker::Parse("USD"));  // too short to be a pair
}

TEST(AssetProfile, ChunksStayUnderTheBaseAggregateLimit) {
  const Timeframe m1 = *Timeframe::Parse("1m");
  const int64_t crypto = fetch::MaxChunkMs(m1, AssetClass::kCrypto);
  EXPECT_LE(crypto / kMsPerMinute, kMaxBaseAggregatesPerRequest);
  EXPECT_EQ(crypto, 31 * kMsPerDay);
  const int64_t stock = fetch::MaxChunkMs(m1, AssetClass::kStock);
  EXPECT_LE(stock / kMsPerDay * 960, kMaxBaseAggregatesPerRequest);
  EXPECT_GT(stock, crypto);
  EXPECT_EQ(fetch::MaxChunkMs(*Timeframe::Parse("1h"), AssetClass::kCrypto), crypto);
  EXPECT_GE(fetch::MaxChunkMs(*Timeframe::Parse("1d"), AssetClass::kStock), 366 * kMsPerDay);
}

}  // namespace
}  // namespace barfill
