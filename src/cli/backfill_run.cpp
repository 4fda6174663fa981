#include "cli/backfill_run.h"

#include <unistd.h>

#include <cstdio>

#include "cli/api_flags.h"
#include "cli/cli_common.h"
#include "cli/console_observer.h"
#include "cli/exit_codes.h"
#include "cli/report_format.h"
#include "cli/run_flags.h"
#include "cli/stop_signals.h"
#include "cli/test_hooks.h"
#include "engine/backfill_job.h"

namespace barfill::cli {

int RunBackfillFromSettings(const BackfillSettings& settings, engine::RunReport* report_out) {
  // 1. Everything the user typed, checked before the database or the network is touched.
  auto config = ResolveSettings(settings);
  if (!config) return ReportError(config.error());

  // 2. The store and the plan against its ledger: an unreachable or wrong database stops here.
  const CrashHooks hooks = CrashHooksFromEnvironment();
  StoreOptions store_options;
  store_options.write_hook = hooks.write_hook;
  auto job = engine::BackfillJob::Prepare(std::move(*config), store_options);
  if (!job) return ReportError(job.error());
  for (const std::string& notice : (*job)->StoreNotices()) std::fprintf(stderr, "%s\n", notice.c_str());
  for (const std::string& warning : (*job)->StoreWarnings()) std::fprintf(stderr, "%s\n", warning.c_str());
  const engine::RunConfig& resolved = (*job)->config();
  const engine::WorkPlan& work = (*job)->work();
  if (resolved.dry_run) {
    std::fputs((*job)->DescribePlan().c_str(), stdout);
    return kExitOk;
  }
  if (work.clamped_to) {
    std::fprintf(stderr, "warning: --to %s is in the future; clamped to %s (UTC)\n", resolved.plan.to.ToString().c_str(),
                 work.clamped_to->ToString().c_str());
  }

  // 3. The run, stopped by Ctrl-C / SIGTERM.
  const bool tty = isatty(STDERR_FILENO) != 0;
  ConsoleObserver observer(tty, !settings.no_progress, hooks.after_commit);
  engine::RunControl control;
  control.observer = &observer;
  control.progress_interval = observer.ProgressInterval();
  control.cancel = &InstallStopSignals();
  const bool grouped_first = !(*job)->grouped().days.empty();
  std::fprintf(stderr, "barfill: %zu series (%lld complete %s), %lld ranges to fetch%s in %lld-%lld requests, %s at %s, %d concurrent, into %s (%d writer%s)\n",
               work.series.size(), static_cast<long long>(work.series_up_to_date),
               grouped_first ? "already or by grouped daily" : "already", static_cast<long long>(work.ranges_todo),
               work.ranges_to_verify > 0 ? (" (" + std::to_string(work.ranges_to_verify) + " of recent sessions, to verify)").c_str() : "",
               static_cast<long long>(work.requests.low), static_cast<long long>(work.requests.high),
               resolved.fetch_config.base_url.c_str(), resolved.rate.text.c_str(),
               resolved.concurrency, (*job)->DescribeStore().c_str(), resolved.writers, resolved.writers == 1 ? "" : "s");
  if (const auto& files = (*job)->files()) {
    std::fprintf(stderr, "barfill: flat files first: %zu day files to load (%lld listed, %lld unchanged since loaded, %zu missing) from %s\n",
                 files->files.size(), static_cast<long long>(files->listed), static_cast<long long>(files->unchanged.size()),
                 files->missing.size(), resolved.files->endpoint.c_str());
  }
  if (const engine::GroupedPlan& grouped = (*job)->grouped(); !grouped.days.empty()) {
    std::fprintf(stderr, "barfill: grouped daily first: %lld market days, one request each for %zu 1d series, instead of %lld per-ticker requests\n",
                 static_cast<long long>(grouped.Requests()), grouped.series.size(),
                 static_cast<long long>(grouped.PerTickerRequests()));
  }
  const engine::RunReport report = (*job)->Run(control);
  std::fputs(FormatReport(report).c_str(), stdout);
  std::fflush(stdout);
  if (!settings.report_json.empty()) {
    if (auto written = WriteTextFile(settings.report_json, ReportToJson(report)); !written) {
      ReportError(written.error());
    }
  }
  if (!report.error.empty()) std::fprintf(stderr, "error: %s\n", report.error.c_str());
  if (report_out != nullptr) *report_out = report;
  return ExitCodeFor(report.outcome);
}

}  // namespace barfill::cli
