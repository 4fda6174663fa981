// Reading what barfill stored, from a program: the bars of a series, and a summary of every
// series. A reader never creates a database or a table.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "barfill/bar.h"
#include "barfill/export.h"
#include "barfill/result.h"

namespace barfill {

/// One stream of bars.
struct SeriesKey {
  std::string ticker;     ///< "AAPL", "X:BTCUSD"
  std::string timeframe;  ///< "1m", "1d", ...
  bool adjusted = true;
};

/// What the store holds of one series.
struct SeriesSummary {
  SeriesKey series;
  int64_t bars = 0;
  int64_t first_bar_ms = 0;  ///< bar start, Unix ms UTC; 0 when the series has no bars
  int64_t last_bar_ms = 0;
  int64_t ranges_done = 0;    ///< ranges stored for good (adjacent pages merge into one)
  int64_t ranges_empty = 0;   ///< ranges the API has no bars for
  int64_t ranges_failed = 0;  ///< ranges a run gave up on; the next run retries them
};

class BARFILL_API BarReader {
 public:
  /// Opens "sqlite:PATH", "postgresql://..." or a libpq conninfo for reading. A missing file, a
  /// database barfill never wrote to, or a newer schema is an error naming the fix.
  static Result<std::unique_ptr<BarReader>> Open(const std::string& db_url);

  virtual ~BarReader() = default;

  /// Streams the bars of `series` whose start lies on the days `from`..`to` (YYYY-MM-DD,
  /// inclusive, in the market's zone; empty: unbounded), ascending, at most `batch_bars` per
  /// call of `sink`, with constant memory. An error from `sink` stops the read and is returned.
  virtual Status ReadBars(const SeriesKey& series, const std::string& from, const std::string& to,
                          const std::function<Status(const BarBatch&)>& sink, size_t batch_bars = 8192) = 0;

  /// Every series the store knows, sorted by ticker, timeframe, adjusted.
  virtual Result<std::vector<SeriesSummary>> ListSeries() = 0;
};

}  // namespace barfill
