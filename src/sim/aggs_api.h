// The Polygon aggregates contract as the simulator speaks it (docs/api-contract.md §2-§5, §10): the
// route, its parameters and cursor, the texts of its errors and the exact shape of its bodies.
// No sockets here, so all of it is testable as plain functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/market_time.h"
#include "core/result.h"
#include "core/ticker.h"
#include "core/timeframe.h"
#include "sim/http_wire.h"
#include "sim/market_data.h"

namespace barfill::sim {

/// Polygon's `limit` when none is given.
inline constexpr int64_t kDefaultLimit = 5000;
/// Instants past this (2200-01-01) hold no bars; it keeps calendar arithmetic in range.
inline constexpr int64_t kLastSimulatedMs = 7258118400000;

// The real texts (docs/api-contract.md §5 and tests/fixtures/polygon).
inline constexpr std::string_view kTextNoApiKey = "API Key was not provided";
inline constexpr std::string_view kTextUnknownApiKey = "Unknown API Key";
inline constexpr std::string_view kTextBadFrom =
    "Could not parse the time parameter: 'from'. Use YYYY-MM-DD or Unix MS Timestamps";
inline constexpr std::string_view kTextBadTo =
    "Could not parse the time parameter: 'to'. Use YYYY-MM-DD or Unix MS Timestamps";
inline constexpr std::string_view kTextToBeforeFrom =
    "The parameter 'to' cannot be a time that occurs before 'from'";
inline constexpr std::string_view kTextRateLimited =
    "You've exceeded the maximum requests per minute, please wait or upgrade your subscription "
    "to continue. https://polygon.io/pricing";
inline constexpr std::string_view kTextNotAuthorized =
    "Your plan doesn't include this data timeframe. Please upgrade your plan at "
    "https://polygon.io/pricing";
inline constexpr std::string_view kTextNotFound = "The specified resource was not found";

/// The path segments of /v2/aggs/ticker/{ticker}/range/{multiplier}/{timespan}/{from}/{to},
/// exactly as sent (still percent-encoded), so that next_url can repeat them.
struct AggsPath {
  std::string ticker;
  std::string multiplier;
  std::string timespan;
  std::string from;
  std::string to;
};

/// Splits an aggregates path; nullopt when `path` is not one (a 404).
std::optional<AggsPath> MatchAggsPath(std::string_view path);

/// A validated aggregates request.
struct AggsCall {
  AggsPath path;
  std::string ticker_text;       ///< decoded; echoed as "ticker" in the body
  std::optional<Ticker> ticker;  ///< nullopt for names no market lists (lower case, ...): empty answers
  Timeframe timeframe;
  TimeRange range;               ///< from snapped back and to snapped forward to whole buckets
  bool adjusted = true;
  bool descending = false;
  int64_t limit = kDefaultLimit; ///< base aggregates, capped at 50000
};

using QueryParams = std::vector<std::pair<std::string, std::string>>;

/// Validates the path and the query, letting a `cursor` override limit/sort/adjusted. Errors
/// carry http_status 400 and Polygon's text.
Result<AggsCall> ResolveAggsCall(const AggsPath& path, const QueryParams& query);

/// base64url (no padding) of "limit=N&sort=asc", plus "&adjusted=false" when unadjusted.
std::string EncodeCursor(const AggsCall& call);

/// Start of the bar after the one starting at `t`: t + one bar for s/m/h, the next calendar
/// bucket for days and up.
int64_t NextBarStart(const AggsCall& call, int64_t t);

/// `base_url` + the same path with `from` = next_from_ms and `to` as sent, + "?cursor=...".
std::string NextUrl(std::string_view base_url, const AggsCall& call, int64_t next_from_ms);

/// Writes `value` exactly as std::to_chars(value) would (shortest round-trip), but several times
/// faster for the decimals bars are made of. Needs 32 bytes at `out`; returns the end.
char* WriteJsonNumber(char* out, double value);

/// How a 200 body is dressed.
struct BodyStyle {
  bool delayed = false;           ///< "status":"DELAYED" instead of "OK"
  bool exponent_volumes = false;  ///< volumes like 1.029145e+06
};

/// Writes the 200 body with the real key order: ticker, queryCount, resultsCount, adjusted,
/// results, status, request_id, count, next_url. An empty page has no results and no count.
void WriteAggsBody(const AggsCall& call, const Page& page, std::string_view request_id,
                   std::string_view next_url, BodyStyle style, ByteBuffer* out);

// ---- grouped daily (docs/api-contract.md, appendix) ------------------------------------------

/// The simulator's own text for a grouped-daily date it cannot read (the real one is unverified).
inline constexpr std::string_view kTextBadDate = "Could not parse the date parameter: 'date'. Use YYYY-MM-DD";

/// /v2/aggs/grouped/locale/{locale}/market/{market}/{date}: the market it names and the date as
/// sent (still percent-encoded).
struct GroupedPath {
  AssetClass asset = AssetClass::kStock;  ///< us/stocks, global/crypto or global/fx
  std::string date;
};

/// Splits a grouped-daily path; nullopt when `path` is not one of the three markets (a 404).
/// Locale and market are matched without regard to case, as the API did (polygon-io/issues#3).
std::optional<GroupedPath> MatchGroupedPath(std::string_view path);

/// A validated grouped-daily request.
struct GroupedCall {
  AssetClass asset = AssetClass::kStock;
  CalendarDay date;
  TimeRange day;         ///< the date in the market's zone: New York for stocks, UTC for crypto and forex
  bool adjusted = true;  ///< `adjusted`, or the inverse of the legacy `unadjusted`
};

/// Validates the date (YYYY-MM-DD only) and `adjusted`/`unadjusted`/`include_otc`. Errors carry
/// http_status 400 and the body text.
Result<GroupedCall> ResolveGroupedCall(const GroupedPath& path, const QueryParams& query);

/// What grouped daily answers: a ticker column and its bars.
struct GroupedPage {
  std::vector<std::string> symbols;  ///< as written in `T`
  BarBatch bars;
};

/// Reads the day of `call`: for each ticker of `universe` in the call's market that traded that
/// day, GroundTruth(market, ticker, 1d, adjusted, day), in universe order, then `odd_symbols`
/// (stocks only: symbols barfill cannot hold, carrying the bars of their upper-case spelling).
/// Stocks are stamped 16:00 New York, as the real endpoint stamps them; crypto and forex 00:00 UTC,
/// as their range day bars. Reuses `page`'s capacity.
void ReadGroupedPage(const Market& market, const GroupedCall& call, const std::vector<Ticker>& universe,
                     const std::vector<std::string>& odd_symbols, GroupedPage* page);

/// Writes the 200 body: queryCount, resultsCount, adjusted, results (T first, then the range
/// fields), status, request_id, count; an empty day has no results and no count.
void WriteGroupedBody(const GroupedCall& call, const GroupedPage& page, std::string_view request_id,
                      BodyStyle style, ByteBuffer* out);

/// {"status":STATUS,"request_id":ID,KEY:TEXT}: KEY is "error" for ERROR, "message" for
/// NOT_AUTHORIZED and NOT_FOUND.
void WriteErrorBody(std::string_view status, std::string_view request_id, std::string_view key,
                    std::string_view text, ByteBuffer* out);

}  // namespace barfill::sim
