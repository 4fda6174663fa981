#include "engine/backfill_job.h"

#include "core/clock.h"
#include "engine/actions_sync.h"

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

FetchContext::FetchContext(const RunConfig& config, const RunControl& control)
    : limiter_(config.rate, RealClock(), [&] {
        // One cap on Retry-After for the limiter's pause and the retry policy's wait.
        fetch::RateLimiterOptions options;
        options.retry_after_cap_ms = config.fetch_config.retry.retry_after_cap_ms;
        return options;
      }()),
      budget_(config.fetch_config.retry) {
  shared_.config = config.fetch_config;
  shared_.limiter = &limiter_;
  shared_.budget = &budget_;
  shared_.clock = &RealClock();
  shared_.cancel = control.cancel;
  if (control.observer != nullptr) {
    shared_.warn = [observer = control.observer](const std::string& line) { observer->OnWarning(line); };
  }
}

namespace {

/// A report that ended before any bar: `error` decides the outcome.
RunReport Stopped(const Error& error) {
  RunReport report;
  report.outcome = error.code == ErrorCode::kAuth            ? RunOutcome::kRefused
                   : error.code == ErrorCode::kInterrupted   ? RunOutcome::kInterrupted
                   : error.code == ErrorCode::kDatabase      ? RunOutcome::kDatabase
                   : error.code == ErrorCode::kNetworkGaveUp ? RunOutcome::kNetwork
                                                             : RunOutcome::kRangesFailed;
  report.error = error.ToString();
  return report;
}

RunOptions OptionsFor(const RunConfig& config, const RunControl& control, const FetchContext& context) {
  RunOptions options;
  options.concurrency = config.concurrency;
  options.fallback_daily = config.fallback_daily;
  options.rate_per_s = config.rate.per_second;
  options.observer = control.observer;
  options.progress_interval = control.progress_interval;
  options.cancel = control.cancel;
  options.retry_budget_exhausted = [&context] { return context.BudgetSpent(); };
  return options;
}

/// The actions part of `from` (a sync before the bars) carried into the bars' report.
void CarryActions(RunReport& from, RunReport& into) {
  into.actions_synced = from.actions_synced;
  into.actions = std::move(from.actions);
  into.actions_v3_disagreements = std::move(from.actions_v3_disagreements);
  into.actions_error = std::move(from.actions_error);
  into.actions_fetch_stats.Add(from.actions_fetch_stats);
}

}  // namespace

RunReport RunActionsJob(const RunConfig& config, const StoreOptions& store_options, const RunControl& control,
                        std::vector<std::string>* notices) {
  auto store = OpenStore(config.db_url, store_options);
  if (!store) return Stopped(store.error());
  if (Status migrated = (*store)->Migrate(); !migrated) return Stopped(migrated.error());
  if (notices != nullptr) *notices = (*store)->Notices();
  FetchContext context(config, control);
  RunReport synced;
  const std::vector<std::string> symbols = StockSymbols(config.plan.tickers);
  if (Status sync = SyncActions(symbols, **store, context.shared(), config.actions, TodayUtc(), synced); !sync) {
    RunReport stopped = Stopped(sync.error());
    stopped.actions_fetch_stats = synced.actions_fetch_stats;
    return stopped;
  }
  WorkPlan stale;
  if (config.actions.refresh_stale) {
    auto work = StaleWork(config.plan.tickers, **store);
    if (!work) return Stopped(work.error());
    stale = std::move(*work);
  }
  RunReport report = RunBackfill(config.plan, stale, OptionsFor(config, control, context), context.shared(), **store);
  CarryActions(synced, report);
  return report;
}

RunReport BackfillJob::Run(const RunControl& control) {
  // Further writers are further connections to the same database, opened only for a real run.
  while (static_cast<int>(stores_.size()) < config_.writers) {
    auto extra = OpenStore(config_.db_url, store_options_);
    if (!extra) return Stopped(extra.error());
    stores_.push_back(std::move(*extra));
  }
  FetchContext context(config_, control);
  // Stocks: their corporate actions first, so that adjusted ranges a changed split made stale are
  // fetched again by this very run.
  RunReport synced;
  auto due = DueForSync(config_.actions.sync ? StockSymbols(config_.plan.tickers) : std::vector<std::string>{},
                        *stores_.front(), config_.actions.max_age);
  if (!due) return Stopped(due.error());
  if (Status sync = SyncActions(*due, *stores_.front(), context.shared(), config_.actions, TodayUtc(), synced); !sync) {
    if (sync.error().code == ErrorCode::kAuth || sync.error().code == ErrorCode::kInterrupted) {
      RunReport stopped = Stopped(sync.error());
      CarryActions(synced, stopped);
      return stopped;
    }
    synced.actions_error = sync.error().ToString();  // the bars still run; the next run syncs again
  }
  if (!synced.actions.stale.empty() || config_.actions.refresh_stale) {
    auto work = BuildWorkPlan(config_.plan, *stores_.front(), TodayUtc(), config_.concurrency);
    if (!work) return Stopped(work.error());
    work_ = std::move(*work);
  }
  if (config_.actions.refresh_stale) {
    auto stale = StaleWork(config_.plan.tickers, *stores_.front());
    if (!stale) return Stopped(stale.error());
    AddWork(work_, *stale);
  }
  std::vector<BarStore*> extra_writers;
  for (size_t i = 1; i < stores_.size(); ++i) extra_writers.push_back(stores_[i].get());
  RunReport report = RunBackfill(config_.plan, work_, OptionsFor(config_, control, context), context.shared(),
                                 *stores_.front(), extra_writers);
  CarryActions(synced, report);
  return report;
}

}  // namespace barfill::engine
