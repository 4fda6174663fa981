// The simulator's flat files: one gzip CSV per (asset class, bar size, session date) holding
// every ticker of the universe, with the bars GroundTruth gives (unadjusted), written the way
// the vendor writes them: the exact header, one time-ascending block per ticker in a
// non-alphabetical order, mixed decimal precision, hyphenated crypto and forex pairs.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bar.h"
#include "core/market_time.h"
#include "core/ticker.h"
#include "flatfiles/key_layout.h"
#include "sim/market_data.h"
#include "sim/s3_options.h"

namespace barfill::sim {

/// What one day file holds.
struct DayFileContent {
  Market market;  ///< whose bars: the same the REST side serves
  flatfiles::Dataset dataset;
  CalendarDay day;
  std::vector<Ticker> tickers;  ///< the dataset's asset class only
  /// A republication: the same bars in other bytes (another block order and decimal style).
  int revision = 0;
  /// A content fault (kTruncatedGzip, kWrongDate, kNegativeWindowStart, kBadRows); others are ignored.
  std::optional<S3Fault> fault;
  bool test_symbols = false;  ///< add when-issued/test symbols barfill cannot hold (stocks only)
};

/// The bars of `ticker` in the day file of (dataset, day): GroundTruth of the session date in
/// the market's zone, unadjusted, at 1m or 1d.
BarBatch DayFileBars(const Market& market, const Ticker& ticker, flatfiles::Dataset dataset, CalendarDay day);

/// Writes the CSV text, header first, in pieces of about 256 kB.
void WriteDayFileCsv(const DayFileContent& content, const std::function<void(std::string_view)>& out);

/// The object's bytes: the CSV gzipped (a fixed zlib level and no timestamp in the gzip header,
/// so the same content always gives the same bytes and ETag); kTruncatedGzip cuts them at 60%.
std::string MakeDayFileObject(const DayFileContent& content);

/// The spellings used for the test symbols (stocks files only): what the file says, and the
/// ticker whose bars they carry.
inline constexpr std::string_view kTestSymbols[] = {"ADSw", "MTBpC.CL"};

}  // namespace barfill::sim
