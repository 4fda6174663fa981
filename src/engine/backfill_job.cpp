#include "engine/backfill_job.h"

#include <algorithm>
#include <set>

#include "core/clock.h"
#include "engine/actions_sync.h"
#include "engine/file_pass.h"
#include "engine/grouped_pass.h"
#include "engine/refresh.h"
#include "fetch/rate_limiter.h"
#include "fetch/retry_policy.h"
#include "store/ledger.h"

namespace barfill::engine {
namespace {

/// `--tickers all`: REST asks for the tickers that traded in the files' last this long.
constexpr int64_t kRecentMs = 7 * kMsPerDay;

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
    auto files = job->ListFiles();
    if (!files) return Fail(files.error());
    job->files_ = std::move(*files);
  }
  BARFILL_TRY(job->Replan());
  return job;
}

Result<WorkPlan> BackfillJob::PlanRest() {
  Plan plan = config_.plan;
  if (plan.all_tickers) plan.tickers = universe_;  // none before the files ran
  const bool files_pending = files_ && !files_ran_;
  // Files only: nothing for REST before the files (dates still checked and clamped); after
  // them, the series that still have days to do are counted.
  if (!config_.UsesRest() && !files_ran_) plan.tickers.clear();
  const bool grouped_pending = !grouped_.days.empty() && !grouped_ran_;
  CoveredElsewhere elsewhere;
  if (files_pending || grouped_pending || files_after_) {
    elsewhere = [this, files_pending, grouped_pending](const Series& series) {
      std::vector<TimeRange> days;
      if (files_pending) {
        // A derived series (--derive) is covered by the minute files' days.
        if (const auto d = DatasetServing(config_.plan, series)) days = FileDays(files_->files, *d);
      }
      if (files_after_) {
        // Every ticker of these files is in: one that has no row in a day's file did not trade.
        if (const auto d = DatasetServing(config_.plan, series)) days = FileDays(files_after_->unchanged, *d);
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
  // (Not for every ticker of a market: that would be a request per ticker for days the files hold.)
  if (config_.UsesRest() && !plan.all_tickers) {
    AddRefreshRanges(*work, plan, today, store::NowMs(), config_.refresh_sessions, grouped_days);
  }
  return work;
}

Status BackfillJob::Replan(bool with_grouped) {
  if (!grouped_ran_) grouped_ = GroupedPlan{};
  auto work = PlanRest();
  if (!work) return Fail(work.error());
  if (!grouped_ran_ && with_grouped && config_.grouped && config_.UsesRest()) {
    grouped_ = PlanGrouped(*work, WallNowMs());
    if (!grouped_.days.empty()) {
      work = PlanRest();  // the grouped days left out
      if (!work) return Fail(work.error());
    }
  }
  work_ = std::move(*work);
  return Ok();
}

Result<FilePlan> BackfillJob::ListFiles() {
  auto client = flatfiles::S3Client::Create(*config_.files);
  if (!client) return Fail(client.error());
  return PlanFiles(config_.plan, *stores_.front(), **client, TodayUtc(), WallNowMs());
}

Status BackfillJob::PlanAllTickersRest() {
  auto files = ListFiles();
  if (!files) return Fail(files.error());
  std::set<Ticker> universe;
  for (const flatfiles::Dataset dataset : files->datasets) {
    int64_t newest = 0;
    for (const TimeRange& range : FileDays(files->unchanged, dataset)) newest = std::max(newest, range.to_ms);
    if (newest == 0) continue;
    // Who traded in the files' last week: thin tickers too, not every ticker ever listed.
    const Timeframe timeframe = StoredFrom(config_.plan, dataset.timeframe).front();
    auto tickers = stores_.front()->ReadRecentTickers(timeframe, false, newest - kRecentMs);
    if (!tickers) return Fail(tickers.error());
    const flatfiles::TickerFilter filter = FilesFilter(config_.plan, dataset.asset);
    for (const std::string& symbol : *tickers) {
      auto ticker = Ticker::Parse(symbol);
      if (ticker && ticker->asset_class() == dataset.asset && filter.Accepts(symbol)) universe.insert(std::move(*ticker));
    }
  }
  universe_.assign(universe.begin(), universe.end());
  files_after_ = std::move(*files);
  return Ok();
}

void BackfillJob::FailuresToNotes(RunReport& report, std::vector<std::string>& notes) {
  // REST fetches the days of what failed: they are notes, not failures, now.
  for (const FailureRecord& f : report.failures) notes.push_back(f.error + " (REST fetches its days)");
  report.failures.clear();
}

std::string BackfillJob::DescribePlan() const {
  std::string out;
  if (files_) {
    char line[512];
    std::snprintf(line, sizeof line,
                  "flat files: %lld day files listed; %lld to load (%lld replaced by the vendor since loaded), %lld "
                  "loaded before and unchanged%s\n",
                  static_cast<long long>(files_->listed), static_cast<long long>(files_->files.size()),
                  static_cast<long long>(files_->replaced), static_cast<long long>(files_->unchanged.size()),
                  files_->missing.empty() ? "" : (", " + std::to_string(files_->missing.size()) + " expected but missing").c_str());
    out += line;
    for (const std::string& m : files_->missing) out += "  missing: " + m + "\n";
  }
  out += DescribeGroupedPlan(grouped_);
  if (config_.plan.all_tickers) {
    out += "tickers: every ticker of the flat files";
    if (config_.UsesRest()) {
      out += "; then REST, for the days no file covers (not published yet, missing, failed), asks for the tickers "
             "that traded in the files' last week\n";
    } else {
      out += config_.source == Source::kFiles ? " (REST is not asked: source files)\n"
                                              : " (REST is not asked: no API key; the days no file covers wait)\n";
    }
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
  r.unchanged = static_cast<int64_t>(files_->unchanged.size());
  r.replaced = files_->replaced;
  r.missing = files_->missing;
  FilePassOptions options;
  options.s3 = *config_.files;
  options.files_per_transaction = config_.files_per_transaction;
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
  std::vector<BarStore*> writers;
  for (const auto& store : stores_) writers.push_back(store.get());
  FetchContext context(config_, control);
  const RunOptions options = OptionsFor(config_, control, context);
  // The passes before REST: flat files first, then grouped daily planned against what they loaded.
  RunReport pre;
  if (files_) {
    RunFiles(control, context.budget(), RealClock(), pre);
    files_ran_ = true;
  }
  bool rest = config_.UsesRest() && pre.outcome == RunOutcome::kDone;
  if (rest && config_.plan.all_tickers) {
    // The files are in whatever happens here: a failed listing only leaves REST's days for the next run.
    if (Status planned = PlanAllTickersRest(); !planned) {
      if (planned.error().code == ErrorCode::kInterrupted) return Stopped(planned.error());
      pre.files.notes.push_back("REST not asked for the days without a file: " + planned.error().ToString() +
                                " (the next run asks)");
      rest = false;
    }
  }

  // Stocks: their corporate actions before their REST bars, so that adjusted ranges a changed
  // split made stale are fetched again by this very run.
  RunReport synced;
  const bool sync_actions = config_.actions.sync && rest;
  auto due = DueForSync(sync_actions ? StockSymbols(config_.plan.tickers) : std::vector<std::string>{},
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
  // The ledger now holds what the files loaded (the days of failed, refused or missing files
  // are still to do) and the stale marks of changed splits: plan grouped days and REST again.
  if (rest) FailuresToNotes(pre, pre.files.notes);
  if (files_ || !synced.actions.stale.empty() || config_.actions.refresh_stale) {
    if (Status planned = Replan(rest); !planned) {
      RunReport stopped = Stopped(planned.error());
      CarryActions(synced, stopped);
      return stopped;
    }
  }
  if (!grouped_.days.empty() && rest) {
    RunGroupedPass(grouped_, options, context.shared(), writers, pre);
    grouped_ran_ = true;
    rest = pre.outcome == RunOutcome::kDone;
    if (rest) FailuresToNotes(pre, pre.grouped.notes);
    // REST plans against what the grouped days stored.
    if (Status planned = Replan(); !planned) {
      RunReport stopped = Stopped(planned.error());
      CarryActions(synced, stopped);
      return stopped;
    }
  }
  if (config_.actions.refresh_stale && rest) {
    auto stale = StaleWork(config_.plan.tickers, *stores_.front());
    if (!stale) return Stopped(stale.error());
    AddWork(work_, *stale);
  }

  WorkPlan nothing;  // files only, or a pass before stopped the run: REST has no work
  RunReport report = RunBackfill(config_.plan, rest ? work_ : nothing, options, context.shared(), *stores_.front(),
                                 std::span<BarStore* const>(writers).subspan(1));
  CarryActions(synced, report);
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
