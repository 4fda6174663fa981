// barfill enqueue: a plan's ranges into the work queue in PostgreSQL, for `barfill worker`s on
// any number of hosts (docs/workers.md). Returns at once; enqueueing twice adds nothing.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/run_flags.h"
#include "engine/plan.h"
#include "engine/worker.h"

namespace barfill::cli {
namespace {

int RunEnqueue(const RunFlags& flags) {
  auto settings = SettingsFromFlags(flags);
  if (!settings) return ReportError(settings.error());
  // Enqueueing asks the API nothing: no key is needed here, only by the workers. Workers fetch
  // REST ranges; flat files stay with barfill backfill.
  settings->run.dry_run = true;
  settings->run.source = "rest";
  if (engine::ParseAllTickers(settings->plan_flags.tickers)) {
    return ReportError(Error(ErrorCode::kUsage, "--tickers all takes the flat files' tickers, which only barfill "
                                                "backfill loads: give barfill enqueue a list of tickers (or @FILE)"));
  }
  auto config = ResolveSettings(*settings);
  if (!config) return ReportError(config.error());
  config->dry_run = false;
  auto report = engine::EnqueuePlan(*config);
  if (!report) return ReportError(report.error());
  std::printf("enqueued into %s: %lld series (%lld with nothing to add), %lld new items, %lld failed items reopened, "
              "%lld queued already; %lld-%lld requests for the new ones\n",
              report->store.c_str(), static_cast<long long>(report->series),
              static_cast<long long>(report->series_up_to_date), static_cast<long long>(report->counts.added),
              static_cast<long long>(report->counts.reopened), static_cast<long long>(report->counts.already),
              static_cast<long long>(report->requests.low), static_cast<long long>(report->requests.high));
  return std::fflush(stdout) == 0 ? kExitOk : kExitUsage;
}

}  // namespace

void AddEnqueueCommand(CLI::App& app, CommandMain* run) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* cmd = app.add_subcommand(
      "enqueue", "Put a plan's missing ranges into the work queue (PostgreSQL) for barfill worker; returns at once");
  AddPlanFlags(cmd, *flags);
  cmd->add_option("--db", flags->settings.run.db_url, "postgresql://... (default $BARFILL_DB)");
  cmd->add_option("--concurrency", flags->settings.run.concurrency,
                  "Cut a plan with fewer ranges than this into more items, as backfill cuts for its fetchers (default 8)");
  cmd->callback([flags, run] { *run = [flags] { return RunEnqueue(*flags); }; });
}

}  // namespace barfill::cli
