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
    const TimeRange final_range = w.FinalRange();
    if (!final_range.empty() && (final_range.from_ms != w.chunk.range.from_ms || final_range.to_ms > w.chunk.range.to_ms)) {
      return Fail(ErrorCode::kInternal, what + "its final range must start where it does and end inside it");
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
       {ChunkState::kDone, ChunkState::kFailed, ChunkState::kEmpty, ChunkState::kStale, ChunkState::kPending}) {
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
      case ChunkState::kDone: ++status.ranges_done; break;
      case ChunkState::kEmpty: ++status.ranges_empty; break;
      case ChunkState::kFailed:
        ++status.ranges_failed;
        status.failed.push_back(std::move(row));
        break;
      case ChunkState::kStale:
        ++status.ranges_stale;
        status.stale.push_back(std::move(row));
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

// A committed write [$4, $5) is the newest word on its range: a final row it overlaps keeps only
// its parts outside the range (their bars recounted), and every row overlapping it goes.
constexpr std::string_view kSplitColumns =
    "INSERT INTO barfill_ledger (ticker, timeframe, adjusted, from_ts, to_ts, state, rows, attempts, last_error, "
    "updated_at, requests, base_aggregates) SELECT ticker, timeframe, adjusted, ";
constexpr std::string_view kSplitCount =
    "CASE WHEN n > 0 THEN 'done' ELSE 'empty' END, n, attempts, NULL, updated_at, 0, NULL FROM (SELECT l.*, "
    "(SELECT count(*) FROM bars b WHERE b.ticker = $1 AND b.timeframe = $2 AND b.adjusted = $3 AND ";
constexpr std::string_view kSplitOf =
    ") AS n FROM barfill_ledger l WHERE l.ticker = $1 AND l.timeframe = $2 AND l.adjusted = $3 AND "
    "l.state IN ('done', 'empty') AND ";
constexpr std::string_view kDeleteLedgerOverlapping =
    "DELETE FROM barfill_ledger WHERE ticker = $1 AND timeframe = $2 AND adjusted = $3 AND from_ts < $5 AND "
    "to_ts > $4";

constexpr std::string_view kInsertCommitted =
    "INSERT INTO barfill_ledger (ticker, timeframe, adjusted, from_ts, to_ts, state, rows, "
    "attempts, last_error, updated_at, requests, base_aggregates) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9, $10, $11)";

// The final row [$4, $5) just inserted absorbs a final row that ends where it starts (the pages
// before it), then one that starts where it ends (a later page that committed first): a range
// fetched page by page stays one row, whose end is its progress. Sums of requests and base
// aggregates stay unknown (NULL) once one part is unknown.
constexpr std::string_view kMergeColumns =
    "rows = l.rows + o.rows, requests = l.requests + o.requests, "
    "base_aggregates = l.base_aggregates + o.base_aggregates, "
    "attempts = CASE WHEN o.attempts > l.attempts THEN o.attempts ELSE l.attempts END, "
    "state = CASE WHEN l.rows + o.rows > 0 THEN 'done' ELSE 'empty' END, updated_at = $6 ";
constexpr std::string_view kSameSeries =
    "l.ticker = $1 AND l.timeframe = $2 AND l.adjusted = $3 AND o.ticker = $1 AND o.timeframe = $2 AND "
    "o.adjusted = $3 AND o.state IN ('done', 'empty') ";
constexpr std::string_view kFinalRowsOfSeries =
    "DELETE FROM barfill_ledger WHERE ticker = $1 AND timeframe = $2 AND adjusted = $3 AND "
    "state IN ('done', 'empty') AND ";

constexpr std::string_view kUpsertFailed =
    "INSERT INTO barfill_ledger (ticker, timeframe, adjusted, from_ts, to_ts, state, rows, "
    "attempts, last_error, updated_at) VALUES ($1, $2, $3, $4, $5, 'failed', 0, $6, $7, $8) "
    "ON CONFLICT (ticker, timeframe, adjusted, from_ts, to_ts) DO UPDATE SET "
    "attempts = excluded.attempts, last_error = excluded.last_error, "
    "updated_at = excluded.updated_at WHERE barfill_ledger.state = 'failed'";

constexpr std::string_view kSelectLedgerColumns =
    "SELECT ticker, timeframe, adjusted, from_ts, to_ts, state, rows, attempts, last_error, "
    "updated_at, requests, base_aggregates FROM barfill_ledger ";

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
  entry.requests = row.Int(10);
  entry.base_aggregates = row.IsNull(11) ? -1 : row.Int(11);
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
  const bool adjusted = chunk.series.adjusted;
  static const std::string kKeepBefore = std::string(kSplitColumns) + "from_ts, $4, " + std::string(kSplitCount) +
                                         "b.ts >= l.from_ts AND b.ts < $4" + std::string(kSplitOf) +
                                         "l.from_ts < $4 AND l.to_ts > $4) s";
  static const std::string kKeepAfter = std::string(kSplitColumns) + "$5, to_ts, " + std::string(kSplitCount) +
                                        "b.ts >= $5 AND b.ts < l.to_ts" + std::string(kSplitOf) +
                                        "l.from_ts < $5 AND l.to_ts > $5) s";
  const SqlTimestamp replace_from{chunk.range.from_ms};
  const SqlTimestamp replace_to{chunk.range.to_ms};
  for (const std::string* statement : {&kKeepBefore, &kKeepAfter}) {
    BARFILL_TRY(sql.Exec(*statement, {ticker, std::string_view(timeframe), adjusted, replace_from, replace_to}));
  }
  BARFILL_TRY(sql.Exec(kDeleteLedgerOverlapping, {ticker, std::string_view(timeframe), adjusted, replace_from, replace_to}));
  const TimeRange final_range = write.FinalRange();
  if (final_range.empty()) return Ok();
  const ChunkState state = write.bars->empty() ? ChunkState::kEmpty : ChunkState::kDone;
  const SqlValue base = write.base_aggregates >= 0 ? SqlValue(write.base_aggregates) : SqlValue(nullptr);
  const SqlTimestamp from{final_range.from_ms};
  const SqlTimestamp to{final_range.to_ms};
  // The rows of this final range; bars after a cut short final range are not counted in it.
  int64_t rows = 0;
  for (const int64_t t : write.bars->t) rows += final_range.Contains(t) ? 1 : 0;
  BARFILL_TRY(sql.Exec(kInsertCommitted,
                       {ticker, std::string_view(timeframe), adjusted, from, to, StateColumnValue(state), rows,
                        static_cast<int64_t>(write.attempts), SqlTimestamp{now_ms}, write.requests, base}));
  static const std::string kAbsorbBefore =
      "UPDATE barfill_ledger AS l SET from_ts = o.from_ts, " + std::string(kMergeColumns) +
      "FROM barfill_ledger AS o WHERE " + std::string(kSameSeries) +
      "AND l.from_ts = $4 AND l.to_ts = $5 AND o.to_ts = $4 AND o.from_ts < $4";
  static const std::string kDropBefore = std::string(kFinalRowsOfSeries) + "to_ts = $4 AND from_ts < $4";
  static const std::string kAbsorbAfter =
      "UPDATE barfill_ledger AS l SET to_ts = o.to_ts, " + std::string(kMergeColumns) +
      "FROM barfill_ledger AS o WHERE " + std::string(kSameSeries) +
      "AND l.to_ts = $5 AND l.from_ts <= $4 AND l.state IN ('done', 'empty') AND o.from_ts = $5 AND o.to_ts > $5";
  static const std::string kDropAfter = std::string(kFinalRowsOfSeries) + "from_ts = $4";
  const SqlTimestamp now{now_ms};
  BARFILL_TRY(sql.Exec(kAbsorbBefore, {ticker, std::string_view(timeframe), adjusted, from, to, now}));
  BARFILL_TRY(sql.Exec(kDropBefore, {ticker, std::string_view(timeframe), adjusted, from}));
  BARFILL_TRY(sql.Exec(kAbsorbAfter, {ticker, std::string_view(timeframe), adjusted, from, to, now}));
  return sql.Exec(kDropAfter, {ticker, std::string_view(timeframe), adjusted, to});
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
