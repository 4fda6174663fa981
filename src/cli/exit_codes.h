// Exit codes (docs/design.md §11): the one place that maps errors and run outcomes to them.
#pragma once

#include "core/result.h"
#include "engine/report.h"

namespace barfill::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitChunksFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitAuth = 3;
inline constexpr int kExitDatabase = 4;
inline constexpr int kExitNetwork = 5;
inline constexpr int kExitInterrupted = 130;

/// The exit code for a command that stopped on `error`.
int ExitCodeFor(const Error& error);

/// The exit code for a run that ended with `outcome`.
int ExitCodeFor(engine::RunOutcome outcome);

/// Prints "error: <message>" on stderr and returns the error's exit code.
int ReportError(const Error& error);

}  // namespace barfill::cli
