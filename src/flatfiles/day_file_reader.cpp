#include "flatfiles/day_file_reader.h"

#include <zlib.h>

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "core/market_time.h"
#include "flatfiles/decimal.h"

namespace barfill::flatfiles {
namespace {

constexpr size_t kInflateChunk = 256 * 1024;
constexpr int kGzipWindowBits = 16 + MAX_WBITS;  // gzip wrapper, 32 KiB window
constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kNsPerMinute = 60'000'000'000;
constexpr size_t kMaxColumns = 32;
constexpr size_t kMaxUnsupportedListed = 10;
constexpr size_t kMaxShownLine = 120;
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

/// The columns barfill reads, in the order the vendor writes them.
enum Column { kTicker, kVolume, kOpen, kClose, kHigh, kLow, kWindowStart, kTransactions, kColumnCount };
constexpr std::array<std::string_view, kColumnCount> kColumnNames = {
    "ticker", "volume", "open", "close", "high", "low", "window_start", "transactions"};
constexpr std::string_view kFullHeader = "ticker,volume,open,close,high,low,window_start,transactions";
constexpr std::string_view kIndexHeader = "ticker,open,close,high,low,window_start";

/// A whole number, also when written "4073.0".
bool ParseWholeNumber(std::string_view text, int64_t* out) {
  if (ParseInteger(text, out)) return true;
  double value = 0;
  constexpr double kLimit = 9.0e15;  // exactly representable, far above any count
  if (ParseDecimal(text, &value) && std::isfinite(value) && value == std::floor(value) &&
      std::fabs(value) < kLimit) {
    *out = static_cast<int64_t>(value);
    return true;
  }
  return false;
}

std::string Shown(std::string_view text) {
  std::string out(text.substr(0, kMaxShownLine));
  if (text.size() > kMaxShownLine) out += "...";
  return out;
}

}  // namespace

bool TickerFilter::Accepts(std::string_view rest_symbol) const {
  const std::string symbol(rest_symbol);
  if (exclude.count(symbol) > 0) return false;
  if (!only.empty() && only.count(symbol) == 0) return false;
  if (prefixes.empty()) return true;
  for (const std::string& prefix : prefixes) {
    if (rest_symbol.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

std::string DayFileSummary::Describe() const {
  std::string out = std::to_string(bars) + " bars of " + std::to_string(tickers) + " tickers from " +
                    std::to_string(rows) + " rows";
  if (filtered_rows > 0) out += "; " + std::to_string(filtered_rows) + " rows filtered out";
  if (unsupported_rows > 0) {
    out += "; " + std::to_string(unsupported_rows) + " rows of unsupported symbols (e.g. " +
           (unsupported_symbols.empty() ? std::string("?") : unsupported_symbols.front()) + ")";
  }
  if (restamped_rows > 0) out += "; " + std::to_string(restamped_rows) + " day rows restamped to the session date";
  if (bad_rows > 0) {
    out += "; " + std::to_string(bad_rows) + " bad rows";
    if (!first_bad_rows.empty()) {
      out += " (first: line " + std::to_string(first_bad_rows.front().line) + ": " + first_bad_rows.front().reason + ")";
    }
  }
  return out;
}

// ---- the reader -------------------------------------------------------------------------------

struct DayFileReader::State {
  DayFileKey key;
  BlockSink sink;
  DayFileReaderOptions options;
  DayFileSummary summary;

  // Time rules of this file.
  bool day_file = false;
  int64_t session_start_ms = 0;  // 00:00 of the session date in the market's zone
  int64_t earliest_ms = 0;       // window_start must lie in [earliest, latest): a day either side
  int64_t latest_ms = 0;

  // Inflating.
  z_stream zlib{};
  bool zlib_ready = false;
  bool stream_ended = false;   // the last gzip member ended
  bool failed = false;
  Error failure;
  std::unique_ptr<char[]> buffer;  // [0, filled): inflated bytes not yet split into lines
  size_t capacity = 0;
  size_t filled = 0;
  int64_t line_number = 0;

  // Columns (index in the line of each Column; -1 when the file has none).
  bool header_seen = false;
  std::array<int, kColumnCount> column{};
  size_t field_count = 0;

  // The ticker being read.
  enum class Keep { kYes, kFiltered, kUnsupported };
  std::string file_symbol;     // as the file spells it
  Keep keep = Keep::kFiltered;
  Ticker ticker;
  int64_t last_t = std::numeric_limits<int64_t>::min();
  BarBatch block;
  // The last t of every ticker seen, so that a ticker coming back later cannot repeat a bar.
  std::unordered_map<std::string, int64_t> last_t_by_symbol;

  State(DayFileKey k, BlockSink s, DayFileReaderOptions o)
      : key(std::move(k)), sink(std::move(s)), options(std::move(o)) {
    day_file = key.dataset.timeframe == FileTimeframe::kDay;
    const MarketZone zone = ZoneFor(key.dataset.asset);
    session_start_ms = zone.DayStartMs(key.day);
    earliest_ms = zone.DayStartMs(key.day.AddDays(-1));
    latest_ms = zone.DayStartMs(key.day.AddDays(2));
    capacity = kInflateChunk + options.max_line_bytes;
    buffer = std::make_unique_for_overwrite<char[]>(capacity);
    zlib_ready = inflateInit2(&zlib, kGzipWindowBits) == Z_OK;
    block.reserve(options.max_rows_per_block);
  }
  ~State() {
    if (zlib_ready) inflateEnd(&zlib);
  }

  /// Records a fatal error: every later call returns it too.
  Unexpected Stop(Error error) {
    failed = true;
    failure = error;
    return Fail(std::move(error));
  }

  Error FileError(ErrorCode code, const std::string& what) const { return Error(code, key.key + ": " + what); }

  void Bad(const std::string& reason) {
    ++summary.bad_rows;
    if (summary.first_bad_rows.size() < options.max_bad_rows_listed) {
      summary.first_bad_rows.push_back({line_number, reason});
    }
  }

  Status Flush() {
    if (block.empty()) return Ok();
    summary.bars += static_cast<int64_t>(block.size());
    Status handed = sink(ticker, block);
    block.clear();
    return handed;
  }

  Status Inflate(std::string_view input) {
    if (!zlib_ready) return Stop(FileError(ErrorCode::kInternal, "zlib inflateInit2 failed"));
    summary.compressed_bytes += static_cast<int64_t>(input.size());
    zlib.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    zlib.avail_in = static_cast<uInt>(input.size());
    while (true) {
      if (stream_ended) {
        if (zlib.avail_in == 0) break;
        // Another gzip member follows: concatenated members are one file to gunzip.
        inflateReset(&zlib);
        stream_ended = false;
      }
      zlib.next_out = reinterpret_cast<Bytef*>(buffer.get() + filled);
      zlib.avail_out = static_cast<uInt>(capacity - filled);
      const int rc = inflate(&zlib, Z_NO_FLUSH);
      const size_t produced = (capacity - filled) - zlib.avail_out;
      filled += produced;
      summary.csv_bytes += static_cast<int64_t>(produced);
      if (rc == Z_STREAM_END) {
        stream_ended = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        const int64_t at = summary.compressed_bytes - static_cast<int64_t>(zlib.avail_in);
        return Stop(FileError(ErrorCode::kBadResponse,
                              "corrupt gzip data near compressed byte " + std::to_string(at) + " (zlib: " +
                                  (zlib.msg != nullptr ? zlib.msg : "error " + std::to_string(rc)) +
                                  "); download the file again"));
      }
      BARFILL_TRY(SplitLines(false));
      const bool output_pending = zlib.avail_out == 0;
      if (zlib.avail_in == 0 && !output_pending) break;
      if (rc == Z_BUF_ERROR && !output_pending) break;
    }
    return Ok();
  }

  /// Hands every complete line in the buffer to ReadLine and keeps the partial tail; at the end
  /// of the file the tail is a line too.
  Status SplitLines(bool at_end) {
    size_t start = 0;
    while (start < filled) {
      const void* newline = std::memchr(buffer.get() + start, '\n', filled - start);
      if (newline == nullptr) break;
      const size_t end = static_cast<size_t>(static_cast<const char*>(newline) - buffer.get());
      BARFILL_TRY(ReadLine(std::string_view(buffer.get() + start, end - start)));
      start = end + 1;
    }
    if (at_end && start < filled) {
      BARFILL_TRY(ReadLine(std::string_view(buffer.get() + start, filled - start)));
      start = filled;
    }
    const size_t tail = filled - start;
    if (tail > options.max_line_bytes) {
      ++line_number;
      return LineTooLong();
    }
    if (start > 0 && tail > 0) std::memmove(buffer.get(), buffer.get() + start, tail);
    filled = tail;
    return Ok();
  }

  Unexpected LineTooLong() {
    return Stop(FileError(ErrorCode::kInvalidData, "line " + std::to_string(line_number) + " is longer than " +
                                                       std::to_string(options.max_line_bytes) +
                                                       " bytes: this is not an aggregates file"));
  }

  Status ReadLine(std::string_view line) {
    ++line_number;
    if (line.size() > options.max_line_bytes) return LineTooLong();
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!header_seen) return ReadHeader(line);
    if (line.empty()) return Ok();
    ++summary.rows;

    // Fields are short: a plain scan beats a memchr call per field.
    std::array<std::string_view, kMaxColumns> fields;
    size_t count = 0;
    size_t start = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] != ',') continue;
      if (count < kMaxColumns) fields[count] = line.substr(start, i - start);
      ++count;
      start = i + 1;
    }
    if (count < kMaxColumns) fields[count] = line.substr(start);
    ++count;
    if (count != field_count) {
      Bad("has " + std::to_string(count) + " fields, the header has " + std::to_string(field_count) + ": '" +
          Shown(line) + "'");
      return Ok();
    }
    const std::string_view symbol = fields[column[kTicker]];
    if (symbol.empty()) {
      Bad("has no ticker: '" + Shown(line) + "'");
      return Ok();
    }
    if (symbol != file_symbol) BARFILL_TRY(SwitchTicker(symbol));
    switch (keep) {
      case Keep::kFiltered: ++summary.filtered_rows; return Ok();
      case Keep::kUnsupported: ++summary.unsupported_rows; return Ok();
      case Keep::kYes: break;
    }
    ReadBar(fields, line);
    if (block.size() >= options.max_rows_per_block) return Flush();
    return Ok();
  }

  void ReadBar(const std::array<std::string_view, kMaxColumns>& fields, std::string_view line) {
    Bar bar;
    bar.vwap = kNoVwap;
    bar.trades = kNoTrades;
    int64_t window_start = 0;
    const auto number = [&](Column c, double* out) {
      if (ParseDecimal(fields[column[c]], out)) return true;
      Bad(std::string(kColumnNames[c]) + " '" + Shown(fields[column[c]]) + "' is not a number: '" + Shown(line) + "'");
      return false;
    };
    if (!number(kOpen, &bar.open) || !number(kHigh, &bar.high) || !number(kLow, &bar.low) ||
        !number(kClose, &bar.close)) {
      return;
    }
    if (column[kVolume] >= 0 && !number(kVolume, &bar.volume)) return;
    if (column[kTransactions] >= 0 && !ParseWholeNumber(fields[column[kTransactions]], &bar.trades)) {
      Bad("transactions '" + Shown(fields[column[kTransactions]]) + "' is not a whole number: '" + Shown(line) + "'");
      return;
    }
    if (!ParseInteger(fields[column[kWindowStart]], &window_start)) {
      Bad("window_start '" + Shown(fields[column[kWindowStart]]) + "' is not an integer: '" + Shown(line) + "'");
      return;
    }
    if (const char* problem = CheckValues(bar)) {
      Bad(std::string(problem) + ": '" + Shown(line) + "'");
      return;
    }
    if (window_start % kNsPerMinute != 0) {
      Bad("window_start " + std::to_string(window_start) + " is not on a minute boundary: '" + Shown(line) + "'");
      return;
    }
    const int64_t start_ms = window_start / kNsPerMs;
    if (start_ms < earliest_ms || start_ms >= latest_ms) {
      Bad("window_start " + std::to_string(window_start) + " (" + FormatIsoUtc(start_ms) +
          ") is not within a day of the session date " + key.day.ToString() + ": '" + Shown(line) + "'");
      return;
    }
    bar.t = start_ms;
    if (day_file) {
      // The session date comes from the key (one vendor file stamped every row a day late).
      if (start_ms != session_start_ms) ++summary.restamped_rows;
      bar.t = session_start_ms;
    }
    if (bar.t <= last_t) {
      Bad(std::string(bar.t == last_t ? "repeats" : "comes before") + " the previous bar of " + file_symbol + " (" +
          FormatIsoUtc(last_t) + "): '" + Shown(line) + "'");
      return;
    }
    last_t = bar.t;
    block.push_back(bar);
  }

  /// The first broken rule of a bar's values, or null.
  static const char* CheckValues(const Bar& b) {
    if (!std::isfinite(b.open) || !std::isfinite(b.high) || !std::isfinite(b.low) || !std::isfinite(b.close) ||
        !std::isfinite(b.volume)) {
      return "has a non-finite number";
    }
    if (b.high < b.open || b.high < b.close || b.high < b.low) return "has high below open, close or low";
    if (b.low > b.open || b.low > b.close) return "has low above open or close";
    if (b.volume < 0) return "has negative volume";
    if (b.trades < 0 && b.trades != kNoTrades) return "has negative transactions";
    return nullptr;
  }

  Status SwitchTicker(std::string_view symbol) {
    BARFILL_TRY(Flush());
    if (!file_symbol.empty() && keep == Keep::kYes) last_t_by_symbol[file_symbol] = last_t;
    file_symbol.assign(symbol);
    last_t = std::numeric_limits<int64_t>::min();
    const std::string rest = RestSymbol(symbol);
    if (!options.filter.Accepts(rest)) {
      keep = Keep::kFiltered;
      return Ok();
    }
    auto parsed = Ticker::Parse(rest);
    if (!parsed) {
      keep = Keep::kUnsupported;
      if (summary.unsupported_symbols.size() < kMaxUnsupportedListed) summary.unsupported_symbols.push_back(file_symbol);
      return Ok();
    }
    keep = Keep::kYes;
    ticker = std::move(*parsed);
    const auto [it, fresh] = last_t_by_symbol.try_emplace(file_symbol, std::numeric_limits<int64_t>::min());
    if (fresh) {
      ++summary.tickers;
    } else {
      ++summary.reopened_tickers;
      last_t = it->second;
    }
    return Ok();
  }

  Status ReadHeader(std::string_view line) {
    if (line.substr(0, kUtf8Bom.size()) == kUtf8Bom) line.remove_prefix(kUtf8Bom.size());
    const bool index = key.dataset.asset == AssetClass::kIndex;
    const std::string_view expected = index ? kIndexHeader : kFullHeader;
    column.fill(-1);
    field_count = 0;
    size_t pos = 0;
    while (pos <= line.size()) {
      size_t comma = line.find(',', pos);
      if (comma == std::string_view::npos) comma = line.size();
      const std::string_view name = line.substr(pos, comma - pos);
      bool known = false;
      for (int c = 0; c < kColumnCount; ++c) {
        if (name != kColumnNames[c]) continue;
        known = true;
        if (column[c] >= 0) {
          return Stop(FileError(ErrorCode::kInvalidData, "header '" + Shown(line) + "' names column '" +
                                                             std::string(name) + "' twice"));
        }
        column[c] = static_cast<int>(field_count);
      }
      if (!known) summary.ignored_columns.emplace_back(name);
      if (++field_count > kMaxColumns) {
        return Stop(FileError(ErrorCode::kInvalidData, "header '" + Shown(line) + "' has more than " +
                                                           std::to_string(kMaxColumns) + " columns; expected " +
                                                           std::string(expected)));
      }
      pos = comma + 1;
    }
    const std::array<Column, 6> always = {kTicker, kOpen, kClose, kHigh, kLow, kWindowStart};
    std::vector<Column> needed(always.begin(), always.end());
    if (!index) {
      needed.push_back(kVolume);
      needed.push_back(kTransactions);
    }
    for (const Column c : needed) {
      if (column[c] < 0) {
        return Stop(FileError(ErrorCode::kInvalidData, "header '" + Shown(line) + "' lacks column '" +
                                                           std::string(kColumnNames[c]) + "'; expected " +
                                                           std::string(expected)));
      }
    }
    header_seen = true;
    return Ok();
  }
};

DayFileReader::DayFileReader(DayFileKey key, BlockSink sink, DayFileReaderOptions options)
    : state_(std::make_unique<State>(std::move(key), std::move(sink), std::move(options))) {}

DayFileReader::~DayFileReader() = default;

const DayFileKey& DayFileReader::key() const { return state_->key; }

size_t DayFileReader::BufferedBytes() const { return state_->capacity + state_->block.CapacityBytes(); }

Status DayFileReader::Feed(std::string_view gzip_bytes) {
  State& s = *state_;
  if (s.failed) return Fail(s.failure);
  // Huge pieces go through zlib in slices: avail_in is 32 bits.
  constexpr size_t kSlice = size_t{1} << 30;
  while (!gzip_bytes.empty()) {
    const size_t n = std::min(gzip_bytes.size(), kSlice);
    BARFILL_TRY(s.Inflate(gzip_bytes.substr(0, n)));
    gzip_bytes.remove_prefix(n);
  }
  return Ok();
}

Result<DayFileSummary> DayFileReader::Finish() {
  State& s = *state_;
  if (s.failed) return Fail(s.failure);
  if (!s.stream_ended) {
    return s.Stop(s.FileError(ErrorCode::kBadResponse,
                              s.summary.compressed_bytes == 0
                                  ? "the object is empty, not a gzip file; download it again"
                                  : "the gzip stream is cut short after " + std::to_string(s.summary.compressed_bytes) +
                                        " bytes: the file is incomplete; download it again"));
  }
  BARFILL_TRY(s.SplitLines(true));
  if (!s.header_seen) return s.Stop(s.FileError(ErrorCode::kInvalidData, "the file is empty: it has no header line"));
  BARFILL_TRY(s.Flush());
  s.failed = true;  // one Finish per reader
  s.failure = s.FileError(ErrorCode::kInternal, "the reader was already finished");
  return s.summary;
}

}  // namespace barfill::flatfiles
