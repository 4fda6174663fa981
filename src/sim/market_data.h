// The simulator's synthetic market: deterministic bars that tests compare databases against.
#pragma once

#include <cstdint>
#include <functional>
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

/// What the vendor gets wrong at first and corrects later, and what really happened: the data
/// events a gap report and a repair must find. Each is drawn per (ticker, session) from `seed`,
/// so the same options give the same events in every run (docs/data-quality.md).
struct MarketEvents {
  uint64_t seed = 1;  ///< the simulator's fault seed
  /// Share (0..1) of (ticker, trading session) pairs the vendor first serves empty and fills
  /// later (a hole): every bar of the session is missing until then.
  double hole = 0;
  /// Share of (ticker, regular-hours session) pairs with a trading halt: no bar for 210 to 330
  /// minutes from between 30 and 120 minutes after the open (clipped to the close). It is real:
  /// the final data has it too. Early closes and late openings have no halts.
  double halt = 0;
  /// Share of the recent (ticker, session) pairs whose bars the vendor revises after first
  /// serving them: about 5% of the minute bars get another volume and trade count, 1% vanish,
  /// and 3% of the quiet minutes gain a late-reported bar.
  double revise = 0;
  /// Revisions touch only the last this many sessions that had ended by `as_of_ms`.
  int revise_sessions = 2;
  /// "Now" for revisions, in Unix ms (the simulator's start).
  int64_t as_of_ms = 0;
  /// Only these tickers get events; empty: every ticker.
  std::vector<std::string> tickers;

  bool any() const { return hole > 0 || halt > 0 || revise > 0; }
};

/// The kinds of MarketEvents.
enum class EventKind { kHole, kHalt, kRevision };

/// "hole", "halt", "revision".
std::string_view EventKindName(EventKind kind);

/// One event of one ticker on one day.
struct InjectedEvent {
  EventKind kind = EventKind::kHole;
  Ticker ticker;
  CalendarDay day;    ///< in the ticker's zone
  TimeRange window;   ///< a hole or a revision: the day's session (extended hours); a halt: the halted minutes
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

  /// Holes, halts and revisions; none by default.
  MarketEvents events;

  /// Parses "AAPL=0.01,XYZ=0.2" into `activity`; shares outside (0, 1] are errors.
  static Result<std::map<std::string, double, std::less<>>> ParseActivity(std::string_view text);
};

/// Every event `market` injects for `ticker` on the days from..to (inclusive, in the ticker's
/// zone), ordered by day then kind.
std::vector<InjectedEvent> EventsOf(const Market& market, const Ticker& ticker, CalendarDay from, CalendarDay to);

/// Which data a ground truth describes.
enum class DataVersion {
  kFinal,        ///< holes filled, revisions made (halts are real: they stay)
  kFirstServed,  ///< as the vendor serves a day the first time: holes empty, no revision yet
};

/// How a day with a hole or a revision is served right now.
struct DayServing {
  bool hole_open = false;  ///< the hole is not filled yet: no bars
  bool original = false;   ///< the revision is not made yet: the bars as first served
};
/// Asked, while a page is read, for each day of the ticker that has a hole or a revision.
using ServingOf = std::function<DayServing(CalendarDay day)>;

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
/// The same for another DataVersion (GroundTruth above is the kFinal one).
BarBatch GroundTruth(const Market& market, const Ticker& ticker, const Timeframe& timeframe, bool adjusted,
                     TimeRange range, DataVersion version);
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
  const MarketEvents* events = nullptr;  ///< holes, halts and revisions; null: none
  ServingOf serving;  ///< how days with a hole or revision are served now; empty: the final data
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
