#include "fetch/bar_validator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <vector>

#include "core/market_time.h"

namespace barfill::fetch {
namespace {

std::string Describe(const Bar& b) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "o=%.17g h=%.17g l=%.17g c=%.17g v=%.17g vw=%.17g n=%lld", b.open,
                b.high, b.low, b.close, b.volume, b.vwap, static_cast<long long>(b.trades));
  return buf;
}

Error Reject(const Chunk& chunk, const Bar& bar, const std::string& what) {
  return Error(ErrorCode::kInvalidData, "rejected: " + chunk.series.ticker.symbol() + " bar t=" +
                                            std::to_string(bar.t) + " (" + FormatIsoUtc(bar.t) +
                                            ") " + what + " [" + Describe(bar) + "]");
}

// Applies the permutation `order` to every column.
template <typename T>
void Permute(std::vector<T>& column, const std::vector<uint32_t>& order) {
  std::vector<T> sorted(column.size());
  for (size_t i = 0; i < order.size(); ++i) sorted[i] = column[order[i]];
  column.swap(sorted);
}

void SortByTime(BarBatch& batch) {
  std::vector<uint32_t> order(batch.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return batch.t[a] < batch.t[b]; });
  Permute(batch.t, order);
  Permute(batch.open, order);
  Permute(batch.high, order);
  Permute(batch.low, order);
  Permute(batch.close, order);
  Permute(batch.volume, order);
  Permute(batch.vwap, order);
  Permute(batch.trades, order);
}

Status CheckBar(const Chunk& chunk, const Bar& b) {
  if (!std::isfinite(b.open) || !std::isfinite(b.high) || !std::isfinite(b.low) ||
      !std::isfinite(b.close) || !std::isfinite(b.volume) || std::isinf(b.vwap)) {
    return Fail(Reject(chunk, b, "has a non-finite number"));
  }
  if (b.high < b.open || b.high < b.close || b.high < b.low) {
    return Fail(Reject(chunk, b, "has high below open, close or low"));
  }
  if (b.low > b.open || b.low > b.close) return Fail(Reject(chunk, b, "has low above open or close"));
  if (b.volume < 0) return Fail(Reject(chunk, b, "has negative volume"));
  if (b.trades < 0 && b.trades != kNoTrades) return Fail(Reject(chunk, b, "has a negative trade count"));
  if (!chunk.range.Contains(b.t)) {
    return Fail(Reject(chunk, b, "lies outside the requested range [" +
                                     std::to_string(chunk.range.from_ms) + ", " +
                                     std::to_string(chunk.range.to_ms) + ")"));
  }
  const Timeframe& tf = chunk.series.timeframe;
  const bool aligned = tf.IsIntraday()
                           ? b.t % tf.NominalMs() == 0
                           : b.t == BucketStart(tf, chunk.series.ticker.zone(), b.t);
  if (!aligned) {
    return Fail(Reject(chunk, b, "is not aligned to " + tf.ToString() + " bars in " +
                                     std::string(chunk.series.ticker.zone().Name())));
  }
  return Ok();
}

}  // namespace

Status ValidateBars(const Chunk& chunk, BarBatch& batch, ValidationReport& report) {
  report = ValidationReport{};
  if (!std::is_sorted(batch.t.begin(), batch.t.end())) {
    SortByTime(batch);
    report.reordered = true;
  }
  size_t kept = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    const Bar bar = batch[i];
    if (kept > 0 && batch.t[kept - 1] == bar.t) {
      const Bar previous = batch[kept - 1];
      if (previous == bar) {
        ++report.duplicates_dropped;
        continue;
      }
      return Fail(Error(ErrorCode::kInvalidData,
                        "rejected: two different bars for " +
                            chunk.series.ticker.symbol() + " at t=" + std::to_string(bar.t) + " (" +
                            FormatIsoUtc(bar.t) + "): [" + Describe(previous) + "] and [" +
                            Describe(bar) + "]"));
    }
    BARFILL_TRY(CheckBar(chunk, bar));
    if (kept != i) batch.Set(kept, bar);
    ++kept;
  }
  batch.resize(kept);
  return Ok();
}

}  // namespace barfill::fetch
