// The subcommands of the barfill executable. Each Add*Command registers its flags on `app`;
// when its subcommand is the one given, main calls the CommandMain it stored in `*run`.
#pragma once

#include <functional>

#include "core/result.h"

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

/// Exit codes (docs/design.md §11): the one place that maps errors to them.
inline constexpr int kExitOk = 0;
inline constexpr int kExitChunksFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitAuth = 3;
inline constexpr int kExitDatabase = 4;
inline constexpr int kExitNetwork = 5;
inline constexpr int kExitInterrupted = 130;

int ExitCodeFor(const Error& error);

/// Prints "error: <message>" on stderr and returns the error's exit code.
int ReportError(const Error& error);

}  // namespace barfill::cli
