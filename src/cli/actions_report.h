// How the corporate-actions part of a run is shown: lines for people, a JSON object for scripts.
#pragma once

#include <string>
#include <vector>

#include "engine/report.h"

namespace barfill::cli {

/// "  Corporate actions: ..." and what was flagged, decided and marked stale; empty when no
/// sync ran and none failed.
std::string FormatActions(const engine::RunReport& report);

/// Flagged splits as a JSON array of {id, execution_date, status, reason}.
std::string FlaggedSplitsJson(const std::vector<ClassifiedSplit>& splits);

/// {"synced": bool, "tickers": [...], "stale": [...], "v3_disagreements": [...], "error": "..."}.
std::string ActionsToJson(const engine::RunReport& report);

}  // namespace barfill::cli
