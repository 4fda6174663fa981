// The units of work: a series (ticker, timeframe, adjusted) and a chunk (a slice of its range).
#pragma once

#include <string>

#include "core/market_time.h"
#include "core/ticker.h"
#include "core/timeframe.h"

namespace barfill {

/// One stream of bars; the seed calls a series over a date range a "job".
struct Series {
  Ticker ticker;
  Timeframe timeframe;
  bool adjusted = true;

  /// "AAPL 5m" or "AAPL 5m unadjusted": for messages and reports.
  std::string Describe() const {
    return ticker.symbol() + " " + timeframe.ToString() + (adjusted ? "" : " unadjusted");
  }
  friend bool operator==(const Series& a, const Series& b) {
    return a.ticker == b.ticker && a.timeframe == b.timeframe && a.adjusted == b.adjusted;
  }
};

/// A slice of one series: the unit of request, retry, checkpoint and report. The range is
/// half-open and aligned to the timeframe's buckets.
struct Chunk {
  Series series;
  TimeRange range;

  /// "AAPL 5m 2025-01-01T05:00:00Z..2025-02-01T05:00:00Z"
  std::string Describe() const {
    return series.Describe() + " " + FormatIsoUtc(range.from_ms) + ".." + FormatIsoUtc(range.to_ms);
  }
};

}  // namespace barfill
