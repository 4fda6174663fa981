// The aggregates response body, parsed with simdjson On-Demand straight into a BarBatch, and the
// one function that decides what an HTTP answer of the aggregates endpoint means.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/bar.h"
#include "core/result.h"

namespace barfill::polygon {

/// Readable bytes a body needs past its end to be parsed in place (simdjson's padding).
inline constexpr size_t kParsePadding = 64;

/// The `status` field of a body.
enum class PageStatus { kMissing, kOk, kDelayed, kError, kNotAuthorized, kNotFound, kOther };

/// One parsed page, minus its bars (those went into the caller's batch).
struct AggsPage {
  PageStatus status = PageStatus::kMissing;
  std::string status_text;     ///< as sent, for messages
  int64_t results_count = -1;  ///< `resultsCount`; -1 when absent
  int64_t count = -1;          ///< `count`; -1 when absent
  int64_t query_count = -1;    ///< `queryCount`: base aggregates the page read; -1 when absent
  size_t bars = 0;             ///< bars appended to the batch
  std::string next_url;        ///< empty when there is no next page
  std::string request_id;
  std::string message;         ///< `error` or `message` text of an error body
};

struct ParseOptions {
  /// Indices carry no `v`: accept its absence as volume 0. Otherwise a bar without `v` is invalid.
  bool volume_optional = false;
  /// When set, each result's `T` (the ticker, in grouped-daily and /prev results) is appended
  /// here row for row with the bars ("" for a result without one); a `T` that is not a string
  /// makes the body invalid. It must hold as many entries as the batch when parsing starts, and
  /// is restored with the batch on error. Unset, `T` is skipped unread.
  std::vector<std::string>* tickers = nullptr;
};

/// A reusable parser (one per thread): keeps simdjson's buffers between pages.
class AggsParser {
 public:
  AggsParser();
  ~AggsParser();
  AggsParser(const AggsParser&) = delete;
  AggsParser& operator=(const AggsParser&) = delete;

  /// Parses a body whose buffer holds at least `capacity` >= size + kParsePadding readable bytes, appending
  /// its bars to `out`. On error `out` is left as it was and the error is kBadResponse.
  /// Counts are checked: `resultsCount`/`count` must equal the number of results.
  Result<AggsPage> Parse(const char* data, size_t size, size_t capacity, BarBatch& out,
                         const ParseOptions& options = {});
  /// Same, for a body without padding (copied first).
  Result<AggsPage> Parse(std::string_view body, BarBatch& out, const ParseOptions& options = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// What one HTTP answer of the aggregates endpoint means. 200 with status OK/DELAYED: the page
/// (bars appended to `out`). Otherwise a classified error with the server's text and the HTTP
/// status: 401/403/NOT_AUTHORIZED -> kAuth; 400/404/NOT_FOUND -> kBadRequest; 429 ->
/// kRateLimited; 408/5xx -> kServerError; unparsable, truncated, miscounted -> kBadResponse.
Result<AggsPage> ReadAggsResponse(AggsParser& parser, int http_status, const char* data,
                                  size_t size, size_t capacity, BarBatch& out,
                                  const ParseOptions& options = {});

/// The error an HTTP status other than 200 means (the same for every endpoint): 401/403 ->
/// kAuth; 429 -> kRateLimited; 408/5xx -> kServerError; other 4xx -> kBadRequest; else
/// kBadResponse. `server_text` is the server's own words.
Error ErrorForHttpStatus(int http_status, const std::string& server_text);

/// A short printable excerpt of a body for error messages (control bytes escaped).
std::string BodyExcerpt(std::string_view body, size_t max_chars = 160);

}  // namespace barfill::polygon
