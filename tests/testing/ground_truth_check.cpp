#include "testing/ground_truth_check.h"

#include "core/market_time.h"
#include "sim/market_data.h"

namespace barfill::testing {
namespace {

TimeRange PlanRange(const Plan& plan, const Series& series) {
  const MarketZone zone = series.ticker.zone();
  return SnapToBuckets(series.timeframe, zone, zone.DaysToRange(plan.from, plan.to));
}

std::string ShowBar(const Bar& b) {
  return "t=" + std::to_string(b.t) + " o=" + std::to_string(b.open) + " h=" + std::to_string(b.high) +
         " l=" + std::to_string(b.low) + " c=" + std::to_string(b.close) + " v=" + std::to_string(b.volume);
}

}  // namespace

std::vector<SeriesDiff> DiffStoreWithGroundTruth(BarStore& store, uint64_t seed, const Plan& plan) {
  std::vector<SeriesDiff> diffs;
  for (const Ticker& ticker : plan.tickers) {
    for (const Timeframe& tf : plan.timeframes) {
      const Series series{ticker, tf, plan.adjusted};
      const TimeRange range = PlanRange(plan, series);
      const BarBatch truth = sim::GroundTruth(seed, ticker, tf, plan.adjusted, range);
      SeriesDiff diff;
      diff.series = series.Describe();
      diff.expected = static_cast<int64_t>(truth.size());
      size_t i = 0;
      const Status read = store.ReadBars(series, range, [&](const BarBatch& batch) {
        for (size_t j = 0; j < batch.size(); ++j, ++i) {
          if (i >= truth.size() || !(batch[j] == truth[i])) {
            if (diff.differing++ == 0) {
              diff.first_difference = "stored " + ShowBar(batch[j]) +
                                      (i < truth.size() ? " expected " + ShowBar(truth[i]) : " (extra)");
            }
          }
        }
        return Ok();
      });
      diff.stored = static_cast<int64_t>(i);
      if (!read) diff.first_difference = "read failed: " + read.error().message;
      if (!read || diff.differing > 0 || diff.stored != diff.expected) diffs.push_back(diff);
    }
  }
  return diffs;
}

int64_t GroundTruthBars(uint64_t seed, const Plan& plan) {
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
