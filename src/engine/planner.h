// The planner: turns a plan into series and the ranges to fetch, minus what the ledger holds as
// final. A range is asked for whole, with the API's largest limit, and paged by next_url, so it
// costs ceil(base aggregates / 50,000) requests (at least one): the fewest the API allows. Ranges
// are cut into more pieces only to keep every fetcher busy when the plan has fewer series than
// fetchers (each cut costs at most one request).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/series.h"
#include "engine/plan.h"
#include "store/bar_store.h"

namespace barfill::engine {

/// One range of a series to fetch page by page, and the part of the series' todo it belongs to
/// (the minimum requests are counted per part, whatever cuts were made for parallelism).
struct CoarseRange {
  TimeRange range;
  size_t part = 0;
  /// A range stored before and fetched again to verify it (a recent-session refresh, a repair):
  /// the writers compare what it held with what arrived (RunReport::verified).
  bool verify = false;
};

/// A number of requests known only within bounds.
struct RequestEstimate {
  int64_t low = 0;   ///< from the density seen in the ledger, or one per part when unknown
  int64_t high = 0;  ///< from the most base aggregates the ranges can hold (every session minute traded)
};

/// One series of the plan and what is left to fetch of it.
struct SeriesWork {
  Series series;
  TimeRange range;                   ///< the plan's days, snapped to whole bars
  std::vector<TimeRange> todo;       ///< parts of `range` the ledger does not hold as final, then any fetched again to verify them
  std::vector<CoarseRange> ranges;   ///< what the fetchers take: the todo parts, maybe cut
  int64_t failed_before = 0;         ///< failed ledger rows overlapping the todo parts
  double density = -1;               ///< base aggregates per ms seen in the ledger; -1 unknown
  RequestEstimate requests;          ///< for the todo parts
};

/// The whole plan, expanded. Holds ranges, never bars or pages, so memory stays small.
struct WorkPlan {
  std::vector<SeriesWork> series;
  int64_t ranges_todo = 0;        ///< coarse ranges to fetch
  int64_t series_up_to_date = 0;  ///< series with nothing to fetch (no API call)
  int64_t ranges_to_verify = 0;   ///< of ranges_todo, those fetched again to verify them
  RequestEstimate requests;
  std::optional<CalendarDay> clamped_to;  ///< the plan's last day was in the future; clamped to this day
};

/// The most base aggregates `range` of `series` can hold: the session minutes of each trading
/// day (intraday timeframes) or the trading days (day and longer), by the market's calendar.
int64_t BaseCapacity(const Series& series, TimeRange range);

/// `range` minus the union of `covered` (any order, may overlap).
std::vector<TimeRange> Subtract(TimeRange range, std::vector<TimeRange> covered);

/// Expands `plan` against the ledger in `store`. `today` (UTC day) clamps a future last day.
/// `fetchers` is how many ranges the run fetches at once: fewer ranges than that are cut.
/// `page_limit` is the base aggregates one request may read (the API's 50,000). `elsewhere`, if
/// given, names the parts of a series another source (flat files) loads first: left out.
using CoveredElsewhere = std::function<std::vector<TimeRange>(const Series&)>;
Result<WorkPlan> BuildWorkPlan(const Plan& plan, BarStore& store, CalendarDay today, int fetchers,
                               int64_t page_limit = kMaxBaseAggregatesPerRequest,
                               const CoveredElsewhere& elsewhere = {});

/// A coarse range to fetch: its series (index into WorkPlan::series) and its index there.
struct RangeItem {
  size_t series_index = 0;
  size_t range_index = 0;
};

/// Hands out the ranges to fetch, series by series, in time order. Thread-safe.
class RangeCursor {
 public:
  explicit RangeCursor(const WorkPlan& work) : work_(work) {}
  std::optional<RangeItem> Next();

 private:
  const WorkPlan& work_;
  std::mutex mutex_;
  size_t series_ = 0;
  size_t range_ = 0;
};

/// Lines that describe the plan for --dry-run: series, ranges, requests as a range, and the time
/// they take at `rate_per_s`.
std::string DescribeWorkPlan(const Plan& plan, const WorkPlan& work, double rate_per_s, int concurrency);

}  // namespace barfill::engine
