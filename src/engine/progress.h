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

namespace barfill::engine {

struct ProgressSnapshot {
  std::string phase;  ///< "backfill", "fallback to daily bars"
  double elapsed_s = 0;
  int64_t series_total = 0;
  int64_t series_finished = 0;
  int64_t chunks_total = 0;    ///< chunks this run fetches
  int64_t chunks_settled = 0;  ///< done, empty or failed
  int64_t chunks_failed = 0;
  int64_t rows = 0;
  int64_t requests = 0;
  int64_t retries = 0;
  int64_t rate_limited = 0;
  bool final = false;  ///< the last snapshot of its phase
};

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
