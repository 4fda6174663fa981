// Reads several day files and hands their blocks over in the bars table's primary-key order:
// tickers sorted, each ticker's days in file order. PostgreSQL then fills its primary key as
// it does for sorted rows (pages filled, about half the time per row; docs/flatfiles.md §8)
// rather than splitting pages all over the index, as a file's own ticker order (the vendor's
// or the simulator's hash order) and day after day would.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
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

/// Memory stays bounded: each file is read once, in blocks, into a nameless scratch file in
/// `scratch_dir` (the bars as 8-byte columns, ~64 bytes a bar); the merge keeps only where each
/// block lies (up to a limit), then reads the blocks back in order, one at a time.
class DayFileMerge {
 public:
  DayFileMerge(std::vector<DayFileInput> inputs, std::string scratch_dir, DayFileReaderOptions options);
  ~DayFileMerge();
  DayFileMerge(const DayFileMerge&) = delete;
  DayFileMerge& operator=(const DayFileMerge&) = delete;

  /// Reads every file to its end into the scratch file, so a damaged one fails before any of
  /// its bars is handed over; failed_file() then names it.
  Status Read();

  /// After Read: how `parts` writers share the batch. Each part is one stretch of tickers in the
  /// primary key's order, about as many rows each: returns where parts 1.. start. Each writer
  /// then appends in its own stretch of the index, as one sorted stream would, instead of two
  /// writers splitting each other's pages. (Past the limit of sorted blocks: all in part 0.)
  std::vector<Ticker> PartStarts(size_t parts) const;
  /// The part of `ticker` among parts starting at `starts`.
  static size_t PartOf(const std::vector<Ticker>& starts, const Ticker& ticker);

  /// After Read: hands the blocks of the tickers of part `part` (PartStarts) to `sink` in the
  /// primary key's order. Calls for different parts may run at once, and a call may be repeated
  /// (a transaction done again).
  Status Emit(const std::vector<Ticker>& starts, size_t part, const MergedBlockSink& sink) const;

  /// Read, then every block to `sink`.
  Status Run(const MergedBlockSink& sink);

  /// After Read succeeded: what each file held, in input order.
  const std::vector<DayFileSummary>& summaries() const { return summaries_; }
  /// Past this many blocks (tickers x files; options files hold a million tickers a day) the
  /// blocks go in the files' own order instead, so that memory stays bounded.
  void set_max_sorted_blocks(size_t blocks) { max_sorted_blocks_ = blocks; }
  /// Files Read reads at once, each in a thread of its own (default 1).
  void set_read_threads(size_t threads) { read_threads_ = threads; }

  /// Thread-seconds Read spent (gunzip, CSV, checks), summed over its threads.
  double read_seconds() const { return read_seconds_; }
  size_t failed_file() const { return failed_file_; }
  static constexpr size_t npos = static_cast<size_t>(-1);

 private:
  struct Scratch;

  std::vector<DayFileInput> inputs_;
  std::string scratch_dir_;
  DayFileReaderOptions options_;
  std::unique_ptr<Scratch> scratch_;
  std::vector<DayFileSummary> summaries_;
  double read_seconds_ = 0;
  size_t failed_file_ = npos;
  size_t max_sorted_blocks_ = 1'000'000;  // ~24 MB of where-each-block-lies
  size_t read_threads_ = 1;
};

}  // namespace barfill::flatfiles
