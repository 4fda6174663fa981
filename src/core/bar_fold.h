// Building a coarser bar from consecutive finer ones, the way the vendor does: the one fold the
// simulator serves its multi-minute and day bars with, and `backfill --derive` builds 5m/15m/1h
// bars from a minute file's rows with, so that the two cannot drift apart.
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/bar.h"
#include "core/market_time.h"
#include "core/timeframe.h"

namespace barfill {

/// Folds consecutive bars of one bucket (fed in time order) into one bar: t the bucket start,
/// open of the first, close of the last, the highest high and lowest low, volume and trades
/// summed in time order (so the sums round exactly as the API's do). Trades are missing
/// (kNoTrades) when any bar lacks them. vwap: a single bar keeps its own; for more the caller
/// decides from vwap_volume() (the simulator rounds the mean; derived bars have none).
class BarFold {
 public:
  bool open() const { return count_ > 0; }
  int64_t start() const { return bar_.t; }
  int64_t count() const { return count_; }
  /// Sum of vwap x volume over the bars so far (NaN when any lacks vwap).
  double vwap_volume() const { return vwap_volume_; }

  void Add(const Bar& b, int64_t bucket) {
    if (count_ == 0) {
      bar_ = b;
      bar_.t = bucket;
      vwap_volume_ = b.vwap * b.volume;
    } else {
      bar_.high = std::max(bar_.high, b.high);
      bar_.low = std::min(bar_.low, b.low);
      bar_.close = b.close;
      bar_.volume += b.volume;
      bar_.trades = bar_.trades == kNoTrades || b.trades == kNoTrades ? kNoTrades : bar_.trades + b.trades;
      vwap_volume_ += b.vwap * b.volume;
    }
    ++count_;
  }

  /// Continues a bucket whose first `count` bars were folded into `partial` before (t its start).
  void Resume(const Bar& partial, int64_t count) {
    bar_ = partial;
    count_ = count;
    vwap_volume_ = partial.vwap * partial.volume;
  }

  /// The bucket's bar (vwap: the single bar's own, else kNoVwap); the fold is empty afterwards.
  Bar Take() {
    Bar out = bar_;
    if (count_ > 1) out.vwap = kNoVwap;
    count_ = 0;
    return out;
  }

 private:
  Bar bar_;
  double vwap_volume_ = 0;
  int64_t count_ = 0;
};

/// Whether bars of `timeframe` are built cleanly from the minute bars of single days: a bar
/// longer than a minute (minutes or hours) whose length divides an hour, so that its buckets
/// (aligned to the epoch, as the API aligns intraday bars) never straddle a day of any market
/// zone, whose days start on a whole hour. 2m..30m, 1h; not 1m itself, 7m, 90m or 4h.
inline bool DerivableFromMinutes(const Timeframe& timeframe) {
  if (timeframe.timespan() != Timespan::kMinute && timeframe.timespan() != Timespan::kHour) return false;
  const int64_t length = timeframe.NominalMs();
  return length > kMsPerMinute && kMsPerHour % length == 0;
}

/// The start of the intraday bucket of length `length_ms` holding `t` (aligned to the epoch).
inline int64_t IntradayBucketStart(int64_t t, int64_t length_ms) { return FloorDiv(t, length_ms) * length_ms; }

}  // namespace barfill
