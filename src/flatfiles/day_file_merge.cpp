#include "flatfiles/day_file_merge.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <type_traits>
#include <vector>

namespace barfill::flatfiles {
namespace {

constexpr size_t kReadBytes = 1 << 20;  // reads of a gzip file
constexpr size_t kColumns = 8;          // of a BarBatch, each written as a run of 8-byte values

/// Where a block waits in the spill file.
struct Entry {
  Ticker ticker;
  uint32_t file = 0;
  uint32_t sequence = 0;  // the block's place in its file: a ticker's blocks keep their order
  uint64_t offset = 0;  // of its columns
  uint32_t rows = 0;
};

/// The columns of a batch, in the order the scratch file holds them.
template <typename Batch>
auto Columns(Batch& b) {
  using Pointer = std::conditional_t<std::is_const_v<Batch>, const char*, char*>;
  return std::array<Pointer, kColumns>{
      reinterpret_cast<Pointer>(b.t.data()),     reinterpret_cast<Pointer>(b.open.data()),
      reinterpret_cast<Pointer>(b.high.data()),  reinterpret_cast<Pointer>(b.low.data()),
      reinterpret_cast<Pointer>(b.close.data()), reinterpret_cast<Pointer>(b.volume.data()),
      reinterpret_cast<Pointer>(b.vwap.data()),  reinterpret_cast<Pointer>(b.trades.data())};
}

/// A scratch file with no name: nothing is left behind, whatever ends the process. Each block
/// is its header (file, rows, symbol) and its columns.
class SpillFile {
 public:
  explicit SpillFile(const std::string& dir) {
    std::string path = dir + "/barfill-blocks.XXXXXX";
    fd_ = mkstemp(path.data());
    if (fd_ >= 0) unlink(path.c_str());
    else error_ = "cannot create a scratch file in " + dir + ": " + std::strerror(errno);
  }
  ~SpillFile() {
    if (fd_ >= 0) close(fd_);
  }
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;

  Status Check() const { return fd_ >= 0 ? Ok() : Fail(ErrorCode::kInternal, error_); }
  uint64_t size() const { return size_; }

  /// Appends a block in one write; returns where its columns start.
  Result<uint64_t> Append(uint32_t file, const std::string& symbol, const BarBatch& bars) {
    const Header header{file, static_cast<uint32_t>(bars.size()), static_cast<uint32_t>(symbol.size())};
    const size_t column_bytes = bars.size() * 8;
    block_.resize(sizeof header + symbol.size() + kColumns * column_bytes);
    char* out = block_.data();
    std::memcpy(out, &header, sizeof header);
    out += sizeof header;
    std::memcpy(out, symbol.data(), symbol.size());
    out += symbol.size();
    const uint64_t at = size_ + static_cast<uint64_t>(out - block_.data());
    for (const char* column : Columns(bars)) {
      std::memcpy(out, column, column_bytes);
      out += column_bytes;
    }
    BARFILL_TRY(Write(block_.data(), block_.size()));
    return at;
  }

  /// Reads the block whose header starts at `offset`; moves `offset` past it.
  Status ReadNext(uint64_t& offset, uint32_t& file, std::string& symbol, BarBatch& bars) {
    Header header;
    BARFILL_TRY(ReadAt(reinterpret_cast<char*>(&header), sizeof header, offset));
    symbol.resize(header.symbol_bytes);
    BARFILL_TRY(ReadAt(symbol.data(), symbol.size(), offset));
    file = header.file;
    BARFILL_TRY(ReadColumns(offset, header.rows, bars));
    offset += uint64_t{header.rows} * 8 * kColumns;
    return Ok();
  }

  /// Reads `rows` bars whose columns start at `offset` into `bars`, in one read.
  Status ReadColumns(uint64_t offset, uint32_t rows, BarBatch& bars) {
    const size_t column_bytes = size_t{rows} * 8;
    block_.resize(kColumns * column_bytes);
    BARFILL_TRY(ReadAt(block_.data(), block_.size(), offset));
    bars.resize(rows);
    const char* in = block_.data();
    for (char* column : Columns(bars)) {
      std::memcpy(column, in, column_bytes);
      in += column_bytes;
    }
    return Ok();
  }

 private:
  struct Header {
    uint32_t file;
    uint32_t rows;
    uint32_t symbol_bytes;
  };

  Status Write(const char* data, size_t bytes) {
    for (size_t done = 0; done < bytes;) {
      const ssize_t n = pwrite(fd_, data + done, bytes - done, static_cast<off_t>(size_));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Fail(ErrorCode::kInternal, std::string("cannot write a scratch file: ") + std::strerror(errno));
      done += static_cast<size_t>(n);
      size_ += static_cast<uint64_t>(n);
    }
    return Ok();
  }

  Status ReadAt(char* data, size_t bytes, uint64_t& offset) {
    for (size_t done = 0; done < bytes;) {
      const ssize_t n = pread(fd_, data + done, bytes - done, static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        return Fail(ErrorCode::kInternal,
                    std::string("cannot read a scratch file: ") + (n < 0 ? std::strerror(errno) : "cut short"));
      }
      done += static_cast<size_t>(n);
      offset += static_cast<uint64_t>(n);
    }
    return Ok();
  }

  int fd_ = -1;
  uint64_t size_ = 0;
  std::string error_;
  std::vector<char> block_;  // one block's bytes on their way to or from the file
};

double Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

DayFileMerge::DayFileMerge(std::vector<DayFileInput> inputs, std::string scratch_dir, DayFileReaderOptions options,
                           MergedBlockSink sink)
    : inputs_(std::move(inputs)), scratch_dir_(std::move(scratch_dir)), options_(std::move(options)), sink_(std::move(sink)) {}

Status DayFileMerge::Run() {
  summaries_.clear();
  read_seconds_ = 0;
  failed_file_ = npos;
  const auto start = std::chrono::steady_clock::now();
  SpillFile spill(scratch_dir_);
  BARFILL_TRY(spill.Check());

  // Pass 1: every file read whole (so a damaged one is known before any bar is handed over),
  // its blocks set aside.
  std::vector<Entry> entries;
  bool sorted = true;
  std::string buffer(kReadBytes, '\0');
  for (size_t i = 0; i < inputs_.size(); ++i) {
    uint32_t sequence = 0;
    DayFileReader reader(
        inputs_[i].key,
        [&](const Ticker& ticker, const BarBatch& bars) -> Status {
          auto at = spill.Append(static_cast<uint32_t>(i), ticker.symbol(), bars);
          if (!at) return Fail(at.error());
          if (sorted && entries.size() >= max_sorted_blocks_) {
            sorted = false;  // too many blocks to keep track of: they go in the files' order
            std::vector<Entry>().swap(entries);
          }
          if (sorted) entries.push_back(Entry{ticker, static_cast<uint32_t>(i), sequence, *at, static_cast<uint32_t>(bars.size())});
          ++sequence;
          return Ok();
        },
        options_);
    const Status read = [&]() -> Status {
      std::ifstream in(inputs_[i].path, std::ios::binary);
      if (!in) return Fail(ErrorCode::kInternal, "cannot read the spool file " + inputs_[i].path);
      while (in) {
        in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        const auto got = static_cast<size_t>(in.gcount());
        if (got == 0) break;
        BARFILL_TRY(reader.Feed(std::string_view(buffer.data(), got)));
      }
      if (in.bad()) return Fail(ErrorCode::kInternal, "cannot read the spool file " + inputs_[i].path);
      auto finished = reader.Finish();
      if (!finished) return Fail(finished.error());
      summaries_.push_back(std::move(*finished));
      return Ok();
    }();
    if (!read) {
      failed_file_ = i;
      summaries_.clear();
      return read;
    }
  }

  // Pass 2: the blocks in the primary key's order (or, past the limit, as the files had them).
  BarBatch bars;
  double sink_s = 0;
  const auto hand_over = [&](uint32_t file, const Ticker& ticker) -> Status {
    const auto sink_start = std::chrono::steady_clock::now();
    const Status sunk = sink_(file, ticker, bars);
    sink_s += Since(sink_start);
    return sunk;
  };
  if (sorted) {
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      if (!(a.ticker == b.ticker)) return a.ticker < b.ticker;
      return a.file != b.file ? a.file < b.file : a.sequence < b.sequence;
    });
    for (const Entry& e : entries) {
      BARFILL_TRY(spill.ReadColumns(e.offset, e.rows, bars));
      BARFILL_TRY(hand_over(e.file, e.ticker));
    }
  } else {
    std::string symbol;
    for (uint64_t offset = 0; offset < spill.size();) {
      uint32_t file = 0;
      BARFILL_TRY(spill.ReadNext(offset, file, symbol, bars));
      auto ticker = Ticker::Parse(symbol);  // the reader's own spelling: it parses
      if (!ticker) return Fail(ticker.error());
      BARFILL_TRY(hand_over(file, *ticker));
    }
  }
  read_seconds_ = Since(start) - sink_s;
  return Ok();
}

}  // namespace barfill::flatfiles
