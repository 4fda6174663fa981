#include "testing/report_json.h"

#include <simdjson.h>

#include "testing/subprocess.h"

namespace barfill::testing {
namespace {

int64_t Int(simdjson::dom::element e) {
  int64_t v = -1;
  return e.get(v) ? -1 : v;
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
  r.chunks_total = Int(doc["chunks"]["total"]);
  r.chunks_done = Int(doc["chunks"]["done"]);
  r.chunks_empty = Int(doc["chunks"]["empty"]);
  r.chunks_failed = Int(doc["chunks"]["failed"]);
  r.chunks_skipped = Int(doc["chunks"]["skipped"]);
  r.chunks_pending = Int(doc["chunks"]["pending"]);
  r.requests = Int(doc["requests"]["total"]);
  r.retried = Int(doc["requests"]["retried"]);
  r.rate_limited = Int(doc["requests"]["rate_limited"]);
  r.server_errors = Int(doc["requests"]["server_errors"]);
  r.transport_errors = Int(doc["requests"]["transport_errors"]);
  r.bad_responses = Int(doc["requests"]["bad_responses"]);
  r.jobs_succeeded = Int(doc["jobs"]["succeeded"]);
  r.exit_code = Int(doc["exit_code"]);
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
