// The small slice of SQL both stores speak alike, so that the ledger rules, the schema check and
// the status queries are written once. Parameters are $1..$n in both dialects; timestamps are
// timestamptz in PostgreSQL and INTEGER Unix ms in SQLite, and SqlTimestamp hides which.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <span>
#include <string_view>
#include <variant>

#include "core/result.h"

namespace barfill::store {

/// An instant bound to a ts/from_ts/to_ts/updated_at column.
struct SqlTimestamp {
  int64_t ms = 0;
};

/// One bound parameter: NULL, text, bigint, boolean, timestamp or double precision.
using SqlValue = std::variant<std::nullptr_t, std::string_view, int64_t, bool, SqlTimestamp, double>;

/// One result row; columns are read with the accessor matching their type.
class SqlRow {
 public:
  virtual ~SqlRow() = default;
  virtual bool IsNull(int column) const = 0;
  virtual std::string_view Text(int column) const = 0;
  virtual int64_t Int(int column) const = 0;
  virtual bool Bool(int column) const = 0;
  virtual int64_t TimestampMs(int column) const = 0;
  /// A double precision (REAL) column; NaN when NULL.
  virtual double Real(int column) const = 0;
};

enum class SqlDialect { kSqlite, kPostgres };

/// A connection that runs parameterized statements inside whatever transaction is open.
class SqlSession {
 public:
  virtual ~SqlSession() = default;
  /// Which SQL it speaks, for the few statements that must differ to be planned well.
  virtual SqlDialect dialect() const = 0;
  /// Runs a statement that returns no rows.
  Status Exec(std::string_view sql, std::initializer_list<SqlValue> params = {}) {
    return ExecValues(sql, std::span<const SqlValue>(params.begin(), params.size()));
  }
  /// Runs a query and hands each row to `row`; an error from `row` stops and is returned.
  Status Query(std::string_view sql, std::initializer_list<SqlValue> params,
               const std::function<Status(const SqlRow&)>& row) {
    return QueryValues(sql, std::span<const SqlValue>(params.begin(), params.size()), row);
  }
  /// The same with parameters built at run time (a multi-row INSERT).
  virtual Status ExecValues(std::string_view sql, std::span<const SqlValue> params) = 0;
  virtual Status QueryValues(std::string_view sql, std::span<const SqlValue> params,
                             const std::function<Status(const SqlRow&)>& row) = 0;
};

/// One step of the numbered migration sequence: the statements that take a database from
/// `from_version` to from_version + 1, run in the caller's transaction.
struct MigrationStep {
  int from_version = 0;
  std::string_view what;  ///< what changes, for the notice the user reads
  std::span<const std::string_view> statements;
};

/// The statements whose text differs between dialects.
struct DialectSql {
  std::string_view table_exists;   ///< $1 = table name; one row, one boolean/integer column
  std::string_view bars_columns;   ///< rows of (name, type, 1-based pk position or 0)
  std::span<const std::string_view> create_tables;  ///< the schema, IF NOT EXISTS
  std::span<const MigrationStep> migrations;        ///< from version 1 on, in order
};

}  // namespace barfill::store
