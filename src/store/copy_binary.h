// PostgreSQL's COPY BINARY format for the bars table, encoded straight from BarBatch columns and
// decoded back into them: big-endian fields, timestamptz as µs since 2000-01-01, NULL as length -1.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/bar.h"
#include "core/result.h"
#include "core/series.h"

namespace barfill::store {

/// Unix ms of PostgreSQL's epoch, 2000-01-01T00:00:00Z.
inline constexpr int64_t kPgEpochUnixMs = 946684800000;

/// Unix ms to PostgreSQL's timestamptz (µs since 2000-01-01) and back (rounding down).
inline int64_t UnixMsToPgMicros(int64_t ms) { return (ms - kPgEpochUnixMs) * 1000; }
int64_t PgMicrosToUnixMs(int64_t micros);

/// Columns of `COPY bars (...)` in the order the encoder writes them.
inline constexpr std::string_view kCopyColumns =
    "ticker, timeframe, adjusted, ts, open, high, low, close, volume, vwap, trades";

/// Encodes bars rows into pieces of about `piece_bytes`, handing each full piece to `flush`
/// (which sends it with PQputCopyData, or writes it to a file).
class CopyBinaryEncoder {
 public:
  using PieceSink = std::function<Status(std::string_view piece)>;

  explicit CopyBinaryEncoder(PieceSink flush, size_t piece_bytes = size_t{1} << 20);

  /// The 19-byte header; call once first.
  Status Begin();
  /// Rows [begin, end) of one series' batch.
  Status Append(const Series& series, const BarBatch& bars, size_t begin, size_t end);
  /// Hands what is buffered to `flush` now.
  Status Flush();
  /// The trailer, then flushes what is left.
  Status Finish();

 private:

  PieceSink flush_;
  size_t piece_bytes_;
  std::string buffer_;
  size_t used_ = 0;
};

/// Decodes the rows of `COPY (SELECT ts, open, high, low, close, volume, vwap, trades ...) TO
/// STDOUT (FORMAT binary)`, one message at a time as libpq returns them.
class CopyBinaryBarDecoder {
 public:
  /// Appends the rows in `message` to `out`; the header and trailer are recognised and skipped.
  Status Decode(std::string_view message, BarBatch& out);
  /// True once the trailer was seen.
  bool finished() const { return finished_; }

 private:
  bool header_seen_ = false;
  bool finished_ = false;
};

}  // namespace barfill::store
