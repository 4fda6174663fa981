// Reading back what `barfill backfill --report-json` wrote, for tests that check the report
// against the database and the simulator.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace barfill::testing {

/// The keys of `--report-json` the end-to-end and chaos checks read; `parsed` is false when the file is missing
/// (e.g. the run was killed).
struct ReportJson {
  bool parsed = false;
  int64_t records = -1;
  int64_t ranges_total = -1, ranges_done = -1, ranges_failed = -1, ranges_pending = -1;
  int64_t series_up_to_date = -1, pages = -1;
  int64_t requests = -1, requests_made = -1, requests_minimum = -1, retried = -1, rate_limited = -1,
          server_errors = -1, transport_errors = -1, bad_responses = -1;
  int64_t jobs_succeeded = -1;
  /// The "files" section.
  int64_t files_listed = -1, files_fetched = -1, files_unchanged = -1, files_replaced = -1, files_failed = -1,
          files_refused = -1, files_rows = -1, files_resumes = -1, files_restarts = -1;
  std::vector<std::string> files_missing;
  /// The "grouped" section.
  int64_t grouped_days = -1, grouped_stored = -1, grouped_failed = -1, grouped_requests = -1, grouped_retried = -1,
          grouped_per_ticker_requests = -1, grouped_bars = -1, grouped_series = -1, grouped_rejected = -1;
  std::vector<std::string> grouped_notes;
  int64_t exit_code = -1;
  std::string stop_reason;
  std::vector<std::string> failure_errors;
};

ReportJson ReadReportJson(const std::string& path);

}  // namespace barfill::testing
