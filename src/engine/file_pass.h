// The flat-file part of a run: downloaders fetch day files to local spool files (resuming with
// Range), and the store's writers read each one (gunzip, CSV, checks) straight into one
// transaction: every ticker of the file and its ledger row, or nothing. Memory stays flat: a
// file streams through in blocks, and at most a few spooled files wait on disk.
#pragma once

#include <atomic>
#include <chrono>
#include <span>
#include <string>

#include "core/clock.h"
#include "engine/backfill.h"
#include "engine/file_plan.h"
#include "engine/plan.h"
#include "engine/report.h"
#include "fetch/retry_policy.h"
#include "flatfiles/s3_client.h"
#include "store/bar_store.h"

namespace barfill::engine {

struct FilePassOptions {
  flatfiles::S3Options s3;
  int downloaders = 4;  ///< files downloading at once (the vendor throttles more than a few)
  /// Day files a writer stores in one transaction, read side by side so that each ticker's days
  /// reach the bars table's primary key together (docs/flatfiles.md §8). A kill loses at most
  /// the files in flight: this many per writer.
  int files_per_transaction = 16;
  fetch::RetrySettings retry;
  fetch::RetryBudget* budget = nullptr;  ///< shared with the REST pass; null: a private one
  Clock* clock = nullptr;                ///< null: the real one
  const std::atomic<bool>* cancel = nullptr;
  RunObserver* observer = nullptr;
  std::chrono::milliseconds progress_interval{500};
  /// Where downloaded files wait for the writers; empty: a fresh directory under $TMPDIR (removed).
  std::string spool_dir;
};

/// Fetches and stores every file of `files`, adding its counts, times and failures to `report`;
/// an auth refusal, a database error or a spent retry budget stops it and sets report.outcome.
/// `writers` are the store's connections, one writer thread each.
void RunFilePass(const Plan& plan, const FilePlan& files, const FilePassOptions& options,
                 std::span<BarStore* const> writers, RunReport& report);

}  // namespace barfill::engine
