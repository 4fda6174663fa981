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

  /// Reads the block whose header starts at `offset`; moves `offset` past it. Reads may run
  /// in several threads at once, each with its own `buffer`.
  Status ReadNext(uint64_t& offset, uint32_t& file, std::string& symbol, BarBatch& bars, std::vector<char>& buffer) const {
    Header header;
    BARFILL_TRY(ReadAt(reinterpret_cast<char*>(&header), sizeof header, offset));
    symbol.resize(header.symbol_bytes);
    BARFILL_TRY(ReadAt(symbol.data(), symbol.size(), offset));
    file = header.file;
    BARFILL_TRY(ReadColumns(offset, header.rows, bars, buffer));
    offset += uint64_t{header.rows} * 8 * kColumns;
    return Ok();
  }

  /// Reads `rows` bars whose columns start at `offset` into `bars`, in one read.
  Status ReadColumns(uint64_t offset, uint32_t rows, BarBatch& bars, std::vector<char>& buffer) const {
    const size_t column_bytes = size_t{rows} * 8;
    buffer.resize(kColumns * column_bytes);
    BARFILL_TRY(ReadAt(buffer.data(), buffer.size(), offset));
    bars.resize(rows);
    const char* in = buffer.data();
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

  Status ReadAt(char* data, size_t bytes, uint64_t& offset) const {
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
  std::vector<char> block_;  // one block's bytes on their way to the file
};

double Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

/// The blocks of a read batch, waiting to be handed over.
struct DayFileMerge::Scratch {
  explicit Scratch(const std::string& dir) : spill(dir) {}
  SpillFile spill;
  std::vector<Entry> entries;  // sorted by primary key, unless `sorted` is false
  bool sorted = true;
};

DayFileMerge::DayFileMerge(std::vector<DayFileInput> inputs, std::string scratch_dir, DayFileReaderOptions options)
    : inputs_(std::move(inputs)), scratch_dir_(std::move(scratch_dir)), options_(std::move(options)) {}

DayFileMerge::~DayFileMerge() = default;

Status DayFileMerge::Run(const MergedBlockSink& sink) {
  BARFILL_TRY(Read());
  return Emit({}, 0, sink);
}

Status DayFileMerge::Read() {
  summaries_.clear();
  read_seconds_ = 0;
  failed_file_ = npos;
  const auto start = std::chrono::steady_clock::now();
  scratch_ = std::make_unique<Scratch>(scratch_dir_);
  SpillFile& spill = scratch_->spill;
  BARFILL_TRY(spill.Check());
  std::vector<Entry>& entries = scratch_->entries;
  bool& sorted = scratch_->sorted;

  // Every file read whole (so a damaged one is known before any bar is handed over), its
  // blocks set aside.
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
      scratch_.reset();
      return read;
    }
  }

  if (sorted) {
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      if (!(a.ticker == b.ticker)) return a.ticker < b.ticker;
      return a.file != b.file ? a.file < b.file : a.sequence < b.sequence;
    });
  }
  read_seconds_ = Since(start);
  return Ok();
}

std::vector<Ticker> DayFileMerge::PartStarts(size_t parts) const {
  std::vector<Ticker> starts;
  if (!scratch_ || !scratch_->sorted || parts <= 1) return starts;
  uint64_t total = 0;
  for (const Entry& e : scratch_->entries) total += e.rows;
  uint64_t before = 0;  // rows of the tickers before entry i
  for (size_t i = 0; i < scratch_->entries.size() && starts.size() + 1 < parts; ++i) {
    const Entry& e = scratch_->entries[i];
    const bool new_ticker = i == 0 || !(scratch_->entries[i - 1].ticker == e.ticker);
    if (new_ticker && before > 0 && before * parts >= total * (starts.size() + 1)) starts.push_back(e.ticker);
    before += e.rows;
  }
  return starts;
}

size_t DayFileMerge::PartOf(const std::vector<Ticker>& starts, const Ticker& ticker) {
  return static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), ticker) - starts.begin());
}

Status DayFileMerge::Emit(const std::vector<Ticker>& starts, size_t part, const MergedBlockSink& sink) const {
  if (!scratch_) return Fail(ErrorCode::kInternal, "day files handed over before they were read");
  const SpillFile& spill = scratch_->spill;
  BarBatch bars;
  std::vector<char> buffer;
  if (scratch_->sorted) {  // the blocks in the primary key's order: the part's stretch of them
    if (part > starts.size()) return Ok();  // fewer stretches than writers: nothing for this one
    const std::vector<Entry>& entries = scratch_->entries;
    const auto by_ticker = [](const Entry& e, const Ticker& t) { return e.ticker < t; };
    const auto first = part == 0 ? entries.begin() : std::lower_bound(entries.begin(), entries.end(), starts[part - 1], by_ticker);
    const auto last = part >= starts.size() ? entries.end() : std::lower_bound(entries.begin(), entries.end(), starts[part], by_ticker);
    for (auto e = first; e < last; ++e) {
      BARFILL_TRY(spill.ReadColumns(e->offset, e->rows, bars, buffer));
      BARFILL_TRY(sink(e->file, e->ticker, bars));
    }
    return Ok();
  }
  std::string symbol;  // past the limit: as the files had them
  for (uint64_t offset = 0; offset < spill.size();) {
    uint32_t file = 0;
    BARFILL_TRY(spill.ReadNext(offset, file, symbol, bars, buffer));
    auto ticker = Ticker::Parse(symbol);  // the reader's own spelling: it parses
    if (!ticker) return Fail(ticker.error());
    if (PartOf(starts, *ticker) == part) BARFILL_TRY(sink(file, *ticker, bars));
  }
  return Ok();
}

}  // namespace barfill::flatfiles
