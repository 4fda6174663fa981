// What `barfill backfill` and `barfill demo` share: from settings to a finished run.
#pragma once

#include <optional>
#include <string>

#include "engine/plan.h"
#include "engine/report.h"

namespace barfill::cli {

inline constexpr int kUnsetConcurrency = -1;

/// Everything a run needs, as the user gave it (flags, plan file, environment).
struct BackfillSettings {
  std::optional<Plan> plan_file;  ///< a parsed --plan, if any
  PlanFlags plan_flags;
  std::string db;                 ///< --db (empty: plan file, BARFILL_DB, default)
  std::string base_url;           ///< --base-url (empty: plan file or the default)
  std::string api_key;            ///< --api-key (empty: POLYGON_API_KEY / MASSIVE_API_KEY)
  bool api_key_in_query = false;
  std::string rate;               ///< --rate (empty: plan file or "paid")
  int concurrency = kUnsetConcurrency;  ///< unset: plan file or the default
  std::string report_json;
  std::string ca_file;
  std::string compression = "auto";
  double stall_timeout_s = 0;     ///< 0: the asset profile's (20-30 s)
  int writers = 0;                ///< 0: 2 for PostgreSQL, 1 for SQLite  ///< gzip: on, off, or auto (off for a loopback host)
  bool no_progress = false;
  bool dry_run = false;
  bool fallback_daily = false;
};

/// Validates the settings, opens the store, plans, runs and reports. Returns the exit code.
/// Every bad input is one "error: ..." line and a distinct exit code, before the database or
/// the network is touched.
/// `report_out`, when given, receives the run's report (left untouched if the run never started).
int RunBackfillFromSettings(const BackfillSettings& settings, RunReport* report_out = nullptr);

}  // namespace barfill::cli
