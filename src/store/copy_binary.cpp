#include "store/copy_binary.h"

#include <bit>
#include <cstring>

namespace barfill::store {
namespace {

constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // 11 bytes with its NUL
constexpr size_t kSignatureBytes = 11;
constexpr size_t kHeaderBytes = kSignatureBytes + 8;
constexpr int16_t kBarsFields = 11;
constexpr int16_t kReadFields = 8;
/// Largest encoded row apart from the two text fields.
constexpr size_t kFixedRowBytes = 2 + 3 * 4 + 1 + 8 * (4 + 8);

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big);

template <typename T>
T ToBig(T v) {
  if constexpr (std::endian::native == std::endian::little) {
    if constexpr (sizeof(T) == 2) return static_cast<T>(__builtin_bswap16(static_cast<uint16_t>(v)));
    if constexpr (sizeof(T) == 4) return static_cast<T>(__builtin_bswap32(static_cast<uint32_t>(v)));
    if constexpr (sizeof(T) == 8) return static_cast<T>(__builtin_bswap64(static_cast<uint64_t>(v)));
  }
  return v;
}

template <typename T>
char* Put(char* p, T v) {
  const T big = ToBig(v);
  std::memcpy(p, &big, sizeof big);
  return p + sizeof big;
}

char* PutInt64Field(char* p, int64_t v) { return Put<int64_t>(Put<int32_t>(p, 8), v); }
char* PutDoubleField(char* p, double v) { return PutInt64Field(p, std::bit_cast<int64_t>(v)); }
char* PutNull(char* p) { return Put<int32_t>(p, -1); }

template <typename T>
bool Get(std::string_view& in, T& v) {
  if (in.size() < sizeof v) return false;
  T big;
  std::memcpy(&big, in.data(), sizeof big);
  v = ToBig(big);
  in.remove_prefix(sizeof v);
  return true;
}

Status Corrupt(std::string_view what) {
  return Fail(ErrorCode::kDatabase, "malformed COPY BINARY data from the server: " + std::string(what));
}

}  // namespace

int64_t PgMicrosToUnixMs(int64_t micros) {
  const int64_t ms = micros / 1000 - (micros % 1000 < 0 ? 1 : 0);
  return ms + kPgEpochUnixMs;
}

CopyBinaryEncoder::CopyBinaryEncoder(PieceSink flush, size_t piece_bytes)
    : flush_(std::move(flush)), piece_bytes_(piece_bytes) {
  buffer_.resize(piece_bytes_ + 4096);
}

Status CopyBinaryEncoder::Begin() {
  char* p = buffer_.data() + used_;
  std::memcpy(p, kSignature, kSignatureBytes);
  p = Put<int32_t>(p + kSignatureBytes, 0);  // flags: no OIDs
  Put<int32_t>(p, 0);                        // header extension length
  used_ += kHeaderBytes;
  return Ok();
}

Status CopyBinaryEncoder::Append(const Series& series, const BarBatch& bars, size_t begin,
                                 size_t end) {
  // The first four fields are the same for every row of the series: encode them once.
  const std::string& ticker = series.ticker.symbol();
  const std::string timeframe = series.timeframe.ToString();
  std::string prefix(2 + 4 + ticker.size() + 4 + timeframe.size() + 4 + 1, '\0');
  char* q = Put<int16_t>(prefix.data(), kBarsFields);
  q = Put<int32_t>(q, static_cast<int32_t>(ticker.size()));
  q = static_cast<char*>(std::memcpy(q, ticker.data(), ticker.size())) + ticker.size();
  q = Put<int32_t>(q, static_cast<int32_t>(timeframe.size()));
  q = static_cast<char*>(std::memcpy(q, timeframe.data(), timeframe.size())) + timeframe.size();
  q = Put<int32_t>(q, 1);
  *q = series.adjusted ? 1 : 0;

  const size_t row_bytes = prefix.size() + kFixedRowBytes;
  if (buffer_.size() < piece_bytes_ + row_bytes) buffer_.resize(piece_bytes_ + row_bytes);
  for (size_t i = begin; i < end; ++i) {
    char* p = buffer_.data() + used_;
    std::memcpy(p, prefix.data(), prefix.size());
    p += prefix.size();
    p = PutInt64Field(p, UnixMsToPgMicros(bars.t[i]));
    p = PutDoubleField(p, bars.open[i]);
    p = PutDoubleField(p, bars.high[i]);
    p = PutDoubleField(p, bars.low[i]);
    p = PutDoubleField(p, bars.close[i]);
    p = PutDoubleField(p, bars.volume[i]);
    p = std::isnan(bars.vwap[i]) ? PutNull(p) : PutDoubleField(p, bars.vwap[i]);
    p = bars.trades[i] == kNoTrades ? PutNull(p) : PutInt64Field(p, bars.trades[i]);
    used_ = static_cast<size_t>(p - buffer_.data());
    if (used_ >= piece_bytes_) BARFILL_TRY(Flush());
  }
  return Ok();
}

Status CopyBinaryEncoder::Flush() {
  if (used_ == 0) return Ok();
  BARFILL_TRY(flush_(std::string_view(buffer_.data(), used_)));
  used_ = 0;
  return Ok();
}

Status CopyBinaryEncoder::Finish() {
  Put<int16_t>(buffer_.data() + used_, -1);
  used_ += 2;
  return Flush();
}

Status CopyBinaryBarDecoder::Decode(std::string_view message, BarBatch& out) {
  if (!header_seen_) {
    if (message.size() < kHeaderBytes || std::memcmp(message.data(), kSignature, kSignatureBytes) != 0) {
      return Corrupt("bad header");
    }
    message.remove_prefix(kSignatureBytes + 4);
    uint32_t extension = 0;
    Get(message, extension);
    if (message.size() < extension) return Corrupt("short header extension");
    message.remove_prefix(extension);
    header_seen_ = true;
  }
  while (!message.empty()) {
    int16_t fields = 0;
    if (!Get(message, fields)) return Corrupt("short row");
    if (fields == -1) {
      finished_ = true;
      return Ok();
    }
    if (fields != kReadFields) return Corrupt("unexpected field count " + std::to_string(fields));
    int64_t values[kReadFields];
    bool null[kReadFields];
    for (int f = 0; f < kReadFields; ++f) {
      int32_t length = 0;
      if (!Get(message, length)) return Corrupt("short field");
      null[f] = length == -1;
      if (null[f]) continue;
      if (length != 8 || !Get(message, values[f])) return Corrupt("unexpected field length");
    }
    for (int f = 0; f < 6; ++f) {
      if (null[f]) return Corrupt("NULL in a NOT NULL column");
    }
    Bar bar;
    bar.t = PgMicrosToUnixMs(values[0]);
    bar.open = std::bit_cast<double>(values[1]);
    bar.high = std::bit_cast<double>(values[2]);
    bar.low = std::bit_cast<double>(values[3]);
    bar.close = std::bit_cast<double>(values[4]);
    bar.volume = std::bit_cast<double>(values[5]);
    bar.vwap = null[6] ? kNoVwap : std::bit_cast<double>(values[6]);
    bar.trades = null[7] ? kNoTrades : values[7];
    out.push_back(bar);
  }
  return Ok();
}

}  // namespace barfill::store
