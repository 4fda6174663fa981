#include "cli/stop_signals.h"

#include <unistd.h>

#include <csignal>

#include "cli/exit_codes.h"

namespace barfill::cli {
namespace {

std::atomic<bool> g_stop_requested{false};

extern "C" void OnStopSignal(int) {
  // Second signal: give up at once; the database rolls back the open transaction.
  if (g_stop_requested.exchange(true)) _exit(kExitInterrupted);
  static const char kMessage[] = "\nbarfill: stopping: committing the pages already fetched (press Ctrl-C again to quit now)\n";
  const ssize_t ignored = write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  (void)ignored;
}

}  // namespace

std::atomic<bool>& InstallStopSignals() {
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  return g_stop_requested;
}

}  // namespace barfill::cli
