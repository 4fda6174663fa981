// The pipelined run: N fetchers under one rate limiter feed a bounded queue that the writers
// drain into the store, so API time and DB time overlap and memory stays flat.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "engine/plan.h"
#include "engine/planner.h"
#include "engine/progress.h"
#include "engine/report.h"
#include "fetch/chunk_fetcher.h"
#include "store/bar_store.h"

namespace barfill::engine {

using ::barfill::RunObserver;

struct RunOptions {
  int concurrency = 8;                 ///< fetches in flight
  size_t queue_chunks = 0;             ///< fetched chunks waiting for the writer; 0 = 2 x concurrency
  size_t queue_rows = 400'000;         ///< ...and the bars they may hold together (about 26 MB)
  size_t writer_batch_rows = 250'000;  ///< chunks committed together up to about this many rows
  bool fallback_daily = false;         ///< failed intraday series get daily bars instead
  double rate_per_s = 0;               ///< the configured rate, for the report
  /// How often the observer hears of progress; zero: only the final snapshot of each phase.
  std::chrono::milliseconds progress_interval{500};
  RunObserver* observer = nullptr;     ///< may be null
  /// Set (by a signal handler, another thread, ...) to stop: no new chunks, the ones fetched
  /// commit, the run ends with RunOutcome::kInterrupted. May be null.
  const std::atomic<bool>* cancel = nullptr;
  /// Whether the shared retry budget is spent: the API looks dead, stop (RunOutcome::kNetwork).
  std::function<bool()> retry_budget_exhausted;
};

/// Runs every chunk of `work` against the API and the store. Never throws; how it ended is the
/// report's `outcome`. `store` and each of `extra_writers` (further connections to the same
/// database) get a writer thread of their own while the run lasts: PostgreSQL loads faster with
/// two COPY sessions when the cores allow.
RunReport RunBackfill(const Plan& plan, const WorkPlan& work, const RunOptions& options,
                      const fetch::FetchShared& fetch, BarStore& store, std::span<BarStore* const> extra_writers = {});

/// What the ledger may record as final of a page: all of it, unless its range reached into the
/// present when it was asked for; then only up to its last bar, which may still grow (the next
/// run fetches from there on).
TimeRange FinalPart(const fetch::FetchedPage& page, const BarBatch& bars);

/// What a fetch that failed for good (not interrupted) means for the run: whether it stops the
/// run (`stop`, with the reason: the key refused, a transport that cannot work, the retry
/// budget spent) and whether its range or day fails (it stays to do otherwise).
struct FetchFailure {
  std::optional<RunOutcome> stop;
  std::string reason;
  bool item_fails = true;
};
FetchFailure OnFetchFailure(const Error& error, const RunOptions& options);

/// A run that ended normally but with failed ranges or files gets its outcome: kNetwork when
/// the network gave up on any (resumable, exit 5), else kRangesFailed; and its error line.
void SettleFailures(RunReport& report);

/// Peak resident set size of this process in bytes (0 if unknown).
int64_t PeakRssBytes();

}  // namespace barfill::engine
