#include "engine/backfill_job.h"

#include "core/clock.h"
#include "fetch/rate_limiter.h"
#include "fetch/retry_policy.h"

namespace barfill::engine {

Result<std::unique_ptr<BackfillJob>> BackfillJob::Prepare(RunConfig config, StoreOptions store_options) {
  std::unique_ptr<BackfillJob> job(new BackfillJob(std::move(config), std::move(store_options)));
  auto store = OpenStore(job->config_.db_url, job->store_options_);
  if (!store) return Fail(store.error());
  BARFILL_TRY((*store)->Migrate());
  auto work = BuildWorkPlan(job->config_.plan, **store, TodayUtc(), job->config_.concurrency);
  if (!work) return Fail(work.error());
  job->work_ = std::move(*work);
  job->stores_.push_back(std::move(*store));
  return job;
}

std::string BackfillJob::DescribePlan() const {
  return DescribeWorkPlan(config_.plan, work_, config_.rate.per_second, config_.concurrency);
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
  return RunBackfill(config_.plan, work_, options, shared, *stores_.front(), extra_writers);
}

}  // namespace barfill::engine
