#include "store/verification.h"

#include <string>

#include "store/ledger.h"

namespace barfill::store {
namespace {

// One primary-key range count per window in both dialects; only the JSON unnesting and the time
// arithmetic differ. PostgreSQL gets a correlated count per window: as a join it would scan the
// whole series once per window (its planner knows nothing of the JSON rows).
constexpr std::string_view kPostgresWindowCounts =
    "SELECT w.i, (SELECT count(*) FROM bars b WHERE b.ticker = $1 AND b.timeframe = $2 AND b.adjusted = $3 AND "
    "b.ts >= w.f AND b.ts < w.t) FROM (SELECT i, timestamptz 'epoch' + (e->>0)::bigint * interval '1 millisecond' AS f, "
    "timestamptz 'epoch' + (e->>1)::bigint * interval '1 millisecond' AS t "
    "FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY AS x(e, i)) w ORDER BY w.i";
constexpr std::string_view kSqliteWindowCounts =
    "SELECT w.key, count(b.ts) FROM json_each($4) AS w "
    "LEFT JOIN bars b ON b.ticker = $1 AND b.timeframe = $2 AND b.adjusted = $3 AND "
    "b.ts >= json_extract(w.value, '$[0]') AND b.ts < json_extract(w.value, '$[1]') GROUP BY w.key ORDER BY w.key";

constexpr std::string_view kSelectChecks =
    "SELECT from_ts, to_ts, verified_at, checks, bars, retry_at FROM barfill_checks WHERE ticker = $1 AND "
    "timeframe = $2 AND adjusted = $3 ORDER BY from_ts, to_ts";

constexpr std::string_view kUpsertCheck =
    "INSERT INTO barfill_checks (ticker, timeframe, adjusted, from_ts, to_ts, verified_at, checks, bars, retry_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (ticker, timeframe, adjusted, from_ts, to_ts) DO UPDATE "
    "SET verified_at = excluded.verified_at, checks = excluded.checks, bars = excluded.bars, "
    "retry_at = excluded.retry_at";

std::string WindowsJson(std::span<const TimeRange> windows) {
  std::string json = "[";
  for (const TimeRange& w : windows) {
    if (json.size() > 1) json += ',';
    json += '[' + std::to_string(w.from_ms) + ',' + std::to_string(w.to_ms) + ']';
  }
  json += ']';
  return json;
}

}  // namespace

Result<std::vector<WindowCount>> SelectWindowCounts(SqlSession& sql, Dialect dialect, const Series& series,
                                                    std::span<const TimeRange> windows) {
  std::vector<WindowCount> counts(windows.size());
  if (windows.empty()) return counts;
  const std::string timeframe = series.timeframe.ToString();
  const std::string json = WindowsJson(windows);
  // PostgreSQL's ordinality counts from 1, SQLite's json_each keys from 0.
  const int64_t first_index = dialect == Dialect::kPostgres ? 1 : 0;
  BARFILL_TRY(sql.Query(dialect == Dialect::kPostgres ? kPostgresWindowCounts : kSqliteWindowCounts,
                        {std::string_view(series.ticker.symbol()), std::string_view(timeframe), series.adjusted,
                         std::string_view(json)},
                        [&](const SqlRow& row) -> Status {
                          const int64_t index = row.Int(0) - first_index;
                          if (index < 0 || index >= static_cast<int64_t>(counts.size())) {
                            return Fail(ErrorCode::kInternal, "window index " + std::to_string(index) + " out of range");
                          }
                          counts[static_cast<size_t>(index)].bars = row.Int(1);
                          return Ok();
                        }));
  return counts;
}

Result<std::vector<RangeCheck>> SelectChecks(SqlSession& sql, const Series& series) {
  std::vector<RangeCheck> checks;
  const std::string timeframe = series.timeframe.ToString();
  BARFILL_TRY(sql.Query(kSelectChecks, {std::string_view(series.ticker.symbol()), std::string_view(timeframe), series.adjusted},
                        [&](const SqlRow& row) -> Status {
                          RangeCheck check;
                          check.series = series;
                          check.range = TimeRange{row.TimestampMs(0), row.TimestampMs(1)};
                          check.verified_at_ms = row.TimestampMs(2);
                          check.checks = static_cast<int>(row.Int(3));
                          check.bars = row.Int(4);
                          check.retry_at_ms = row.IsNull(5) ? 0 : row.TimestampMs(5);
                          checks.push_back(std::move(check));
                          return Ok();
                        }));
  return checks;
}

Status UpsertChecks(SqlSession& sql, std::span<const RangeCheck> checks) {
  for (const RangeCheck& c : checks) {
    const std::string timeframe = c.series.timeframe.ToString();
    const SqlValue retry = c.retry_at_ms > 0 ? SqlValue(SqlTimestamp{c.retry_at_ms}) : SqlValue(nullptr);
    BARFILL_TRY(sql.Exec(kUpsertCheck, {std::string_view(c.series.ticker.symbol()), std::string_view(timeframe),
                                        c.series.adjusted, SqlTimestamp{c.range.from_ms}, SqlTimestamp{c.range.to_ms},
                                        SqlTimestamp{c.verified_at_ms}, static_cast<int64_t>(c.checks), c.bars, retry}));
  }
  return Ok();
}

}  // namespace barfill::store
