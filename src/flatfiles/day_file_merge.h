// Reads several day files side by side and hands their blocks over ticker by ticker: every
// file's bars of one ticker, then the next ticker. A database then appends a ticker's days to
// its primary key together (one visit of the key's leaf per batch of files) instead of
// revisiting every ticker once per day, which grows slower as the table grows.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "core/bar.h"
#include "core/result.h"
#include "core/ticker.h"
#include "flatfiles/day_file_reader.h"

namespace barfill::flatfiles {

/// A day file on local disk (gzip, as downloaded).
struct DayFileInput {
  DayFileKey key;
  std::string path;
};

/// Receives a block of file number `file` (its index among the inputs).
using MergedBlockSink = std::function<Status(size_t file, const Ticker& ticker, const BarBatch& bars)>;

/// Files that list their tickers in the same order (the vendor sorts them) come out ticker-major;
/// otherwise the smallest ticker at the head of any file goes first, so every file still streams
/// through in its own order. Memory: each file's reader plus the blocks of one small read.
class DayFileMerge {
 public:
  DayFileMerge(std::vector<DayFileInput> inputs, DayFileReaderOptions options, MergedBlockSink sink);

  /// Reads every file to its end. On a file's error (damaged gzip, bad header, unreadable),
  /// failed_file() names it; an error of the sink leaves failed_file() at npos.
  Status Run();

  /// After Run succeeded: what each file held, in input order.
  const std::vector<DayFileSummary>& summaries() const { return summaries_; }
  /// Seconds spent reading (gunzip, CSV, checks), not counting the sink's.
  double read_seconds() const { return read_seconds_; }
  size_t failed_file() const { return failed_file_; }
  static constexpr size_t npos = static_cast<size_t>(-1);

 private:
  std::vector<DayFileInput> inputs_;
  DayFileReaderOptions options_;
  MergedBlockSink sink_;
  std::vector<DayFileSummary> summaries_;
  double read_seconds_ = 0;
  size_t failed_file_ = npos;
};

}  // namespace barfill::flatfiles
