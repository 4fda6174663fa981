// Progress while a run lasts: a live line on a terminal, a log line every few seconds otherwise.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace barfill {

struct ProgressSnapshot {
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
};

/// One progress line: "series 12/250  chunks 120/1930 (6.2%)  rows 5,123,456  412k rows/s ...".
std::string FormatProgress(const ProgressSnapshot& s);

class Progress {
 public:
  /// `read` is called from the progress thread; it must be thread-safe.
  Progress(bool enabled, bool tty, std::string title, std::function<ProgressSnapshot()> read);
  ~Progress();
  void Start();
  /// Stops the thread and prints the final line.
  void Finish();

 private:
  void Loop();
  void Print(bool final_line);

  const bool enabled_;
  const bool tty_;
  const std::string title_;
  const std::function<ProgressSnapshot()> read_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool done_ = false;
};

}  // namespace barfill
