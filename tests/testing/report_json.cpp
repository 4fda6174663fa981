#include "testing/report_json.h"

#include <simdjson.h>

#include "testing/subprocess.h"

namespace barfill::testing {
namespace {

int64_t Int(simdjson::simdjson_result<simdjson::dom::element> e) {
  int64_t v = -1;
  return e.get(v) ? -1 : v;
}

/// The strings of an array into `out`.
void Strings(simdjson::simdjson_result<simdjson::dom::element> e, std::vector<std::string>& out) {
  simdjson::dom::array items;
  if (e.get(items)) return;
  for (simdjson::dom::element item : items) {
    std::string_view text;
    if (!item.get(text)) out.emplace_back(text);
  }
}

}  // namespace

ReportJson ReadReportJson(const std::string& path) {
  ReportJson r;
  const std::string text = ReadFileBytes(path);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (text.empty() || parser.parse(text).get(doc)) return r;
  r.parsed = true;
  r.records = Int(doc["records"]);
  r.ranges_total = Int(doc["ranges"]["total"]);
  r.ranges_done = Int(doc["ranges"]["done"]);
  r.ranges_failed = Int(doc["ranges"]["failed"]);
  r.ranges_pending = Int(doc["ranges"]["pending"]);
  r.series_up_to_date = Int(doc["series_up_to_date"]);
  r.pages = Int(doc["pages"]);
  r.requests = Int(doc["requests"]["total"]);
  r.requests_made = Int(doc["requests"]["made"]);
  r.requests_minimum = Int(doc["requests"]["minimum"]);
  r.retried = Int(doc["requests"]["retried"]);
  r.rate_limited = Int(doc["requests"]["rate_limited"]);
  r.server_errors = Int(doc["requests"]["server_errors"]);
  r.transport_errors = Int(doc["requests"]["transport_errors"]);
  r.bad_responses = Int(doc["requests"]["bad_responses"]);
  r.jobs_succeeded = Int(doc["jobs"]["succeeded"]);
  r.exit_code = Int(doc["exit_code"]);
  r.files_listed = Int(doc["files"]["listed"]);
  r.files_fetched = Int(doc["files"]["fetched"]);
  r.files_unchanged = Int(doc["files"]["unchanged"]);
  r.files_replaced = Int(doc["files"]["replaced"]);
  r.files_failed = Int(doc["files"]["failed"]);
  r.files_refused = Int(doc["files"]["refused"]);
  r.files_rows = Int(doc["files"]["rows"]);
  r.files_resumes = Int(doc["files"]["resumes"]);
  r.files_restarts = Int(doc["files"]["restarts"]);
  Strings(doc["files"]["missing"], r.files_missing);
  r.grouped_days = Int(doc["grouped"]["days"]);
  r.grouped_stored = Int(doc["grouped"]["stored"]);
  r.grouped_failed = Int(doc["grouped"]["failed"]);
  r.grouped_requests = Int(doc["grouped"]["requests"]);
  r.grouped_retried = Int(doc["grouped"]["retried"]);
  r.grouped_per_ticker_requests = Int(doc["grouped"]["per_ticker_requests"]);
  r.grouped_bars = Int(doc["grouped"]["bars"]);
  r.grouped_series = Int(doc["grouped"]["series"]);
  r.grouped_rejected = Int(doc["grouped"]["rejected"]);
  Strings(doc["grouped"]["notes"], r.grouped_notes);
  std::string_view reason;
  if (!doc["stop_reason"].get(reason)) r.stop_reason = std::string(reason);
  simdjson::dom::array failures;
  if (!doc["failures"].get(failures)) {
    for (simdjson::dom::element f : failures) {
      std::string_view error;
      if (!f["error"].get(error)) r.failure_errors.emplace_back(error);
    }
  }
  return r;
}

}  // namespace barfill::testing
