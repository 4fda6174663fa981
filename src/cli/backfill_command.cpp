#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/commands.h"

namespace barfill::cli {

void AddBackfillCommand(CLI::App& app, CommandMain* run) {
  CLI::App* cmd = app.add_subcommand("backfill", "(not built yet)");
  cmd->callback([run] {
    *run = [] {
      std::fprintf(stderr, "error: barfill backfill is not built yet\n");
      return kExitChunksFailed;
    };
  });
}

}  // namespace barfill::cli
