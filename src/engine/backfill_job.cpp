#include "engine/backfill_job.h"

#include <algorithm>

#include "core/clock.h"
#include "engine/file_pass.h"
#include "engine/grouped_pass.h"
#include "engine/refresh.h"
#include "fetch/rate_limiter.h"
#include "fetch/retry_policy.h"
#include "store/ledger.h"

namespace barfill::engine {
namespace {

int64_t WallNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

Result<std::unique_ptr<BackfillJob>> BackfillJob::Prepare(RunConfig config, StoreOptions store_options) {
  return PrepareWork(std::move(config), std::move(store_options), nullptr);
}

Result<std::unique_ptr<BackfillJob>> BackfillJob::PrepareWork(RunConfig config, StoreOptions store_options,
                                                              const WorkPlanner& planner) {
  std::unique_ptr<BackfillJob> job(new BackfillJob(std::move(config), std::move(store_options)));
  auto store = OpenStore(job->config_.db_url, job->store_options_);
  if (!store) return Fail(store.error());
  BARFILL_TRY((*store)->Migrate());
  job->stores_.push_back(std::move(*store));
  if (planner) {
    auto work = planner(*job->stores_.front());
    if (!work) return Fail(work.error());
    job->work_ = std::move(*work);
    return job;
  }
  if (job->config_.files && !DatasetsOf(job->config_.plan).empty()) {
    // Listing the plan's months checks the S3 keys too: a refusal stops here, before any bar.
    auto client = flatfiles::S3Client::Create(*job->config_.files);
    if (!client) return Fail(client.error());
    auto files = PlanFiles(job->config_.plan, *job->stores_.front(), **client, TodayUtc(), WallNowMs());
    if (!files) return Fail(files.error());
    job->files_ = std::move(*files);
  }
  BARFILL_TRY(job->Replan());
  return job;
}

Result<WorkPlan> BackfillJob::PlanRest() {
  Plan plan = config_.plan;
  const bool files_pending = files_ && !files_ran_;
  // Files only: nothing for REST before the files (dates still checked and clamped); after
  // them, the series that still have days to do are counted.
  if (!config_.UsesRest() && !files_ran_) plan.tickers.clear();
  const bool grouped_pending = !grouped_.days.empty() && !grouped_ran_;
  CoveredElsewhere elsewhere;
  if (files_pending || grouped_pending) {
    elsewhere = [this, files_pending, grouped_pending](const Series& series) {
      std::vector<TimeRange> days;
      if (files_pending && FilesServe(series)) {
        for (const flatfiles::Dataset& d : files_->datasets) {
          if (d.asset == series.ticker.asset_class() && flatfiles::TimeframeOf(d.timeframe) == series.timeframe) {
            days = FileDays(*files_, d);
          }
        }
      }
      if (grouped_pending) {
        for (const TimeRange& r : GroupedCoverage(grouped_, series)) days.push_back(r);
      }
      return days;
    };
  }
  const CalendarDay today = TodayUtc();
  auto work = BuildWorkPlan(plan, *stores_.front(), today, config_.concurrency, kMaxBaseAggregatesPerRequest, elsewhere);
  if (!work) return work;
  // Vendors revise recent bars: a plan reaching into the last days verifies its last sessions
  // (through REST; the newest days are not in files yet), unless this run's grouped days fetch them.
  CoveredElsewhere grouped_days;
  if (!grouped_.days.empty()) grouped_days = [this](const Series& series) { return GroupedCoverage(grouped_, series); };
  if (config_.UsesRest()) AddRefreshRanges(*work, plan, today, store::NowMs(), config_.refresh_sessions, grouped_days);
  return work;
}

Status BackfillJob::Replan() {
  if (!grouped_ran_) grouped_ = GroupedPlan{};
  auto work = PlanRest();
  if (!work) return Fail(work.error());
  if (!grouped_ran_ && config_.grouped && config_.UsesRest()) {
    grouped_ = PlanGrouped(*work, config_.plan.adjusted, WallNowMs());
    if (!grouped_.days.empty()) {
      work = PlanRest();  // the grouped days left out
      if (!work) return Fail(work.error());
    }
  }
  work_ = std::move(*work);
  return Ok();
}

bool BackfillJob::AfterPrePass(RunReport& report, std::vector<std::string>& notes) {
  if (config_.UsesRest() && report.outcome == RunOutcome::kDone) {
    // REST fetches the days of what failed: they are notes, not failures, now.
    for (const FailureRecord& f : report.failures) notes.push_back(f.error + " (REST fetches its days)");
    report.failures.clear();
  }
  // The ledger now holds what the pass loaded: REST (or the count of what is left) plans
  // against it. The days of what failed, was refused or is missing are still to do.
  const Status planned = Replan();
  if (planned) return true;
  report.outcome = RunOutcome::kDatabase;
  report.error = planned.error().ToString();
  return false;
}

std::string BackfillJob::DescribePlan() const {
  std::string out;
  if (files_) {
    char line[512];
    std::snprintf(line, sizeof line,
                  "flat files: %lld day files listed; %lld to load (%lld replaced by the vendor since loaded), %lld "
                  "loaded before and unchanged%s\n",
                  static_cast<long long>(files_->listed), static_cast<long long>(files_->files.size()),
                  static_cast<long long>(files_->replaced), static_cast<long long>(files_->unchanged),
                  files_->missing.empty() ? "" : (", " + std::to_string(files_->missing.size()) + " expected but missing").c_str());
    out += line;
    for (const std::string& m : files_->missing) out += "  missing: " + m + "\n";
  }
  out += DescribeGroupedPlan(grouped_);
  if (config_.plan.all_tickers) {
    out += "tickers: every ticker of the flat files (REST is not asked)\n";
    return out;
  }
  if (!grouped_.days.empty()) out += "then REST, for what grouped daily does not cover (series it completes show as complete):\n";
  out += DescribeWorkPlan(config_.plan, work_, config_.rate.per_second, config_.concurrency);
  if (work_.ranges_to_verify > 0) {
    out += "refresh: " + std::to_string(work_.ranges_to_verify) + " of the ranges are the last " +
           std::to_string(config_.refresh_sessions) +
           " sessions of their series, fetched again to pick up vendor revisions (--refresh-sessions)\n";
  }
  return out;
}

void BackfillJob::RunFiles(const RunControl& control, fetch::RetryBudget& budget, Clock& clock, RunReport& report) {
  FilesReport& r = report.files;
  r.listed = files_->listed;
  r.unchanged = files_->unchanged;
  r.replaced = files_->replaced;
  r.missing = files_->missing;
  FilePassOptions options;
  options.s3 = *config_.files;
  options.retry = config_.fetch_config.retry;
  options.budget = &budget;
  options.clock = &clock;
  options.cancel = control.cancel;
  options.observer = control.observer;
  options.progress_interval = control.progress_interval;
  std::vector<BarStore*> writers;
  for (const auto& store : stores_) writers.push_back(store.get());
  RunFilePass(config_.plan, *files_, options, writers, report);
  report.duration_s += r.duration_s;
  report.db_s += r.db_s;
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
  std::vector<BarStore*> writers;
  for (const auto& store : stores_) writers.push_back(store.get());
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

  // The passes before REST, each followed by a new plan against the ledger it wrote.
  RunReport pre;
  if (files_) {
    RunFiles(control, budget, clock, pre);
    files_ran_ = true;
    if (!AfterPrePass(pre, pre.files.notes)) return pre;
  }
  if (!grouped_.days.empty() && pre.outcome == RunOutcome::kDone) {
    RunGroupedPass(grouped_, options, shared, writers, pre);
    grouped_ran_ = true;
    if (!AfterPrePass(pre, pre.grouped.notes)) return pre;
  }
  const bool rest = config_.UsesRest() && pre.outcome == RunOutcome::kDone;

  WorkPlan nothing;  // files only, or a pass before stopped the run: REST has no work
  RunReport report = RunBackfill(config_.plan, rest ? work_ : nothing, options, shared, *stores_.front(),
                                 std::span<BarStore* const>(writers).subspan(1));
  if (const Status recorded = RecordVerified(*stores_.front(), report.verified, store::NowMs()); !recorded) {
    // The bars are in; only the note of when they were verified is missing.
    if (report.outcome == RunOutcome::kDone) {
      report.outcome = RunOutcome::kDatabase;
      report.error = "database error while recording verified ranges: " + recorded.error().ToString();
    }
  }
  if (!files_ran_ && !grouped_ran_) return report;

  // One report: the passes' counts, time, requests and failures with REST's.
  report.files = std::move(pre.files);
  report.grouped = std::move(pre.grouped);
  report.records += pre.records;
  report.duration_s += pre.duration_s;
  report.api_s += pre.api_s;
  report.fetcher_thread_s += pre.fetcher_thread_s;
  report.db_s += pre.db_s;
  report.fetch_stats.Add(pre.fetch_stats);
  report.requests_minimum += pre.requests_minimum;
  report.failures.insert(report.failures.begin(), pre.failures.begin(), pre.failures.end());
  if (!rest) {
    // What is left of the plan after the passes: series complete, and series with days to do.
    report.jobs_total = static_cast<int64_t>(work_.series.size());
    report.series_up_to_date = work_.series_up_to_date;
    report.jobs_succeeded = work_.series_up_to_date;
    report.jobs_incomplete = report.jobs_total - report.jobs_succeeded;
  }
  if (pre.outcome != RunOutcome::kDone) {
    report.outcome = pre.outcome;
    report.stop_reason = pre.stop_reason;
    report.error = pre.stop_reason;
  }
  SettleFailures(report);
  return report;
}

}  // namespace barfill::engine
