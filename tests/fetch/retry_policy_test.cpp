#include "fetch/retry_policy.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace barfill::fetch {
namespace {

using std::chrono::milliseconds;

TEST(RetryPolicyTest, FullJitterStaysWithinTheExponentialCeiling) {
  RetryPolicy policy(RetrySettings{.base_backoff_ms = 100, .max_backoff_ms = 5000}, 42);
  for (int retry = 1; retry <= 12; ++retry) {
    const int64_t ceiling = std::min<int64_t>(5000, int64_t{100} << (retry - 1));
    int64_t lowest = INT64_MAX;
    int64_t highest = 0;
    for (int i = 0; i < 2000; ++i) {
      const int64_t d = policy.Backoff(retry).count();
      ASSERT_GE(d, 0);
      ASSERT_LE(d, ceiling);
      lowest = std::min(lowest, d);
      highest = std::max(highest, d);
    }
    // Full jitter spreads over the whole interval.
    EXPECT_LT(lowest, ceiling / 10 + 1) << retry;
    EXPECT_GT(highest, ceiling * 9 / 10) << retry;
  }
  EXPECT_LE(policy.Backoff(1000).count(), 5000);  // no overflow for absurd retry numbers
}

TEST(RetryPolicyTest, RetryAfterWinsWhenLongerAndIsCapped) {
  RetryPolicy policy(RetrySettings{.base_backoff_ms = 10, .max_backoff_ms = 20, .retry_after_cap_ms = 4000}, 1);
  Error error(ErrorCode::kRateLimited, "429");
  error.retry_after = milliseconds(2000);
  EXPECT_EQ(policy.DelayFor(error, 1), milliseconds(2000));
  error.retry_after = milliseconds(86'400'000);
  EXPECT_EQ(policy.DelayFor(error, 1), milliseconds(4000));
  error.retry_after.reset();
  EXPECT_LE(policy.DelayFor(error, 1), milliseconds(10));
}

TEST(RetryPolicyTest, ClassificationTable) {
  RetryPolicy policy(RetrySettings{.max_attempts = 3}, 1);
  const struct {
    ErrorCode code;
    bool retry;
  } table[] = {
      {ErrorCode::kRateLimited, true},     {ErrorCode::kServerError, true},
      {ErrorCode::kTransport, true},       {ErrorCode::kBadResponse, true},
      {ErrorCode::kAuth, false},           {ErrorCode::kBadRequest, false},
      {ErrorCode::kTransportFatal, false}, {ErrorCode::kInvalidData, false},
      {ErrorCode::kInterrupted, false},    {ErrorCode::kNetworkGaveUp, false},
  };
  for (const auto& row : table) {
    const Error error(row.code, "x");
    EXPECT_EQ(policy.ShouldRetry(error, 1), row.retry) << ErrorCodeName(row.code);
    EXPECT_EQ(policy.ShouldRetry(error, 2), row.retry) << ErrorCodeName(row.code);
    EXPECT_FALSE(policy.ShouldRetry(error, 3)) << ErrorCodeName(row.code);  // attempts spent
  }
}

TEST(RetryBudgetTest, AllowsRatioOfRequestsPlusAMinimum) {
  RetryBudget budget(0.1, 5);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(budget.TryRetry());
  EXPECT_FALSE(budget.TryRetry());
  EXPECT_EQ(budget.refused(), 1);
  for (int i = 0; i < 100; ++i) budget.RecordFirstAttempt();
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(budget.TryRetry());
  EXPECT_FALSE(budget.TryRetry());
  EXPECT_EQ(budget.retries(), 15);
}

TEST(RetryBudgetTest, IsExactUnderConcurrency) {
  RetryBudget budget(0, 1000);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        if (budget.TryRetry()) ++granted;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 1000);
}

}  // namespace
}  // namespace barfill::fetch
