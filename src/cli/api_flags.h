// The flags of every command that calls the API (backfill, repair): where it is, the key, and
// how fast and how it is asked.
#pragma once

#include "engine/run_config.h"

namespace CLI {
class App;
}

namespace barfill::cli {

/// Registers --base-url, --api-key, --api-key-in-query, --rate, --concurrency, --ca-file,
/// --compression and --stall-timeout on `cmd`, into `run`.
void AddApiFlags(CLI::App* cmd, engine::RunSettings* run);

/// An error of engine::ResolveRunConfig, which names settings as an embedding program knows
/// them ("concurrency must be ..."), in the command line's terms ("--concurrency must be ...").
Error InFlagTerms(Error error);

}  // namespace barfill::cli
