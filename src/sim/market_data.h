// The simulator's synthetic market: deterministic bars that tests compare databases against.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bar.h"
#include "core/corporate_actions.h"
#include "core/result.h"
#include "core/market_time.h"
#include "core/ticker.h"
#include "core/timeframe.h"

namespace barfill::sim {

/// How often the tickers of the synthetic market trade.
enum class Liquidity {
  kDense,   ///< every ticker trades in nearly every minute of its session (the seed's baseline)
  kSkewed,  ///< like the real market: a few liquid tickers, most trading in a small share of minutes
};

/// A change to the vendor's split table after the simulator started (the vendor adding a split it
/// missed, or removing a wrong one): it moves the adjusted history, never the raw bars.
struct SplitEdit {
  std::string ticker;
  bool remove = false;          ///< remove the listed split `id`; otherwise insert one
  std::string id;               ///< remove: which split; insert: empty (made from the day and ratio)
  CalendarDay execution_date;   ///< insert: the day and ratio
  double split_from = 1;
  double split_to = 1;
};

/// The synthetic market: its seed and who trades how often. Bars are a pure function of it.
struct Market {
  explicit Market(uint64_t seed_ = 1, Liquidity liquidity_ = Liquidity::kDense) : seed(seed_), liquidity(liquidity_) {}

  uint64_t seed = 1;
  Liquidity liquidity = Liquidity::kDense;
  /// Named tickers that trade in only this share (0..1] of the minutes a dense ticker trades;
  /// it wins over `liquidity` (tests name thin tickers this way).
  std::map<std::string, double, std::less<>> activity;
  /// Edits of the split table, applied in order: adjusted bars follow them, raw bars do not.
  std::vector<SplitEdit> split_edits;

  /// The share of its session's minutes `ticker` trades in, relative to a dense ticker (0..1]:
  /// the named share, else 1 when dense, else a draw from (seed, ticker) when skewed: about 10%
  /// of tickers are liquid (0.7-1), 25% middling (0.1-0.7), 65% thin (0.002-0.1, log-uniform).
  double ActivityOf(const Ticker& ticker) const;

  /// Parses "AAPL=0.01,XYZ=0.2" into `activity`; shares outside (0, 1] are errors.
  static Result<std::map<std::string, double, std::less<>>> ParseActivity(std::string_view text);
};

/// The bars the simulator serves for (ticker, timeframe, adjusted) with t in `range`, sorted by
/// t. Every bar is a pure function of (seed, ticker, bar start), so any page of any range, in any
/// order, is identical. Stocks trade 04:00-20:00 New York on weekdays with some quiet minutes
/// missing and integer volumes; crypto trades 24/7 with fractional volumes; coarser bars are true
/// aggregates of the minute bars.
///
/// Only whole bars are returned: a bar whose bucket starts in `range` but ends after it is still
/// the whole bucket's aggregate. Minute and hour bars aggregate minute bars; day bars aggregate
/// the minutes of one market day (stocks: New York, stamped 00:00 New York; crypto and forex:
/// UTC); week, month, quarter and year bars aggregate day bars, as Polygon builds them. Second
/// timeframes are not simulated and give an empty batch.
BarBatch GroundTruth(const Market& market, const Ticker& ticker, const Timeframe& timeframe, bool adjusted,
                     TimeRange range);
/// The same for the dense market of `seed`.
BarBatch GroundTruth(uint64_t seed, const Ticker& ticker, const Timeframe& timeframe, bool adjusted,
                     TimeRange range);

/// The price level `ticker`'s synthetic path moves around (before splits), for sizing dividends.
double BasePriceOf(uint64_t seed, const Ticker& ticker);

/// One page of the aggregates endpoint: what to read.
struct PageQuery {
  uint64_t seed = 1;
  double activity = 1;  ///< Market::ActivityOf(ticker)
  Ticker ticker;
  Timeframe timeframe;
  bool adjusted = true;
  TimeRange range;    ///< whole buckets (see SnapToBuckets)
  int64_t limit = 0;  ///< base aggregates to read at most (minute bars for s/m/h, day bars above); 0 = all
  /// The true splits (TrueSplitFactors): raw prices are the path divided by their price factor.
  std::vector<FactorRange> true_splits;
  /// The splits the vendor lists now (ListedSplitFactors): adjusted bars are raw bars adjusted by them.
  std::vector<FactorRange> listed_splits;
};

/// One page of the aggregates endpoint: what was read.
struct Page {
  BarBatch bars;             ///< whole bars, ascending t
  int64_t query_count = 0;   ///< base aggregates that make up `bars` (Polygon's queryCount)
  bool more = false;         ///< the range holds at least one bar after the last one in `bars`
};

/// Reads the page that starts at `query.range.from_ms`: at most `query.limit` base aggregates,
/// dropping a bar left partial at the cut, but always at least one bar when the range has any,
/// so that paging moves forward. Reuses `page`'s capacity, so serving allocates nothing per bar.
void ReadPage(const PageQuery& query, Page* page);

}  // namespace barfill::sim
