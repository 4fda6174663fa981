#include "verify/ground_truth_diff.h"

#include "sim/market_data.h"

namespace barfill::verify {
namespace {

std::string ShowBar(const Bar& b) {
  return "t=" + std::to_string(b.t) + " o=" + std::to_string(b.open) + " h=" + std::to_string(b.high) +
         " l=" + std::to_string(b.low) + " c=" + std::to_string(b.close) + " v=" + std::to_string(b.volume);
}

}  // namespace

SeriesDiff DiffWithGroundTruth(BarStore& store, const sim::Market& market, const Series& series, TimeRange range,
                               VwapCheck vwap) {
  const BarBatch truth = sim::GroundTruth(market, series.ticker, series.timeframe, series.adjusted, range);
  SeriesDiff diff;
  diff.series = series.Describe();
  diff.expected = static_cast<int64_t>(truth.size());
  size_t i = 0;
  const Status read = store.ReadBars(series, range, [&](const BarBatch& batch) {
    for (size_t j = 0; j < batch.size(); ++j, ++i) {
      if (i < truth.size()) {
        Bar expected = truth[i];
        if (vwap == VwapCheck::kEqualOrAbsent && !batch[j].HasVwap()) expected.vwap = kNoVwap;
        if (batch[j] == expected) continue;
      }
      if (diff.differing++ == 0) {
        diff.first_difference =
            "stored " + ShowBar(batch[j]) + (i < truth.size() ? " expected " + ShowBar(truth[i]) : " (extra)");
      }
    }
    return Ok();
  });
  diff.stored = static_cast<int64_t>(i);
  if (!read) diff.first_difference = "read failed: " + read.error().message;
  return diff;
}

}  // namespace barfill::verify
