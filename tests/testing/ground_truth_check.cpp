#include "testing/ground_truth_check.h"

#include "core/market_time.h"
#include "sim/market_data.h"

namespace barfill::testing {
namespace {

TimeRange PlanRange(const engine::Plan& plan, const Series& series) {
  const MarketZone zone = series.ticker.zone();
  return SnapToBuckets(series.timeframe, zone, zone.DaysToRange(plan.from, plan.to));
}

}  // namespace

std::vector<SeriesDiff> DiffStoreWithGroundTruth(BarStore& store, const sim::Market& market, const engine::Plan& plan,
                                                 verify::VwapCheck vwap) {
  std::vector<SeriesDiff> diffs;
  for (const Ticker& ticker : plan.tickers) {
    for (const Timeframe& tf : plan.timeframes) {
      for (const bool adjusted : plan.AdjustedFlags()) {
        const Series series{ticker, tf, adjusted};
        SeriesDiff diff = verify::DiffWithGroundTruth(store, market, series, PlanRange(plan, series), vwap);
        if (!diff.equal()) diffs.push_back(std::move(diff));
      }
    }
  }
  return diffs;
}

int64_t GroundTruthBars(uint64_t seed, const engine::Plan& plan) {
  int64_t total = 0;
  for (const Ticker& ticker : plan.tickers) {
    for (const Timeframe& tf : plan.timeframes) {
      const Series series{ticker, tf, plan.adjusted};
      total += static_cast<int64_t>(sim::GroundTruth(seed, ticker, tf, plan.adjusted, PlanRange(plan, series)).size());
    }
  }
  return total;
}

std::string Describe(const std::vector<SeriesDiff>& diffs) {
  std::string out;
  for (const SeriesDiff& d : diffs) {
    out += d.series + ": " + std::to_string(d.differing) + " of " + std::to_string(d.expected) +
           " bars differ (stored " + std::to_string(d.stored) + ")" +
           (d.first_difference.empty() ? "" : ", first: " + d.first_difference) + "\n";
  }
  return out;
}

}  // namespace barfill::testing
