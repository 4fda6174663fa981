// What `barfill backfill` and `barfill demo` share: from flags to a finished run and its exit code.
#pragma once

#include <optional>
#include <string>

#include "cli/plan_flags.h"
#include "engine/plan.h"
#include "engine/report.h"
#include "engine/run_config.h"

namespace barfill::cli {

/// Everything a run needs, as the user gave it (flags and a parsed plan file). The environment
/// (BARFILL_DB, POLYGON_API_KEY, MASSIVE_API_KEY) is read by RunBackfillFromSettings.
struct BackfillSettings {
  std::optional<engine::Plan> plan_file;  ///< a parsed --plan, if any
  PlanFlags plan_flags;
  engine::RunSettings run;                ///< db_url / api_key empty: from the environment
  std::string report_json;
  bool no_progress = false;
};

/// Checks the settings, opens the store, plans, runs and reports. Returns the exit code.
/// Every bad input is one "error: ..." line and a distinct exit code, before the database or
/// the network is touched. `report_out`, when given, receives the run's report (left untouched
/// if the run never started).
int RunBackfillFromSettings(const BackfillSettings& settings, engine::RunReport* report_out = nullptr);

}  // namespace barfill::cli
