// The corporate-actions endpoints as the simulator speaks them (docs/corporate-actions.md): the new
// /stocks/v1/splits and /stocks/v1/dividends and the deprecated /v3/reference/splits and
// /v3/reference/dividends, all from one event table per ticker (action_table.h). Filters, sort,
// limit, the cursor in next_url and the bodies are plain functions, testable without sockets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "sim/aggs_api.h"
#include "sim/http_wire.h"
#include "sim/market_data.h"

namespace barfill::sim {

/// Which corporate-actions endpoint a path names.
enum class ActionsEndpoint { kSplitsV1, kDividendsV1, kSplitsV3, kDividendsV3 };

/// The endpoint of `path`, or nullopt when it is none of the four.
std::optional<ActionsEndpoint> MatchActionsPath(std::string_view path);

/// Data faults of the corporate-actions endpoints: modes for named tickers, not dice.
struct ActionFaults {
  /// A second row on the day of each of these tickers' latest split, with another ratio and id
  /// (the vendor's duplicates, polygon-io/issues#311); the aggregates do not apply it.
  std::vector<std::string> conflicting;
  /// These tickers' split ratios are written in exponent form (4e+00), as NPWZ's once were.
  std::vector<std::string> exponent;
  /// v3 leaves out each ticker's latest split, so v1 and v3 disagree.
  bool v3_disagrees = false;

  /// Parses "conflict=AAPL+MSFT,exponent=XYZ,v3disagree"; unknown names are errors.
  static Result<ActionFaults> Parse(std::string_view text);
};

/// One validated request.
struct ActionsCall {
  ActionsEndpoint endpoint = ActionsEndpoint::kSplitsV1;
  QueryParams params;  ///< the filters and sort as sent (or as the cursor carried them), no apiKey
  std::vector<std::string> tickers;  ///< from ticker / ticker.any_of: the simulator lists by ticker
  int64_t offset = 0;  ///< rows already served by earlier pages
  int64_t limit = 100;
};

/// Validates a request (letting a `cursor` stand for the original query). Errors carry
/// http_status 400 and say what to change.
Result<ActionsCall> ResolveActionsCall(ActionsEndpoint endpoint, const QueryParams& query);

/// Writes the page body of `call`: the rows of its tickers that pass its filters, in its sort
/// order, from its offset, at most its limit, and a next_url on `base_url` when more remain.
void WriteActionsBody(const ActionsCall& call, const Market& market, const ActionFaults& faults,
                      std::string_view base_url, std::string_view request_id, ByteBuffer* out);

}  // namespace barfill::sim
