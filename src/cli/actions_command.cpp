// barfill actions: the corporate-actions tables on their own. `sync` fetches the splits and
// dividends of some stocks (marking stale the adjusted ranges a changed split made wrong, and with
// --refresh-stale fetching them at once); `resolve` records a decision on a flagged split.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "cli/actions_report.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/console_observer.h"
#include "cli/exit_codes.h"
#include "cli/api_flags.h"
#include "cli/report_format.h"
#include "cli/stop_signals.h"
#include "engine/backfill_job.h"
#include "store/actions_store.h"

namespace barfill::cli {
namespace {

struct SyncFlags {
  engine::RunSettings run;
  std::string tickers;
  std::string prefer = "none";
  std::string report_json;
  bool no_progress = false;
};

struct ResolveFlags {
  std::string db;
  std::string id;
  bool use = false;
  bool ignore = false;
  std::string note;
};

/// The tickers of --tickers: each one a stock, or one line saying which is not and why.
Result<std::vector<Ticker>> StockTickers(const std::string& text) {
  const std::vector<std::string> items = engine::SplitList(text);
  if (items.empty()) return Fail(ErrorCode::kUsage, "--tickers is required (stock tickers, e.g. AAPL,MSFT)");
  auto tickers = engine::ParseTickers(items);
  if (!tickers) return Fail(ErrorCode::kUsage, "--tickers: " + tickers.error().message);
  for (const Ticker& t : *tickers) {
    if (t.asset_class() != AssetClass::kStock) {
      return Fail(ErrorCode::kUsage, "--tickers: " + t.symbol() + " is a " + std::string(AssetClassName(t.asset_class())) +
                                         " ticker; corporate actions exist only for stocks: drop it from --tickers");
    }
  }
  return tickers;
}

int RunSync(const SyncFlags& flags) {
  auto tickers = StockTickers(flags.tickers);
  if (!tickers) return ReportError(tickers.error());
  auto prefer = ParsePreferRule(flags.prefer);
  if (!prefer) return ReportError(prefer.error());
  engine::RunSettings run = flags.run;
  run.actions.prefer = *prefer;
  run.db_url = ResolveDbUrl(run.db_url);
  run.api_key = ResolveApiKey(run.api_key).value_or("");
  if (run.api_key.empty()) {
    return ReportError(
        Error(ErrorCode::kUsage, "Polygon API key missing: set POLYGON_API_KEY (or MASSIVE_API_KEY) or pass --api-key"));
  }
  // The stale ranges it may fetch are days of bars: a plan of these tickers, today only.
  engine::Plan plan;
  plan.name = "actions sync";
  plan.tickers = std::move(*tickers);
  plan.timeframes = {Timeframe(1, Timespan::kDay)};
  plan.from = plan.to = TodayUtc();
  auto config = engine::ResolveRunConfig(std::move(plan), run);
  if (!config) return ReportError(config.error());

  const bool tty = isatty(STDERR_FILENO) != 0;
  ConsoleObserver observer(tty, !flags.no_progress);
  engine::RunControl control;
  control.observer = &observer;
  control.progress_interval = observer.ProgressInterval();
  control.cancel = &InstallStopSignals();
  std::vector<std::string> notices;
  const engine::RunReport report = engine::RunActionsJob(*config, StoreOptions{}, control, &notices);
  for (const std::string& notice : notices) std::fprintf(stderr, "%s\n", notice.c_str());
  std::string text = FormatActions(report);
  if (report.ranges_total > 0) text += FormatReport(report);
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  if (!flags.report_json.empty()) {
    std::ofstream out(flags.report_json, std::ios::binary | std::ios::trunc);
    out << ReportToJson(report);
    if (!out) ReportError(Error(ErrorCode::kUsage, "cannot write the report to " + flags.report_json));
  }
  if (!report.error.empty()) std::fprintf(stderr, "error: %s\n", report.error.c_str());
  return ExitCodeFor(report.outcome);
}

int RunResolve(const ResolveFlags& flags) {
  if (flags.id.empty()) return ReportError(Error(ErrorCode::kUsage, "--id is required: the id of a split (barfill status lists the flagged ones)"));
  if (flags.use == flags.ignore) {
    return ReportError(Error(ErrorCode::kUsage, "give exactly one of --use (adjust with this split) or --ignore (set it aside)"));
  }
  auto store = OpenStore(ResolveDbUrl(flags.db));
  if (!store) return ReportError(store.error());
  if (Status migrated = (*store)->Migrate(); !migrated) return ReportError(migrated.error());
  for (const std::string& notice : (*store)->Notices()) std::fprintf(stderr, "%s\n", notice.c_str());
  const std::string note = flags.note.empty() ? "barfill actions resolve" : flags.note;
  auto resolved = ResolveSplit(**store, SplitOverride{flags.id, flags.use, note},
                               ActionsSyncOptions{TodayUtc(), PreferRule::kNone});
  if (!resolved) return ReportError(resolved.error());
  engine::RunReport report;
  report.actions_synced = true;
  report.actions = std::move(*resolved);
  std::fputs(FormatActions(report).c_str(), stdout);
  return kExitOk;
}

}  // namespace

void AddActionsCommand(CLI::App& app, CommandMain* run) {
  CLI::App* actions = app.add_subcommand("actions", "Corporate actions (splits, dividends): sync them, resolve flagged rows");
  actions->require_subcommand(1);

  auto sync = std::make_shared<SyncFlags>();
  CLI::App* sync_cmd = actions->add_subcommand(
      "sync", "Fetch the splits and dividends of stocks into the database; mark stale the adjusted ranges a changed split made wrong");
  sync_cmd->add_option("--tickers", sync->tickers, "Comma-separated stock tickers: AAPL,MSFT,BRK.B")->required();
  AddDbFlag(sync_cmd, &sync->run.db_url);
  AddApiFlags(sync_cmd, &sync->run);
  AddActionsFlags(sync_cmd, sync->run, sync->prefer);
  sync_cmd->add_option("--report-json", sync->report_json, "Write the report as JSON to this file");
  sync_cmd->add_flag("--no-progress", sync->no_progress, "No progress output while running");
  sync_cmd->callback([sync, run] { *run = [sync] { return RunSync(*sync); }; });

  auto resolve = std::make_shared<ResolveFlags>();
  CLI::App* resolve_cmd = actions->add_subcommand(
      "resolve", "Decide on a flagged split: use it or ignore it (recorded in split_overrides, applied at once)");
  resolve_cmd->add_option("--id", resolve->id, "The split's id (barfill status lists the flagged ones)")->required();
  resolve_cmd->add_flag("--use", resolve->use, "Adjust with this split (the other rows of its day are set aside)");
  resolve_cmd->add_flag("--ignore", resolve->ignore, "Set this split aside");
  resolve_cmd->add_option("--note", resolve->note, "Why (kept with the decision)");
  AddDbFlag(resolve_cmd, &resolve->db);
  resolve_cmd->callback([resolve, run] { *run = [resolve] { return RunResolve(*resolve); }; });
}

}  // namespace barfill::cli
