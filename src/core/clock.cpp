#include "core/clock.h"

#include <algorithm>
#include <thread>

namespace barfill {
namespace {

// Longest single sleep: how late a cancel (SIGINT) may be noticed.
constexpr std::chrono::milliseconds kSleepSlice{25};

}  // namespace

Clock::TimePoint SteadyClock::Now() { return std::chrono::steady_clock::now(); }

bool SteadyClock::SleepUntil(TimePoint deadline, const std::atomic<bool>* cancel) {
  for (;;) {
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) return false;
    const TimePoint now = Now();
    if (now >= deadline) return true;
    std::this_thread::sleep_for(std::min<Duration>(deadline - now, kSleepSlice));
  }
}

Clock& RealClock() {
  static SteadyClock clock;
  return clock;
}

Clock::TimePoint FakeClock::Now() {
  std::lock_guard lock(mutex_);
  return now_;
}

bool FakeClock::SleepUntil(TimePoint deadline, const std::atomic<bool>* cancel) {
  if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) return false;
  std::lock_guard lock(mutex_);
  ++sleeps_;
  if (deadline > now_) {
    slept_ += deadline - now_;
    now_ = deadline;
  }
  return true;
}

void FakeClock::Advance(Duration duration) {
  std::lock_guard lock(mutex_);
  now_ += duration;
}

Clock::Duration FakeClock::slept() const {
  std::lock_guard lock(mutex_);
  return slept_;
}

int FakeClock::sleeps() const {
  std::lock_guard lock(mutex_);
  return sleeps_;
}

}  // namespace barfill
