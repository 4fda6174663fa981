// The corporate-actions wire format: request URLs of /stocks/v1/splits and /stocks/v1/dividends
// (and the deprecated /v3/reference/splits), the next_url guard, and the parser of their bodies.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/corporate_actions.h"
#include "core/result.h"
#include "polygon/aggs_request.h"

namespace barfill::polygon {

enum class ActionsKind { kSplits, kDividends };

/// The v1 endpoint's largest page ("maximum allowed limit is 5000").
inline constexpr int kMaxActionsLimit = 5000;
/// Tickers per request (ticker.any_of), keeping URLs short.
inline constexpr size_t kTickersPerActionsRequest = 100;

/// "/stocks/v1/splits" or "/stocks/v1/dividends".
std::string_view ActionsPath(ActionsKind kind);

/// The first page of the v1 endpoint for `tickers` (at most kTickersPerActionsRequest):
/// ticker.any_of, the largest limit, sorted by ticker then date. No credentials.
Result<std::string> BuildActionsUrl(std::string_view base_url, ActionsKind kind, const std::vector<std::string>& tickers);

/// The first page of the deprecated /v3/reference/splits for one ticker (its largest limit, 1000).
Result<std::string> BuildV3SplitsUrl(std::string_view base_url, std::string_view ticker);

/// Accepts a next_url only on `base_origin`, on the same endpoint path as `previous_url`, and not
/// equal to it (a loop). Errors are kBadResponse and name the offending part, never a key.
Status CheckActionsNextUrl(std::string_view next_url, const Origin& base_origin, std::string_view previous_url);

/// One parsed page.
struct ActionsPage {
  std::vector<SplitRecord> splits;
  std::vector<DividendRecord> dividends;
  std::string next_url;  ///< empty on the last page
};

/// What one HTTP answer of a corporate-actions endpoint means: 200 with status OK: the page;
/// otherwise a classified error (see ErrorForHttpStatus). A body that is not the expected JSON is
/// kBadResponse (retried); a row without id, ticker or date is kInvalidData. `request_id` may be
/// a string or a number. Numbers in exponent form are kept and marked.
Result<ActionsPage> ReadActionsResponse(ActionsKind kind, int http_status, std::string_view body);

}  // namespace barfill::polygon
