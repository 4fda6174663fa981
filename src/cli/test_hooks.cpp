#include "cli/test_hooks.h"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <string>

namespace barfill::cli {

namespace {

/// A write hook that raises `signal` at STEP of the N-th transaction writing bars, from a
/// "STEP[:N]" spec.
std::function<Status(WriteStep)> SignalAt(const std::string& text, int signal) {
  const size_t colon = text.find(':');
  const std::string step_name = text.substr(0, colon);
  const long nth = colon == std::string::npos ? 1 : std::strtol(text.c_str() + colon + 1, nullptr, 10);
  const WriteStep step = step_name == "begun"            ? WriteStep::kBegun
                         : step_name == "before_commit" ? WriteStep::kBeforeCommit
                                                        : WriteStep::kBarsHalfWritten;
  // Shared by every writer's connection, so "the N-th transaction" counts across them.
  auto transactions = std::make_shared<std::atomic<long>>(0);
  auto raised = std::make_shared<std::atomic<bool>>(false);  // a SIGSTOP pauses once
  return [step, nth, transactions, raised, signal](WriteStep at) -> Status {
    const long count = at == WriteStep::kBegun ? ++*transactions : transactions->load();
    if (at == step && count >= nth && (signal == SIGKILL || !raised->exchange(true))) raise(signal);
    return Ok();
  };
}

}  // namespace

CrashHooks CrashHooksFromEnvironment() {
  CrashHooks hooks;
  if (const char* spec = std::getenv("BARFILL_CRASH_AT"); spec != nullptr) {
    hooks.write_hook = SignalAt(spec, SIGKILL);
  } else if (const char* stop = std::getenv("BARFILL_STOP_AT"); stop != nullptr) {
    hooks.write_hook = SignalAt(stop, SIGSTOP);
  }
  if (const char* crash = std::getenv("BARFILL_CRASH_AFTER_COMMITS"); crash != nullptr) {
    const long after = std::strtol(crash, nullptr, 10);
    auto commits = std::make_shared<std::atomic<long>>(0);
    hooks.after_commit = [after, commits](size_t) {
      if (++*commits >= after) raise(SIGKILL);
    };
  }
  return hooks;
}

}  // namespace barfill::cli
