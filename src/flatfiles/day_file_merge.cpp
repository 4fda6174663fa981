#include "flatfiles/day_file_merge.h"

#include <chrono>
#include <deque>
#include <fstream>
#include <memory>

namespace barfill::flatfiles {
namespace {

/// Bytes read from a file at a time: small, so that one read's blocks stay few.
constexpr size_t kReadBytes = 64 * 1024;

struct Block {
  Ticker ticker;
  BarBatch bars;
};

/// One file being read: blocks come out one read ahead of the merge.
struct Cursor {
  std::ifstream in;
  std::unique_ptr<DayFileReader> reader;
  std::deque<Block> blocks;
  bool done = false;
  DayFileSummary summary;
};

}  // namespace

DayFileMerge::DayFileMerge(std::vector<DayFileInput> inputs, DayFileReaderOptions options, MergedBlockSink sink)
    : inputs_(std::move(inputs)), options_(std::move(options)), sink_(std::move(sink)) {}

Status DayFileMerge::Run() {
  summaries_.clear();
  read_seconds_ = 0;
  failed_file_ = npos;
  std::vector<Cursor> cursors(inputs_.size());
  std::string buffer(kReadBytes, '\0');

  // Reads file `i` until it has a block to offer or ends.
  const auto refill = [&](size_t i) -> Status {
    Cursor& c = cursors[i];
    const auto start = std::chrono::steady_clock::now();
    Status status = Ok();
    while (status && c.blocks.empty() && !c.done) {
      c.in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      const auto got = static_cast<size_t>(c.in.gcount());
      if (got > 0) {
        status = c.reader->Feed(std::string_view(buffer.data(), got));
      } else if (c.in.bad()) {
        status = Fail(ErrorCode::kInternal, "cannot read the spool file " + inputs_[i].path);
      } else {
        auto finished = c.reader->Finish();
        if (finished) c.summary = std::move(*finished);
        else status = Fail(finished.error());
        c.done = true;
      }
    }
    read_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!status) failed_file_ = i;
    return status;
  };

  for (size_t i = 0; i < inputs_.size(); ++i) {
    Cursor& c = cursors[i];
    c.in.open(inputs_[i].path, std::ios::binary);
    if (!c.in) {
      failed_file_ = i;
      return Fail(ErrorCode::kInternal, "cannot read the spool file " + inputs_[i].path);
    }
    c.reader = std::make_unique<DayFileReader>(
        inputs_[i].key,
        [&c](const Ticker& ticker, const BarBatch& bars) -> Status {
          c.blocks.push_back(Block{ticker, bars});
          return Ok();
        },
        options_);
    BARFILL_TRY(refill(i));
  }

  for (;;) {
    const Ticker* next = nullptr;
    for (const Cursor& c : cursors) {
      if (!c.blocks.empty() && (next == nullptr || c.blocks.front().ticker < *next)) next = &c.blocks.front().ticker;
    }
    if (next == nullptr) break;  // every file read to its end
    const Ticker ticker = *next;
    for (size_t i = 0; i < cursors.size(); ++i) {
      Cursor& c = cursors[i];
      while (!c.blocks.empty() && c.blocks.front().ticker == ticker) {
        BARFILL_TRY(sink_(i, ticker, c.blocks.front().bars));
        c.blocks.pop_front();
        BARFILL_TRY(refill(i));
      }
    }
  }
  for (Cursor& c : cursors) summaries_.push_back(std::move(c.summary));
  return Ok();
}

}  // namespace barfill::flatfiles
