// Time as the rate limiter and retry policy see it: injectable so that their tests never sleep.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>

namespace barfill {

class Clock {
 public:
  using Duration = std::chrono::nanoseconds;
  using TimePoint = std::chrono::time_point<std::chrono::steady_clock, Duration>;

  virtual ~Clock() = default;
  /// A monotonic now.
  virtual TimePoint Now() = 0;
  /// Sleeps until `deadline`, waking early when `*cancel` becomes true (it may be null).
  /// Returns false when cancelled.
  virtual bool SleepUntil(TimePoint deadline, const std::atomic<bool>* cancel) = 0;

  bool SleepFor(Duration duration, const std::atomic<bool>* cancel) {
    return SleepUntil(Now() + duration, cancel);
  }
};

/// std::chrono::steady_clock; sleeps in short slices so that a cancel is seen promptly.
class SteadyClock final : public Clock {
 public:
  TimePoint Now() override;
  bool SleepUntil(TimePoint deadline, const std::atomic<bool>* cancel) override;
};

/// The process's real clock.
Clock& RealClock();

/// A clock for tests: time stands still until someone sleeps or calls Advance; a sleep moves
/// time forward to its deadline at once. Thread-safe.
class FakeClock final : public Clock {
 public:
  TimePoint Now() override;
  bool SleepUntil(TimePoint deadline, const std::atomic<bool>* cancel) override;
  void Advance(Duration duration);
  /// Total time all sleepers asked for (overlapping sleeps add up).
  Duration slept() const;
  int sleeps() const;

 private:
  mutable std::mutex mutex_;
  TimePoint now_{std::chrono::hours(1)};
  Duration slept_{0};
  int sleeps_ = 0;
};

}  // namespace barfill
