// Vendors correct recent bars after first serving them. A run whose plan reaches into the last
// days fetches each series' last few sessions again and reports what changed: a separate step
// that adds verify ranges to the WorkPlan BuildWorkPlan made (docs/data-quality.md).
#pragma once

#include <cstdint>

#include "core/result.h"
#include "engine/plan.h"
#include "engine/planner.h"

namespace barfill::engine {

/// Sessions fetched again by default.
inline constexpr int kDefaultRefreshSessions = 2;
inline constexpr int kMaxRefreshSessions = 30;
/// A plan refreshes when its last day is at most this many days before today.
inline constexpr int kRefreshHorizonDays = 7;

/// Adds to each series of `work` one range to verify (CoarseRange::verify) over its last
/// `sessions` sessions that had ended by `now_ms` and lie in the plan's days, from the first
/// stored part of them on (what was never stored is fetched by the plan anyway; the plan's
/// ranges inside the verified one are trimmed away). Nothing when `sessions` is 0 or the plan's
/// last day lies more than kRefreshHorizonDays before `today`. Returns the ranges added.
/// `fetched_this_run`, if given, names the parts of a series this run fetches (or fetched) by
/// another way before REST (grouped daily): bars fetched minutes ago are not verified; a series
/// whose stored recent sessions all lie there gets no range to verify.
int64_t AddRefreshRanges(WorkPlan& work, const Plan& plan, CalendarDay today, int64_t now_ms, int sessions,
                         const CoveredElsewhere& fetched_this_run = {});

}  // namespace barfill::engine
