// The simulator's synthetic market: deterministic bars that tests compare databases against.
#pragma once

#include <cstdint>

#include "core/bar.h"
#include "core/market_time.h"
#include "core/ticker.h"
#include "core/timeframe.h"

namespace barfill::sim {

/// The bars the simulator serves for (ticker, timeframe, adjusted) with t in `range`, sorted by
/// t. Every bar is a pure function of (seed, ticker, bar start), so any page of any range, in any
/// order, is identical. Stocks trade 04:00-20:00 New York on weekdays with some quiet minutes
/// missing and integer volumes; crypto trades 24/7 with fractional volumes; coarser bars are true
/// aggregates of the minute bars.
BarBatch GroundTruth(uint64_t seed, const Ticker& ticker, const Timeframe& timeframe, bool adjusted,
                     TimeRange range);

}  // namespace barfill::sim
