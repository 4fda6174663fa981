// What the command line shows while a run lasts: a live progress line on a terminal (a log line
// every few seconds otherwise) and each distinct warning once.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <set>
#include <string>

#include "engine/backfill.h"

namespace barfill::cli {

/// One progress line: "series 12/250  ranges 120/250 (48.0%)  pages 400  rows 5.12M  412k rows/s ...".
std::string FormatProgress(const engine::ProgressSnapshot& s);

class ConsoleObserver final : public engine::RunObserver {
 public:
  /// `tty`: stderr is a terminal (a live line rewritten in place). `show_progress` false keeps
  /// only warnings. `on_committed` (may be empty) is told of each commit (the crash test hook).
  ConsoleObserver(bool tty, bool show_progress, std::function<void(size_t)> on_committed = {});

  /// How often a run should tell this observer of its progress (zero: never).
  std::chrono::milliseconds ProgressInterval() const;

  void OnProgress(const engine::ProgressSnapshot& snapshot) override;
  void OnWarning(const std::string& line) override;
  void OnCommitted(size_t pages) override;

 private:
  const bool tty_;
  const bool show_progress_;
  const std::function<void(size_t)> on_committed_;
  std::mutex mutex_;
  std::set<std::string> warned_;
};

}  // namespace barfill::cli
