#include "store/ledger.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <tuple>

namespace barfill::store {
namespace {

/// The key series are compared by: what the tables' primary keys order by.
auto SeriesKey(const Series& s) {
  return std::make_tuple(s.ticker.symbol(), s.timeframe.ToString(), s.adjusted);
}

bool Overlaps(const ChunkWrite& a, const ChunkWrite& b) {
  return a.chunk.series == b.chunk.series && a.chunk.range.from_ms < b.chunk.range.to_ms &&
         b.chunk.range.from_ms < a.chunk.range.to_ms;
}

}  // namespace

Status ValidateWrites(std::span<const ChunkWrite> writes) {
  for (const ChunkWrite& w : writes) {
    const std::string what = "cannot store chunk " + w.chunk.Describe() + ": ";
    if (w.bars == nullptr) return Fail(ErrorCode::kInternal, what + "no bar batch given");
    if (w.chunk.range.empty()) return Fail(ErrorCode::kInternal, what + "empty range");
    const BarBatch& bars = *w.bars;
    for (size_t i = 0; i < bars.size(); ++i) {
      if (!w.chunk.range.Contains(bars.t[i])) {
        return Fail(ErrorCode::kInternal, what + "bar t=" + std::to_string(bars.t[i]) +
                                              " lies outside the chunk's range");
      }
      if (i > 0 && bars.t[i] <= bars.t[i - 1]) {
        return Fail(ErrorCode::kInternal, what + "bars are not sorted and unique at t=" +
                                              std::to_string(bars.t[i]));
      }
    }
  }
  return Ok();
}

std::vector<std::span<const ChunkWrite>> SplitIntoRounds(std::span<const ChunkWrite> writes) {
  std::vector<std::span<const ChunkWrite>> rounds;
  size_t start = 0;
  for (size_t i = 0; i < writes.size(); ++i) {
    for (size_t j = start; j < i; ++j) {
      if (Overlaps(writes[i], writes[j])) {
        rounds.push_back(writes.subspan(start, i - start));
        start = i;
        break;
      }
    }
  }
  if (start < writes.size()) rounds.push_back(writes.subspan(start));
  return rounds;
}

size_t TotalBars(std::span<const ChunkWrite> writes) {
  size_t total = 0;
  for (const ChunkWrite& w : writes) total += w.bars->size();
  return total;
}

std::string_view StateColumnValue(ChunkState state) { return ChunkStateName(state); }

Result<ChunkState> ParseStateColumn(std::string_view text) {
  for (const ChunkState state :
       {ChunkState::kDone, ChunkState::kFailed, ChunkState::kEmpty, ChunkState::kPending}) {
    if (text == ChunkStateName(state)) return state;
  }
  return Fail(ErrorCode::kDatabase, "unknown ledger state '" + std::string(text) + "'");
}

Result<Series> ParseSeries(std::string_view ticker, std::string_view timeframe, bool adjusted) {
  auto parsed_ticker = Ticker::Parse(ticker);
  if (!parsed_ticker) {
    return Fail(ErrorCode::kDatabase, "stored ticker '" + std::string(ticker) +
                                          "' is not valid: " + parsed_ticker.error().message);
  }
  auto parsed_timeframe = Timeframe::Parse(timeframe);
  if (!parsed_timeframe) {
    return Fail(ErrorCode::kDatabase, "stored timeframe '" + std::string(timeframe) +
                                          "' is not valid: " + parsed_timeframe.error().message);
  }
  return Series{*parsed_ticker, *parsed_timeframe, adjusted};
}

bool SeriesLess(const Series& a, const Series& b) { return SeriesKey(a) < SeriesKey(b); }

std::vector<SeriesStatus> AssembleStatus(std::vector<LedgerEntry> ledger,
                                         std::vector<BarExtent> extents) {
  std::map<std::tuple<std::string, std::string, bool>, SeriesStatus> by_series;
  const auto entry = [&](const Series& series) -> SeriesStatus& {
    SeriesStatus& status = by_series[SeriesKey(series)];
    status.series = series;
    return status;
  };
  for (LedgerEntry& row : ledger) {
    SeriesStatus& status = entry(row.series);
    switch (row.state) {
      case ChunkState::kDone: ++status.chunks_done; break;
      case ChunkState::kEmpty: ++status.chunks_empty; break;
      case ChunkState::kFailed:
        ++status.chunks_failed;
        status.failed.push_back(std::move(row));
        break;
      case ChunkState::kPending: break;
    }
  }
  for (const BarExtent& extent : extents) {
    SeriesStatus& status = entry(extent.series);
    status.rows = extent.rows;
    status.first_bar_ms = extent.first_ms;
    status.last_bar_ms = extent.last_ms;
  }
  std::vector<SeriesStatus> result;
  result.reserve(by_series.size());
  for (auto& [key, status] : by_series) {
    std::sort(status.failed.begin(), status.failed.end(),
              [](const LedgerEntry& a, const LedgerEntry& b) {
                return a.range.from_ms < b.range.from_ms;
              });
    result.push_back(std::move(status));
  }
  return result;
}

std::string FailureText(const Error& error) {
  return std::string(ErrorCodeName(error.code)) + ": " + error.ToString();
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace barfill::store

namespace barfill::store {
namespace {

constexpr std::string_view kDeleteBars =
    "DELETE FROM bars WHERE ticker = $1 AND timeframe = $2 AND adjusted = $3 AND ts >= $4 AND "
    "ts < $5";

constexpr std::string_view kDeleteLedgerInside =
    "DELETE FROM barfill_ledger WHERE ticker = $1 AND timeframe = $2 AND adjusted = $3 AND "
    "from_ts >= $4 AND to_ts <= $5";

constexpr std::string_view kInsertCommitted =
    "INSERT INTO barfill_ledger (ticker, timeframe, adjusted, from_ts, to_ts, state, rows, "
    "attempts, last_error, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9)";

constexpr std::string_view kUpsertFailed =
    "INSERT INTO barfill_ledger (ticker, timeframe, adjusted, from_ts, to_ts, state, rows, "
    "attempts, last_error, updated_at) VALUES ($1, $2, $3, $4, $5, 'failed', 0, $6, $7, $8) "
    "ON CONFLICT (ticker, timeframe, adjusted, from_ts, to_ts) DO UPDATE SET "
    "attempts = excluded.attempts, last_error = excluded.last_error, "
    "updated_at = excluded.updated_at WHERE barfill_ledger.state = 'failed'";

constexpr std::string_view kSelectLedgerColumns =
    "SELECT ticker, timeframe, adjusted, from_ts, to_ts, state, rows, attempts, last_error, "
    "updated_at FROM barfill_ledger ";

constexpr std::string_view kFirstSeries =
    "SELECT ticker, timeframe, adjusted FROM bars ORDER BY ticker, timeframe, adjusted LIMIT 1";

// A skip scan: one index probe per series, however many bars each holds.
constexpr std::string_view kNextSeries =
    "SELECT ticker, timeframe, adjusted FROM bars WHERE (ticker, timeframe, adjusted) > "
    "($1, $2, $3) ORDER BY ticker, timeframe, adjusted LIMIT 1";

constexpr std::string_view kSeriesExtent =
    "SELECT count(*), min(ts), max(ts) FROM bars WHERE ticker = $1 AND timeframe = $2 AND "
    "adjusted = $3";

Result<LedgerEntry> LedgerFromRow(const SqlRow& row) {
  auto series = ParseSeries(row.Text(0), row.Text(1), row.Bool(2));
  if (!series) return Fail(series.error());
  auto state = ParseStateColumn(row.Text(5));
  if (!state) return Fail(state.error());
  LedgerEntry entry;
  entry.series = std::move(*series);
  entry.range = TimeRange{row.TimestampMs(3), row.TimestampMs(4)};
  entry.state = *state;
  entry.rows = row.Int(6);
  entry.attempts = static_cast<int>(row.Int(7));
  if (!row.IsNull(8)) entry.last_error = std::string(row.Text(8));
  entry.updated_at_ms = row.TimestampMs(9);
  return entry;
}

}  // namespace

Status DeleteBarsInRange(SqlSession& sql, const Chunk& chunk) {
  const std::string timeframe = chunk.series.timeframe.ToString();
  return sql.Exec(kDeleteBars, {std::string_view(chunk.series.ticker.symbol()),
                                std::string_view(timeframe), chunk.series.adjusted,
                                SqlTimestamp{chunk.range.from_ms}, SqlTimestamp{chunk.range.to_ms}});
}

Status RecordCommitted(SqlSession& sql, const ChunkWrite& write, int64_t now_ms) {
  const Chunk& chunk = write.chunk;
  const std::string timeframe = chunk.series.timeframe.ToString();
  const std::string_view ticker = chunk.series.ticker.symbol();
  BARFILL_TRY(sql.Exec(kDeleteLedgerInside,
                       {ticker, std::string_view(timeframe), chunk.series.adjusted,
                        SqlTimestamp{chunk.range.from_ms}, SqlTimestamp{chunk.range.to_ms}}));
  const ChunkState state = write.bars->empty() ? ChunkState::kEmpty : ChunkState::kDone;
  return sql.Exec(kInsertCommitted,
                  {ticker, std::string_view(timeframe), chunk.series.adjusted,
                   SqlTimestamp{chunk.range.from_ms}, SqlTimestamp{chunk.range.to_ms},
                   StateColumnValue(state), static_cast<int64_t>(write.bars->size()),
                   static_cast<int64_t>(write.attempts), SqlTimestamp{now_ms}});
}

Status RecordFailed(SqlSession& sql, const Chunk& chunk, const Error& error, int attempts,
                    int64_t now_ms) {
  const std::string timeframe = chunk.series.timeframe.ToString();
  const std::string text = FailureText(error);
  return sql.Exec(kUpsertFailed,
                  {std::string_view(chunk.series.ticker.symbol()), std::string_view(timeframe),
                   chunk.series.adjusted, SqlTimestamp{chunk.range.from_ms},
                   SqlTimestamp{chunk.range.to_ms}, static_cast<int64_t>(attempts),
                   std::string_view(text), SqlTimestamp{now_ms}});
}

Result<std::vector<LedgerEntry>> SelectLedger(SqlSession& sql, const Series* series) {
  std::vector<LedgerEntry> entries;
  const auto collect = [&](const SqlRow& row) -> Status {
    auto entry = LedgerFromRow(row);
    if (!entry) return Fail(entry.error());
    entries.push_back(std::move(*entry));
    return Ok();
  };
  if (series == nullptr) {
    const std::string query = std::string(kSelectLedgerColumns) +
                              "ORDER BY ticker, timeframe, adjusted, from_ts, to_ts";
    BARFILL_TRY(sql.Query(query, {}, collect));
    return entries;
  }
  const std::string query = std::string(kSelectLedgerColumns) +
                            "WHERE ticker = $1 AND timeframe = $2 AND adjusted = $3 "
                            "ORDER BY from_ts, to_ts";
  const std::string timeframe = series->timeframe.ToString();
  BARFILL_TRY(sql.Query(query,
                        {std::string_view(series->ticker.symbol()), std::string_view(timeframe),
                         series->adjusted},
                        collect));
  return entries;
}

Result<std::vector<SeriesStatus>> SelectStatus(SqlSession& sql) {
  auto ledger = SelectLedger(sql, nullptr);
  if (!ledger) return Fail(ledger.error());

  std::vector<BarExtent> extents;
  std::string ticker;
  std::string timeframe;
  bool adjusted = false;
  bool found = false;
  const auto take_key = [&](const SqlRow& row) -> Status {
    ticker = std::string(row.Text(0));
    timeframe = std::string(row.Text(1));
    adjusted = row.Bool(2);
    found = true;
    return Ok();
  };
  BARFILL_TRY(sql.Query(kFirstSeries, {}, take_key));
  while (found) {
    auto series = ParseSeries(ticker, timeframe, adjusted);
    if (!series) return Fail(series.error());
    BarExtent extent{*series};
    BARFILL_TRY(sql.Query(kSeriesExtent,
                          {std::string_view(ticker), std::string_view(timeframe), adjusted},
                          [&](const SqlRow& row) -> Status {
                            extent.rows = row.Int(0);
                            extent.first_ms = row.TimestampMs(1);
                            extent.last_ms = row.TimestampMs(2);
                            return Ok();
                          }));
    extents.push_back(std::move(extent));
    found = false;
    const std::string previous_ticker = ticker;
    const std::string previous_timeframe = timeframe;
    BARFILL_TRY(sql.Query(kNextSeries,
                          {std::string_view(previous_ticker),
                           std::string_view(previous_timeframe), adjusted},
                          take_key));
  }
  return AssembleStatus(std::move(*ledger), std::move(extents));
}

}  // namespace barfill::store
