// The test seams of the barfill executable, in one place. The crash-recovery tests kill the
// process at exact points of a write (the worker tests pause it there); they ask for it through
// the environment, which no production run sets:
//   BARFILL_CRASH_AT=STEP[:N]        SIGKILL at STEP (begun, bars_half_written, before_commit)
//                                    of the N-th transaction that writes bars (default 1)
//   BARFILL_CRASH_AFTER_COMMITS=N    SIGKILL right after the N-th commit
//   BARFILL_STOP_AT=STEP[:N]         SIGSTOP (the process pauses until SIGCONT) at STEP of the
//                                    N-th transaction that writes bars, once
#pragma once

#include <cstddef>
#include <functional>

#include "store/bar_store.h"

namespace barfill::cli {

struct CrashHooks {
  std::function<Status(WriteStep)> write_hook;       ///< for StoreOptions::write_hook; empty if unset
  std::function<void(size_t chunks)> after_commit;   ///< for the run's observer; empty if unset
};

/// Reads the variables above; the hooks are empty when none is set.
CrashHooks CrashHooksFromEnvironment();

}  // namespace barfill::cli
