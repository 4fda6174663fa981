// A backfill from a resolved RunConfig to a finished RunReport: open the store (one connection
// per writer), migrate it, plan against its ledger, run. The command line and the public
// library API both run backfills through this, so they behave alike.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "engine/backfill.h"
#include "engine/planner.h"
#include "engine/run_config.h"
#include "fetch/rate_limiter.h"
#include "fetch/retry_policy.h"
#include "store/bar_store.h"

namespace barfill::engine {

/// What a caller controls while a job runs.
struct RunControl {
  RunObserver* observer = nullptr;  ///< may be null
  std::chrono::milliseconds progress_interval{500};
  const std::atomic<bool>* cancel = nullptr;  ///< set to stop (outcome kInterrupted); may be null
};

/// What one run fetches through: one rate limiter and one retry budget shared by every request
/// (bars and corporate actions alike), on the real clock.
class FetchContext {
 public:
  FetchContext(const RunConfig& config, const RunControl& control);
  const fetch::FetchShared& shared() const { return shared_; }
  /// The run's retry budget refused a retry: the API looks dead.
  bool BudgetSpent() const { return budget_.refused() > 0; }

 private:
  fetch::RateLimiter limiter_;
  fetch::RetryBudget budget_;
  fetch::FetchShared shared_;
};

/// `barfill actions sync`: opens and migrates the store, syncs the corporate actions of the
/// plan's stocks and, with config.actions.refresh_stale, fetches their stale ranges at once.
/// Never throws; how it ended is the report's outcome.
RunReport RunActionsJob(const RunConfig& config, const StoreOptions& store_options, const RunControl& control,
                        std::vector<std::string>* notices = nullptr);

class BackfillJob {
 public:
  /// Opens and migrates the store and plans the run against its ledger: a database that cannot
  /// be reached, written or read fails here, before any download. `store_options` carries the
  /// test seams (see StoreOptions::write_hook).
  static Result<std::unique_ptr<BackfillJob>> Prepare(RunConfig config, StoreOptions store_options = {});

  const RunConfig& config() const { return config_; }
  const WorkPlan& work() const { return work_; }
  /// The store, for messages ("SQLite database bars.db").
  std::string DescribeStore() const { return stores_.front()->Describe(); }
  /// What opening the store did that the user should hear of (a schema upgrade), one line each.
  std::vector<std::string> StoreNotices() const { return stores_.front()->Notices(); }
  /// Settings of the database the user should hear about before the run (one line each).
  std::vector<std::string> StoreWarnings() const { return stores_.front()->Warnings(); }
  /// The plan in lines, for a dry run: series, chunks, requests, time at the configured rate.
  std::string DescribePlan() const;

  /// Runs the plan. Never throws; how it ended is the report's outcome.
  RunReport Run(const RunControl& control);

 private:
  BackfillJob(RunConfig config, StoreOptions store_options) : config_(std::move(config)), store_options_(std::move(store_options)) {}

  RunConfig config_;
  StoreOptions store_options_;
  std::vector<std::unique_ptr<BarStore>> stores_;  ///< the first plans and writes; the others only write
  WorkPlan work_;
};

}  // namespace barfill::engine
