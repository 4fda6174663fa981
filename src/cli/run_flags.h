// The flags `backfill`, `enqueue` and `worker` share, declared once: the plan (what to fetch)
// and the fetch settings (how to ask the API and where to store), and their resolution into a
// checked RunConfig.
#pragma once

#include <memory>
#include <string>

#include "cli/backfill_run.h"
#include "core/result.h"
#include "engine/run_config.h"

namespace CLI {
class App;
}

namespace barfill::cli {

/// What the command line gives, with the raw text of flags that need checking.
struct RunFlags {
  BackfillSettings settings;
  std::string plan_path;
  std::string adjusted;
};

/// --tickers, --ticker-prefix, --exclude, --timeframes, --from, --to, --adjusted, --plan.
void AddPlanFlags(CLI::App* cmd, RunFlags& flags);
/// --db, --base-url, --api-key, --api-key-in-query, --rate, --concurrency, --ca-file,
/// --compression, --stall-timeout, --no-progress.
void AddFetchFlags(CLI::App* cmd, RunFlags& flags);

/// --adjusted true, false or both into the plan flags (empty: the plan's or the default).
Status ApplyAdjustedFlag(const std::string& text, PlanFlags& plan_flags);

/// Checks --adjusted and reads --plan into the settings; the first bad input is the error.
Result<BackfillSettings> SettingsFromFlags(const RunFlags& flags);

/// The settings checked and resolved (the environment read for the database, the API key and
/// the S3 keys); errors speak of flags. Without `with_plan` (a worker takes its plan from the
/// queue) no plan flag is read.
Result<engine::RunConfig> ResolveSettings(const BackfillSettings& settings, bool with_plan = true);

}  // namespace barfill::cli
