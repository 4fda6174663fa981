#include "flatfiles/day_file_merge.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace barfill::flatfiles {
namespace {

constexpr size_t kReadBytes = 1 << 20;  // reads of a gzip file
constexpr size_t kColumns = 8;          // of a BarBatch, each written as a run of 8-byte values

/// Where a block waits in the spill file: 24 bytes, so that a million blocks (a month and more
/// of the whole market) stay sorted in ~24 MB.
struct Entry {
  uint32_t ticker = 0;    // its index among the batch's tickers; once read, their rank in key order
  uint32_t file = 0;
  uint32_t sequence = 0;  // the block's place in its file: a ticker's blocks keep their order
  uint32_t rows = 0;
  uint64_t offset = 0;    // of its columns
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

  /// Appends a block in one write, built in the caller's `block`; returns where its columns
  /// start. Threads may append at once: each reserves its stretch of the file first.
  Result<uint64_t> Append(uint32_t file, const std::string& symbol, const BarBatch& bars, std::vector<char>& block) {
    const Header header{file, static_cast<uint32_t>(bars.size()), static_cast<uint32_t>(symbol.size())};
    const size_t column_bytes = bars.size() * 8;
    block.resize(sizeof header + symbol.size() + kColumns * column_bytes);
    char* out = block.data();
    std::memcpy(out, &header, sizeof header);
    out += sizeof header;
    std::memcpy(out, symbol.data(), symbol.size());
    out += symbol.size();
    const auto columns_at = static_cast<uint64_t>(out - block.data());
    for (const char* column : Columns(bars)) {
      std::memcpy(out, column, column_bytes);
      out += column_bytes;
    }
    const uint64_t start = size_.fetch_add(block.size());
    BARFILL_TRY(WriteAt(block.data(), block.size(), start));
    return start + columns_at;
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

  Status WriteAt(const char* data, size_t bytes, uint64_t offset) {
    for (size_t done = 0; done < bytes;) {
      const ssize_t n = pwrite(fd_, data + done, bytes - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Fail(ErrorCode::kInternal, std::string("cannot write a scratch file: ") + std::strerror(errno));
      done += static_cast<size_t>(n);
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
  std::atomic<uint64_t> size_{0};  // bytes appended (or being appended)
  std::string error_;
};

double Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Feeds the gzip file at `path` through `reader` to its end, unless `stop` is set on the way
/// (another file failed: this one's summary is not wanted, and nullopt is returned).
Result<std::optional<DayFileSummary>> ReadWhole(const std::string& path, DayFileReader& reader, std::string& buffer,
                                                const std::atomic<bool>& stop) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kInternal, "cannot read the spool file " + path);
  while (in && !stop.load()) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<size_t>(in.gcount());
    if (got == 0) break;
    BARFILL_TRY(reader.Feed(std::string_view(buffer.data(), got)));
  }
  if (in.bad()) return Fail(ErrorCode::kInternal, "cannot read the spool file " + path);
  if (stop.load()) return std::optional<DayFileSummary>();
  auto finished = reader.Finish();
  if (!finished) return Fail(finished.error());
  return std::optional<DayFileSummary>(std::move(*finished));
}

/// Puts `tickers` in key order and makes each entry's ticker index its ticker's rank.
void RankTickers(std::vector<Ticker>& tickers, std::vector<Entry>& entries) {
  std::vector<uint32_t> order(tickers.size());
  for (uint32_t r = 0; r < order.size(); ++r) order[r] = r;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return tickers[a] < tickers[b]; });
  std::vector<uint32_t> rank(tickers.size());
  std::vector<Ticker> ranked;
  ranked.reserve(tickers.size());
  for (uint32_t r = 0; r < order.size(); ++r) {
    rank[order[r]] = r;
    ranked.push_back(std::move(tickers[order[r]]));
  }
  tickers = std::move(ranked);
  for (Entry& e : entries) e.ticker = rank[e.ticker];
}

}  // namespace

/// The blocks of a read batch, waiting to be handed over.
struct DayFileMerge::Scratch {
  explicit Scratch(const std::string& dir) : spill(dir) {}
  SpillFile spill;
  std::vector<Ticker> tickers;  // of the entries, in key order once read
  std::vector<Entry> entries;   // sorted by primary key, unless `sorted` is false
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
  scratch_ = std::make_unique<Scratch>(scratch_dir_);
  SpillFile& spill = scratch_->spill;
  BARFILL_TRY(spill.Check());
  std::vector<Ticker>& tickers = scratch_->tickers;
  // Every file read whole (so a damaged one is known before any bar is handed over), its
  // blocks set aside; `read_threads_` files at a time, each thread taking the next file.
  const size_t threads = std::max<size_t>(1, std::min(read_threads_, inputs_.size()));
  std::vector<std::vector<Entry>> entries(threads);  // each thread's
  std::vector<std::optional<DayFileSummary>> summaries(inputs_.size());
  std::atomic<size_t> next_file{0};
  std::atomic<size_t> blocks{0};
  std::atomic<bool> sorted{true};  // false past max_sorted_blocks_: the blocks go in the files' order
  std::atomic<bool> failed{false};
  std::mutex mutex;  // guards below
  Status failure = Ok();
  std::unordered_map<std::string, uint32_t> index;  // a ticker's place in `tickers`
  double thread_seconds = 0;
  const auto read_files = [&](std::vector<Entry>& mine) {
    std::string buffer(kReadBytes, '\0');
    std::vector<char> block;
    std::unordered_map<std::string, uint32_t> known;  // this thread's copy of `index`, read without the lock
    const auto index_of = [&](const Ticker& ticker) -> uint32_t {
      if (const auto found = known.find(ticker.symbol()); found != known.end()) return found->second;
      std::lock_guard lock(mutex);
      const auto [at, added] = index.emplace(ticker.symbol(), static_cast<uint32_t>(tickers.size()));
      if (added) tickers.push_back(ticker);
      known.emplace(ticker.symbol(), at->second);
      return at->second;
    };
    for (size_t i = next_file.fetch_add(1); i < inputs_.size() && !failed.load(); i = next_file.fetch_add(1)) {
      uint32_t sequence = 0;
      DayFileReader reader(
          inputs_[i].key,
          [&](const Ticker& ticker, const BarBatch& bars) -> Status {
            auto at = spill.Append(static_cast<uint32_t>(i), ticker.symbol(), bars, block);
            if (!at) return Fail(at.error());
            if (sorted.load() && blocks.fetch_add(1) >= max_sorted_blocks_) sorted.store(false);
            if (sorted.load()) mine.push_back(Entry{index_of(ticker), static_cast<uint32_t>(i), sequence, static_cast<uint32_t>(bars.size()), *at});
            ++sequence;
            return Ok();
          },
          options_);
      auto summary = ReadWhole(inputs_[i].path, reader, buffer, failed);
      if (!summary) {
        std::lock_guard lock(mutex);
        if (failed_file_ == npos || i < failed_file_) {  // the first failed file in input order is named
          failed_file_ = i;
          failure = Fail(summary.error());
        }
        failed.store(true);
        return;
      }
      summaries[i] = std::move(*summary);
      if (!sorted.load()) std::vector<Entry>().swap(mine);
    }
  };
  const auto timed = [&](std::vector<Entry>& mine) {
    const auto start = std::chrono::steady_clock::now();
    read_files(mine);
    std::lock_guard lock(mutex);
    thread_seconds += Since(start);
  };
  if (threads == 1) {
    timed(entries[0]);
  } else {
    std::vector<std::thread> pool;
    for (size_t t = 0; t < threads; ++t) pool.emplace_back(timed, std::ref(entries[t]));
    for (std::thread& t : pool) t.join();
  }
  if (failed.load()) {
    scratch_.reset();
    return failure;
  }
  const auto joined = std::chrono::steady_clock::now();
  for (std::optional<DayFileSummary>& summary : summaries) summaries_.push_back(std::move(*summary));
  scratch_->sorted = sorted.load();
  if (scratch_->sorted) {
    for (std::vector<Entry>& mine : entries) {
      scratch_->entries.insert(scratch_->entries.end(), mine.begin(), mine.end());
      std::vector<Entry>().swap(mine);
    }
    RankTickers(tickers, scratch_->entries);
    std::sort(scratch_->entries.begin(), scratch_->entries.end(), [](const Entry& a, const Entry& b) {
      if (a.ticker != b.ticker) return a.ticker < b.ticker;
      return a.file != b.file ? a.file < b.file : a.sequence < b.sequence;
    });
  } else {
    std::vector<Ticker>().swap(tickers);
  }
  read_seconds_ = thread_seconds + Since(joined);
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
    const bool new_ticker = i == 0 || scratch_->entries[i - 1].ticker != e.ticker;
    if (new_ticker && before > 0 && before * parts >= total * (starts.size() + 1)) starts.push_back(scratch_->tickers[e.ticker]);
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
  if (part > starts.size()) return Ok();  // fewer stretches than writers: nothing for this one
  BarBatch bars;
  std::vector<char> buffer;
  if (scratch_->sorted) {  // the blocks in the primary key's order: the part's stretch of them
    const std::vector<Entry>& entries = scratch_->entries;
    const std::vector<Ticker>& tickers = scratch_->tickers;
    const auto by_ticker = [&](const Entry& e, const Ticker& t) { return tickers[e.ticker] < t; };
    const auto first = part == 0 ? entries.begin() : std::lower_bound(entries.begin(), entries.end(), starts[part - 1], by_ticker);
    const auto last = part >= starts.size() ? entries.end() : std::lower_bound(entries.begin(), entries.end(), starts[part], by_ticker);
    for (auto e = first; e < last; ++e) {
      BARFILL_TRY(spill.ReadColumns(e->offset, e->rows, bars, buffer));
      BARFILL_TRY(sink(e->file, tickers[e->ticker], bars));
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
