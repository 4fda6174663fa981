// The oracle check: does a store hold exactly the simulator's bars for a series? Used by the
// demo to prove its run and by every end-to-end and chaos test ("lost" and "unexpected" empty).
#pragma once

#include <cstdint>
#include <string>

#include "core/series.h"
#include "sim/market_data.h"
#include "store/bar_store.h"

namespace barfill::verify {

struct SeriesDiff {
  std::string series;     ///< Series::Describe()
  int64_t expected = 0;   ///< bars in the ground truth
  int64_t stored = 0;     ///< bars in the store
  int64_t differing = 0;  ///< positions where the bars differ (other values, or extra bars)
  std::string first_difference;

  bool equal() const { return differing == 0 && stored == expected && first_difference.empty(); }
};

/// How a stored bar's vwap must match: exactly, or absent too (flat files carry none).
enum class VwapCheck { kEqual, kEqualOrAbsent };

/// Compares the bars `store` holds for `series` in `range` with GroundTruth(seed, ...), bar for
/// bar, streaming the stored bars.
SeriesDiff DiffWithGroundTruth(BarStore& store, const sim::Market& market, const Series& series, TimeRange range,
                               VwapCheck vwap = VwapCheck::kEqual);

}  // namespace barfill::verify
