// The aggregates request as named, strongly typed fields, and the URLs it turns into: the first
// page, the checked `next_url` pages, and the sanitized form shown in errors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/series.h"
#include "core/timeframe.h"

namespace barfill::polygon {

/// Start of the requested range, Unix ms, inclusive. A distinct type from ToMs so that the two
/// cannot be swapped: `.from = ToMs{x}` does not compile.
struct FromMs {
  constexpr explicit FromMs(int64_t ms) : value(ms) {}
  int64_t value;
};

/// End of the requested range, Unix ms, exclusive (the URL carries value - 1, the API's `to`
/// being inclusive).
struct ToMs {
  constexpr explicit ToMs(int64_t ms) : value(ms) {}
  int64_t value;
};

enum class SortOrder { kAsc, kDesc };

/// Polygon's maximum `limit`.
inline constexpr int kMaxPageLimit = 50000;

/// GET /v2/aggs/ticker/{ticker}/range/{multiplier}/{timespan}/{from}/{to}. Build it with
/// designated initializers or from a chunk; there is no positional constructor.
struct AggsRequest {
  std::string ticker;
  Timeframe timeframe;
  FromMs from{0};
  ToMs to{0};
  bool adjusted = true;
  SortOrder sort = SortOrder::kAsc;
  int limit = kMaxPageLimit;

  /// The request covering `chunk.range` of `chunk.series`.
  static AggsRequest ForChunk(const Chunk& chunk, int limit = kMaxPageLimit);
};

/// scheme://host:port of a base URL or page URL, lower-cased, default port filled in.
struct Origin {
  std::string scheme;
  std::string host;
  int port = 0;
  friend bool operator==(const Origin&, const Origin&) = default;
};

/// The path of an absolute URL, without query or fragment; empty when it has none.
std::string_view UrlPath(std::string_view url);

/// Splits "http(s)://host[:port][/path...]"; anything else is an error.
Result<Origin> ParseOrigin(std::string_view url);

/// Checks a base URL (http or https, no query, no user info); trailing slashes are dropped.
Result<std::string> NormalizeBaseUrl(std::string_view base_url);

/// Percent-encodes one path segment, keeping RFC 3986 unreserved characters and ':' (so
/// "X:BTCUSD" and "BRK.B" travel unchanged).
std::string EscapePathSegment(std::string_view segment);

/// The first page's URL, without credentials. Errors: empty ticker, from >= to, bad limit.
Result<std::string> BuildAggsUrl(std::string_view base_url, const AggsRequest& request);

/// Appends `apiKey=` to a URL (for the query-parameter auth channel).
std::string WithApiKey(std::string_view url, std::string_view api_key);

/// The `{from}` path segment of an aggregates URL as ms, if it is one.
Result<int64_t> FromOfAggsUrl(std::string_view url);

/// Accepts a `next_url` only if it stays on `base_origin` (same scheme, host and port), is an
/// aggregates URL of the same ticker, and moves `from` past `previous_from` (loop guard).
/// Returns the new `from`. Errors are kBadResponse and name the offending part, never a key.
Result<int64_t> CheckNextUrl(std::string_view next_url, const Origin& base_origin,
                             std::string_view ticker, int64_t previous_from);

}  // namespace barfill::polygon
