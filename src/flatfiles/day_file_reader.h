// Streams one flat file (gzip CSV, all tickers of one day) straight into per-ticker BarBatch
// blocks: bytes in any chunking -> zlib inflate -> lines -> checked rows -> blocks handed to a
// sink. Memory stays bounded whatever the file size: a block is handed over when its ticker
// changes or when it holds max_rows_per_block rows.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/bar.h"
#include "core/result.h"
#include "core/ticker.h"
#include "flatfiles/key_layout.h"

namespace barfill::flatfiles {

/// Which tickers to keep, in REST spelling (X:BTCUSD, not X:BTC-USD). Rows of other tickers are
/// skipped before any number is parsed.
struct TickerFilter {
  std::unordered_set<std::string> only;     ///< keep only these; empty = no such restriction
  std::vector<std::string> prefixes;        ///< keep tickers starting with one of these; empty = all
  std::unordered_set<std::string> exclude;  ///< never these

  bool Accepts(std::string_view rest_symbol) const;
};

struct DayFileReaderOptions {
  TickerFilter filter;
  size_t max_rows_per_block = 16384;  ///< a longer run of one ticker is handed over in pieces
  size_t max_bad_rows_listed = 20;    ///< bad rows beyond this are counted, not listed
  size_t max_line_bytes = 4096;       ///< a longer line means the file is not an aggregates file
};

/// A row that was not stored, and why.
struct BadRow {
  int64_t line = 0;  ///< 1 = the header
  std::string reason;
};

/// What a file held, once it has been read to its end.
struct DayFileSummary {
  int64_t compressed_bytes = 0;
  int64_t csv_bytes = 0;
  int64_t rows = 0;              ///< data lines (header and blank lines excluded)
  int64_t bars = 0;              ///< rows handed to the sink
  int64_t filtered_rows = 0;     ///< rows of tickers the filter left out
  int64_t unsupported_rows = 0;  ///< rows of symbols barfill cannot hold (when-issued "ADSw", ...)
  int64_t bad_rows = 0;          ///< rows that failed a check: never handed over
  int64_t restamped_rows = 0;    ///< day rows whose window_start was not 00:00 of the session date
  int64_t tickers = 0;           ///< tickers with at least one bar
  int64_t reopened_tickers = 0;  ///< tickers whose rows were not one contiguous block
  std::vector<BadRow> first_bad_rows;
  std::vector<std::string> unsupported_symbols;  ///< the first few, as the file spells them
  std::vector<std::string> ignored_columns;      ///< header columns barfill does not read

  /// One line: "12345 bars of 812 tickers from 12400 rows; 3 bad rows (first: line 17: ...)".
  std::string Describe() const;
};

/// Receives each block: bars of one ticker, ascending t, already checked. An error stops the
/// reading and is returned by Feed or Finish.
using BlockSink = std::function<Status(const Ticker& ticker, const BarBatch& bars)>;

/// Reads one day file. Bars: t in Unix ms; minute rows keep their window_start; day rows are
/// stamped 00:00 of the session date from the key, in the market's zone (New York for stocks,
/// options and indices; UTC for crypto and forex), as REST stamps day bars. vwap is absent
/// (kNoVwap: files have none); index files have no volume (0) and no transactions (kNoTrades),
/// as REST index bars.
///
/// A row is stored only when every check passes: the field count, parseable numbers, finite
/// prices, high >= open, close, low and low <= open, close, volume and transactions not negative,
/// window_start on a minute boundary and within a day of the session date, and t after the
/// ticker's previous bar. A bad row is counted and listed with its line; the other rows go on.
///
/// Blocks are handed over while the file streams in, so only Finish can say whether the file
/// was whole: a caller must not commit blocks before Finish succeeds.
class DayFileReader {
 public:
  DayFileReader(DayFileKey key, BlockSink sink, DayFileReaderOptions options = {});
  ~DayFileReader();
  DayFileReader(const DayFileReader&) = delete;
  DayFileReader& operator=(const DayFileReader&) = delete;

  /// Feeds the next compressed bytes, in any chunking. kBadResponse for corrupt gzip data (a
  /// damaged download: fetch it again), kInvalidData for a header that lacks a needed column.
  Status Feed(std::string_view gzip_bytes);

  /// Ends the file. kBadResponse when the gzip stream was cut short (the file is incomplete:
  /// fetch it again), kInvalidData when it had no header; otherwise the summary.
  Result<DayFileSummary> Finish();

  /// Bytes the reader holds right now (buffers and the block being filled): bounded by the
  /// options, whatever the file size.
  size_t BufferedBytes() const;
  const DayFileKey& key() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace barfill::flatfiles
