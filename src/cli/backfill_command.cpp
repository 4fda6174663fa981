#include <CLI/CLI.hpp>

#include "cli/backfill_run.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/run_flags.h"

namespace barfill::cli {

void AddBackfillCommand(CLI::App& app, CommandMain* run) {
  auto flags = std::make_shared<RunFlags>();
  BackfillSettings& s = flags->settings;
  CLI::App* cmd = app.add_subcommand("backfill", "Fetch bars for tickers x timeframes x days into the database");
  AddPlanFlags(cmd, *flags);
  cmd->add_option("--source", s.run.source,
                  "Where bars come from: auto (default: flat files for unadjusted 1m/1d when S3 keys are set, REST for "
                  "the rest), rest, files");
  cmd->add_option("--files-url", s.run.files_url, "Flat files S3 endpoint (default https://files.massive.com)");
  cmd->add_option("--files-bucket", s.run.files_bucket, "Flat files bucket (default flatfiles)");
  AddFetchFlags(cmd, *flags);
  cmd->add_option("--writers", s.run.writers, "Database connections writing at once (default 2 for PostgreSQL; SQLite takes 1)");
  cmd->add_option("--report-json", s.report_json, "Write the final report as JSON to this file");
  cmd->add_flag("--dry-run", s.run.dry_run, "Print the plan (series, ranges, requests, time) and exit");
  cmd->add_flag("--fallback-daily", s.run.fallback_daily, "Intraday series that still fail get daily bars instead (reported as degraded)");
  cmd->add_option("--refresh-sessions", s.run.refresh_sessions,
                  "When --to is within the last 7 days, fetch each series' last N sessions again and report vendor revisions "
                  "(default 2; 0: off)");
  cmd->callback([flags, run] {
    *run = [flags] {
      auto settings = SettingsFromFlags(*flags);
      if (!settings) return ReportError(settings.error());
      return RunBackfillFromSettings(*settings);
    };
  });
}

}  // namespace barfill::cli
