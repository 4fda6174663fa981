// The subcommands of the barfill executable. Each Add*Command registers its flags on `app`;
// when its subcommand is the one given, main calls the CommandMain it stored in `*run`.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace barfill::cli {

/// The body of a subcommand: returns the process exit code.
using CommandMain = std::function<int()>;

void AddBackfillCommand(CLI::App& app, CommandMain* run);
void AddStatusCommand(CLI::App& app, CommandMain* run);
void AddExportCommand(CLI::App& app, CommandMain* run);
void AddSimCommand(CLI::App& app, CommandMain* run);
void AddDemoCommand(CLI::App& app, CommandMain* run);
void AddMigrateCommand(CLI::App& app, CommandMain* run);
void AddGapsCommand(CLI::App& app, CommandMain* run);
void AddRepairCommand(CLI::App& app, CommandMain* run);
void AddActionsCommand(CLI::App& app, CommandMain* run);

}  // namespace barfill::cli
