// A backfill from a resolved RunConfig to a finished RunReport: open the store (one connection
// per writer), migrate it, plan against its ledger, run. The command line and the public
// library API both run backfills through this, so they behave alike.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "engine/backfill.h"
#include "engine/file_plan.h"
#include "engine/grouped_plan.h"
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
  fetch::RetryBudget& budget() { return budget_; }

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

  /// Makes the WorkPlan of a job from its opened, migrated store.
  using WorkPlanner = std::function<Result<WorkPlan>(BarStore& store)>;
  /// The same with a WorkPlan of the caller's (`barfill repair`; no flat files); `config.plan` names the
  /// run. A null `planner` plans as Prepare does.
  static Result<std::unique_ptr<BackfillJob>> PrepareWork(RunConfig config, StoreOptions store_options,
                                                          const WorkPlanner& planner);

  const RunConfig& config() const { return config_; }
  /// What REST fetches (the days flat files and grouped daily load first left out).
  const WorkPlan& work() const { return work_; }
  /// The day files to load, when the run uses flat files.
  const std::optional<FilePlan>& files() const { return files_; }
  /// The market days to request grouped (empty when per-ticker ranges are cheaper, or off).
  const GroupedPlan& grouped() const { return grouped_; }
  /// The store, for messages ("SQLite database bars.db").
  std::string DescribeStore() const { return stores_.front()->Describe(); }
  /// What opening the store did that the user should hear of (a schema upgrade), one line each.
  std::vector<std::string> StoreNotices() const { return stores_.front()->Notices(); }
  /// Settings of the database the user should hear about before the run (one line each).
  std::vector<std::string> StoreWarnings() const { return stores_.front()->Warnings(); }
  /// The plan in lines, for a dry run: series, chunks, requests, time at the configured rate.
  std::string DescribePlan() const;

  /// Runs the plan. Never throws; how it ended is the report's outcome. Ranges fetched to verify
  /// them are recorded as verified (barfill_checks) once done.
  RunReport Run(const RunControl& control);

  /// The store the job plans and reads with (its first connection).
  BarStore& store() { return *stores_.front(); }

 private:
  BackfillJob(RunConfig config, StoreOptions store_options) : config_(std::move(config)), store_options_(std::move(store_options)) {}

  /// Plans what REST fetches against the ledger, leaving out the days of the passes before it
  /// that have not run yet (flat files, grouped daily).
  Result<WorkPlan> PlanRest();
  /// Plans the grouped days (unless they ran, or not `with_grouped`: the run stopped) from what
  /// REST would fetch without them, and then work_: what REST fetches after the passes before
  /// it. Prepare and every pass before REST end with it, so REST fetches only what they did not
  /// cover.
  Status Replan(bool with_grouped = true);
  /// `--tickers all` with REST, once the files are in: which days no file accounts for (not
  /// published yet, missing, failed: listed again) and who REST asks for them (universe_).
  Status PlanAllTickersRest();
  /// Lists the plan's months of its datasets and plans the files against the ledger (PlanFiles).
  Result<FilePlan> ListFiles();
  /// The flat-file pass; its counts, failures and outcome go into `report`.
  void RunFiles(const RunControl& control, fetch::RetryBudget& budget, Clock& clock, RunReport& report);
  /// After a pass before REST, when REST fetches the days of what failed in it: its failures
  /// become `notes` of its section of the report.
  static void FailuresToNotes(RunReport& report, std::vector<std::string>& notes);

  RunConfig config_;
  StoreOptions store_options_;
  std::vector<std::unique_ptr<BarStore>> stores_;  ///< the first plans and writes; the others only write
  std::optional<FilePlan> files_;
  GroupedPlan grouped_;
  bool files_ran_ = false;
  /// `--tickers all` with REST: the tickers that traded in the last week the files cover, and
  /// the files' days after the file pass (PlanAllTickersRest).
  std::vector<Ticker> universe_;
  std::optional<FilePlan> files_after_;
  bool grouped_ran_ = false;
  WorkPlan work_;
};

}  // namespace barfill::engine
