// A BarStore that holds only a ledger in memory: enough for planner unit tests.
#pragma once

#include <set>
#include <vector>

#include "store/bar_store.h"

namespace barfill::testing {

class LedgerFake : public BarStore {
 public:
  std::vector<LedgerEntry> entries;
  std::vector<FileRecord> files;

  std::string_view Kind() const override { return "fake"; }
  std::string Describe() const override { return "memory"; }
  Status Migrate() override { return Ok(); }
  Status CommitChunks(std::span<const ChunkWrite> writes) override {
    for (const ChunkWrite& w : writes) {
      if (w.FinalRange().empty()) continue;
      entries.push_back(LedgerEntry{w.chunk.series, w.FinalRange(), w.bars->empty() ? ChunkState::kEmpty : ChunkState::kDone,
                                    static_cast<int64_t>(w.bars->size()), w.attempts, "", 0, w.requests,
                                    w.base_aggregates});
    }
    return Ok();
  }
  Status CommitFiles(std::span<const FileRecord> committed, const std::function<Status(const ChunkSink&)>& produce) override {
    BARFILL_TRY(produce([&](std::span<const ChunkWrite> writes) { return CommitChunks(writes); }));
    files.insert(files.end(), committed.begin(), committed.end());
    return Ok();
  }
  Result<std::vector<FileRecord>> ReadFiles(std::string_view prefix) override {
    std::vector<FileRecord> out;
    for (const FileRecord& f : files) {
      if (f.key.starts_with(prefix)) out.push_back(f);
    }
    return out;
  }
  Status RecordFailure(const Chunk& chunk, const Error& error, int attempts) override {
    entries.push_back(LedgerEntry{chunk.series, chunk.range, ChunkState::kFailed, 0, attempts, error.message,
                                  chunk.range.to_ms + 1});
    return Ok();
  }
  Result<std::vector<LedgerEntry>> ReadLedger(const Series& series) override {
    std::vector<LedgerEntry> out;
    for (const LedgerEntry& e : entries) {
      if (e.series == series) out.push_back(e);
    }
    return out;
  }
  Result<std::vector<std::string>> ReadRecentTickers(const Timeframe& timeframe, bool adjusted, int64_t since_ms) override {
    std::set<std::string> tickers;
    for (const LedgerEntry& e : entries) {
      if (e.series.timeframe == timeframe && e.series.adjusted == adjusted && e.state == ChunkState::kDone &&
          e.range.to_ms > since_ms) {
        tickers.insert(e.series.ticker.symbol());
      }
    }
    return std::vector<std::string>(tickers.begin(), tickers.end());
  }
  Status ReadBars(const Series&, TimeRange, const std::function<Status(const BarBatch&)>&, size_t) override {
    return Ok();
  }
  Result<std::vector<SeriesStatus>> ReadStatus() override { return std::vector<SeriesStatus>{}; }
  Status InTransaction(bool, const std::function<Status(store::SqlSession&)>&) override {
    return Fail(ErrorCode::kInternal, "the ledger fake has no SQL tables");
  }
};

}  // namespace barfill::testing
