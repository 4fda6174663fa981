// The grouped-daily endpoint ("Daily Market Summary", docs/api-contract.md appendix): one request
// per market day answers the day bar of every ticker. Its URL, and its answer read into one batch
// with a ticker column, every bar restamped to the start of its day in the market's zone, so that
// it equals the range endpoint's day bar of the same ticker and day.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bar.h"
#include "core/market_time.h"
#include "core/result.h"
#include "core/ticker.h"
#include "polygon/aggs_parser.h"

namespace barfill::polygon {

/// The markets the endpoint serves.
enum class GroupedMarket { kStocks, kCrypto, kFx };

/// "stocks", "crypto" or "fx": the path's `market` segment.
std::string_view GroupedMarketName(GroupedMarket market);
/// The asset class of the market's tickers (stocks: no prefix, crypto: X:, forex: C:).
AssetClass AssetClassOf(GroupedMarket market);
/// The market whose grouped bars hold `asset`'s tickers; none for indices and options.
std::optional<GroupedMarket> GroupedMarketOf(AssetClass asset);

/// GET /v2/aggs/grouped/locale/{us|global}/market/{stocks|crypto|fx}/{date}
struct GroupedDailyRequest {
  GroupedMarket market = GroupedMarket::kStocks;
  /// A calendar day of the market's zone: New York for stocks, UTC for crypto and forex.
  CalendarDay date;
  bool adjusted = true;

  /// The day in the market's zone, [00:00, next 00:00): where its bars are stamped.
  TimeRange Day() const;
  /// "grouped daily stocks 2025-03-10" (+ " unadjusted"), for messages.
  std::string Describe() const;
};

/// The request's URL without credentials: `adjusted` always explicit, `include_otc=false`.
/// Errors (kUsage): a date that is not a real YYYY-MM-DD day from 1970 to 9999.
Result<std::string> BuildGroupedDailyUrl(std::string_view base_url, const GroupedDailyRequest& request);

/// How many skipped tickers a GroupedDay names (it counts them all).
inline constexpr size_t kMaxSkippedExamples = 5;

/// One market day as read from the wire: row i of `bars` is the day bar of tickers[i], in the
/// order the API sent them (not yet validated: see fetch::GroupedFetcher).
struct GroupedDay {
  std::vector<Ticker> tickers;
  BarBatch bars;
  /// Results whose `T` barfill cannot hold: refused by Ticker::Parse (lower case, odd symbols,
  /// garbage) or of another market (an X: pair among stocks), or missing.
  int64_t skipped = 0;
  std::vector<std::string> skipped_examples;  ///< the first few skipped `T`, printable
  /// Bars whose `t` lay inside the day but not at its start (stocks: 16:00 New York) and were
  /// moved to the start.
  int64_t restamped = 0;
  PageStatus status = PageStatus::kOk;  ///< kOk or kDelayed
  int64_t query_count = -1;             ///< `queryCount`; -1 when absent
  std::string request_id;
};

/// What one HTTP answer of grouped daily means. Errors exactly as ReadAggsResponse (the same
/// codes, texts and checks: counts, truncation, `error`/`message`). On success each result whose
/// `T` is not a ticker of the request's market is skipped and counted, never fatal, and each `t`
/// inside the requested day is moved to the day's start; a `t` outside the day is kept as sent,
/// for validation to reject. `parser` is reused between calls, as for ranges.
Result<GroupedDay> ReadGroupedDailyResponse(AggsParser& parser, const GroupedDailyRequest& request,
                                            int http_status, const char* data, size_t size,
                                            size_t capacity);

}  // namespace barfill::polygon
