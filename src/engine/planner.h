// The planner: turns a plan into series and chunks, minus what the ledger already has.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/series.h"
#include "engine/plan.h"
#include "store/bar_store.h"

namespace barfill::engine {

/// One series of the plan and what is left to fetch of it.
struct SeriesWork {
  Series series;
  TimeRange range;                ///< the plan's days, snapped to whole bars
  std::vector<TimeRange> todo;    ///< parts of `range` the ledger does not have as done/empty
  int64_t chunks_total = 0;       ///< all chunks of `range`, done ones included
  int64_t chunks_todo = 0;        ///< chunks to fetch now
  int64_t chunks_previously_failed = 0;  ///< todo chunks that an earlier run recorded as failed
};

/// The whole plan, expanded. Holds ranges, not chunks, so memory stays small for any plan size.
struct WorkPlan {
  std::vector<SeriesWork> series;
  int64_t chunks_total = 0;
  int64_t chunks_todo = 0;
  int64_t chunks_skipped = 0;  ///< done or empty in the ledger: no API call
  std::optional<CalendarDay> clamped_to;  ///< --to was in the future and was clamped to this day
};

/// Splits a bucket-aligned `range` into chunks no longer than MaxChunkMs, cut on a grid that
/// does not depend on the range, so later runs over other ranges produce the same chunks.
std::vector<TimeRange> SplitIntoChunks(const Series& series, TimeRange range);

/// `range` minus the union of `covered` (any order, may overlap).
std::vector<TimeRange> Subtract(TimeRange range, std::vector<TimeRange> covered);

/// Expands `plan` against the ledger in `store`. `today` (UTC day) clamps a future --to.
Result<WorkPlan> BuildWorkPlan(const Plan& plan, BarStore& store, CalendarDay today);

/// A chunk to fetch and the index of its series in WorkPlan::series.
struct WorkItem {
  Chunk chunk;
  size_t series_index = 0;
};

/// Hands out the chunks to fetch, series by series and in time order, without materialising
/// them all. Thread-safe.
class ChunkCursor {
 public:
  explicit ChunkCursor(const WorkPlan& work) : work_(work) {}
  std::optional<WorkItem> Next();

 private:
  const WorkPlan& work_;
  std::mutex mutex_;
  size_t series_ = 0;
  size_t part_ = 0;
  size_t chunk_ = 0;
  std::vector<TimeRange> part_chunks_;  // chunks of the current todo part
  bool part_split_ = false;
};

/// Lines that describe the plan for --dry-run: series, chunks, requests, time under `rate_per_s`.
std::string DescribeWorkPlan(const Plan& plan, const WorkPlan& work, double rate_per_s, int concurrency);

}  // namespace barfill::engine
