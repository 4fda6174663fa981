#include "store/ledger.h"

#include "core/bar_fold.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <tuple>
#include <unordered_set>

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

// The ledger statements of a committed write, for one series or for every ticker staged in
// barfill_stage_ledger (a day file: thousands of series with one range, in a handful of
// statements). Parameters: $1 ticker (one series), $2 timeframe, $3 adjusted, $4..$5 the range
// the write replaced, $6 the end of its final range (which starts at $4), $7 now, $8 state,
// $9 rows, $10 attempts, $11 requests, $12 base aggregates (one series; -1 unknown). Every
// parameter has a type even where a statement does not use it: PostgreSQL refuses an untyped one.
enum class Scope { kOneSeries, kStagedTickers };

std::string SeriesIs(Scope scope, SqlDialect dialect, std::string_view alias) {
  const std::string a = alias.empty() ? "" : std::string(alias) + ".";
  // PostgreSQL plans IN (SELECT ...) against a table written in this very transaction (no
  // statistics yet) as a nested loop over a full scan, seconds per file; an array of the staged
  // tickers, computed once, makes it probe the primary key once per ticker instead.
  const std::string staged = dialect == SqlDialect::kPostgres
                                 ? "ticker = ANY (ARRAY(SELECT ticker FROM barfill_stage_ledger))"
                                 : "ticker IN (SELECT ticker FROM barfill_stage_ledger)";
  const std::string ticker = scope == Scope::kOneSeries ? a + "ticker = $1" : a + staged;
  return ticker + " AND " + a + "timeframe = $2 AND " + a + "adjusted = $3";
}

struct LedgerStatements {
  std::string keep_before, keep_after, drop_overlapping, insert, absorb_before, drop_before, absorb_after, drop_after;
};

LedgerStatements MakeLedgerStatements(Scope scope, SqlDialect dialect) {
  // A final row the write overlaps keeps only its parts outside the write, their bars recounted.
  const auto keep = [&](std::string_view from, std::string_view to, std::string_view count_from,
                        std::string_view count_to, std::string_view at) {
    return "INSERT INTO barfill_ledger (ticker, timeframe, adjusted, from_ts, to_ts, state, rows, attempts, "
           "last_error, updated_at, requests, base_aggregates) SELECT ticker, timeframe, adjusted, " +
           std::string(from) + ", " + std::string(to) +
           ", CASE WHEN n > 0 THEN 'done' ELSE 'empty' END, n, attempts, NULL, updated_at, 0, NULL FROM (SELECT l.*, "
           "(SELECT count(*) FROM bars b WHERE b.ticker = l.ticker AND b.timeframe = l.timeframe AND "
           "b.adjusted = l.adjusted AND b.ts >= " + std::string(count_from) + " AND b.ts < " + std::string(count_to) +
           ") AS n FROM barfill_ledger l WHERE " + SeriesIs(scope, dialect, "l") +
           " AND l.state IN ('done', 'empty') AND l.from_ts < " + std::string(at) + " AND l.to_ts > " +
           std::string(at) + ") s";
  };
  // The new final row absorbs the final row that ends where it starts (the pages before it),
  // then the one that starts where it ends (a later page that committed first), so a range
  // fetched page by page stays one row whose end is its progress. Sums of requests and base
  // aggregates stay unknown (NULL) once one part is unknown.
  const std::string merge =
      "rows = l.rows + o.rows, requests = l.requests + o.requests, "
      "base_aggregates = l.base_aggregates + o.base_aggregates, "
      "attempts = CASE WHEN o.attempts > l.attempts THEN o.attempts ELSE l.attempts END, "
      "state = CASE WHEN l.rows + o.rows > 0 THEN 'done' ELSE 'empty' END, updated_at = $7 "
      "FROM barfill_ledger AS o WHERE " + SeriesIs(scope, dialect, "l") +
      " AND o.ticker = l.ticker AND o.timeframe = l.timeframe AND o.adjusted = l.adjusted AND "
      "o.state IN ('done', 'empty') AND ";
  const std::string final_rows = "DELETE FROM barfill_ledger WHERE " + SeriesIs(scope, dialect, "") +
                                 " AND state IN ('done', 'empty') AND ";
  const std::string columns =
      "INSERT INTO barfill_ledger (ticker, timeframe, adjusted, from_ts, to_ts, state, rows, attempts, last_error, "
      "updated_at, requests, base_aggregates) ";
  LedgerStatements st;
  st.keep_before = keep("from_ts", "$4", "l.from_ts", "$4", "$4");
  st.keep_after = keep("$5", "to_ts", "$5", "l.to_ts", "$5");
  st.drop_overlapping = "DELETE FROM barfill_ledger WHERE " + SeriesIs(scope, dialect, "") + " AND from_ts < $5 AND to_ts > $4";
  st.insert = scope == Scope::kOneSeries
                  ? columns + "VALUES ($1, $2, $3, $4, $6, $8, $9, $10, NULL, $7, $11, NULLIF($12, -1))"
                  : columns + "SELECT s.ticker, $2, $3, $4, $6, CASE WHEN s.rows > 0 THEN 'done' ELSE 'empty' END, "
                              "s.rows, $10, NULL, $7, $11, s.base_aggregates FROM barfill_stage_ledger s";
  st.absorb_before = "UPDATE barfill_ledger AS l SET from_ts = o.from_ts, " + merge +
                     "l.from_ts = $4 AND l.to_ts = $6 AND o.to_ts = $4 AND o.from_ts < $4";
  st.drop_before = final_rows + "to_ts = $4 AND from_ts < $4";
  st.absorb_after = "UPDATE barfill_ledger AS l SET to_ts = o.to_ts, " + merge +
                    "l.to_ts = $6 AND l.from_ts <= $4 AND l.state IN ('done', 'empty') AND o.from_ts = $6 AND "
                    "o.to_ts > $6";
  st.drop_after = final_rows + "from_ts = $6";
  return st;
}

const LedgerStatements& StatementsFor(Scope scope, SqlDialect dialect) {
  static const LedgerStatements one = MakeLedgerStatements(Scope::kOneSeries, SqlDialect::kSqlite);
  static const LedgerStatements staged_sqlite = MakeLedgerStatements(Scope::kStagedTickers, SqlDialect::kSqlite);
  static const LedgerStatements staged_pg = MakeLedgerStatements(Scope::kStagedTickers, SqlDialect::kPostgres);
  if (scope == Scope::kOneSeries) return one;
  return dialect == SqlDialect::kPostgres ? staged_pg : staged_sqlite;
}

/// Runs the statements of `scope` with the parameters of `range` (its ticker ignored when staged).
Status RunLedgerStatements(SqlSession& sql, Scope scope, const CommittedRange& range, int64_t now_ms) {
  const LedgerStatements& st = StatementsFor(scope, sql.dialect());
  const Series& series = range.series;
  const std::string timeframe = series.timeframe.ToString();
  const ChunkState state = range.rows > 0 ? ChunkState::kDone : ChunkState::kEmpty;
  const int64_t base = range.base_aggregates >= 0 ? range.base_aggregates : -1;
  const SqlValue params[] = {std::string_view(series.ticker.symbol()), std::string_view(timeframe), series.adjusted,
                             SqlTimestamp{range.replaced.from_ms}, SqlTimestamp{range.replaced.to_ms},
                             SqlTimestamp{range.final_range.to_ms}, SqlTimestamp{now_ms}, StateColumnValue(state),
                             range.rows, range.attempts, range.requests, base};
  for (const std::string* statement : {&st.keep_before, &st.keep_after, &st.drop_overlapping}) {
    BARFILL_TRY(sql.ExecValues(*statement, params));
  }
  if (range.final_range.empty()) return Ok();
  for (const std::string* statement :
       {&st.insert, &st.absorb_before, &st.drop_before, &st.absorb_after, &st.drop_after}) {
    BARFILL_TRY(sql.ExecValues(*statement, params));
  }
  return Ok();
}

constexpr std::string_view kStageLedger =
    "CREATE TEMP TABLE IF NOT EXISTS barfill_stage_ledger (ticker TEXT PRIMARY KEY, rows BIGINT NOT NULL, "
    "base_aggregates BIGINT)";
// Tickers staged per multi-row INSERT (two parameters each); fewer go one by one, so that only
// two statement texts are ever prepared.
constexpr size_t kStagedPerInsert = 256;

/// Stages the tickers and counts of `group` in barfill_stage_ledger.
Status StageTickers(SqlSession& sql, std::span<const CommittedRange> group) {
  BARFILL_TRY(sql.Exec(kStageLedger));
  // PostgreSQL: TRUNCATE, not DELETE. A day file's transaction stages thousands of groups, and
  // every scan of the staged tickers would read all the rows deleted before it in the
  // transaction (dead, never vacuumed while it is open): about 7% of a load's COPY session.
  BARFILL_TRY(sql.Exec(sql.dialect() == SqlDialect::kPostgres ? "TRUNCATE barfill_stage_ledger" : "DELETE FROM barfill_stage_ledger"));
  static const std::string kInsertMany = [] {
    std::string text = "INSERT INTO barfill_stage_ledger (ticker, rows, base_aggregates) VALUES ";
    for (size_t i = 0; i < kStagedPerInsert; ++i) {
      text += (i > 0 ? ", ($" : "($") + std::to_string(3 * i + 1) + ", $" + std::to_string(3 * i + 2) + ", $" +
              std::to_string(3 * i + 3) + ")";
    }
    return text;
  }();
  std::vector<SqlValue> params;
  size_t next = 0;
  for (; next + kStagedPerInsert <= group.size(); next += kStagedPerInsert) {
    params.clear();
    for (size_t i = next; i < next + kStagedPerInsert; ++i) {
      params.push_back(std::string_view(group[i].series.ticker.symbol()));
      params.push_back(group[i].rows);
      params.push_back(group[i].base_aggregates >= 0 ? SqlValue(group[i].base_aggregates) : SqlValue(nullptr));
    }
    BARFILL_TRY(sql.ExecValues(kInsertMany, params));
  }
  for (; next < group.size(); ++next) {
    const CommittedRange& r = group[next];
    BARFILL_TRY(sql.Exec("INSERT INTO barfill_stage_ledger (ticker, rows, base_aggregates) VALUES ($1, $2, $3)",
                         {std::string_view(r.series.ticker.symbol()), r.rows,
                          r.base_aggregates >= 0 ? SqlValue(r.base_aggregates) : SqlValue(nullptr)}));
  }
  return Ok();
}

/// Ranges that can be recorded with one set of statements: same timeframe, adjusted, ranges,
/// attempts and requests (and, checked by the caller, different tickers).
bool SameGroup(const CommittedRange& a, const CommittedRange& b) {
  return a.series.timeframe == b.series.timeframe && a.series.adjusted == b.series.adjusted &&
         a.replaced == b.replaced && a.final_range == b.final_range && a.attempts == b.attempts &&
         a.requests == b.requests && a.derived_from.empty() == b.derived_from.empty();
}

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

/// Splits `ranges` into runs that one set of statements can serve (SameGroup, a ticker once per
/// run), stages the tickers of each longer run, and calls `statements(scope, first of the run)`.
template <typename Statements>
Status ForEachGroup(SqlSession& sql, std::span<const CommittedRange> ranges, Statements&& statements) {
  size_t begin = 0;
  std::unordered_set<std::string_view> tickers;
  while (begin < ranges.size()) {
    size_t end = begin + 1;
    tickers = {ranges[begin].series.ticker.symbol()};
    while (end < ranges.size() && SameGroup(ranges[begin], ranges[end]) &&
           tickers.insert(ranges[end].series.ticker.symbol()).second) {
      ++end;
    }
    if (end - begin == 1) {
      BARFILL_TRY(statements(Scope::kOneSeries, ranges[begin]));
    } else {
      BARFILL_TRY(StageTickers(sql, ranges.subspan(begin, end - begin)));
      BARFILL_TRY(statements(Scope::kStagedTickers, ranges[begin]));
    }
    begin = end;
  }
  return Ok();
}

/// The derived marks (barfill_derived) a committed write ends, for the tickers of `scope`: a
/// write built from a file replaces the marks that start in its range (a file loaded again); a
/// vendor write of a timeframe `--derive` can build ends every mark it overlaps. Other writes
/// touch nothing.
Status EndDerivedMarks(SqlSession& sql, Scope scope, const CommittedRange& first) {
  const bool derived = !first.derived_from.empty();
  if (!derived && (first.series.adjusted || !DerivableFromMinutes(first.series.timeframe))) return Ok();
  const std::string timeframe = first.series.timeframe.ToString();
  const std::string statement = "DELETE FROM barfill_derived WHERE " + SeriesIs(scope, sql.dialect(), "") +
                                (derived ? " AND from_ts >= $4 AND from_ts < $5" : " AND from_ts < $5 AND to_ts > $4");
  return sql.Exec(statement, {std::string_view(first.series.ticker.symbol()), std::string_view(timeframe),
                              first.series.adjusted, SqlTimestamp{first.replaced.from_ms},
                              SqlTimestamp{first.replaced.to_ms}});
}

/// The marks of the derived writes among `ranges` that stored bars, several rows a statement.
Status InsertDerivedMarks(SqlSession& sql, std::span<const CommittedRange> ranges, int64_t now_ms) {
  constexpr size_t kMarksPerInsert = 64;
  std::vector<const CommittedRange*> marks;
  for (const CommittedRange& r : ranges) {
    if (!r.derived_from.empty() && r.rows > 0) marks.push_back(&r);
  }
  std::vector<std::string> timeframes;  // the texts the parameters point at
  timeframes.reserve(marks.size());
  for (const CommittedRange* r : marks) timeframes.push_back(r->series.timeframe.ToString());
  std::vector<SqlValue> params;
  for (size_t next = 0; next < marks.size(); next += kMarksPerInsert) {
    const size_t count = std::min(kMarksPerInsert, marks.size() - next);
    std::string text =
        "INSERT INTO barfill_derived (ticker, timeframe, adjusted, from_ts, to_ts, source, bars, derived_at) VALUES ";
    params.clear();
    for (size_t i = 0; i < count; ++i) {
      const CommittedRange& r = *marks[next + i];
      text += i > 0 ? ", (" : "(";
      for (int c = 1; c <= 8; ++c) text += (c > 1 ? ", $" : "$") + std::to_string(8 * i + c);
      text += ")";
      params.insert(params.end(), {std::string_view(r.series.ticker.symbol()), std::string_view(timeframes[next + i]),
                                   r.series.adjusted, SqlTimestamp{r.replaced.from_ms}, SqlTimestamp{r.replaced.to_ms},
                                   std::string_view(r.derived_from), r.rows, SqlTimestamp{now_ms}});
    }
    BARFILL_TRY(sql.ExecValues(text, params));
  }
  return Ok();
}

}  // namespace

Status DeleteBarsInRange(SqlSession& sql, const Chunk& chunk) {
  const std::string timeframe = chunk.series.timeframe.ToString();
  return sql.Exec(kDeleteBars, {std::string_view(chunk.series.ticker.symbol()),
                                std::string_view(timeframe), chunk.series.adjusted,
                                SqlTimestamp{chunk.range.from_ms}, SqlTimestamp{chunk.range.to_ms}});
}

CommittedRange CommittedRange::Of(const ChunkWrite& write) {
  return CommittedRange{write.chunk.series, write.chunk.range, write.FinalRange(), write.FinalRows(),
                        write.attempts, write.requests, write.base_aggregates, write.derived_from};
}

std::vector<std::string> LedgerLockKeys(std::span<const CommittedRange> ranges) {
  std::vector<std::string> keys;
  for (const CommittedRange& r : ranges) keys.push_back(r.series.timeframe.ToString() + (r.series.adjusted ? "|a" : "|u"));
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

Status RecordCommitted(SqlSession& sql, const CommittedRange& range, int64_t now_ms) {
  BARFILL_TRY(RunLedgerStatements(sql, Scope::kOneSeries, range, now_ms));
  BARFILL_TRY(EndDerivedMarks(sql, Scope::kOneSeries, range));
  return InsertDerivedMarks(sql, {&range, 1}, now_ms);
}

void GroupByRange(std::vector<CommittedRange>& ranges) {
  const auto key = [](const CommittedRange& r) {
    return std::make_tuple(static_cast<int>(r.series.timeframe.timespan()), r.series.timeframe.multiplier(),
                           r.series.adjusted, r.replaced.from_ms, r.replaced.to_ms);
  };
  std::stable_sort(ranges.begin(), ranges.end(),
                   [&](const CommittedRange& a, const CommittedRange& b) { return key(a) < key(b); });
}

Status DeleteBarsOfWrites(SqlSession& sql, std::span<const ChunkWrite> writes) {
  std::vector<CommittedRange> ranges;
  ranges.reserve(writes.size());
  for (const ChunkWrite& w : writes) ranges.push_back(CommittedRange{w.chunk.series, w.chunk.range, w.chunk.range});
  GroupByRange(ranges);  // the writes do not overlap, so their deletes go in any order
  return ForEachGroup(sql, ranges, [&](Scope scope, const CommittedRange& first) -> Status {
    if (scope == Scope::kOneSeries) return DeleteBarsInRange(sql, Chunk{first.series, first.replaced});
    const std::string timeframe = first.series.timeframe.ToString();
    static const std::string kDeleteStagedSqlite =
        "DELETE FROM bars WHERE " + SeriesIs(Scope::kStagedTickers, SqlDialect::kSqlite, "") + " AND ts >= $4 AND ts < $5";
    static const std::string kDeleteStagedPg =
        "DELETE FROM bars WHERE " + SeriesIs(Scope::kStagedTickers, SqlDialect::kPostgres, "") + " AND ts >= $4 AND ts < $5";
    return sql.Exec(sql.dialect() == SqlDialect::kPostgres ? kDeleteStagedPg : kDeleteStagedSqlite, {std::string_view(), std::string_view(timeframe), first.series.adjusted,
                                    SqlTimestamp{first.replaced.from_ms}, SqlTimestamp{first.replaced.to_ms}});
  });
}

Status RecordCommittedTogether(SqlSession& sql, std::span<const CommittedRange> ranges, int64_t now_ms) {
  // The derived marks' deletes ride on the ledger's groups: one statement for a group's tickers.
  BARFILL_TRY(ForEachGroup(sql, ranges, [&](Scope scope, const CommittedRange& first) -> Status {
    BARFILL_TRY(RunLedgerStatements(sql, scope, first, now_ms));
    return EndDerivedMarks(sql, scope, first);
  }));
  return InsertDerivedMarks(sql, ranges, now_ms);
}

Status AddDerivedStatus(SqlSession& sql, std::vector<SeriesStatus>& status) {
  return sql.Query(
      "SELECT ticker, timeframe, adjusted, count(*), CAST(sum(bars) AS bigint) FROM barfill_derived "
      "GROUP BY ticker, timeframe, adjusted",
      {}, [&](const SqlRow& row) -> Status {
        auto series = ParseSeries(row.Text(0), row.Text(1), row.Bool(2));
        if (!series) return Fail(series.error());
        for (SeriesStatus& s : status) {
          if (s.series == *series) {
            s.derived_ranges = row.Int(3);
            s.derived_bars = row.Int(4);
          }
        }
        return Ok();
      });
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

Status RecordFile(SqlSession& sql, const FileRecord& file, int64_t now_ms) {
  BARFILL_TRY(sql.Exec("DELETE FROM barfill_files WHERE key = $1", {std::string_view(file.key)}));
  return sql.Exec(
      "INSERT INTO barfill_files (key, etag, size, last_modified, rows, tickers, bad_rows, all_tickers, updated_at, "
      "timeframes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
      {std::string_view(file.key), std::string_view(file.etag), file.size, SqlTimestamp{file.last_modified_ms}, file.rows,
       file.tickers, file.bad_rows, file.all_tickers, SqlTimestamp{now_ms}, std::string_view(file.timeframes)});
}

Result<std::vector<FileRecord>> SelectFiles(SqlSession& sql, std::string_view key_prefix) {
  std::vector<FileRecord> files;
  // Not LIKE: keys hold '_', a LIKE wildcard.
  BARFILL_TRY(sql.Query("SELECT key, etag, size, last_modified, rows, tickers, bad_rows, all_tickers, updated_at, "
                        "timeframes FROM barfill_files WHERE substr(key, 1, length($1)) = $1 ORDER BY key",
                        {key_prefix}, [&](const SqlRow& row) -> Status {
                          files.push_back(FileRecord{std::string(row.Text(0)), std::string(row.Text(1)), row.Int(2),
                                                     row.TimestampMs(3), row.Int(4), row.Int(5), row.Int(6),
                                                     row.Bool(7), row.TimestampMs(8), std::string(row.Text(9))});
                          return Ok();
                        }));
  return files;
}

Result<std::vector<std::string>> SelectRecentTickers(SqlSession& sql, const Timeframe& timeframe, bool adjusted, int64_t since_ms) {
  std::vector<std::string> tickers;
  const std::string tf = timeframe.ToString();
  BARFILL_TRY(sql.Query("SELECT DISTINCT ticker FROM barfill_ledger WHERE timeframe = $1 AND adjusted = $2 "
                        "AND state = 'done' AND to_ts > $3 ORDER BY ticker",
                        {std::string_view(tf), adjusted, SqlTimestamp{since_ms}}, [&](const SqlRow& row) -> Status {
                          tickers.emplace_back(row.Text(0));
                          return Ok();
                        }));
  return tickers;
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
  std::vector<SeriesStatus> status = AssembleStatus(std::move(*ledger), std::move(extents));
  BARFILL_TRY(AddDerivedStatus(sql, status));
  return status;
}

}  // namespace barfill::store
