// The flags of every command that calls the API (backfill, repair, actions sync): where it is, the key, and
// how fast and how it is asked.
#pragma once

#include "engine/run_config.h"

namespace CLI {
class App;
}

namespace barfill::cli {

/// Registers --db (sqlite:PATH or postgresql://..., default $BARFILL_DB or sqlite:barfill.db).
void AddDbFlag(CLI::App* cmd, std::string* db_url);

/// Registers --base-url, --api-key, --api-key-in-query, --rate, --concurrency, --ca-file,
/// --compression and --stall-timeout on `cmd`, into `run`.
void AddApiFlags(CLI::App* cmd, engine::RunSettings* run);

/// Registers --prefer, --compare-v3 and --refresh-stale (the corporate-actions sync), writing
/// the rule's text into `prefer` (checked later) and the rest into `settings.actions`.
void AddActionsFlags(CLI::App* cmd, engine::RunSettings& settings, std::string& prefer);

/// An error of engine::ResolveRunConfig, which names settings as an embedding program knows
/// them ("concurrency must be ..."), in the command line's terms ("--concurrency must be ...").
Error InFlagTerms(Error error);

}  // namespace barfill::cli
