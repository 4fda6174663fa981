// Ctrl-C and SIGTERM: the first one asks the run to stop (it finishes the chunks in flight and
// exits 130); a second one ends the process at once.
#pragma once

#include <atomic>

namespace barfill::cli {

/// Installs SIGINT/SIGTERM handlers that set and return the process-wide stop flag, to be given
/// to a run as its cancel token.
std::atomic<bool>& InstallStopSignals();

}  // namespace barfill::cli
