#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/commands.h"

namespace barfill::cli {

void AddDemoCommand(CLI::App& app, CommandMain* run) {
  CLI::App* cmd = app.add_subcommand("demo", "(not built yet)");
  cmd->callback([run] {
    *run = [] {
      std::fprintf(stderr, "error: barfill demo is not built yet\n");
      return kExitChunksFailed;
    };
  });
}

}  // namespace barfill::cli
