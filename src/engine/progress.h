// Progress while a run lasts: a snapshot of the counters, handed to the run's observer at a
// steady interval from a thread of its own. How it is shown is the caller's business.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "barfill/run.h"

namespace barfill::engine {

/// The counters of a run at one moment (the public RunProgress).
using ProgressSnapshot = ::barfill::RunProgress;

/// Calls `tell` with a fresh snapshot every `interval` until Finish(), then once more with
/// `final` set. An interval of zero tells nothing.
class ProgressTicker {
 public:
  ProgressTicker(std::chrono::milliseconds interval, std::function<ProgressSnapshot()> read,
                 std::function<void(const ProgressSnapshot&)> tell);
  ~ProgressTicker();
  ProgressTicker(const ProgressTicker&) = delete;
  ProgressTicker& operator=(const ProgressTicker&) = delete;

  void Start();
  /// Stops the thread and tells the final snapshot.
  void Finish();

 private:
  void Loop();

  const std::chrono::milliseconds interval_;
  const std::function<ProgressSnapshot()> read_;
  const std::function<void(const ProgressSnapshot&)> tell_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
};

}  // namespace barfill::engine
