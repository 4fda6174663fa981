// `barfill repair`: fetch again what the gap report finds suspicious or failed, replacing each
// range once (a write replaces its range), within a request budget, and remember when a range
// that still looks suspicious may be tried again (docs/data-quality.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/planner.h"
#include "quality/classify.h"

namespace barfill::engine {

/// One range to fetch again.
struct RepairTarget {
  Series series;
  TimeRange range;                 ///< the session's window, or a run of failed sessions
  quality::SessionClass cls = quality::SessionClass::kSuspicious;
  CalendarDay from;
  CalendarDay to;
  int64_t bars_before = 0;
  std::optional<RangeCheck> check;  ///< its last verification, if any
};

/// What a repair fetches, and what it leaves.
struct RepairPlan {
  std::vector<RepairTarget> targets;  ///< grouped by series, in time order
  int64_t requests_high = 0;          ///< at most this many page requests (retries aside)
  int64_t waiting = 0;                ///< suspicious ranges whose next try has not come yet
  int64_t next_try_ms = 0;            ///< the earliest next try among those; 0 when none waits
  int64_t over_budget = 0;            ///< ranges left for a later run by the request budget
};

/// Adds the suspicious sessions whose retry time has come (or that were never verified) and the
/// failed ranges of `gaps` to `plan`, as long as the pages they can need stay within
/// `max_requests` in all.
void AddRepairTargets(const quality::SeriesGaps& gaps, int64_t now_ms, int64_t max_requests, RepairPlan* plan);

/// The WorkPlan that fetches every target as a range to verify (CoarseRange::verify).
WorkPlan RepairWorkPlan(const RepairPlan& plan);

/// When a range still suspicious after its `checks`-th verification may be fetched again:
/// `first_wait` after the first, doubling with each further one, at most a week.
int64_t NextTryMs(int64_t now_ms, int checks, std::chrono::milliseconds first_wait);

/// The longest wait between two tries of a range that stays suspicious.
inline constexpr std::chrono::hours kLongestRetryWait{24 * 7};

}  // namespace barfill::engine
