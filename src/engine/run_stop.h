// Why a pass of a run stops early, shared by its threads: the first reason wins, and a flag the
// fetchers watch as their cancel token goes up at once.
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "engine/report.h"

namespace barfill::engine {

class RunStop {
 public:
  /// Records why the pass stops, unless it has a reason already; raises the flag either way.
  void Stop(RunOutcome outcome, const std::string& reason) {
    {
      std::lock_guard lock(mutex_);
      if (outcome_ == RunOutcome::kDone) {
        outcome_ = outcome;
        reason_ = reason;
      }
    }
    flag_.store(true);
  }
  bool stopped() const { return flag_.load(); }
  /// The flag, for FetchShared::cancel.
  const std::atomic<bool>* flag() const { return &flag_; }
  /// Stops with kInterrupted when `cancel` (a signal handler's flag; may be null) is set.
  void PassOn(const std::atomic<bool>* cancel) {
    if (cancel != nullptr && cancel->load() && !stopped()) Stop(RunOutcome::kInterrupted, "interrupted by signal");
  }
  /// Gives `report` this outcome and reason, unless it has an outcome other than kDone already.
  void AddTo(RunReport& report) const {
    std::lock_guard lock(mutex_);
    if (outcome_ != RunOutcome::kDone && report.outcome == RunOutcome::kDone) {
      report.outcome = outcome_;
      report.stop_reason = reason_;
    }
  }

 private:
  mutable std::mutex mutex_;
  RunOutcome outcome_ = RunOutcome::kDone;
  std::string reason_;
  std::atomic<bool> flag_{false};
};

}  // namespace barfill::engine
