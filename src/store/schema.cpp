#include "store/schema.h"

#include <array>
#include <charconv>

namespace barfill::store {
namespace {

struct ExpectedColumn {
  std::string_view name;
  std::string_view pg_type;
  std::string_view sqlite_type;
  int pk_position;
  std::string_view why;  ///< why the type matters, for the error message
};

constexpr std::string_view kFloatWhy = "prices and fractional volumes need floating point";

constexpr std::array<ExpectedColumn, 11> kBarsColumns = {{
    {"ticker", "text", "TEXT", 1, "symbols are text"},
    {"timeframe", "text", "TEXT", 2, "timeframes are stored as text like 5m"},
    {"adjusted", "boolean", "INTEGER", 3, "the adjusted flag is a boolean"},
    {"ts", "timestamp with time zone", "INTEGER", 4, "bar starts are absolute instants"},
    {"open", "double precision", "REAL", 0, kFloatWhy},
    {"high", "double precision", "REAL", 0, kFloatWhy},
    {"low", "double precision", "REAL", 0, kFloatWhy},
    {"close", "double precision", "REAL", 0, kFloatWhy},
    {"volume", "double precision", "REAL", 0, "crypto (and since 2026 stock) volume is fractional"},
    {"vwap", "double precision", "REAL", 0, kFloatWhy},
    {"trades", "bigint", "INTEGER", 0, "trade counts can exceed 2^31"},
}};

bool SameType(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string Prefix(std::string_view where) { return std::string(where) + ": "; }

}  // namespace

Status CheckBarsColumns(const std::vector<ColumnInfo>& actual, Dialect dialect,
                        std::string_view where) {
  const std::string table(kBarsTable);
  for (const ExpectedColumn& want : kBarsColumns) {
    const std::string_view want_type =
        dialect == Dialect::kPostgres ? want.pg_type : want.sqlite_type;
    const ColumnInfo* found = nullptr;
    for (const ColumnInfo& column : actual) {
      if (column.name == want.name) found = &column;
    }
    if (found == nullptr) {
      return Fail(ErrorCode::kDatabase,
                  Prefix(where) + "table " + table + " has no column " + std::string(want.name) +
                      " (" + std::string(want_type) +
                      "); it was not created by barfill: rename or drop it, or use another database");
    }
    if (!SameType(found->type, want_type)) {
      std::string fix = dialect == Dialect::kPostgres
                            ? "ALTER TABLE " + table + " ALTER COLUMN " + std::string(want.name) +
                                  " TYPE " + std::string(want_type)
                            : "recreate the table";
      return Fail(ErrorCode::kDatabase,
                  Prefix(where) + "column " + table + "." + std::string(want.name) + " is " +
                      found->type + ", barfill needs " + std::string(want_type) + " (" +
                      std::string(want.why) + "); " + fix + ", or use another database");
    }
    if (found->pk_position != want.pk_position) {
      return Fail(ErrorCode::kDatabase,
                  Prefix(where) + "table " + table +
                      " must have PRIMARY KEY (ticker, timeframe, adjusted, ts) so re-runs cannot "
                      "duplicate bars; recreate it, or use another database");
    }
  }
  return Ok();
}

Result<int> CheckSchemaVersion(const std::optional<std::string>& found, std::string_view where) {
  const std::string want = std::to_string(kSchemaVersion);
  if (!found) {
    return Fail(ErrorCode::kDatabase,
                Prefix(where) + "table " + std::string(kMetaTable) +
                    " has no schema_version; it was not written by barfill: drop it, or use "
                    "another database");
  }
  int version = 0;
  const char* end = found->data() + found->size();
  const auto parsed = std::from_chars(found->data(), end, version);
  if (parsed.ec != std::errc() || parsed.ptr != end || version < 1) {
    return Fail(ErrorCode::kDatabase, Prefix(where) + "unknown schema version '" + *found +
                                          "' (barfill needs " + want +
                                          "); use another database, or drop barfill's tables");
  }
  if (version > kSchemaVersion) {
    return Fail(ErrorCode::kDatabase, Prefix(where) + "schema version " + *found +
                                          " found, but this barfill knows only " + want +
                                          "; upgrade barfill");
  }
  return version;
}

Error ForeignTablesError(std::string_view table, std::string_view where) {
  return Error(ErrorCode::kDatabase,
               Prefix(where) + "table " + std::string(table) + " exists but " +
                   std::string(kMetaTable) +
                   " does not, so barfill did not create it; rename or drop it, or use another "
                   "database");
}

Error NoSchemaError(std::string_view where) {
  return Error(ErrorCode::kDatabase, Prefix(where) +
                                         "no barfill tables here yet (nothing was backfilled into "
                                         "this database); check the database URL");
}

}  // namespace barfill::store

namespace barfill::store {
namespace {

Result<bool> TableExists(SqlSession& sql, const DialectSql& dialect_sql, std::string_view table) {
  bool exists = false;
  BARFILL_TRY(sql.Query(dialect_sql.table_exists, {table}, [&](const SqlRow& row) -> Status {
    exists = row.Bool(0);
    return Ok();
  }));
  return exists;
}

/// Runs the migration steps from `version` to kSchemaVersion, or refuses (a reader).
Status Upgrade(SqlSession& sql, const DialectSql& dialect_sql, int version, bool upgrade, std::string_view where,
               std::vector<std::string>* notices) {
  if (!upgrade) {
    return Fail(ErrorCode::kDatabase,
                Prefix(where) + "schema version " + std::to_string(version) + " found, this barfill uses " +
                    std::to_string(kSchemaVersion) + ": upgrade it in place with `barfill migrate` (a backfill "
                    "upgrades it too), or read it with the older barfill");
  }
  for (const MigrationStep& step : dialect_sql.migrations) {
    if (step.from_version < version) continue;
    for (const std::string_view statement : step.statements) BARFILL_TRY(sql.Exec(statement));
    const std::string to = std::to_string(step.from_version + 1);
    BARFILL_TRY(sql.Exec("UPDATE barfill_meta SET value = $1 WHERE key = 'schema_version'", {std::string_view(to)}));
    if (notices != nullptr) {
      notices->push_back("barfill: upgraded " + std::string(where) + " from schema version " +
                         std::to_string(step.from_version) + " to " + to + ": " + std::string(step.what));
    }
    version = step.from_version + 1;
  }
  if (version != kSchemaVersion) {
    return Fail(ErrorCode::kInternal, Prefix(where) + "no migration step from schema version " + std::to_string(version));
  }
  return Ok();
}

Status CheckBars(SqlSession& sql, const DialectSql& dialect_sql, Dialect dialect,
                 std::string_view where) {
  std::vector<ColumnInfo> columns;
  BARFILL_TRY(sql.Query(dialect_sql.bars_columns, {}, [&](const SqlRow& row) -> Status {
    columns.push_back(ColumnInfo{std::string(row.Text(0)), std::string(row.Text(1)),
                                 static_cast<int>(row.Int(2))});
    return Ok();
  }));
  return CheckBarsColumns(columns, dialect, where);
}

}  // namespace

Status EnsureSchema(SqlSession& sql, const DialectSql& dialect_sql, Dialect dialect, bool create, bool upgrade,
                    std::string_view where, std::vector<std::string>* notices) {
  auto has_meta = TableExists(sql, dialect_sql, kMetaTable);
  if (!has_meta) return Fail(has_meta.error());
  auto has_bars = TableExists(sql, dialect_sql, kBarsTable);
  if (!has_bars) return Fail(has_bars.error());
  auto has_ledger = TableExists(sql, dialect_sql, kLedgerTable);
  if (!has_ledger) return Fail(has_ledger.error());

  if (*has_meta) {
    std::optional<std::string> version;
    BARFILL_TRY(sql.Query("SELECT value FROM barfill_meta WHERE key = 'schema_version'", {},
                          [&](const SqlRow& row) -> Status {
                            version = std::string(row.Text(0));
                            return Ok();
                          }));
    auto found = CheckSchemaVersion(version, where);
    if (!found) return Fail(found.error());
    if (*found < kSchemaVersion) BARFILL_TRY(Upgrade(sql, dialect_sql, *found, upgrade, where, notices));
    if (!*has_bars || !*has_ledger) {
      return Fail(ErrorCode::kDatabase,
                  std::string(where) + ": table " +
                      std::string(*has_bars ? kLedgerTable : kBarsTable) +
                      " is missing although barfill_meta says schema version " +
                      std::to_string(kSchemaVersion) +
                      "; restore it from a backup, or use another database");
    }
    return CheckBars(sql, dialect_sql, dialect, where);
  }
  // No meta table: a compatible bars table (with the exact columns and key) is adopted as is;
  // anything else of barfill's is refused rather than changed.
  if (*has_bars) BARFILL_TRY(CheckBars(sql, dialect_sql, dialect, where));
  if (*has_ledger) return Fail(ForeignTablesError(kLedgerTable, where));
  if (!create && *has_bars) {
    return Fail(ErrorCode::kDatabase,
                std::string(where) + ": table bars fits barfill but barfill has not written here "
                                     "yet (no barfill_meta); a barfill backfill adopts it");
  }
  if (!create) return Fail(NoSchemaError(where));
  for (const std::string_view statement : dialect_sql.create_tables) {
    BARFILL_TRY(sql.Exec(statement));
  }
  const std::string version = std::to_string(kSchemaVersion);
  return sql.Exec("INSERT INTO barfill_meta (key, value) VALUES ('schema_version', $1)",
                  {std::string_view(version)});
}

}  // namespace barfill::store
