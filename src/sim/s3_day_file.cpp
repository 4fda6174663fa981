#include "sim/s3_day_file.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include "sim/hash.h"
#include "sim/market_data.h"

namespace barfill::sim {
namespace {

constexpr size_t kPieceBytes = 256 * 1024;
constexpr size_t kMaxRowBytes = 512;
constexpr int kPaddedFractionDigits = 14;  // "69.86160000000000", as in the vendor's samples
constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kNsPerDay = 86'400'000'000'000;
constexpr int64_t kVendorNegativeWindowStart = -68'400'000'000'000;
constexpr double kTruncatedShare = 0.6;
// zlib: gzip wrapper; level 1 so that generation stays fast (the reader's cost barely depends
// on the level); memLevel 8 is zlib's default. zlib writes mtime 0, so output is repeatable.
constexpr int kGzipWindowBits = 16 + MAX_WBITS;
constexpr int kGzipLevel = 1;
constexpr int kGzipMemLevel = 8;

constexpr std::string_view kFullHeader = "ticker,volume,open,close,high,low,window_start,transactions\n";
constexpr std::string_view kIndexHeader = "ticker,open,close,high,low,window_start\n";

/// Appends CSV text to a fixed buffer; the caller drains it before it fills.
class RowWriter {
 public:
  explicit RowWriter(const std::function<void(std::string_view)>& out) : out_(out), buffer_(kPieceBytes + kMaxRowBytes) {}

  void Text(std::string_view text) {
    std::memcpy(buffer_.data() + size_, text.data(), text.size());
    size_ += text.size();
  }
  void Char(char c) { buffer_[size_++] = c; }
  void Integer(int64_t value) {
    const auto [ptr, ec] = std::to_chars(buffer_.data() + size_, buffer_.data() + buffer_.size(), value);
    size_ = static_cast<size_t>(ptr - buffer_.data());
  }
  /// The shortest decimal that reads back as `value`, never in exponent form; with `padded`,
  /// zeros are added to kPaddedFractionDigits decimals (the same value, other bytes).
  void Number(double value, bool padded) {
    char* start = buffer_.data() + size_;
    const auto [ptr, ec] = std::to_chars(start, buffer_.data() + buffer_.size(), value, std::chars_format::fixed);
    size_ = static_cast<size_t>(ptr - buffer_.data());
    if (!padded) return;
    const std::string_view written(start, static_cast<size_t>(ptr - start));
    const size_t dot = written.find('.');
    int digits = dot == std::string_view::npos ? 0 : static_cast<int>(written.size() - dot - 1);
    if (dot == std::string_view::npos) Char('.');
    for (; digits < kPaddedFractionDigits; ++digits) Char('0');
  }
  /// Sends the buffer on once it holds a piece.
  void EndRow() {
    Char('\n');
    if (size_ >= kPieceBytes) Drain();
  }
  void Drain() {
    if (size_ > 0) out_(std::string_view(buffer_.data(), size_));
    size_ = 0;
  }

 private:
  const std::function<void(std::string_view)>& out_;
  std::vector<char> buffer_;
  size_t size_ = 0;
};

/// One block to write: the file's spelling and the bars.
struct Block {
  std::string symbol;
  BarBatch bars;
  bool padded = false;
};

void WriteRow(RowWriter& w, const Block& block, size_t i, bool index, int64_t window_start) {
  w.Text(block.symbol);
  w.Char(',');
  if (!index) {
    w.Number(block.bars.volume[i], false);
    w.Char(',');
  }
  w.Number(block.bars.open[i], block.padded);
  w.Char(',');
  w.Number(block.bars.close[i], block.padded);
  w.Char(',');
  w.Number(block.bars.high[i], block.padded);
  w.Char(',');
  w.Number(block.bars.low[i], block.padded);
  w.Char(',');
  w.Integer(window_start);
  if (!index) {
    w.Char(',');
    w.Integer(block.bars.trades[i]);
  }
  w.EndRow();
}

/// Three rows the reader must refuse (a price that is not a number, high below low, a field
/// missing), stamped like a good row so that only the named rule breaks.
void WriteBadRows(RowWriter& w, const std::string& symbol, bool index, int64_t window_start) {
  const std::string ws = std::to_string(window_start);
  const std::string volume = index ? "" : "100,";
  const std::string trades = index ? "" : ",5";
  w.Text(symbol + "," + volume + "n/a,10,11,9," + ws + trades);
  w.EndRow();
  w.Text(symbol + "," + volume + "10,10,9,11," + ws + trades);
  w.EndRow();
  w.Text(symbol + "," + volume + "10,10,11," + ws + trades);
  w.EndRow();
}

/// Gzip of everything written to it, one member, at kGzipLevel.
class GzipWriter {
 public:
  GzipWriter() {
    if (deflateInit2(&z_, kGzipLevel, Z_DEFLATED, kGzipWindowBits, kGzipMemLevel, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw std::runtime_error("zlib deflateInit2 failed");
    }
  }
  ~GzipWriter() { deflateEnd(&z_); }
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;

  void Write(std::string_view bytes) { Run(bytes, Z_NO_FLUSH); }
  std::string Finish() {
    Run({}, Z_FINISH);
    return std::move(out_);
  }

 private:
  void Run(std::string_view bytes, int flush) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    z_.avail_in = static_cast<uInt>(bytes.size());
    while (true) {
      const size_t before = out_.size();
      const size_t room = std::max<size_t>(64 * 1024, deflateBound(&z_, z_.avail_in));
      out_.resize(before + room);
      z_.next_out = reinterpret_cast<Bytef*>(out_.data() + before);
      z_.avail_out = static_cast<uInt>(room);
      const int rc = deflate(&z_, flush);
      out_.resize(before + room - z_.avail_out);
      if (rc == Z_STREAM_END || (flush == Z_NO_FLUSH && z_.avail_in == 0 && z_.avail_out > 0)) return;
      if (rc != Z_OK && rc != Z_BUF_ERROR) throw std::runtime_error("zlib deflate failed");
    }
  }

  z_stream z_{};
  std::string out_;
};

}  // namespace

BarBatch DayFileBars(const Market& market, const Ticker& ticker, flatfiles::Dataset dataset, CalendarDay day) {
  const MarketZone zone = ZoneFor(dataset.asset);
  return GroundTruth(market, ticker, flatfiles::TimeframeOf(dataset.timeframe), false, zone.DaysToRange(day, day));
}

void WriteDayFileCsv(const DayFileContent& content, const std::function<void(std::string_view)>& out) {
  const bool index = content.dataset.asset == AssetClass::kIndex;
  RowWriter w(out);
  w.Text(index ? kIndexHeader : kFullHeader);

  // What goes in, in the file's order: by a hash of the symbol and the revision, so neither
  // alphabetical nor the same after a republication.
  struct Planned {
    uint64_t order;
    std::string symbol;
    Ticker ticker;
  };
  std::vector<Planned> planned;
  const uint64_t salt = SplitMix64(static_cast<uint64_t>(content.revision) + 0x6F72646572ULL);
  for (const Ticker& ticker : content.tickers) {
    std::string symbol = flatfiles::FileSymbol(ticker);
    planned.push_back({HashText(symbol) ^ salt, std::move(symbol), ticker});
  }
  if (content.test_symbols && content.dataset.asset == AssetClass::kStock) {
    for (const std::string_view spelled : kTestSymbols) {
      std::string upper(spelled);
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      auto ticker = Ticker::Parse(upper);
      if (ticker) planned.push_back({HashText(spelled) ^ salt, std::string(spelled), *ticker});
    }
  }
  std::sort(planned.begin(), planned.end(), [](const Planned& a, const Planned& b) {
    return a.order != b.order ? a.order < b.order : a.symbol < b.symbol;
  });

  bool bad_rows_written = false;
  for (const Planned& p : planned) {
    Block block;
    block.symbol = p.symbol;
    block.bars = DayFileBars(content.market, p.ticker, content.dataset, content.day);
    block.padded = ((HashText(p.symbol) + static_cast<uint64_t>(content.revision)) & 1) != 0;
    for (size_t i = 0; i < block.bars.size(); ++i) {
      int64_t window_start = block.bars.t[i] * kNsPerMs;
      if (content.fault == S3Fault::kWrongDate) window_start += kNsPerDay;
      if (content.fault == S3Fault::kNegativeWindowStart) window_start = kVendorNegativeWindowStart;
      WriteRow(w, block, i, index, window_start);
      if (i == 0 && content.fault == S3Fault::kBadRows && !bad_rows_written) {
        WriteBadRows(w, block.symbol, index, window_start);
        bad_rows_written = true;
      }
    }
  }
  w.Drain();
}

std::string MakeDayFileObject(const DayFileContent& content) {
  GzipWriter gzip;
  WriteDayFileCsv(content, [&](std::string_view piece) { gzip.Write(piece); });
  std::string bytes = gzip.Finish();
  if (content.fault == S3Fault::kTruncatedGzip) {
    bytes.resize(static_cast<size_t>(static_cast<double>(bytes.size()) * kTruncatedShare));
  }
  return bytes;
}

}  // namespace barfill::sim
