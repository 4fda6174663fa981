#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/commands.h"

namespace barfill::cli {

void AddStatusCommand(CLI::App& app, CommandMain* run) {
  CLI::App* cmd = app.add_subcommand("status", "(not built yet)");
  cmd->callback([run] {
    *run = [] {
      std::fprintf(stderr, "error: barfill status is not built yet\n");
      return kExitChunksFailed;
    };
  });
}

}  // namespace barfill::cli
