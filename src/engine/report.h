// The end-of-run report: the seed's terms (records, jobs, API vs DB time, throughput) and more.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "barfill/run.h"
#include "core/series.h"
#include "fetch/chunk_fetcher.h"

namespace barfill::engine {

/// A chunk that ended failed, with its last error.
struct FailureRecord {
  Series series;
  TimeRange range;
  std::string error;  ///< names the chunk itself
  ErrorCode code = ErrorCode::kInternal;
  int attempts = 0;
};

using ::barfill::RunOutcome;
using ::barfill::RunOutcomeName;

struct RunReport {
  std::string plan_name;
  std::string store;  ///< "sqlite barfill.db", "postgresql host:5432/db"
  int concurrency = 0;
  int writers = 1;          ///< writer threads, each with its own database connection
  double rate_per_s = 0;  ///< configured request rate; 0 = unlimited

  // Work, in the seed's terms: a job is one series over the plan's range.
  int64_t records = 0;  ///< bars written in this run
  int64_t jobs_total = 0;
  int64_t jobs_succeeded = 0;
  int64_t jobs_failed = 0;
  int64_t jobs_degraded = 0;     ///< failed intraday series that got daily bars instead
  int64_t jobs_incomplete = 0;   ///< not finished because the run stopped early
  int64_t chunks_total = 0;
  int64_t chunks_done = 0;       ///< committed in this run with bars
  int64_t chunks_empty = 0;      ///< the API had no bars there (recorded, not an error)
  int64_t chunks_failed = 0;
  int64_t chunks_skipped = 0;    ///< done in an earlier run: no API call
  int64_t chunks_pending = 0;    ///< not attempted or not finished (run stopped early)

  // Time. api_s and db_s are wall time during which any fetch / the writer was busy; they
  // overlap because the pipeline overlaps them.
  double duration_s = 0;
  double api_s = 0;
  double db_s = 0;
  double fetcher_thread_s = 0;  ///< concurrency x duration: what the breakdown divides
  double backpressure_s = 0;    ///< fetchers waiting for the writer's queue to have room
  fetch::FetchStats fetch_stats;             ///< requests, retries, 429s, and per-stage thread time

  int64_t peak_rss_bytes = 0;
  std::vector<FailureRecord> failures;
  std::vector<std::string> degraded;  ///< series that fell back to daily bars
  std::string stop_reason;            ///< why the run ended early, empty if it did not
  std::string error;                  ///< the one "error:" line for a failed run, if any
  RunOutcome outcome = RunOutcome::kDone;

  double RecordsPerSecond() const { return duration_s > 0 ? static_cast<double>(records) / duration_s : 0; }
};

}  // namespace barfill::engine
