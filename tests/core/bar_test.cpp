#include "core/bar.h"

#include <gtest/gtest.h>

namespace barfill {
namespace {

TEST(BarBatch, ColumnarRoundTrip) {
  BarBatch batch;
  const Bar a{1000, 1.5, 2.0, 1.0, 1.75, 303067.6562332156, 1.6, 42};
  const Bar b{2000, 3.0, 3.0, 3.0, 3.0, 0.0, kNoVwap, kNoTrades};
  batch.push_back(a);
  batch.push_back(b);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0], a);
  EXPECT_EQ(batch[1], b);
  EXPECT_FALSE(batch[1].HasVwap());
  EXPECT_FALSE(batch[1].HasTrades());
  BarBatch copy;
  copy.Append(batch);
  EXPECT_EQ(copy, batch);
  copy.Set(0, b);
  EXPECT_FALSE(copy == batch);
  batch.clear();
  EXPECT_TRUE(batch.empty());
}

}  // namespace
}  // namespace barfill
