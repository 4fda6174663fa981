// Rules both stores share: what a valid write is, how writes of one call are grouped, how a
// series is spelled in the tables, and how ledger rows become the per-series status.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/bar_store.h"
#include "store/sql_session.h"

namespace barfill::store {

/// Checks what CommitChunks relies on: bars present, sorted by t, unique and inside the range.
Status ValidateWrites(std::span<const ChunkWrite> writes);

/// Splits writes into consecutive groups in which no two chunks of one series overlap, so that
/// each group can be deleted and then copied at once, and a later chunk still replaces an earlier
/// one exactly as if they had been written one after the other.
std::vector<std::span<const ChunkWrite>> SplitIntoRounds(std::span<const ChunkWrite> writes);

/// Number of bars over all writes.
size_t TotalBars(std::span<const ChunkWrite> writes);

/// Chunk state as stored in the ledger's state column, and back.
std::string_view StateColumnValue(ChunkState state);
Result<ChunkState> ParseStateColumn(std::string_view text);

/// A series from its stored columns; a row barfill cannot read is a kDatabase error.
Result<Series> ParseSeries(std::string_view ticker, std::string_view timeframe, bool adjusted);

/// Orders series by ticker, then timeframe text, then adjusted (as the primary keys do).
bool SeriesLess(const Series& a, const Series& b);

/// What a store knows of the bars of one series.
struct BarExtent {
  Series series;
  int64_t rows = 0;
  int64_t first_ms = 0;
  int64_t last_ms = 0;
};

/// Builds status from every ledger row and the bar extents of every series with bars; series
/// come out sorted, failed chunks by range start.
std::vector<SeriesStatus> AssembleStatus(std::vector<LedgerEntry> ledger,
                                         std::vector<BarExtent> extents);

/// The text stored as last_error for a failure: the message, with its HTTP status if any.
std::string FailureText(const Error& error);

/// Deletes the stored bars of the chunk's series inside the chunk's range.
Status DeleteBarsInRange(SqlSession& sql, const Chunk& chunk);

/// What the ledger records of a committed write: enough to record it after its bars are gone
/// (a day file records its writes once all its bars are in).
struct CommittedRange {
  Series series;
  TimeRange replaced;     ///< the range whose bars the write replaced
  TimeRange final_range;  ///< the part recorded as final (see ChunkWrite::final_range)
  int64_t rows = 0;       ///< bars inside final_range
  int64_t attempts = 1;
  int64_t requests = 1;
  int64_t base_aggregates = -1;
  std::string derived_from{};  ///< see ChunkWrite::derived_from

  static CommittedRange Of(const ChunkWrite& write);
};

/// Derived ranges and bars per series, added to `status` (sorted as SelectStatus sorts).
Status AddDerivedStatus(SqlSession& sql, std::vector<SeriesStatus>& status);

/// Ledger rule for a committed write (after its bars are in the table): a final row it overlaps
/// keeps only its parts outside the write (recounted from the table), every row overlapping it
/// goes, and its final range is recorded (done, or empty without bars), merged with the final
/// rows that end where it starts and start where it ends.
Status RecordCommitted(SqlSession& sql, const CommittedRange& range, int64_t now_ms);

/// Deletes the stored bars in the range of every write (writes of one range and many tickers in
/// one statement, wherever they stand among the writes: they must not overlap).
Status DeleteBarsOfWrites(SqlSession& sql, std::span<const ChunkWrite> writes);

/// The same for many writes: consecutive writes of different tickers with one timeframe and one
/// range (a day file's) are recorded together in a handful of statements, whatever their number;
/// a ticker must appear once per such run.
Status RecordCommittedTogether(SqlSession& sql, std::span<const CommittedRange> ranges, int64_t now_ms);

/// Orders ranges of many series so that those of one range (a day file's tickers) are
/// consecutive, as RecordCommittedTogether wants them. A stable sort by range: each series' own
/// ranges, written in ascending time, keep their order.
void GroupByRange(std::vector<CommittedRange>& ranges);

/// The file's row in barfill_files, replacing an earlier one of the same key.
Status RecordFile(SqlSession& sql, const FileRecord& file, int64_t now_ms);

/// Files of barfill_files whose key starts with `key_prefix`, in key order.
Result<std::vector<FileRecord>> SelectFiles(SqlSession& sql, std::string_view key_prefix);

/// The (timeframe, adjusted) pairs of `ranges`, sorted and unique: what a commit locks before it
/// writes their ledger rows (PostgreSQL), so concurrent writers never race on a merge.
std::vector<std::string> LedgerLockKeys(std::span<const CommittedRange> ranges);

/// Ledger rule for a failure: upsert a failed row with its attempts and error, but never turn a
/// done or empty row of the same range back into failed.
Status RecordFailed(SqlSession& sql, const Chunk& chunk, const Error& error, int attempts,
                    int64_t now_ms);

/// BarStore::ReadRecentTickers.
Result<std::vector<std::string>> SelectRecentTickers(SqlSession& sql, const Timeframe& timeframe, bool adjusted, int64_t since_ms);

/// Ledger rows of one series (or of all when `series` is null), ordered by series, range start.
Result<std::vector<LedgerEntry>> SelectLedger(SqlSession& sql, const Series* series);

/// Ledger and bar extents of every series, assembled.
Result<std::vector<SeriesStatus>> SelectStatus(SqlSession& sql);

/// Now, in Unix ms.
int64_t NowMs();

}  // namespace barfill::store
