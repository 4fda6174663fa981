// The flags every command that talks to the API takes (database, URL, key, rate, HTTP), in one place.
#pragma once

#include "engine/run_config.h"

namespace CLI {
class App;
}

namespace barfill::cli {

/// Registers --db, --base-url, --api-key, --api-key-in-query, --rate, --concurrency, --ca-file,
/// --compression and --stall-timeout on `cmd`, writing into `settings`.
void AddFetchFlags(CLI::App* cmd, engine::RunSettings& settings);

/// Registers --prefer, --compare-v3 and --refresh-stale (the corporate-actions sync), writing
/// the rule's text into `prefer` (checked later) and the rest into `settings.actions`.
void AddActionsFlags(CLI::App* cmd, engine::RunSettings& settings, std::string& prefer);

}  // namespace barfill::cli
