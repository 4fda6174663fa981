#include "core/bar_fold.h"

#include <gtest/gtest.h>

namespace barfill {
namespace {

TEST(BarFold, FoldsInTimeOrderLikeTheVendor) {
  BarFold fold;
  EXPECT_FALSE(fold.open());
  fold.Add(Bar{60'000, 10, 12, 9, 11, 100, 10.5, 3}, 0);
  fold.Add(Bar{120'000, 11, 15, 10, 14, 0.1, 12, 2}, 0);
  fold.Add(Bar{180'000, 14, 14, 8, 9, 0.2, 11, 1}, 0);
  EXPECT_TRUE(fold.open());
  EXPECT_EQ(fold.count(), 3);
  const Bar bar = fold.Take();
  EXPECT_EQ(bar.t, 0);
  EXPECT_EQ(bar.open, 10);
  EXPECT_EQ(bar.high, 15);
  EXPECT_EQ(bar.low, 8);
  EXPECT_EQ(bar.close, 9);
  EXPECT_EQ(bar.volume, (100 + 0.1) + 0.2) << "summed in time order, as the API rounds";
  EXPECT_EQ(bar.trades, 6);
  EXPECT_FALSE(bar.HasVwap()) << "the caller decides a mean's vwap";
  EXPECT_FALSE(fold.open());
  // One bar keeps its own vwap; a missing trade count makes the sum missing.
  fold.Add(Bar{60'000, 1, 1, 1, 1, 5, 1, kNoTrades}, 0);
  EXPECT_EQ(fold.Take().vwap, 1);
  fold.Add(Bar{60'000, 1, 1, 1, 1, 5, 1, 4}, 0);
  fold.Add(Bar{120'000, 1, 1, 1, 1, 5, 1, kNoTrades}, 0);
  EXPECT_EQ(fold.Take().trades, kNoTrades);
  // A bucket continued later ends as if folded at once.
  BarFold a;
  a.Add(Bar{60'000, 10, 12, 9, 11, 100, kNoVwap, 3}, 0);
  const int64_t count = a.count();
  const Bar partial = a.Take();
  BarFold b;
  b.Resume(partial, count);
  b.Add(Bar{120'000, 11, 15, 10, 14, 0.1, kNoVwap, 2}, 0);
  EXPECT_EQ(b.count(), 2);
  const Bar whole = b.Take();
  EXPECT_EQ(whole.volume, 100 + 0.1);
  EXPECT_EQ(whole.close, 14);
}

TEST(BarFold, DerivableTimeframesDivideAnHour) {
  for (const char* yes : {"2m", "5m", "10m", "15m", "20m", "30m", "1h"}) EXPECT_TRUE(DerivableFromMinutes(*Timeframe::Parse(yes))) << yes;
  for (const char* no : {"1m", "7m", "45m", "90m", "2h", "4h", "1d", "1w", "30s"}) {
    EXPECT_FALSE(DerivableFromMinutes(*Timeframe::Parse(no))) << no;
  }
  EXPECT_EQ(IntradayBucketStart(-1, 300'000), -300'000) << "floored before 1970 too";
  EXPECT_EQ(IntradayBucketStart(599'999, 300'000), 300'000);
}

}  // namespace
}  // namespace barfill
