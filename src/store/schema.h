// The tables barfill keeps, shared by both stores: names, the schema version, and the checks that
// refuse a database barfill did not create or cannot read, with an error naming the fix.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/sql_session.h"

namespace barfill::store {

/// The schema this barfill writes. Bumped whenever a table changes shape or meaning, with a
/// migration step from the version before (see MigrationStep): an older database is upgraded,
/// a newer one refused.
///   1: bars, and a ledger of chunks on a fixed grid
///   2: the ledger records final ranges (pages merged as they commit), requests and base aggregates
///   3: barfill_files: the flat files loaded, with their ETag, size and time
///   4: barfill_checks: when a repair or a refresh last verified a range, and when to look again
///   5: corporate actions (splits, dividends, overrides, factors, adjusted views); stale ledger ranges
///   6: the work queue (barfill_queue, barfill_workers) and the shared rate limit (barfill_rate)
///   7: barfill_derived: bars built locally from minute files (`backfill --derive`), and which
///      timeframes each loaded file stored (barfill_files.timeframes)
///
/// The work queue's step is numbered in this one place (kWorkQueueFromVersion): when other steps
/// land before it, move it after the last of them and kSchemaVersion follows.
inline constexpr int kWorkQueueFromVersion = 5;
/// The derived-bars step follows the work queue's.
inline constexpr int kDerivedFromVersion = kWorkQueueFromVersion + 1;
inline constexpr int kSchemaVersion = kDerivedFromVersion + 1;

/// What step 1 -> 2 changes, in the user's terms.
inline constexpr std::string_view kLedgerOfPagesWhat =
    "the ledger now records pages as they commit; chunks that reached into the present when they were fetched "
    "are fetched again, every other done chunk stays done";

/// What step 2 -> 3 changes.
inline constexpr std::string_view kFilesLedgerWhat =
    "a table of the flat files loaded (barfill_files), so that a re-run skips the files that did not change";

/// What step 3 -> 4 changes, in the user's terms.
inline constexpr std::string_view kChecksTableWhat =
    "a new table barfill_checks remembers when `barfill repair` and recent-session refreshes last verified a range "
    "and when to look again; nothing stored changes";

/// What the work-queue step changes.
inline constexpr std::string_view kWorkQueueWhat =
    "tables for barfill enqueue and barfill worker (barfill_queue, barfill_workers) and the rate limit workers share "
    "(barfill_rate); a plain backfill does not use them";

/// What the derived-bars step changes.
inline constexpr std::string_view kDerivedWhat =
    "a table barfill_derived marks the bars `backfill --derive` built from minute files (vwap NULL), and "
    "barfill_files remembers which timeframes each file stored; nothing stored changes";

inline constexpr std::string_view kBarsTable = "bars";
inline constexpr std::string_view kLedgerTable = "barfill_ledger";
inline constexpr std::string_view kMetaTable = "barfill_meta";
inline constexpr std::string_view kChecksTable = "barfill_checks";

/// The SQL spoken by a store, for the column types it expects.
enum class Dialect { kPostgres, kSqlite };

/// One column of an existing bars table as the database describes it.
struct ColumnInfo {
  std::string name;
  std::string type;     ///< PostgreSQL format_type(), or SQLite's declared type
  int pk_position = 0;  ///< 1-based position in the primary key, 0 when not part of it
};

/// Checks that an existing bars table has every column barfill writes, with the right type and
/// primary key; `where` names the database in the message.
Status CheckBarsColumns(const std::vector<ColumnInfo>& actual, Dialect dialect,
                        std::string_view where);

/// The schema_version read from the meta table (nullopt: the row is missing), checked: a
/// missing, unreadable or newer version is an error naming the fix.
Result<int> CheckSchemaVersion(const std::optional<std::string>& found, std::string_view where);

/// The error for a database that has some of barfill's tables but not its meta table.
Error ForeignTablesError(std::string_view table, std::string_view where);

/// The error for a reader (status, export) opening a database barfill never wrote to.
Error NoSchemaError(std::string_view where);

/// Creates barfill's tables in a database that has none (when `create`), or checks the version
/// and the bars columns of one that has them, running the migration steps from an older version
/// when `upgrade` (each applied step adds a line to `notices`). Runs inside the caller's
/// transaction, which must keep a concurrent migration out (an advisory lock, BEGIN IMMEDIATE),
/// so an upgrade is all or nothing.
Status EnsureSchema(SqlSession& sql, const DialectSql& dialect_sql, Dialect dialect, bool create, bool upgrade,
                    std::string_view where, std::vector<std::string>* notices);

}  // namespace barfill::store
