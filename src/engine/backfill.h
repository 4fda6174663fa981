// The pipelined run: N fetchers under one rate limiter feed a bounded queue that one writer
// drains into the store, so API time and DB time overlap and memory stays flat.
#pragma once

#include <atomic>
#include <functional>
#include <span>
#include <string>

#include "engine/plan.h"
#include "engine/planner.h"
#include "engine/report.h"
#include "fetch/chunk_fetcher.h"
#include "store/bar_store.h"

namespace barfill {

struct RunOptions {
  int concurrency = 8;                 ///< fetches in flight
  size_t queue_chunks = 0;             ///< fetched chunks waiting for the writer; 0 = 2 x concurrency
  size_t queue_rows = 400'000;         ///< ...and the bars they may hold together (about 26 MB)
  size_t writer_batch_rows = 250'000;  ///< chunks committed together up to about this many rows
  bool fallback_daily = false;         ///< failed intraday series get daily bars instead
  bool show_progress = true;
  bool progress_is_tty = false;        ///< live line instead of periodic log lines
  double rate_per_s = 0;               ///< the configured rate, for the report and ETA
  /// Whether the shared retry budget is spent: the API looks dead, stop with exit 5.
  std::function<bool()> retry_budget_exhausted;
  /// Called after each commit with the chunks just made durable (tests use it to crash on cue).
  std::function<void(size_t chunks)> after_commit;
};

/// Runs every chunk of `work` against the API and the store. Never throws; how it ended is in
/// the report's exit_code (0 done, 1 chunks failed, 3 auth, 4 database, 5 network, 130 stopped).
/// `fetch.cancel` is the stop flag (SIGINT/SIGTERM set it). `store` and each of `extra_writers`
/// (further connections to the same database) get a writer thread of their own while the run
/// lasts: PostgreSQL loads faster with two COPY sessions when the cores allow.
RunReport RunBackfill(const Plan& plan, const WorkPlan& work, const RunOptions& options,
                      const FetchShared& fetch, BarStore& store, std::span<BarStore* const> extra_writers = {});

/// Installs SIGINT/SIGTERM handlers that set and return the process-wide stop flag; a second
/// signal ends the process at once (exit 130; the database rolls back the open transaction).
std::atomic<bool>& InstallStopSignals();

/// Peak resident set size of this process in bytes (0 if unknown).
int64_t PeakRssBytes();

}  // namespace barfill
