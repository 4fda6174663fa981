// barfill repair: fetch again what `barfill gaps` finds suspicious or failed, within
// --max-requests, replace each range once, report the bars added, removed and revised, and
// remember when a range that still looks suspicious may be tried again (docs/data-quality.md).
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <map>
#include <string>

#include "cli/api_flags.h"
#include "cli/cli_common.h"
#include "cli/commands.h"
#include "cli/console_observer.h"
#include "cli/exit_codes.h"
#include "cli/gap_selection.h"
#include "cli/report_format.h"
#include "cli/stop_signals.h"
#include "engine/backfill_job.h"
#include "engine/repair.h"
#include "quality/inspect.h"

namespace barfill::cli {
namespace {

constexpr int64_t kDefaultMaxRequests = 1000;
constexpr const char* kDefaultRecheckAfter = "1h";

struct RepairFlags {
  GapSelectionFlags selection;
  engine::RunSettings run;
  int64_t max_requests = kDefaultMaxRequests;
  std::string recheck_after = kDefaultRecheckAfter;
  std::string report_json;
  bool no_progress = false;
};

/// "90s", "30m", "1h", "2d" (or "0s") to milliseconds.
Result<std::chrono::milliseconds> ParseWait(const std::string& text) {
  int64_t n = -1;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, n);
  const std::string unit(ptr, end);
  static const std::map<std::string, int64_t> kUnitMs = {{"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};
  const auto found = kUnitMs.find(unit);
  if (ec != std::errc() || n < 0 || found == kUnitMs.end()) {
    return Fail(ErrorCode::kUsage, "--recheck-after '" + text + "' must look like 90s, 30m, 1h or 2d");
  }
  return std::chrono::milliseconds(n * found->second);
}

/// How the ranges a repair fetched look afterwards.
struct RepairOutcome {
  int64_t complete = 0;    ///< ranges that look complete now
  int64_t suspicious = 0;  ///< ranges that still look suspicious (the vendor has nothing else)
  int64_t next_try_ms = 0;
};

/// Judges the fetched ranges again and records when those still suspicious may be tried again.
Result<RepairOutcome> RecordOutcome(BarStore& store, const engine::RepairPlan& plan, const engine::RunReport& report,
                                    const quality::InspectOptions& inspect, std::chrono::milliseconds recheck_after) {
  RepairOutcome outcome;
  std::vector<RangeCheck> checks;
  for (size_t i = 0; i < plan.targets.size(); ++i) {
    const engine::RepairTarget& t = plan.targets[i];
    if (i > 0 && plan.targets[i - 1].series == t.series) continue;  // one inspection per series
    auto gaps = quality::InspectSeries(store, t.series, inspect);
    if (!gaps) return Fail(gaps.error());
    for (const engine::RepairTarget& target : plan.targets) {
      if (!(target.series == t.series)) continue;
      const auto verified = std::find_if(report.verified.begin(), report.verified.end(), [&](const engine::VerifiedRange& v) {
        return v.series == target.series && v.range == target.range;
      });
      if (verified == report.verified.end() || !verified->done) continue;
      bool still_suspicious = false;
      for (const quality::SessionVerdict& v : gaps->sessions) {
        if (v.cls == quality::SessionClass::kSuspicious && v.session.window.from_ms < target.range.to_ms &&
            target.range.from_ms < v.session.window.to_ms) {
          still_suspicious = true;
          // The run recorded the check; a range that stays suspicious gets a time to try again.
          RangeCheck check = v.check.value_or(RangeCheck{target.series, v.session.window, inspect.now_ms, 1, v.bars, 0});
          check.retry_at_ms = engine::NextTryMs(inspect.now_ms, check.checks, recheck_after);
          outcome.next_try_ms = outcome.next_try_ms == 0 ? check.retry_at_ms : std::min(outcome.next_try_ms, check.retry_at_ms);
          checks.push_back(check);
        }
      }
      (still_suspicious ? outcome.suspicious : outcome.complete) += 1;
    }
  }
  if (!checks.empty()) BARFILL_TRY(store.RecordChecks(checks));
  return outcome;
}

int RunRepair(const RepairFlags& flags) {
  // 1. Everything the user typed, before the database or the network is touched.
  auto selection = ParseGapSelection(flags.selection, TodayUtc());
  if (!selection) return ReportError(selection.error());
  if (flags.max_requests < 1) return ReportError(Error(ErrorCode::kUsage, "--max-requests must be at least 1"));
  auto recheck_after = ParseWait(flags.recheck_after);
  if (!recheck_after) return ReportError(recheck_after.error());
  engine::RunSettings run = flags.run;
  run.db_url = ResolveDbUrl(flags.selection.db);
  run.api_key = ResolveApiKey(run.api_key).value_or("");
  if (run.api_key.empty()) {
    return ReportError(Error(ErrorCode::kUsage, "Polygon API key missing: set POLYGON_API_KEY (or MASSIVE_API_KEY) or pass --api-key"));
  }
  engine::Plan plan;
  plan.name = "repair";
  plan.tickers = selection->tickers;
  plan.timeframes = selection->timeframes;
  auto config = engine::ResolveRunConfig(std::move(plan), run);
  if (!config) return ReportError(InFlagTerms(config.error()));

  // 2. What to fetch: the gap report of every selected series, read one at a time.
  StoreOptions store_options;
  store_options.create = false;  // a repair never creates a database; it may upgrade one
  const int64_t now = NowMs();
  quality::InspectOptions inspect;
  engine::RepairPlan repair;
  auto job = engine::BackfillJob::PrepareWork(std::move(*config), store_options, [&](BarStore& store) -> Result<engine::WorkPlan> {
    auto series = SelectSeries(store, *selection);
    if (!series) return Fail(series.error());
    inspect = InspectOptionsFor(*selection, *series, now);
    for (const Series& s : series->selected) {
      auto gaps = quality::InspectSeries(store, s, inspect);
      if (!gaps) return Fail(gaps.error());
      engine::AddRepairTargets(*gaps, now, flags.max_requests, &repair);
    }
    return engine::RepairWorkPlan(repair);
  });
  if (!job) return ReportError(job.error());
  for (const std::string& notice : (*job)->StoreNotices()) std::fprintf(stderr, "%s\n", notice.c_str());
  const std::string waiting =
      repair.waiting == 0 ? std::string()
                          : std::to_string(repair.waiting) + " suspicious range(s) wait for their next try (the first after " +
                                FormatIsoUtc(repair.next_try_ms) + ")";
  if (repair.targets.empty()) {
    std::printf("repair: nothing to fetch again%s%s\n", waiting.empty() ? "" : "; ", waiting.c_str());
    if (repair.over_budget > 0) std::printf("repair: %lld range(s) over --max-requests\n", static_cast<long long>(repair.over_budget));
    return kExitOk;
  }

  // 3. The fetch, each range replacing what it held, then what is still suspicious, and when
  //    to look again.
  const bool tty = isatty(STDERR_FILENO) != 0;
  ConsoleObserver observer(tty, !flags.no_progress);
  engine::RunControl control;
  control.observer = &observer;
  control.progress_interval = observer.ProgressInterval();
  control.cancel = &InstallStopSignals();
  std::fprintf(stderr, "barfill repair: %zu range(s) of %zu series to fetch again in at most %lld requests, into %s\n",
               repair.targets.size(), (*job)->work().series.size(), static_cast<long long>(repair.requests_high),
               (*job)->DescribeStore().c_str());
  const engine::RunReport report = (*job)->Run(control);
  std::fputs(FormatReport(report).c_str(), stdout);
  auto outcome = RecordOutcome((*job)->store(), repair, report, inspect, *recheck_after);
  if (!outcome) return ReportError(outcome.error());
  std::printf("\nrepair: %zu range(s) fetched again: %lld bars added, %lld removed, %lld revised\n", repair.targets.size(),
              static_cast<long long>(report.changes.added), static_cast<long long>(report.changes.removed),
              static_cast<long long>(report.changes.revised));
  std::printf("repair: %lld now complete, %lld still suspicious%s%s\n", static_cast<long long>(outcome->complete),
              static_cast<long long>(outcome->suspicious),
              outcome->suspicious > 0 ? (" (tried again after " + FormatIsoUtc(outcome->next_try_ms) + ")").c_str() : "",
              waiting.empty() ? "" : ("; " + waiting).c_str());
  if (repair.over_budget > 0) {
    std::printf("repair: %lld range(s) left for a later run (--max-requests %lld)\n", static_cast<long long>(repair.over_budget),
                static_cast<long long>(flags.max_requests));
  }
  std::fflush(stdout);
  if (!flags.report_json.empty()) {
    if (auto written = WriteTextFile(flags.report_json, ReportToJson(report)); !written) ReportError(written.error());
  }
  if (!report.error.empty()) std::fprintf(stderr, "error: %s\n", report.error.c_str());
  return ExitCodeFor(report.outcome);
}

}  // namespace

void AddRepairCommand(CLI::App& app, CommandMain* run) {
  auto flags = std::make_shared<RepairFlags>();
  CLI::App* cmd = app.add_subcommand(
      "repair", "Fetch again the suspicious and failed ranges `barfill gaps` lists, and report what changed");
  AddGapSelectionFlags(cmd, &flags->selection);
  AddApiFlags(cmd, &flags->run);
  cmd->add_option("--max-requests", flags->max_requests, "Fetch at most the ranges this many requests can hold (default 1000)");
  cmd->add_option("--recheck-after", flags->recheck_after,
                  "A range still suspicious after a repair is fetched again this long after, doubling each time up to a week "
                  "(default 1h; e.g. 30m, 2d, 0s)");
  cmd->add_option("--report-json", flags->report_json, "Write the run's report as JSON to this file");
  cmd->add_flag("--no-progress", flags->no_progress, "No progress output while running");
  cmd->callback([flags, run] { *run = [flags] { return RunRepair(*flags); }; });
}

}  // namespace barfill::cli
