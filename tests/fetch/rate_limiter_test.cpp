#include "fetch/rate_limiter.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace barfill::fetch {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

double Elapsed(FakeClock& clock, Clock::TimePoint start) {
  return std::chrono::duration<double>(clock.Now() - start).count();
}

TEST(ParseRateTest, AcceptsPresetsAndUnits) {
  EXPECT_DOUBLE_EQ(ParseRate("free")->per_second, 5.0 / 60);
  EXPECT_EQ(ParseRate("free")->text, "5/min");
  EXPECT_DOUBLE_EQ(ParseRate("paid")->per_second, 100);
  EXPECT_DOUBLE_EQ(ParseRate("150/min")->per_second, 2.5);
  EXPECT_DOUBLE_EQ(ParseRate("100/s")->per_second, 100);
  EXPECT_DOUBLE_EQ(ParseRate("0.5/s")->per_second, 0.5);
  EXPECT_DOUBLE_EQ(ParseRate("2.5/min")->per_second, 2.5 / 60);
  EXPECT_EQ(ParseRate("150/min")->text, "150/min");
}

TEST(ParseRateTest, RejectsNonsenseClearly) {
  for (const char* bad : {"0/min", "-1/s", "0/s", "0.0/min"}) {
    const auto rate = ParseRate(bad);
    ASSERT_FALSE(rate) << bad;
    EXPECT_EQ(rate.error().code, ErrorCode::kUsage);
    EXPECT_EQ(rate.error().message, "rate must be > 0 (e.g. 150/min, 100/s, free, paid)");
  }
  for (const char* bad : {"", "fast", "150", "150/h", "/min", "x/min", "1e999/s", "nan/s", "150/min/s"}) {
    const auto rate = ParseRate(bad);
    ASSERT_FALSE(rate) << bad;
    EXPECT_NE(rate.error().message.find("(e.g. 150/min, 100/s, free, paid)"), std::string::npos) << bad;
  }
}

TEST(RateLimiterTest, PacesRequestsAtTheRateLessTheMargin) {
  FakeClock clock;
  RateLimiter limiter(*ParseRate("10/s"), clock, RateLimiterOptions{.burst = 1, .safety_margin = 0});
  const auto start = clock.Now();
  for (int i = 0; i < 101; ++i) ASSERT_TRUE(limiter.Acquire(nullptr));
  EXPECT_NEAR(Elapsed(clock, start), 10.0, 1e-6);  // first free, then 100 x 0.1 s
}

TEST(RateLimiterTest, BurstGoesAtOnceThenTheRate) {
  FakeClock clock;
  RateLimiter limiter(*ParseRate("1/s"), clock, RateLimiterOptions{.burst = 3, .safety_margin = 0});
  const auto start = clock.Now();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(limiter.Acquire(nullptr));
  EXPECT_EQ(Elapsed(clock, start), 0);
  ASSERT_TRUE(limiter.Acquire(nullptr));
  EXPECT_NEAR(Elapsed(clock, start), 1.0, 1e-6);
  // After an idle spell the burst is available again, but never more than it.
  clock.Advance(seconds(100));
  const auto later = clock.Now();
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(limiter.Acquire(nullptr));
  EXPECT_NEAR(Elapsed(clock, later), 1.0, 1e-6);
}

// A server counting requests in a sliding 60 s window must never see more than the rate.
TEST(RateLimiterTest, NoSixtySecondWindowExceedsThePerMinuteRate) {
  for (const char* spec : {"5/min", "150/min", "600/min", "1200/min", "100/s"}) {
    FakeClock clock;
    const RateSpec rate = *ParseRate(spec);
    RateLimiter limiter(rate, clock);
    std::vector<Clock::TimePoint> sent;
    const int n = static_cast<int>(std::min(5000.0, rate.per_minute() * 3 + 5));
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(limiter.Acquire(nullptr));
      sent.push_back(clock.Now());
    }
    size_t lo = 0;
    size_t most = 0;
    for (size_t hi = 0; hi < sent.size(); ++hi) {
      while (sent[hi] - sent[lo] >= seconds(60)) ++lo;
      most = std::max(most, hi - lo + 1);
    }
    EXPECT_LE(static_cast<double>(most), rate.per_minute()) << spec << " burst " << limiter.burst();
  }
}

TEST(RateLimiterTest, AutoBurstIsSmall) {
  FakeClock clock;
  EXPECT_EQ(RateLimiter(*ParseRate("free"), clock).burst(), 1);
  EXPECT_EQ(RateLimiter(*ParseRate("150/min"), clock).burst(), 3);
  EXPECT_EQ(RateLimiter(*ParseRate("paid"), clock).burst(), RateLimiter::kMaxAutoBurst);
}

TEST(RateLimiterTest, RateLimitedPausesEveryoneForRetryAfterAndHalvesTheRate) {
  FakeClock clock;
  RateLimiter limiter(*ParseRate("10/s"), clock, RateLimiterOptions{.burst = 1, .safety_margin = 0});
  ASSERT_TRUE(limiter.Acquire(nullptr));
  limiter.OnRateLimited(milliseconds(3000));
  EXPECT_DOUBLE_EQ(limiter.CurrentRate(), 5);
  // A second 429 from a request that was already in flight does not cut again.
  limiter.OnRateLimited(milliseconds(3000));
  EXPECT_DOUBLE_EQ(limiter.CurrentRate(), 5);
  EXPECT_EQ(limiter.decreases(), 1);
  const auto start = clock.Now();
  ASSERT_TRUE(limiter.Acquire(nullptr));
  EXPECT_NEAR(Elapsed(clock, start), 3.0, 1e-6);
  ASSERT_TRUE(limiter.Acquire(nullptr));
  EXPECT_NEAR(Elapsed(clock, start), 3.2, 1e-6);  // now at 5/s
}

TEST(RateLimiterTest, RetryAfterIsCapped) {
  FakeClock clock;
  RateLimiter limiter(*ParseRate("10/s"), clock,
                      RateLimiterOptions{.burst = 1, .safety_margin = 0, .retry_after_cap_ms = 5000});
  limiter.OnRateLimited(std::chrono::hours(24));
  const auto start = clock.Now();
  ASSERT_TRUE(limiter.Acquire(nullptr));
  EXPECT_NEAR(Elapsed(clock, start), 5.0, 1e-6);
}

TEST(RateLimiterTest, WithoutRetryAfterItStillBacksOff) {
  FakeClock clock;
  RateLimiter limiter(*ParseRate("free"), clock, RateLimiterOptions{.safety_margin = 0});
  limiter.OnRateLimited(std::nullopt);
  const auto start = clock.Now();
  ASSERT_TRUE(limiter.Acquire(nullptr));
  // Two request slots at the rate the 429 hit (5/min -> 12 s each)...
  EXPECT_NEAR(Elapsed(clock, start), 24.0, 1e-6);
  // ...then the halved rate (2.5/min -> 24 s).
  ASSERT_TRUE(limiter.Acquire(nullptr));
  EXPECT_NEAR(Elapsed(clock, start), 48.0, 1e-6);
}

TEST(RateLimiterTest, RecoversAdditivelyButNeverAboveTheConfiguredRate) {
  FakeClock clock;
  RateLimiter limiter(*ParseRate("100/s"), clock,
                      RateLimiterOptions{.safety_margin = 0, .recover_after = 10, .recover_step = 0.1});
  limiter.OnRateLimited(milliseconds(0));
  clock.Advance(milliseconds(1));
  limiter.OnRateLimited(milliseconds(0));
  EXPECT_DOUBLE_EQ(limiter.CurrentRate(), 25);
  for (int i = 0; i < 9; ++i) limiter.OnSuccess();
  EXPECT_DOUBLE_EQ(limiter.CurrentRate(), 25);
  limiter.OnSuccess();
  EXPECT_DOUBLE_EQ(limiter.CurrentRate(), 35);
  for (int i = 0; i < 1000; ++i) limiter.OnSuccess();
  EXPECT_DOUBLE_EQ(limiter.CurrentRate(), 100);
  EXPECT_DOUBLE_EQ(limiter.MaxRate(), 100);
}

TEST(RateLimiterTest, NeverBelowTheFloor) {
  FakeClock clock;
  RateLimiter limiter(*ParseRate("100/s"), clock, RateLimiterOptions{.safety_margin = 0, .min_rate_fraction = 0.1});
  for (int i = 0; i < 50; ++i) {
    limiter.OnRateLimited(milliseconds(0));
    clock.Advance(milliseconds(1));
  }
  EXPECT_DOUBLE_EQ(limiter.CurrentRate(), 10);
}

TEST(RateLimiterTest, CancelWakesAWaiter) {
  // The real clock: the waiter sleeps in slices and must see the flag promptly.
  RateLimiter limiter(*ParseRate("1/min"), RealClock(), RateLimiterOptions{.burst = 1});
  ASSERT_TRUE(limiter.Acquire(nullptr));
  std::atomic<bool> cancel{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(milliseconds(100));
    cancel = true;
  });
  const auto start = std::chrono::steady_clock::now();
  const Status status = limiter.Acquire(&cancel);
  stopper.join();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kInterrupted);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(2));
}

TEST(RateLimiterTest, SharedByThreadsStaysWithinTheRate) {
  FakeClock clock;
  RateLimiter limiter(*ParseRate("50/s"), clock, RateLimiterOptions{.burst = 1, .safety_margin = 0});
  const auto start = clock.Now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) ASSERT_TRUE(limiter.Acquire(nullptr));
    });
  }
  for (auto& t : threads) t.join();
  // 400 requests at 50/s: at least 399 intervals of 20 ms must have passed.
  EXPECT_GE(Elapsed(clock, start), 7.98 - 1e-6);
}

TEST(RateLimiterTest, UnlimitedNeverWaits) {
  FakeClock clock;
  RateLimiter limiter(RateSpec::Unlimited(), clock);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limiter.Acquire(nullptr));
  EXPECT_EQ(clock.slept(), Clock::Duration::zero());
}

}  // namespace
}  // namespace barfill::fetch
