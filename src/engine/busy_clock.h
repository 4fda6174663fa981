// Wall time during which at least one of several threads is busy: what the report calls API,
// download or DB time, so that N overlapping fetches count once.
#pragma once

#include <chrono>
#include <mutex>

namespace barfill::engine {

using Stopwatch = std::chrono::steady_clock;  // wall time of a run, for the report

inline double SecondsSince(Stopwatch::time_point start) {
  return std::chrono::duration<double>(Stopwatch::now() - start).count();
}

/// The union of the busy intervals of several threads.
class BusyClock {
 public:
  void Enter() {
    std::lock_guard lock(mutex_);
    if (busy_++ == 0) since_ = Stopwatch::now();
  }
  void Leave() {
    std::lock_guard lock(mutex_);
    if (--busy_ == 0) total_ += Stopwatch::now() - since_;
  }
  double Seconds() const {
    std::lock_guard lock(mutex_);
    auto total = total_;
    if (busy_ > 0) total += Stopwatch::now() - since_;
    return std::chrono::duration<double>(total).count();
  }

 private:
  mutable std::mutex mutex_;
  int busy_ = 0;
  Stopwatch::time_point since_;
  Stopwatch::duration total_{};
};


/// Enters `clock` for the lifetime of the object.
class BusyScope {
 public:
  explicit BusyScope(BusyClock& clock) : clock_(clock) { clock_.Enter(); }
  ~BusyScope() { clock_.Leave(); }
  BusyScope(const BusyScope&) = delete;
  BusyScope& operator=(const BusyScope&) = delete;

 private:
  BusyClock& clock_;
};

}  // namespace barfill::engine
