#include <CLI/CLI.hpp>

#include "cli/api_flags.h"
#include "cli/backfill_run.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/run_flags.h"
#include "engine/plan.h"

namespace barfill::cli {
namespace {

struct BackfillFlags {
  BackfillSettings settings;
  std::string plan_path;
  std::string adjusted;
  std::string prefer = "none";
  bool skip_actions = false;
  double actions_max_age_h = 0;
};

}  // namespace

void AddBackfillCommand(CLI::App& app, CommandMain* run) {
  auto flags = std::make_shared<BackfillFlags>();
  BackfillSettings& s = flags->settings;
  CLI::App* cmd = app.add_subcommand("backfill", "Fetch bars for tickers x timeframes x days into the database");
  cmd->add_option("--tickers", s.plan_flags.tickers,
                  "Comma-separated tickers: AAPL,BRK.B,X:BTCUSD,C:EURUSD,I:SPX; @FILE (one or more per line); or all, "
                  "all:crypto, all:forex, all:options (every ticker of the flat files)");
  cmd->add_option("--ticker-prefix", s.plan_flags.ticker_prefixes, "With --tickers all: only tickers starting with these (A,B,...)");
  cmd->add_option("--exclude", s.plan_flags.exclude, "With --tickers all: tickers left out (comma-separated)");
  cmd->add_option("--source", s.run.source,
                  "Where bars come from: auto (default: flat files for unadjusted 1m/1d when S3 keys are set, REST for "
                  "the rest), rest, files");
  cmd->add_option("--grouped", s.run.grouped,
                  "Grouped daily: auto (default: 1d series of stocks, crypto and forex by market day, one request for "
                  "every ticker, when that needs fewer requests than per-ticker ranges), off");
  cmd->add_flag("--derive", s.run.derive,
                "Build unadjusted 2m-30m and 1h bars from the minute flat files' rows on the days a file covers (one "
                "download serves 1m and them; vwap NULL, marked derived) instead of asking REST; needs --adjusted false "
                "and --source auto or files");
  cmd->add_option("--files-url", s.run.files_url, "Flat files S3 endpoint (default https://files.massive.com)");
  cmd->add_option("--files-bucket", s.run.files_bucket, "Flat files bucket (default flatfiles)");
  cmd->add_option("--files-per-transaction", s.run.files_per_transaction,
                  "Day files read as one batch, its tickers shared out between the writers, each ticker's days together in the bars key's order "
                  "(default 16; more: faster into PostgreSQL, ~64 bytes of scratch disk per row, more to redo after a kill)");
  cmd->add_option("--timeframes", s.plan_flags.timeframes, "Comma-separated bar sizes: 1m,5m,15m,1h,4h,1d,1w,1mo");
  cmd->add_option("--from", s.plan_flags.from, "First day (YYYY-MM-DD, inclusive, in the market's zone)");
  cmd->add_option("--to", s.plan_flags.to, "Last day (YYYY-MM-DD, inclusive)");
  cmd->add_option("--adjusted", flags->adjusted,
                  "Split-adjusted bars: true (default), false, or both (the raw series as well, for read-time adjustment)");
  cmd->add_option("--plan", flags->plan_path, "TOML plan file (flags override its values)");
  AddDbFlag(cmd, &s.run.db_url);
  AddApiFlags(cmd, &s.run);
  AddActionsFlags(cmd, s.run, flags->prefer);
  cmd->add_flag("--skip-actions", flags->skip_actions, "Do not sync the splits and dividends of the plan's stocks first");
  cmd->add_option("--actions-max-age", flags->actions_max_age_h,
                  "Sync a stock's splits and dividends only when its last sync is at least this many hours old (default 0: every run)")
      ->check(CLI::Range(0.0, 24.0 * 365));
  cmd->add_option("--writers", s.run.writers, "Database connections writing at once (default 2 for PostgreSQL; SQLite takes 1)");
  cmd->add_option("--report-json", s.report_json, "Write the final report as JSON to this file");
  cmd->add_flag("--no-progress", s.no_progress, "No progress output while running");
  cmd->add_flag("--dry-run", s.run.dry_run, "Print the plan (series, ranges, requests, time) and exit");
  cmd->add_flag("--fallback-daily", s.run.fallback_daily, "Intraday series that still fail get daily bars instead (reported as degraded)");
  cmd->add_option("--refresh-sessions", s.run.refresh_sessions,
                  "When --to is within the last 7 days, fetch each series' last N sessions again and report vendor revisions "
                  "(default 2; 0: off)");
  cmd->callback([flags, run] {
    *run = [flags] {
      BackfillSettings settings = flags->settings;
      if (auto adjusted = ApplyAdjustedFlag(flags->adjusted, settings.plan_flags); !adjusted) {
        return ReportError(adjusted.error());
      }
      auto prefer = ParsePreferRule(flags->prefer);
      if (!prefer) return ReportError(prefer.error());
      settings.run.actions.prefer = *prefer;
      settings.run.actions.sync = !flags->skip_actions;
      settings.run.actions.max_age = std::chrono::milliseconds(static_cast<int64_t>(flags->actions_max_age_h * 3600 * 1000));
      if (!flags->plan_path.empty()) {
        auto plan = engine::LoadPlanFile(flags->plan_path);
        if (!plan) return ReportError(plan.error());
        settings.plan_file = std::move(*plan);
      }
      return RunBackfillFromSettings(settings);
    };
  });
}

}  // namespace barfill::cli
