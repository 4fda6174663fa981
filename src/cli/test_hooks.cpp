#include "cli/test_hooks.h"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <string>

namespace barfill::cli {

CrashHooks CrashHooksFromEnvironment() {
  CrashHooks hooks;
  if (const char* spec = std::getenv("BARFILL_CRASH_AT"); spec != nullptr) {
    const std::string text(spec);
    const size_t colon = text.find(':');
    const std::string step_name = text.substr(0, colon);
    const long nth = colon == std::string::npos ? 1 : std::strtol(text.c_str() + colon + 1, nullptr, 10);
    const WriteStep step = step_name == "begun"            ? WriteStep::kBegun
                           : step_name == "before_commit" ? WriteStep::kBeforeCommit
                                                          : WriteStep::kBarsHalfWritten;
    // Shared by every writer's connection, so "the N-th transaction" counts across them.
    auto transactions = std::make_shared<std::atomic<long>>(0);
    hooks.write_hook = [step, nth, transactions](WriteStep at) -> Status {
      const long count = at == WriteStep::kBegun ? ++*transactions : transactions->load();
      if (at == step && count >= nth) raise(SIGKILL);
      return Ok();
    };
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
