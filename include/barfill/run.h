// What a running backfill tells its caller: progress snapshots, warnings, commits, and how it
// ended. Shared by the command line and by programs that embed barfill.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "barfill/export.h"

namespace barfill {

/// How a run ended, chosen by what the caller should do next.
enum class RunOutcome {
  kDone,          ///< everything planned is stored (or known to be empty)
  kRangesFailed,  ///< some work failed (listed); a re-run retries it
  kRefused,       ///< the API refused the key or the plan
  kDatabase,      ///< the database failed; resumable once it is fixed
  kNetwork,       ///< the network gave up; resumable later
  kInterrupted,   ///< cancelled; resumable
};

/// "done", "ranges_failed", "refused", "database", "network", "interrupted".
inline const char* RunOutcomeName(RunOutcome outcome) {
  switch (outcome) {
    case RunOutcome::kDone: return "done";
    case RunOutcome::kRangesFailed: return "ranges_failed";
    case RunOutcome::kRefused: return "refused";
    case RunOutcome::kDatabase: return "database";
    case RunOutcome::kNetwork: return "network";
    case RunOutcome::kInterrupted: return "interrupted";
  }
  return "unknown";
}

/// A snapshot of a run's counters.
struct RunProgress {
  std::string phase;  ///< "flat files", "grouped daily" (ranges count market days), "backfill", "fallback to daily bars"
  double elapsed_s = 0;
  int64_t series_total = 0;
  int64_t series_finished = 0;
  int64_t ranges_total = 0;    ///< ranges this run fetches (each paged by the API)
  int64_t ranges_settled = 0;  ///< every page committed, or failed
  int64_t ranges_failed = 0;
  int64_t pages = 0;           ///< pages committed
  int64_t rows = 0;            ///< bars committed
  int64_t requests = 0;        ///< HTTP requests sent
  int64_t retries = 0;
  int64_t rate_limited = 0;    ///< 429 answers
  // The flat-file phase counts files and bytes instead of ranges and pages.
  int64_t files_total = 0;     ///< day files to load (0 outside the flat-file phase)
  int64_t files_settled = 0;   ///< stored, failed or refused
  int64_t files_failed = 0;
  int64_t bytes = 0;           ///< compressed bytes downloaded
  bool final = false;          ///< the last snapshot of its phase
};

/// Told what a run does while it runs. Every method may be called from any of the run's
/// threads, so implementations must be thread-safe; none may block for long.
class BARFILL_API RunObserver {
 public:
  virtual ~RunObserver() = default;
  /// About every progress interval, and once more with `final` set at the end of each phase.
  virtual void OnProgress(const RunProgress& progress) {}
  /// A line the user should read (a capped Retry-After, DELAYED data, ...); may repeat.
  virtual void OnWarning(const std::string& line) {}
  /// `pages` pages were just made durable (their bars and ledger progress committed together).
  virtual void OnCommitted(size_t pages) {}
};

}  // namespace barfill
