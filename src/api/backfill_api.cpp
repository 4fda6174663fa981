// The public backfill API over the engine's runner: the same checks, store, planner and run as
// `barfill backfill`, with the caller's observer and cancel token.
#include "barfill/backfill.h"

#include "barfill/barfill.h"
#include "engine/backfill_job.h"
#include "engine/plan.h"
#include "engine/run_config.h"

namespace barfill {
namespace {

Result<std::unique_ptr<engine::BackfillJob>> PrepareJob(const PlanSpec& spec, const BackfillOptions& options,
                                                        bool dry_run) {
  auto plan = engine::ParsePlan(
      engine::PlanText{"library", spec.tickers, spec.timeframes, spec.from, spec.to, spec.adjusted}, TodayUtc());
  if (!plan) return Fail(plan.error());
  engine::RunSettings settings;
  settings.db_url = options.db;
  settings.base_url = options.base_url;
  settings.api_key = options.api_key;
  settings.api_key_in_query = options.api_key_in_query;
  settings.rate = options.rate;
  settings.concurrency = options.concurrency;
  settings.writers = options.writers;
  settings.compression = options.compression;
  settings.stall_timeout_s = options.stall_timeout_s;
  settings.ca_file = options.ca_file;
  settings.fallback_daily = options.fallback_daily;
  settings.dry_run = dry_run;
  auto config = engine::ResolveRunConfig(std::move(*plan), settings);
  if (!config) return Fail(config.error());
  return engine::BackfillJob::Prepare(std::move(*config));
}

BackfillSummary Summarize(const engine::RunReport& report) {
  BackfillSummary summary;
  summary.outcome = report.outcome;
  summary.error = report.error;
  summary.bars_written = report.records;
  summary.series_total = report.jobs_total;
  summary.series_succeeded = report.jobs_succeeded;
  summary.series_failed = report.jobs_failed;
  summary.series_up_to_date = report.series_up_to_date;
  summary.ranges_total = report.ranges_total;
  summary.ranges_done = report.ranges_done;
  summary.ranges_failed = report.ranges_failed;
  summary.pages = report.pages;
  summary.requests = report.RequestsMade();
  summary.requests_minimum = report.requests_minimum;
  summary.duration_s = report.duration_s;
  for (const engine::FailureRecord& f : report.failures) {
    summary.failures.push_back(BackfillFailure{f.series.ticker.symbol(), f.series.timeframe.ToString(),
                                               FormatIsoUtc(f.range.from_ms), FormatIsoUtc(f.range.to_ms), f.error});
  }
  return summary;
}

}  // namespace

const char* Version() { return BARFILL_VERSION; }

Result<BackfillSummary> Backfill(const PlanSpec& plan, const BackfillOptions& options) {
  auto job = PrepareJob(plan, options, /*dry_run=*/false);
  if (!job) return Fail(job.error());
  engine::RunControl control;
  control.observer = options.observer;
  control.progress_interval = options.progress_interval;
  control.cancel = options.cancel;
  return Summarize((*job)->Run(control));
}

Result<std::string> DescribeBackfill(const PlanSpec& plan, const BackfillOptions& options) {
  auto job = PrepareJob(plan, options, /*dry_run=*/true);
  if (!job) return Fail(job.error());
  return (*job)->DescribePlan();
}

}  // namespace barfill
