// Backfilling from a program: what to fetch (PlanSpec), how (BackfillOptions), and what came of
// it (BackfillSummary). The same runner as `barfill backfill`: resumable, idempotent, one shared
// rate limiter, bars and progress committed together.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "barfill/export.h"
#include "barfill/result.h"
#include "barfill/run.h"

namespace barfill {

/// What to backfill: every ticker x every timeframe over whole calendar days.
struct PlanSpec {
  std::vector<std::string> tickers;     ///< "AAPL", "BRK.B", "X:BTCUSD", "C:EURUSD", "I:SPX"
  std::vector<std::string> timeframes;  ///< "1m", "5m", "1h", "1d", "1w", "1mo", ...
  std::string from;  ///< first day, YYYY-MM-DD, or "today"/"yesterday" (UTC); in the market's zone
  std::string to;    ///< last day, inclusive
  bool adjusted = true;  ///< split-adjusted bars (the API's default)
};

/// How to backfill. Empty strings and unset values take the defaults shown.
struct BackfillOptions {
  std::string db = "sqlite:barfill.db";  ///< or "postgresql://user@host/db", or a libpq conninfo
  std::string api_key;                   ///< required; never printed or logged
  std::string base_url;                  ///< default https://api.polygon.io
  bool api_key_in_query = false;         ///< ?apiKey= instead of an Authorization header
  std::string rate;                      ///< default "paid" (100/s); "free" (5/min), "N/min", "N/s"
  std::optional<int> concurrency;        ///< requests in flight; default 8
  std::optional<int> writers;            ///< database sessions writing; default 2 (PostgreSQL) or 1 (SQLite)
  std::string compression = "auto";      ///< gzip: on, off, auto (off for a server on this machine)
  double stall_timeout_s = 0;            ///< how long a response may stall; 0: per asset class
  std::string ca_file;                   ///< extra CA bundle for TLS
  bool fallback_daily = false;           ///< failing intraday series get daily bars (reported)

  RunObserver* observer = nullptr;                 ///< told of progress, warnings, commits
  std::chrono::milliseconds progress_interval{1000};
  const std::atomic<bool>* cancel = nullptr;       ///< set it to stop (outcome kInterrupted)
};

/// A range that failed from `from` on, with its last error (the API key never appears in it).
struct BackfillFailure {
  std::string ticker;
  std::string timeframe;
  std::string from;  ///< ISO 8601 UTC
  std::string to;
  std::string error;
};

/// What a backfill did.
struct BackfillSummary {
  RunOutcome outcome = RunOutcome::kDone;
  std::string error;  ///< one line when the outcome is not kDone
  int64_t bars_written = 0;
  int64_t series_total = 0;
  int64_t series_succeeded = 0;
  int64_t series_failed = 0;
  int64_t series_up_to_date = 0;  ///< complete already: no API call
  int64_t ranges_total = 0;       ///< ranges fetched page by page
  int64_t ranges_done = 0;
  int64_t ranges_failed = 0;
  int64_t pages = 0;              ///< pages committed, each with its progress
  int64_t requests = 0;           ///< requests made for pages (retries not counted)
  int64_t requests_minimum = 0;   ///< the fewest any client could have made for the bars received
  double duration_s = 0;
  std::vector<BackfillFailure> failures;
};

/// Fetches what `plan` asks for and the database does not have yet. An error (a bad plan or
/// option, a database that cannot be opened or migrated) means nothing was fetched; once the
/// run starts, how it ended is the summary's outcome.
BARFILL_API Result<BackfillSummary> Backfill(const PlanSpec& plan, const BackfillOptions& options);

/// What Backfill would do, without fetching: series, work left, requests, time at the rate.
/// Needs no API key; opens (and creates) the database to read its ledger.
BARFILL_API Result<std::string> DescribeBackfill(const PlanSpec& plan, const BackfillOptions& options);

}  // namespace barfill
