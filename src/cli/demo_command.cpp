#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "cli/backfill_run.h"
#include "cli/commands.h"
#include "cli/embedded_plans.h"
#include "cli/exit_codes.h"
#include "cli/report_format.h"
#include "sim/sim_server.h"
#include "store/bar_store.h"
#include "verify/ground_truth_diff.h"

namespace barfill::cli {
namespace {

constexpr const char* kDemoKey = "demo-key";
constexpr uint64_t kDemoSeed = 1;

struct DemoFlags {
  std::string db = "sqlite:barfill-demo.db";
  std::string rate = "paid";
  std::string faults;
  std::string report_json;
  std::optional<int> concurrency;
  bool keep = false;
  bool no_progress = false;
};

// Removes an earlier demo database so the demo shows a full run (unless --keep).
void RemoveSqliteFiles(const StoreUrl& url) {
  if (url.kind != StoreKind::kSqlite) return;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ignored;
    std::filesystem::remove(url.sqlite_path + suffix, ignored);
  }
}

// Compares a few stored series with the simulator's ground truth, bar for bar: the demo's proof.
// A store that does not open or a single differing bar fails the demo.
Status VerifySample(const std::string& db_url, const engine::Plan& plan) {
  auto store = OpenStore(db_url, StoreOptions::ForReading());
  if (!store) return Fail(store.error());
  int64_t checked = 0;
  int64_t mismatched = 0;
  std::string first_difference;
  const std::vector<std::pair<std::string, std::string>> samples = {
      {"AAPL", "1m"}, {"X:BTCUSD", "5m"}, {"BRK.B", "1h"}, {"X:SOLUSD", "1d"}};
  for (const auto& [symbol, tf_text] : samples) {
    const Series series{*Ticker::Parse(symbol), *Timeframe::Parse(tf_text), plan.adjusted};
    const MarketZone zone = series.ticker.zone();
    const TimeRange range = SnapToBuckets(series.timeframe, zone, zone.DaysToRange(plan.from, plan.to));
    const verify::SeriesDiff diff = verify::DiffWithGroundTruth(**store, sim::Market{kDemoSeed}, series, range);
    checked += diff.expected;
    if (!diff.equal()) {
      mismatched += std::max<int64_t>(1, diff.differing);
      if (first_difference.empty()) first_difference = diff.series + ": " + diff.first_difference;
    }
  }
  if (mismatched > 0) {
    return Fail(ErrorCode::kInvalidData, "verification failed: " + std::to_string(mismatched) +
                                             " bars of the sample series differ from the simulator's ground truth (first: " +
                                             first_difference + ")");
  }
  std::printf("  Verified:        %lld bars of 4 sample series equal the simulator's ground truth, bar for bar\n",
              static_cast<long long>(checked));
  return Ok();
}

int RunDemo(const DemoFlags& flags) {
  sim::SimOptions sim_options;
  sim_options.seed = kDemoSeed;
  sim_options.api_key = kDemoKey;
  if (!flags.faults.empty()) {
    auto faults = sim::FaultRates::Parse(flags.faults);
    if (!faults) return ReportError(faults.error());
    sim_options.faults = *faults;
  }
  auto plan = engine::ParsePlanToml(kBaselinePlanToml, "plans/phase2-baseline.toml");
  if (!plan) return ReportError(plan.error());
  auto db_url = ParseStoreUrl(flags.db);
  if (!db_url) return ReportError(db_url.error());
  auto server = sim::SimServer::Start(sim_options);
  if (!server) return ReportError(server.error());
  if (!flags.keep) RemoveSqliteFiles(*db_url);

  std::printf("barfill demo: the seed's phase-2 baseline (%zu tickers x %zu timeframes, %s..%s)\n",
              plan->tickers.size(), plan->timeframes.size(), plan->from.ToString().c_str(), plan->to.ToString().c_str());
  std::printf("  against the built-in Polygon simulator at %s (rate %s), into %s\n\n", (*server)->BaseUrl().c_str(),
              flags.rate.c_str(), flags.db.c_str());
  std::fflush(stdout);

  BackfillSettings settings;
  settings.plan_file = *plan;
  settings.run.db_url = flags.db;
  settings.run.base_url = (*server)->BaseUrl();
  settings.run.api_key = kDemoKey;
  settings.run.rate = flags.rate;
  settings.run.concurrency = flags.concurrency;
  settings.report_json = flags.report_json;
  settings.no_progress = flags.no_progress;
  engine::RunReport report;
  const int code = RunBackfillFromSettings(settings, &report);
  const sim::SimStats stats = (*server)->Stats();
  (*server)->Stop();

  std::printf("\n  Simulator:       served %lld requests, %lld bars\n", static_cast<long long>(stats.requests),
              static_cast<long long>(stats.bars_served));
  const Status verified = code == kExitOk ? VerifySample(flags.db, *plan) : Ok();
  std::printf("\n  The seed's run:  186,506 records in 208.89 s (892 records/s), 50/125 jobs (40%%), DB 1001 us per record\n");
  std::printf("  This run:        %s records in %.2f s (%s records/s), %lld/%lld jobs, DB %.2f us per record\n",
              Thousands(report.records).c_str(), report.duration_s,
              Thousands(static_cast<int64_t>(report.RecordsPerSecond())).c_str(),
              static_cast<long long>(report.jobs_succeeded), static_cast<long long>(report.jobs_total),
              report.records > 0 ? 1e6 * report.db_s / static_cast<double>(report.records) : 0.0);
  std::printf("\nLook at the data:\n  build/barfill status --db %s\n  build/barfill export --db %s --ticker AAPL --timeframe 1d | head\n",
              flags.db.c_str(), flags.db.c_str());
  std::printf("Run it again with --keep: every series is already complete, so no data request is made.\n");
  if (!verified) return ReportError(verified.error());
  return code;
}

}  // namespace

void AddDemoCommand(CLI::App& app, CommandMain* run) {
  auto flags = std::make_shared<DemoFlags>();
  CLI::App* cmd = app.add_subcommand("demo", "The seed's baseline against the built-in simulator, into embedded SQLite");
  cmd->add_option("--db", flags->db, "Where to store the bars (default sqlite:barfill-demo.db, recreated)");
  cmd->add_option("--rate", flags->rate, "Request rate (default paid = 100/s)");
  cmd->add_option("--concurrency", flags->concurrency, "Requests in flight (default 8)");
  cmd->add_option("--faults", flags->faults, "Let the simulator inject faults, e.g. reset=0.02,http429=0.02,http5xx=0.02");
  cmd->add_option("--report-json", flags->report_json, "Write the final report as JSON to this file");
  cmd->add_flag("--keep", flags->keep, "Keep an existing demo database (the run resumes and skips what is complete)");
  cmd->add_flag("--no-progress", flags->no_progress, "No progress output while running");
  cmd->callback([flags, run] { *run = [flags] { return RunDemo(*flags); }; });
}

}  // namespace barfill::cli
