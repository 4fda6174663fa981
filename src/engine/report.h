// The end-of-run report: the seed's terms (records, jobs, API vs DB time, throughput) and more.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "barfill/run.h"
#include "core/series.h"
#include "engine/revision.h"
#include "fetch/chunk_fetcher.h"
#include "store/actions_store.h"

namespace barfill::engine {

/// A range that failed, from the page that failed to its end, with its last error.
struct FailureRecord {
  Series series;
  TimeRange range;
  std::string error;  ///< names the series and range itself
  ErrorCode code = ErrorCode::kInternal;
  int attempts = 0;
};

using ::barfill::RunOutcome;
using ::barfill::RunOutcomeName;

/// What the flat-file pass did (all zero when no file was planned).
struct FilesReport {
  int64_t listed = 0;     ///< objects the listings showed for the plan's days
  int64_t unchanged = 0;  ///< loaded before, same version: skipped
  int64_t replaced = 0;   ///< loaded before, replaced by the vendor since: fetched again
  int64_t fetched = 0;    ///< downloaded and stored
  int64_t failed = 0;     ///< gave up on after their retries (listed in failures)
  int64_t refused = 0;    ///< 403/404 on GET: outside the plan's history or asset classes, or not there
  std::vector<std::string> missing;  ///< days that should have a file by now but have none
  int64_t bytes = 0;      ///< compressed bytes downloaded
  int64_t rows = 0;       ///< bars stored from files
  int64_t bad_rows = 0;   ///< rows that failed a check (never stored)
  int64_t resumes = 0;    ///< downloads continued with Range after a transport failure
  int64_t restarts = 0;   ///< downloads started over because the object was replaced meanwhile
  double download_s = 0;  ///< wall time with some download running
  double parse_s = 0;     ///< thread time in gunzip + CSV parsing
  double db_s = 0;        ///< wall time with some file's transaction writing
  double duration_s = 0;  ///< the pass, wall time
  std::vector<std::string> notes;  ///< one line per file worth a word: bad rows, restamped rows, refusals
  /// `--derive`: bars built from the minute files' rows, by timeframe ("5m" -> bars), in plan order.
  std::vector<std::pair<std::string, int64_t>> derived;
};

/// What the grouped-daily pass did (all zero when the planner did not choose it).
struct GroupedReport {
  int64_t days_planned = 0;         ///< market days the planner chose to request
  int64_t per_ticker_requests = 0;  ///< what per-ticker ranges would have cost those series
  int64_t days_stored = 0;          ///< answered and committed
  int64_t days_failed = 0;          ///< gave up on after their retries (REST fetches their days)
  int64_t requests = 0;             ///< HTTP requests sent, retries included
  int64_t retries = 0;
  int64_t bars = 0;                 ///< bars stored
  int64_t series_served = 0;        ///< series that got at least one day from it
  int64_t rejected = 0;             ///< ticker-days the validation rejected (failed in the ledger)
  int64_t skipped = 0;              ///< results whose ticker barfill cannot hold (never stored)
  double duration_s = 0;            ///< the pass, wall time
  std::vector<std::string> notes;   ///< failed days and rejected tickers, one line each
};

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
  int64_t series_up_to_date = 0;  ///< nothing to fetch: final in the ledger already (no API call)
  int64_t ranges_total = 0;      ///< coarse ranges this run set out to fetch
  int64_t ranges_done = 0;       ///< every page committed
  int64_t ranges_failed = 0;     ///< a page failed; the pages before it are stored
  int64_t ranges_pending = 0;    ///< not started or not finished (the run stopped early)
  int64_t pages = 0;             ///< pages committed (each with its ledger progress)
  /// The fewest requests any client could have made for the bars received: per series and
  /// part of its range, ceil(base aggregates / 50,000), at least one.
  int64_t requests_minimum = 0;

  // Time. api_s and db_s are wall time during which any fetch / the writer was busy; they
  // overlap because the pipeline overlaps them.
  double duration_s = 0;
  double api_s = 0;
  double db_s = 0;
  double fetcher_thread_s = 0;  ///< concurrency x duration: what the breakdown divides
  double backpressure_s = 0;    ///< fetchers waiting for the writer's queue to have room
  fetch::FetchStats fetch_stats;             ///< requests, retries, 429s, and per-stage thread time
  FilesReport files;
  GroupedReport grouped;

  // The corporate-actions sync before the bars (stock plans) or on its own (`barfill actions sync`).
  bool actions_synced = false;
  ActionsSyncReport actions;                       ///< per ticker, and the adjusted ranges marked stale
  fetch::FetchStats actions_fetch_stats;           ///< its requests (not in fetch_stats: those are the bars')
  std::vector<std::string> actions_v3_disagreements;  ///< where /v3/reference/splits differs from v1
  std::string actions_error;                       ///< why the sync failed (the bars still ran), if it did

  int64_t peak_rss_bytes = 0;
  std::vector<FailureRecord> failures;
  std::vector<std::string> degraded;  ///< series that fell back to daily bars
  /// Ranges fetched again to verify them (CoarseRange::verify), in plan order, and what changed.
  std::vector<VerifiedRange> verified;
  BarChanges changes;                 ///< summed over `verified`
  std::string stop_reason;            ///< why the run ended early, empty if it did not
  std::string error;                  ///< the one "error:" line for a failed run, if any
  RunOutcome outcome = RunOutcome::kDone;

  double RecordsPerSecond() const { return duration_s > 0 ? static_cast<double>(records) / duration_s : 0; }
  /// Every request of the run: bars and corporate actions.
  fetch::FetchStats AllFetchStats() const {
    fetch::FetchStats all = fetch_stats;
    all.Add(actions_fetch_stats);
    return all;
  }
  /// Requests sent for pages of bars, retries not counted.
  int64_t RequestsMade() const { return fetch_stats.requests - fetch_stats.retries; }
  /// requests_minimum / RequestsMade(): 1 when no client could have asked fewer (1 with none made).
  double RequestEfficiency() const {
    return RequestsMade() > 0 ? static_cast<double>(requests_minimum) / static_cast<double>(RequestsMade()) : 1;
  }
};

}  // namespace barfill::engine
