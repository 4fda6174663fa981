// Planning the grouped-daily part of a run: for the plan's `1d` series of a market the
// grouped-daily endpoint serves (stocks, crypto, forex), one request per market day answers
// every ticker at once. The planner takes it for a market when that costs fewer requests than
// the per-ticker ranges would, counting what REST must still ask per ticker afterwards (the
// unfinished day, closed days no market day accounts for).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/bar.h"
#include "core/result.h"
#include "core/series.h"
#include "engine/planner.h"
#include "fetch/grouped_fetcher.h"
#include "polygon/grouped_daily.h"
#include "store/bar_store.h"

namespace barfill::engine {

/// One market day to request.
struct GroupedDayWork {
  polygon::GroupedMarket market = polygon::GroupedMarket::kStocks;
  bool adjusted = true;  ///< the series' (a plan with adjusted "both" asks each day twice)
  CalendarDay date;  ///< in the market's zone
  /// What the answer accounts for in the market's zone: its day, and for stocks the weekend days
  /// just before it (or after the market's last requested day) that the series still have to
  /// do; so REST asks no ticker about a weekend.
  TimeRange range;
  bool expect_bars = false;    ///< the exchange calendar has a session that day (holidays are asked for too)
  std::vector<size_t> series;  ///< indices into GroupedPlan::series that need it, by ticker
};

/// The decision for one market.
struct GroupedMarketChoice {
  polygon::GroupedMarket market = polygon::GroupedMarket::kStocks;
  bool adjusted = true;
  int64_t series = 0;               ///< the plan's 1d series of the market with days to do
  int64_t days = 0;                 ///< market days grouped daily would request
  int64_t rest_after = 0;           ///< per-ticker requests REST would still make after them
  int64_t per_ticker_requests = 0;  ///< what the per-ticker ranges alone would cost
  bool chosen = false;              ///< days + rest_after < per_ticker_requests
};

struct GroupedPlan {
  std::vector<Series> series;              ///< the series the chosen days serve
  std::vector<std::vector<TimeRange>> todo;  ///< per series: what it misses (the work plan's todo, not its ranges to verify)
  std::vector<GroupedDayWork> days;        ///< to request, by market, adjusted and date
  std::vector<GroupedMarketChoice> markets;  ///< every market (and adjusted) considered, chosen or not

  int64_t Requests() const { return static_cast<int64_t>(days.size()); }
  /// The per-ticker requests of the chosen markets' series that the days replace.
  int64_t PerTickerRequests() const;
};

/// Decides per market and adjusted flag from `work` (what REST would fetch) which days to request grouped:
/// the days of the todo parts of its 1d series that have ended by `now_ms`, stock weekends
/// folded into the next (or last) market day; ranges to verify (a refresh, a repair) stay with
/// REST and count against grouped daily.
GroupedPlan PlanGrouped(const WorkPlan& work, int64_t now_ms);

/// The ranges of `series` the plan's days account for, so the REST planner leaves them out.
std::vector<TimeRange> GroupedCoverage(const GroupedPlan& plan, const Series& series);

/// Lines for --dry-run: per market, the days and the requests against per-ticker ranges.
std::string DescribeGroupedPlan(const GroupedPlan& plan);

/// What storing one fetched day means for the plan's series: per series that needs the day,
/// one write per piece of its todo inside `day.range` (the ticker's bar in the piece holding
/// its day, an empty write where the answer has no bar: grouped daily lists every ticker that
/// traded), or, for a ticker the answer's validation rejected, its pieces as failures.
struct GroupedDayWrites {
  std::vector<BarBatch> bars;      ///< one per write; `writes[i].bars` points at `bars[i]`
  std::vector<ChunkWrite> writes;  ///< in ticker order
  struct Rejected {
    Chunk chunk;
    Error error;
  };
  std::vector<Rejected> rejected;
  int64_t rows = 0;
  int64_t series = 0;  ///< series written
};
GroupedDayWrites WritesForDay(const GroupedPlan& plan, const GroupedDayWork& day, const fetch::FetchedDay& fetched);

/// The writes of several days (in date order) for one transaction: a series' writes that meet
/// (one ends where the next begins) become one, so the ledger records one range instead of one
/// per day.
GroupedDayWrites MergeDays(std::vector<GroupedDayWrites> days);

}  // namespace barfill::engine
