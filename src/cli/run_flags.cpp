#include "cli/run_flags.h"

#include <CLI/CLI.hpp>

#include "cli/api_flags.h"
#include "cli/cli_common.h"
#include "engine/plan.h"

namespace barfill::cli {
void AddPlanFlags(CLI::App* cmd, RunFlags& flags) {
  PlanFlags& p = flags.settings.plan_flags;
  cmd->add_option("--tickers", p.tickers,
                  "Comma-separated tickers: AAPL,BRK.B,X:BTCUSD,C:EURUSD,I:SPX; @FILE (one or more per line); or all, "
                  "all:crypto, all:forex, all:options (every ticker of the flat files)");
  cmd->add_option("--ticker-prefix", p.ticker_prefixes, "With --tickers all: only tickers starting with these (A,B,...)");
  cmd->add_option("--exclude", p.exclude, "With --tickers all: tickers left out (comma-separated)");
  cmd->add_option("--timeframes", p.timeframes, "Comma-separated bar sizes: 1m,5m,15m,1h,4h,1d,1w,1mo");
  cmd->add_option("--from", p.from, "First day (YYYY-MM-DD, inclusive, in the market's zone)");
  cmd->add_option("--to", p.to, "Last day (YYYY-MM-DD, inclusive)");
  cmd->add_option("--adjusted", flags.adjusted,
                  "Split-adjusted bars: true (default), false, or both (the raw series as well, for read-time adjustment)");
  cmd->add_option("--plan", flags.plan_path, "TOML plan file (flags override its values)");
}

void AddFetchFlags(CLI::App* cmd, RunFlags& flags) {
  BackfillSettings& s = flags.settings;
  AddDbFlag(cmd, &s.run.db_url);
  AddApiFlags(cmd, &s.run);
  cmd->add_flag("--no-progress", s.no_progress, "No progress output while running");
}

Status ApplyAdjustedFlag(const std::string& text, PlanFlags& plan_flags) {
  if (text.empty()) return Ok();
  if (text != "true" && text != "false" && text != "both") {
    return Fail(ErrorCode::kUsage, "--adjusted must be true, false or both (got '" + text + "')");
  }
  plan_flags.adjusted = text != "false";
  plan_flags.unadjusted_too = text == "both";
  return Ok();
}

Result<BackfillSettings> SettingsFromFlags(const RunFlags& flags) {
  BackfillSettings settings = flags.settings;
  BARFILL_TRY(ApplyAdjustedFlag(flags.adjusted, settings.plan_flags));
  if (!flags.plan_path.empty()) {
    auto plan = engine::LoadPlanFile(flags.plan_path);
    if (!plan) return Fail(plan.error());
    settings.plan_file = std::move(*plan);
  }
  return settings;
}

Result<engine::RunConfig> ResolveSettings(const BackfillSettings& settings, bool with_plan) {
  Result<engine::Plan> plan = engine::Plan{};
  if (with_plan) plan = ApplyPlanFlags(settings.plan_file, settings.plan_flags);
  if (!plan) return Fail(plan.error());
  engine::RunSettings run = settings.run;
  run.db_url = ResolveDbUrl(!run.db_url.empty() ? run.db_url : plan->db.value_or(""));
  run.api_key = ResolveApiKey(run.api_key).value_or("");
  if (run.files_access_key.empty()) run.files_access_key = ResolveS3AccessKey().value_or("");
  if (run.files_secret_key.empty()) run.files_secret_key = ResolveS3SecretKey().value_or("");
  auto config = engine::ResolveRunConfig(std::move(*plan), run);
  if (!config) return Fail(InFlagTerms(config.error()));
  return config;
}

}  // namespace barfill::cli
