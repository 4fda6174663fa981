#include "store/sqlite_store.h"

#include <sqlite3.h>

#include <array>
#include <cmath>
#include <limits>
#include <filesystem>
#include <system_error>
#include <unordered_map>

#include "core/clock.h"
#include "store/actions_schema.h"
#include "store/ledger.h"
#include "store/schema.h"
#include "store/sql_session.h"
#include "store/verification.h"

namespace barfill::store {
namespace {

constexpr std::string_view kCreateFiles =
    "CREATE TABLE IF NOT EXISTS barfill_files (key TEXT PRIMARY KEY, etag TEXT NOT NULL, size INTEGER NOT NULL, "
    "last_modified INTEGER NOT NULL, rows INTEGER NOT NULL, tickers INTEGER NOT NULL, bad_rows INTEGER NOT NULL, "
    "all_tickers INTEGER NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID";

// barfill_checks: what repairs and refreshes verified (schema 4; store/verification.h).
constexpr std::string_view kCreateChecks =
    "CREATE TABLE IF NOT EXISTS barfill_checks (ticker TEXT NOT NULL, timeframe TEXT NOT NULL, "
    "adjusted INTEGER NOT NULL, from_ts INTEGER NOT NULL, to_ts INTEGER NOT NULL, verified_at INTEGER NOT NULL, "
    "checks INTEGER NOT NULL, bars INTEGER NOT NULL, retry_at INTEGER, "
    "PRIMARY KEY (ticker, timeframe, adjusted, from_ts, to_ts)) WITHOUT ROWID";


// barfill_derived: the ranges of bars `backfill --derive` built from a minute file's rows (schema 7).
constexpr std::string_view kCreateDerived =
    "CREATE TABLE IF NOT EXISTS barfill_derived (ticker TEXT NOT NULL, timeframe TEXT NOT NULL, "
    "adjusted INTEGER NOT NULL, from_ts INTEGER NOT NULL, to_ts INTEGER NOT NULL, source TEXT NOT NULL, "
    "bars INTEGER NOT NULL, derived_at INTEGER NOT NULL, PRIMARY KEY (ticker, timeframe, adjusted, from_ts)) "
    "WITHOUT ROWID";
constexpr std::string_view kAddFileTimeframes =
    "ALTER TABLE barfill_files ADD COLUMN timeframes TEXT NOT NULL DEFAULT ''";

// The work queue's tables exist here too so that both stores keep one migration sequence; only
// PostgreSQL uses them (barfill enqueue and worker refuse SQLite).
constexpr std::string_view kCreateQueue =
    "CREATE TABLE IF NOT EXISTS barfill_queue (id INTEGER PRIMARY KEY, ticker TEXT NOT NULL, timeframe TEXT NOT NULL, "
    "adjusted INTEGER NOT NULL, from_ts INTEGER NOT NULL, to_ts INTEGER NOT NULL, "
    "state TEXT NOT NULL CHECK (state IN ('pending', 'leased', 'done', 'failed')), worker INTEGER, "
    "generation INTEGER NOT NULL DEFAULT 0, lease_expires INTEGER, claims INTEGER NOT NULL DEFAULT 0, "
    "last_error TEXT, enqueued_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, "
    "UNIQUE (ticker, timeframe, adjusted, from_ts, to_ts))";
constexpr std::string_view kCreateWorkers =
    "CREATE TABLE IF NOT EXISTS barfill_workers (id INTEGER PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, "
    "started_at INTEGER NOT NULL, heartbeat_at INTEGER NOT NULL, state TEXT NOT NULL, "
    "items_done INTEGER NOT NULL DEFAULT 0, items_failed INTEGER NOT NULL DEFAULT 0, rows INTEGER NOT NULL DEFAULT 0, "
    "lease_losses INTEGER NOT NULL DEFAULT 0, current_item INTEGER)";
constexpr std::string_view kCreateRate =
    "CREATE TABLE IF NOT EXISTS barfill_rate (key_hash TEXT PRIMARY KEY, tat INTEGER NOT NULL, "
    "paused_until INTEGER NOT NULL, interval_us INTEGER NOT NULL, success_run INTEGER NOT NULL DEFAULT 0, "
    "decreases INTEGER NOT NULL DEFAULT 0, rate_limited INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL)";

constexpr std::array<std::string_view, 5> kBaseTables = {
    "CREATE TABLE IF NOT EXISTS barfill_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) "
    "WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS bars (ticker TEXT NOT NULL, timeframe TEXT NOT NULL, "
    "adjusted INTEGER NOT NULL, ts INTEGER NOT NULL, open REAL NOT NULL, high REAL NOT NULL, "
    "low REAL NOT NULL, close REAL NOT NULL, volume REAL NOT NULL, vwap REAL, trades INTEGER, "
    "PRIMARY KEY (ticker, timeframe, adjusted, ts)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS barfill_ledger (ticker TEXT NOT NULL, timeframe TEXT NOT NULL, "
    "adjusted INTEGER NOT NULL, from_ts INTEGER NOT NULL, to_ts INTEGER NOT NULL, "
    "state TEXT NOT NULL CHECK (state IN ('done', 'failed', 'empty', 'stale')), rows INTEGER NOT NULL, "
    "attempts INTEGER NOT NULL, last_error TEXT, updated_at INTEGER NOT NULL, "
    "requests INTEGER NOT NULL DEFAULT 0, base_aggregates INTEGER, "
    "PRIMARY KEY (ticker, timeframe, adjusted, from_ts, to_ts)) WITHOUT ROWID",
    kCreateFiles,
    kCreateChecks,
};

// Schema 1 -> 2 (see the PostgreSQL store for why live chunks leave the ledger).
constexpr std::array<std::string_view, 3> kLedgerOfPages = {
    "ALTER TABLE barfill_ledger ADD COLUMN requests INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE barfill_ledger ADD COLUMN base_aggregates INTEGER",
    "DELETE FROM barfill_ledger WHERE state IN ('done', 'empty') AND updated_at < to_ts",
};
constexpr std::array<std::string_view, 3> kWorkQueue = {kCreateQueue, kCreateWorkers, kCreateRate};
constexpr std::array<std::string_view, 2> kDerivedStep = {kCreateDerived, kAddFileTimeframes};
constexpr auto kCreateTables = JoinStatements(JoinStatements(JoinStatements(kBaseTables, kSqliteActionsTables), kWorkQueue), kDerivedStep);
constexpr std::array<std::string_view, 1> kFilesLedger = {kCreateFiles};
constexpr std::array<std::string_view, 1> kChecksStep = {kCreateChecks};
// Schema 4 -> 5: corporate actions (store/actions_schema.h).
constexpr auto kActions = JoinStatements(kSqliteLedgerStale, kSqliteActionsTables);
constexpr std::array<MigrationStep, 6> kMigrations = {{{1, kLedgerOfPagesWhat, kLedgerOfPages},
                                                       {2, kFilesLedgerWhat, kFilesLedger},
                                                       {3, kChecksTableWhat, kChecksStep},
                                                       {4, kActionsWhat, kActions},
                                                       {kWorkQueueFromVersion, kWorkQueueWhat, kWorkQueue},
                                                       {kDerivedFromVersion, kDerivedWhat, kDerivedStep}}};

const DialectSql kSqliteSql{
    "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = $1",
    "SELECT name, type, pk FROM pragma_table_info('bars')",
    kCreateTables,
    kMigrations,
};

constexpr std::string_view kInsertBar =
    "INSERT INTO bars (ticker, timeframe, adjusted, ts, open, high, low, close, volume, vwap, "
    "trades) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";

constexpr std::string_view kSelectBars =
    "SELECT ts, open, high, low, close, volume, vwap, trades FROM bars WHERE ticker = ?1 AND "
    "timeframe = ?2 AND adjusted = ?3 AND ts >= ?4 AND ts < ?5 ORDER BY ts";

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

/// Resets a statement when a use of it ends, however it ends.
class StmtUse {
 public:
  explicit StmtUse(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~StmtUse() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  StmtUse(const StmtUse&) = delete;
  StmtUse& operator=(const StmtUse&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

class SqliteRow final : public SqlRow {
 public:
  explicit SqliteRow(sqlite3_stmt* stmt) : stmt_(stmt) {}
  bool IsNull(int column) const override {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
  }
  std::string_view Text(int column) const override {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return {text != nullptr ? text : "", static_cast<size_t>(sqlite3_column_bytes(stmt_, column))};
  }
  int64_t Int(int column) const override { return sqlite3_column_int64(stmt_, column); }
  bool Bool(int column) const override { return sqlite3_column_int64(stmt_, column) != 0; }
  int64_t TimestampMs(int column) const override { return sqlite3_column_int64(stmt_, column); }
  double Real(int column) const override {
    if (IsNull(column)) return std::numeric_limits<double>::quiet_NaN();
    return sqlite3_column_double(stmt_, column);
  }

 private:
  sqlite3_stmt* stmt_;
};

/// A hint that names the fix for the failures a user can do something about.
std::string_view HintFor(int code) {
  switch (code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return "; another process holds the database (only one barfill may write a SQLite file at "
             "a time)";
    case SQLITE_FULL: return "; the disk is full: free space, then re-run";
    case SQLITE_READONLY: return "; the file or its directory is not writable";
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: return "; this file is not a barfill SQLite database";
    case SQLITE_CANTOPEN: return "; check the path and its permissions";
    default: return "";
  }
}

/// One SQLite connection and its cache of prepared statements.
class SqliteSession final : public SqlSession {
 public:
  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  SqliteSession(sqlite3* db, std::string describe) : db_(db), describe_(std::move(describe)) {}

  sqlite3* db() const { return db_.get(); }
  const std::string& Describe() const { return describe_; }

  Error ErrorFor(int code, std::string_view doing) const {
    std::string message = describe_ + ": " + std::string(doing) + " failed: " +
                          sqlite3_errmsg(db_.get()) + std::string(HintFor(code));
    Error error(ErrorCode::kDatabase, std::move(message));
    error.request = std::string(doing);
    return error;
  }

  /// Runs SQL without parameters or results (several statements allowed).
  Status Run(std::string_view sql, std::string_view doing) {
    const int code = sqlite3_exec(db_.get(), std::string(sql).c_str(), nullptr, nullptr, nullptr);
    if (code != SQLITE_OK) return Fail(ErrorFor(code, doing));
    return Ok();
  }

  /// The prepared statement for `sql`, prepared on first use and kept.
  Result<sqlite3_stmt*> Prepare(std::string_view sql) {
    auto it = statements_.find(std::string(sql));
    if (it != statements_.end()) return it->second.get();
    sqlite3_stmt* stmt = nullptr;
    const int code = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                        SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (code != SQLITE_OK) return Fail(ErrorFor(code, "preparing a statement"));
    statements_.emplace(std::string(sql), StmtPtr(stmt));
    return stmt;
  }

  Status ExecValues(std::string_view sql, std::span<const SqlValue> params) override {
    return QueryValues(sql, params, [](const SqlRow&) { return Ok(); });
  }

  Status QueryValues(std::string_view sql, std::span<const SqlValue> params,
               const std::function<Status(const SqlRow&)>& row) override {
    auto stmt = Prepare(sql);
    if (!stmt) return Fail(stmt.error());
    const StmtUse use(*stmt);
    int index = 0;
    for (const SqlValue& value : params) {
      const std::string name = "$" + std::to_string(++index);
      const int slot = sqlite3_bind_parameter_index(*stmt, name.c_str());
      if (slot != 0) Bind(*stmt, slot, value);
    }
    for (;;) {
      const int code = sqlite3_step(*stmt);
      if (code == SQLITE_DONE) return Ok();
      if (code != SQLITE_ROW) return Fail(ErrorFor(code, sql.substr(0, sql.find(' ', 7))));
      BARFILL_TRY(row(SqliteRow(*stmt)));
    }
  }

 private:
  static void Bind(sqlite3_stmt* stmt, int slot, const SqlValue& value) {
    if (const auto* text = std::get_if<std::string_view>(&value)) {
      sqlite3_bind_text(stmt, slot, text->data(), static_cast<int>(text->size()), SQLITE_STATIC);
    } else if (const auto* number = std::get_if<int64_t>(&value)) {
      sqlite3_bind_int64(stmt, slot, *number);
    } else if (const auto* flag = std::get_if<bool>(&value)) {
      sqlite3_bind_int64(stmt, slot, *flag ? 1 : 0);
    } else if (const auto* ts = std::get_if<SqlTimestamp>(&value)) {
      sqlite3_bind_int64(stmt, slot, ts->ms);
    } else if (const auto* real = std::get_if<double>(&value)) {
      if (std::isnan(*real)) {
        sqlite3_bind_null(stmt, slot);
      } else {
        sqlite3_bind_double(stmt, slot, *real);
      }
    } else {
      sqlite3_bind_null(stmt, slot);
    }
  }

  // Statements are declared after the connection so they are finalized before it closes.
  std::unique_ptr<sqlite3, DbCloser> db_;
  std::string describe_;
  std::unordered_map<std::string, StmtPtr> statements_;
};

Status Hook(const StoreOptions& options, WriteStep step) {
  return options.write_hook ? options.write_hook(step) : Ok();
}

class SqliteStore final : public BarStore {
 public:
  SqliteStore(std::unique_ptr<SqliteSession> session, StoreOptions options)
      : session_(std::move(session)), options_(std::move(options)) {}

  std::string_view Kind() const override { return "sqlite"; }
  std::string Describe() const override { return session_->Describe(); }

  Status Migrate() override {
    // IMMEDIATE takes the write lock at once, so two processes cannot both create the schema.
    BARFILL_TRY(InTransaction(options_.create || options_.upgrade ? "BEGIN IMMEDIATE" : "BEGIN", [&]() {
      notices_.clear();
      return EnsureSchema(*session_, kSqliteSql, Dialect::kSqlite, options_.create, options_.upgrade,
                          session_->Describe(), &notices_);
    }));
    // WAL only once the schema is known to be ours: a refused file is left exactly as it was.
    if (options_.create) BARFILL_TRY(SwitchToWal());
    return Ok();
  }

  /// Switching to WAL needs the file to itself for a moment, and SQLite's busy handler does not
  /// wait for that: a barfill that opened the file at the same moment is waited for here, within
  /// the busy timeout.
  Status SwitchToWal() {
    Clock& clock = options_.clock != nullptr ? *options_.clock : RealClock();
    const Clock::TimePoint deadline = clock.Now() + options_.busy_timeout;
    while (true) {
      const int code = sqlite3_exec(session_->db(), "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr);
      if (code == SQLITE_OK) return Ok();
      const bool busy = (code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED;
      if (!busy || clock.Now() >= deadline) return Fail(session_->ErrorFor(code, "switching to WAL"));
      (void)clock.SleepFor(std::chrono::milliseconds(10), nullptr);
    }
  }

  Status CommitChunks(std::span<const ChunkWrite> writes) override {
    if (writes.empty()) return Ok();
    BARFILL_TRY(ValidateWrites(writes));
    HalfwayHook halfway{TotalBars(writes) / 2};
    return InTransaction("BEGIN IMMEDIATE", [&]() -> Status {
      BARFILL_TRY(Hook(options_, WriteStep::kBegun));
      const int64_t now = NowMs();
      // One write after the other, each replacing its range first: a later write of the same
      // series replaces an earlier overlapping one, as if written in separate calls.
      for (const ChunkWrite& write : writes) {
        BARFILL_TRY(WriteBars(write, halfway));
        // After the bars: a final range this write splits is recounted from the table.
        BARFILL_TRY(RecordCommitted(*session_, CommittedRange::Of(write), now));
      }
      BARFILL_TRY(halfway.Finish(options_));
      return Hook(options_, WriteStep::kBeforeCommit);
    });
  }

  Status CommitFiles(std::span<const FileRecord> files, const std::function<Status(const ChunkSink&)>& produce) override {
    return InTransaction("BEGIN IMMEDIATE", [&]() -> Status {
      BARFILL_TRY(Hook(options_, WriteStep::kBegun));
      HalfwayHook halfway{0};  // the hook runs with the file's first rows written
      std::vector<CommittedRange> ranges;  // the ledger is written once every bar is in
      const ChunkSink sink = [&](std::span<const ChunkWrite> writes) -> Status {
        BARFILL_TRY(ValidateWrites(writes));
        for (const ChunkWrite& write : writes) {
          BARFILL_TRY(WriteBars(write, halfway));
          ranges.push_back(CommittedRange::Of(write));
        }
        return Ok();
      };
      BARFILL_TRY(produce(sink));
      BARFILL_TRY(halfway.Finish(options_));
      const int64_t now = NowMs();
      GroupByRange(ranges);
      BARFILL_TRY(RecordCommittedTogether(*session_, ranges, now));
      for (const FileRecord& file : files) BARFILL_TRY(RecordFile(*session_, file, now));
      return Hook(options_, WriteStep::kBeforeCommit);
    });
  }

  Result<std::vector<FileRecord>> ReadFiles(std::string_view key_prefix) override {
    return SelectFiles(*session_, key_prefix);
  }

  Status RecordFailure(const Chunk& chunk, const Error& error, int attempts) override {
    return InTransaction("BEGIN IMMEDIATE",
                         [&]() { return RecordFailed(*session_, chunk, error, attempts, NowMs()); });
  }

  Result<std::vector<LedgerEntry>> ReadLedger(const Series& series) override {
    return SelectLedger(*session_, &series);
  }

  Result<std::vector<std::string>> ReadRecentTickers(const Timeframe& timeframe, bool adjusted, int64_t since_ms) override {
    return SelectRecentTickers(*session_, timeframe, adjusted, since_ms);
  }

  Status ReadBars(const Series& series, TimeRange range,
                  const std::function<Status(const BarBatch&)>& sink,
                  size_t batch_rows) override {
    auto select = session_->Prepare(kSelectBars);
    if (!select) return Fail(select.error());
    sqlite3_stmt* stmt = *select;
    const StmtUse use(stmt);
    const std::string timeframe = series.timeframe.ToString();
    sqlite3_bind_text(stmt, 1, series.ticker.symbol().data(),
                      static_cast<int>(series.ticker.symbol().size()), SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, timeframe.data(), static_cast<int>(timeframe.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int(stmt, 3, series.adjusted ? 1 : 0);
    sqlite3_bind_int64(stmt, 4, range.from_ms);
    sqlite3_bind_int64(stmt, 5, range.to_ms);
    BarBatch batch;
    batch.reserve(std::max<size_t>(batch_rows, 1));
    for (;;) {
      const int code = sqlite3_step(stmt);
      if (code == SQLITE_DONE) break;
      if (code != SQLITE_ROW) return Fail(session_->ErrorFor(code, "reading bars"));
      Bar bar;
      bar.t = sqlite3_column_int64(stmt, 0);
      bar.open = sqlite3_column_double(stmt, 1);
      bar.high = sqlite3_column_double(stmt, 2);
      bar.low = sqlite3_column_double(stmt, 3);
      bar.close = sqlite3_column_double(stmt, 4);
      bar.volume = sqlite3_column_double(stmt, 5);
      if (sqlite3_column_type(stmt, 6) != SQLITE_NULL) bar.vwap = sqlite3_column_double(stmt, 6);
      if (sqlite3_column_type(stmt, 7) != SQLITE_NULL) bar.trades = sqlite3_column_int64(stmt, 7);
      batch.push_back(bar);
      if (batch.size() >= batch_rows) {
        BARFILL_TRY(sink(batch));
        batch.clear();
      }
    }
    if (!batch.empty()) return sink(batch);
    return Ok();
  }

  Result<std::vector<WindowCount>> CountBarsIn(const Series& series, std::span<const TimeRange> windows) override {
    return SelectWindowCounts(*session_, Dialect::kSqlite, series, windows);
  }

  Result<std::vector<RangeCheck>> ReadChecks(const Series& series) override { return SelectChecks(*session_, series); }

  Status RecordChecks(std::span<const RangeCheck> checks) override {
    return InTransaction("BEGIN IMMEDIATE", [&] { return UpsertChecks(*session_, checks); });
  }

  Status InTransaction(bool read_only, const std::function<Status(SqlSession&)>& body) override {
    return InTransaction(read_only ? "BEGIN" : "BEGIN IMMEDIATE", [&]() { return body(*session_); });
  }

  Result<std::vector<SeriesStatus>> ReadStatus() override {
    std::vector<SeriesStatus> status;
    BARFILL_TRY(InTransaction("BEGIN", [&]() -> Status {
      auto rows = SelectStatus(*session_);
      if (!rows) return Fail(std::move(rows).error());
      status = std::move(*rows);
      return Ok();
    }));
    return status;
  }

 private:
  Status InsertBar(sqlite3_stmt* insert, const BarBatch& bars, size_t i) {
    sqlite3_bind_int64(insert, 4, bars.t[i]);
    sqlite3_bind_double(insert, 5, bars.open[i]);
    sqlite3_bind_double(insert, 6, bars.high[i]);
    sqlite3_bind_double(insert, 7, bars.low[i]);
    sqlite3_bind_double(insert, 8, bars.close[i]);
    sqlite3_bind_double(insert, 9, bars.volume[i]);
    if (std::isnan(bars.vwap[i])) {
      sqlite3_bind_null(insert, 10);
    } else {
      sqlite3_bind_double(insert, 10, bars.vwap[i]);
    }
    if (bars.trades[i] == kNoTrades) {
      sqlite3_bind_null(insert, 11);
    } else {
      sqlite3_bind_int64(insert, 11, bars.trades[i]);
    }
    const int code = sqlite3_step(insert);
    sqlite3_reset(insert);
    if (code != SQLITE_DONE) return Fail(session_->ErrorFor(code, "inserting bars"));
    return Ok();
  }

  /// Runs `body` between `begin` and COMMIT, rolling back when anything fails.
  /// Calls the kBarsHalfWritten test hook once, when about half the call's bars are written.
  struct HalfwayHook {
    size_t half = 0;
    size_t written = 0;
    bool called = false;
    Status Count(const StoreOptions& options) {
      if (!called && written++ == half) {
        called = true;
        return Hook(options, WriteStep::kBarsHalfWritten);
      }
      return Ok();
    }
    Status Finish(const StoreOptions& options) {
      if (called) return Ok();
      called = true;
      return Hook(options, WriteStep::kBarsHalfWritten);
    }
  };

  /// Replaces the bars of the write's range with its bars.
  Status WriteBars(const ChunkWrite& write, HalfwayHook& halfway) {
    BARFILL_TRY(DeleteBarsInRange(*session_, write.chunk));
    auto insert = session_->Prepare(kInsertBar);
    if (!insert) return Fail(insert.error());
    const StmtUse use(*insert);
    const Series& series = write.chunk.series;
    const std::string timeframe = series.timeframe.ToString();
    sqlite3_bind_text(*insert, 1, series.ticker.symbol().data(), static_cast<int>(series.ticker.symbol().size()),
                      SQLITE_STATIC);
    sqlite3_bind_text(*insert, 2, timeframe.data(), static_cast<int>(timeframe.size()), SQLITE_STATIC);
    sqlite3_bind_int(*insert, 3, series.adjusted ? 1 : 0);
    const BarBatch& bars = *write.bars;
    for (size_t i = 0; i < bars.size(); ++i) {
      BARFILL_TRY(halfway.Count(options_));
      BARFILL_TRY(InsertBar(*insert, bars, i));
    }
    return Ok();
  }

  Status InTransaction(std::string_view begin, const std::function<Status()>& body) {
    BARFILL_TRY(session_->Run(begin, "starting a transaction"));
    Status status = body();
    if (status) status = session_->Run("COMMIT", "committing");
    if (!status && !sqlite3_get_autocommit(session_->db())) {
      (void)session_->Run("ROLLBACK", "rolling back");
    }
    return status;
  }

  std::unique_ptr<SqliteSession> session_;
  StoreOptions options_;
};

/// Checks the path before SQLite sees it, for errors that say what is wrong.
Status CheckPath(const std::string& path, const std::string& describe, bool create) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path file(path);
  if (fs::is_directory(file, ec)) {
    return Fail(ErrorCode::kDatabase, describe + ": " + path + " is a directory, not a file");
  }
  if (fs::exists(file, ec)) return Ok();
  if (!create) {
    return Fail(ErrorCode::kDatabase,
                describe + " does not exist (nothing was backfilled into it yet); check the "
                           "database URL");
  }
  const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec)) {
    return Fail(ErrorCode::kDatabase, describe + ": directory " + dir.string() +
                                          " does not exist; create it first");
  }
  return Ok();
}

}  // namespace

Result<std::unique_ptr<BarStore>> OpenSqliteStore(const std::string& path,
                                                  const StoreOptions& options) {
  const std::string describe = "SQLite database " + path;
  BARFILL_TRY(CheckPath(path, describe, options.create));
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (options.create ? SQLITE_OPEN_CREATE : 0) |
                    SQLITE_OPEN_NOMUTEX;
  const int code = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  auto session = std::make_unique<SqliteSession>(raw, describe);
  if (code != SQLITE_OK) {
    if (raw == nullptr) return Fail(ErrorCode::kDatabase, describe + ": out of memory");
    return Fail(session->ErrorFor(code, "opening"));
  }
  sqlite3_extended_result_codes(raw, 1);
  if (options.create && sqlite3_db_readonly(raw, "main") == 1) {
    return Fail(ErrorCode::kDatabase, describe + " is not writable; check its permissions");
  }
  sqlite3_busy_timeout(raw, static_cast<int>(options.busy_timeout.count()));
  // Reading the schema catches a file that is not a database before any download starts.
  BARFILL_TRY(session->Run("SELECT count(*) FROM sqlite_master", "reading the schema"));
  BARFILL_TRY(session->Run("PRAGMA synchronous = NORMAL", "setting synchronous"));
  return std::unique_ptr<BarStore>(std::make_unique<SqliteStore>(std::move(session), options));
}

}  // namespace barfill::store
