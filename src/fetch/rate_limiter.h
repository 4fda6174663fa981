// One request-rate limiter per API key, shared by every fetcher thread: GCRA with a small
// burst, a pause for everyone on a 429 (Retry-After honoured, capped), and AIMD on the rate.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <vector>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/clock.h"

namespace barfill::fetch {

/// A request rate: `free` (5/min), `paid` (100/s), `N/min`, `N/s`.
struct RateSpec {
  double per_second = 0;
  std::string text;  ///< as the user wrote it, normalized ("5/min")

  /// No limit at all (tests, the simulator without a rate limit).
  static RateSpec Unlimited();
  bool unlimited() const;
  double per_minute() const { return per_second * 60; }
};

/// Parses `free`, `paid`, `N/min` or `N/s` (N > 0, may be fractional).
Result<RateSpec> ParseRate(std::string_view text);

/// Request slots from a rate limit shared with other processes (barfill workers: a row in
/// PostgreSQL, store/shared_rate.h). Called by one thread at a time.
class SharedRateSource {
 public:
  struct Grant {
    std::vector<Clock::Duration> slots;  ///< when each slot may go, from now, in order
    Clock::Duration interval{};          ///< between slots at the rate enforced now
  };
  virtual ~SharedRateSource() = default;
  /// Reserves `n` consecutive slots; `successes` are answers without a 429 since the last call.
  virtual Result<Grant> Reserve(int n, int successes) = 0;
  /// A 429: everyone sharing the limit pauses for `pause` (the first report of an episode also
  /// cuts the rate).
  virtual Status Pause(Clock::Duration pause) = 0;
};

struct RateLimiterOptions {
  /// Requests that may go back to back after an idle spell. 0 picks the largest burst (at most
  /// kMaxAutoBurst) that keeps every sliding 60 s window within the configured rate.
  int burst = 0;
  /// The configured rate is lowered by this share so that jitter on the wire never makes a
  /// sliding-window server count more than it allows.
  double safety_margin = 0.02;
  double decrease_factor = 0.5;     ///< multiplicative decrease on a 429
  double min_rate_fraction = 0.02;  ///< never below this share of the configured rate
  int recover_after = 20;           ///< successes in a row before one additive step
  double recover_step = 0.1;        ///< share of the configured rate added per step
  int64_t retry_after_cap_ms = 120'000;
  int64_t min_pause_ms = 1'000;     ///< pause for everyone on a 429 without Retry-After
  /// When set, slots come from this limit shared with other processes instead of the local
  /// GCRA (a 429 still pauses this process at once and is reported to the others).
  SharedRateSource* shared = nullptr;
};

class RateLimiter {
 public:
  static constexpr int kMaxAutoBurst = 4;

  RateLimiter(RateSpec spec, Clock& clock, RateLimiterOptions options = {});

  /// Blocks until a request may be sent. kInterrupted when `*cancel` turns true meanwhile.
  /// `waited` (optional) receives the time spent waiting.
  Status Acquire(const std::atomic<bool>* cancel, Clock::Duration* waited = nullptr);

  /// A request got an answer that was not a 429: counts towards additive recovery.
  void OnSuccess();
  /// A 429: everyone pauses (Retry-After, capped, or a backoff) and the rate is cut (at most
  /// once per pause, however many in-flight requests bounce).
  void OnRateLimited(std::optional<std::chrono::milliseconds> retry_after);

  /// The rate currently enforced, per second (after the safety margin and AIMD).
  double CurrentRate() const;
  /// The highest rate this limiter will enforce, per second.
  double MaxRate() const { return max_rate_; }
  int burst() const { return burst_; }
  const RateSpec& spec() const { return spec_; }
  int64_t decreases() const;
  /// Slots reserved at once from a shared limit: a few, so that one round trip serves several
  /// requests without holding much of the fleet's rate.
  int SharedBatch() const;

 private:
  Clock::Duration Interval() const;  // at the current rate; mutex held
  Clock::Duration PauseFor(std::optional<std::chrono::milliseconds> retry_after) const;  // mutex held
  Status AcquireShared(const std::atomic<bool>* cancel, Clock::Duration* waited);

  const RateSpec spec_;
  Clock& clock_;
  const RateLimiterOptions options_;
  const double max_rate_;
  const int burst_;

  mutable std::mutex mutex_;
  double rate_;                     // current rate, per second
  Clock::TimePoint tat_{};          // GCRA theoretical arrival time
  Clock::TimePoint paused_until_{};
  bool decreased_once_ = false;
  int success_run_ = 0;
  int64_t decreases_ = 0;

  // The shared path: slots reserved but not used yet, and answers to report.
  std::mutex shared_mutex_;  // one reservation at a time; taken before mutex_, never after
  std::deque<Clock::TimePoint> slots_;
  Clock::Duration shared_interval_{};
  std::atomic<int> successes_{0};
};

}  // namespace barfill::fetch
