// The oracle check every end-to-end and chaos test ends with: the database holds exactly the
// simulator's bars, series by series ("lost" and "unexpected" both empty).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/plan.h"
#include "verify/ground_truth_diff.h"
#include "store/bar_store.h"

namespace barfill::testing {

using verify::SeriesDiff;

/// Compares every series of `plan` in `store` with sim::GroundTruth(seed, ...), bar for bar.
/// Returns only the series that differ, so an empty result means equal.
/// `vwap`: kEqualOrAbsent for stores loaded (partly) from flat files, which carry no vwap.
std::vector<SeriesDiff> DiffStoreWithGroundTruth(BarStore& store, const sim::Market& market, const engine::Plan& plan,
                                                 verify::VwapCheck vwap = verify::VwapCheck::kEqual);

/// Total bars of the plan's ground truth.
int64_t GroundTruthBars(uint64_t seed, const engine::Plan& plan);

/// "AAPL 1m: 120 of 4000 bars differ (stored 3880), first at ..." lines, for test messages.
std::string Describe(const std::vector<SeriesDiff>& diffs);

}  // namespace barfill::testing
