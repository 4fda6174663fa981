#include "engine/backfill_job.h"

#include "core/clock.h"
#include "engine/refresh.h"
#include "fetch/rate_limiter.h"
#include "fetch/retry_policy.h"
#include "store/ledger.h"

namespace barfill::engine {

Result<std::unique_ptr<BackfillJob>> BackfillJob::Prepare(RunConfig config, StoreOptions store_options) {
  const Plan plan = config.plan;
  const int fetchers = config.concurrency;
  const int refresh_sessions = config.refresh_sessions;
  return PrepareWork(std::move(config), std::move(store_options), [&](BarStore& store) -> Result<WorkPlan> {
    const CalendarDay today = TodayUtc();
    auto work = BuildWorkPlan(plan, store, today, fetchers);
    if (!work) return Fail(work.error());
    // Vendors revise recent bars: a plan reaching into the last days verifies its last sessions.
    AddRefreshRanges(*work, plan, today, store::NowMs(), refresh_sessions);
    return work;
  });
}

Result<std::unique_ptr<BackfillJob>> BackfillJob::PrepareWork(RunConfig config, StoreOptions store_options,
                                                              const WorkPlanner& planner) {
  std::unique_ptr<BackfillJob> job(new BackfillJob(std::move(config), std::move(store_options)));
  auto store = OpenStore(job->config_.db_url, job->store_options_);
  if (!store) return Fail(store.error());
  BARFILL_TRY((*store)->Migrate());
  auto work = planner(**store);
  if (!work) return Fail(work.error());
  job->work_ = std::move(*work);
  job->stores_.push_back(std::move(*store));
  return job;
}

std::string BackfillJob::DescribePlan() const {
  std::string text = DescribeWorkPlan(config_.plan, work_, config_.rate.per_second, config_.concurrency);
  if (work_.ranges_to_verify > 0) {
    text += "refresh: " + std::to_string(work_.ranges_to_verify) + " of the ranges are the last " +
            std::to_string(config_.refresh_sessions) +
            " sessions of their series, fetched again to pick up vendor revisions (--refresh-sessions)\n";
  }
  return text;
}

RunReport BackfillJob::Run(const RunControl& control) {
  // Further writers are further connections to the same database, opened only for a real run.
  while (static_cast<int>(stores_.size()) < config_.writers) {
    auto extra = OpenStore(config_.db_url, store_options_);
    if (!extra) {
      RunReport failed;
      failed.outcome = RunOutcome::kDatabase;
      failed.error = extra.error().ToString();
      return failed;
    }
    stores_.push_back(std::move(*extra));
  }
  Clock& clock = RealClock();
  fetch::FetchShared shared;
  shared.config = config_.fetch_config;
  // One cap on Retry-After for the limiter's pause and the retry policy's wait.
  fetch::RateLimiterOptions limiter_options;
  limiter_options.retry_after_cap_ms = shared.config.retry.retry_after_cap_ms;
  fetch::RateLimiter limiter(config_.rate, clock, limiter_options);
  fetch::RetryBudget budget(shared.config.retry);
  shared.limiter = &limiter;
  shared.budget = &budget;
  shared.clock = &clock;
  shared.cancel = control.cancel;
  if (control.observer != nullptr) {
    shared.warn = [observer = control.observer](const std::string& line) { observer->OnWarning(line); };
  }

  RunOptions options;
  options.concurrency = config_.concurrency;
  options.fallback_daily = config_.fallback_daily;
  options.rate_per_s = config_.rate.per_second;
  options.observer = control.observer;
  options.progress_interval = control.progress_interval;
  options.cancel = control.cancel;
  options.retry_budget_exhausted = [&budget] { return budget.refused() > 0; };

  std::vector<BarStore*> extra_writers;
  for (size_t i = 1; i < stores_.size(); ++i) extra_writers.push_back(stores_[i].get());
  RunReport report = RunBackfill(config_.plan, work_, options, shared, *stores_.front(), extra_writers);
  if (const Status recorded = RecordVerified(*stores_.front(), report.verified, store::NowMs()); !recorded) {
    // The bars are in; only the note of when they were verified is missing.
    if (report.outcome == RunOutcome::kDone) {
      report.outcome = RunOutcome::kDatabase;
      report.error = "database error while recording verified ranges: " + recorded.error().ToString();
    }
  }
  return report;
}

}  // namespace barfill::engine
