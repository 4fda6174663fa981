#include "store/postgres_store.h"

#include <algorithm>
#include <array>
#include <random>

#include "core/clock.h"
#include "core/market_time.h"
#include "store/actions_schema.h"
#include "store/copy_binary.h"
#include "store/ledger.h"
#include "store/pg_connection.h"
#include "store/schema.h"
#include "store/work_queue.h"
#include "store/verification.h"

namespace barfill::store {
namespace {

constexpr std::string_view kCreateFiles =
    "CREATE TABLE IF NOT EXISTS barfill_files (key text PRIMARY KEY, etag text NOT NULL, size bigint NOT NULL, "
    "last_modified timestamptz NOT NULL, rows bigint NOT NULL, tickers bigint NOT NULL, bad_rows bigint NOT NULL, "
    "all_tickers boolean NOT NULL, updated_at timestamptz NOT NULL)";

// barfill_checks: what repairs and refreshes verified (schema 4; store/verification.h).
constexpr std::string_view kCreateChecks =
    "CREATE TABLE IF NOT EXISTS barfill_checks (ticker text NOT NULL, timeframe text NOT NULL, "
    "adjusted boolean NOT NULL, from_ts timestamptz NOT NULL, to_ts timestamptz NOT NULL, "
    "verified_at timestamptz NOT NULL, checks bigint NOT NULL, bars bigint NOT NULL, retry_at timestamptz, "
    "PRIMARY KEY (ticker, timeframe, adjusted, from_ts, to_ts))";

// barfill_derived: the ranges of bars `backfill --derive` built from a minute file's rows (schema 7).
constexpr std::string_view kCreateDerived =
    "CREATE TABLE IF NOT EXISTS barfill_derived (ticker text NOT NULL, timeframe text NOT NULL, "
    "adjusted boolean NOT NULL, from_ts timestamptz NOT NULL, to_ts timestamptz NOT NULL, source text NOT NULL, "
    "bars bigint NOT NULL, derived_at timestamptz NOT NULL, PRIMARY KEY (ticker, timeframe, adjusted, from_ts))";
constexpr std::string_view kAddFileTimeframes =
    "ALTER TABLE barfill_files ADD COLUMN timeframes text NOT NULL DEFAULT ''";

// The work queue (barfill enqueue / barfill worker): one row per range to fetch, held by a worker
// under a lease; `generation` grows with every claim and fences a commit (docs/workers.md).
constexpr std::string_view kCreateQueue =
    "CREATE TABLE IF NOT EXISTS barfill_queue (id bigserial PRIMARY KEY, ticker text NOT NULL, timeframe text NOT NULL, "
    "adjusted boolean NOT NULL, from_ts timestamptz NOT NULL, to_ts timestamptz NOT NULL, "
    "state text NOT NULL CHECK (state IN ('pending', 'leased', 'done', 'failed')), worker bigint, "
    "generation bigint NOT NULL DEFAULT 0, lease_expires timestamptz, claims bigint NOT NULL DEFAULT 0, "
    "last_error text, enqueued_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, "
    "UNIQUE (ticker, timeframe, adjusted, from_ts, to_ts))";
// Claims scan only the open items, whatever the number of finished ones.
constexpr std::string_view kCreateQueueIndex =
    "CREATE INDEX IF NOT EXISTS barfill_queue_open ON barfill_queue (id) WHERE state IN ('pending', 'leased')";
constexpr std::string_view kCreateWorkers =
    "CREATE TABLE IF NOT EXISTS barfill_workers (id bigserial PRIMARY KEY, host text NOT NULL, pid bigint NOT NULL, "
    "started_at timestamptz NOT NULL, heartbeat_at timestamptz NOT NULL, state text NOT NULL, "
    "items_done bigint NOT NULL DEFAULT 0, items_failed bigint NOT NULL DEFAULT 0, rows bigint NOT NULL DEFAULT 0, "
    "lease_losses bigint NOT NULL DEFAULT 0, current_item bigint)";
// The rate limit every worker with one API key shares (GCRA), keyed by a hash of the key.
constexpr std::string_view kCreateRate =
    "CREATE TABLE IF NOT EXISTS barfill_rate (key_hash text PRIMARY KEY, tat timestamptz NOT NULL, "
    "paused_until timestamptz NOT NULL, interval_us bigint NOT NULL, success_run bigint NOT NULL DEFAULT 0, "
    "decreases bigint NOT NULL DEFAULT 0, rate_limited bigint NOT NULL DEFAULT 0, updated_at timestamptz NOT NULL)";

constexpr std::array<std::string_view, 5> kBaseTables = {
    "CREATE TABLE IF NOT EXISTS barfill_meta (key text PRIMARY KEY, value text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bars (ticker text NOT NULL, timeframe text NOT NULL, "
    "adjusted boolean NOT NULL, ts timestamptz NOT NULL, open double precision NOT NULL, "
    "high double precision NOT NULL, low double precision NOT NULL, "
    "close double precision NOT NULL, volume double precision NOT NULL, "
    "vwap double precision, trades bigint, PRIMARY KEY (ticker, timeframe, adjusted, ts))",
    "CREATE TABLE IF NOT EXISTS barfill_ledger (ticker text NOT NULL, timeframe text NOT NULL, "
    "adjusted boolean NOT NULL, from_ts timestamptz NOT NULL, to_ts timestamptz NOT NULL, "
    "state text NOT NULL CHECK (state IN ('done', 'failed', 'empty', 'stale')), rows bigint NOT NULL, "
    "attempts bigint NOT NULL, last_error text, updated_at timestamptz NOT NULL, "
    "requests bigint NOT NULL DEFAULT 0, base_aggregates bigint, "
    "PRIMARY KEY (ticker, timeframe, adjusted, from_ts, to_ts))",
    kCreateFiles,
    kCreateChecks,
};

// Schema 1 -> 2: the ledger records final ranges. A schema-1 chunk written before its range
// ended was fetched again by the next run; it is not final, so it leaves the ledger (its bars
// stay until the range is fetched again).
constexpr std::array<std::string_view, 3> kLedgerOfPages = {
    "ALTER TABLE barfill_ledger ADD COLUMN requests bigint NOT NULL DEFAULT 0",
    "ALTER TABLE barfill_ledger ADD COLUMN base_aggregates bigint",
    "DELETE FROM barfill_ledger WHERE state IN ('done', 'empty') AND updated_at < to_ts",
};
constexpr std::array<std::string_view, 4> kWorkQueue = {kCreateQueue, kCreateQueueIndex, kCreateWorkers, kCreateRate};
constexpr std::array<std::string_view, 2> kDerivedStep = {kCreateDerived, kAddFileTimeframes};
constexpr auto kCreateTables = JoinStatements(JoinStatements(JoinStatements(kBaseTables, kPostgresActionsTables), kWorkQueue), kDerivedStep);
constexpr std::array<std::string_view, 1> kFilesLedger = {kCreateFiles};
constexpr std::array<std::string_view, 1> kChecksStep = {kCreateChecks};
// Schema 4 -> 5: corporate actions (store/actions_schema.h).
constexpr auto kActions = JoinStatements(kPostgresLedgerStale, kPostgresActionsTables);
constexpr std::array<MigrationStep, 6> kMigrations = {{{1, kLedgerOfPagesWhat, kLedgerOfPages},
                                                       {2, kFilesLedgerWhat, kFilesLedger},
                                                       {3, kChecksTableWhat, kChecksStep},
                                                       {4, kActionsWhat, kActions},
                                                       {kWorkQueueFromVersion, kWorkQueueWhat, kWorkQueue},
                                                       {kDerivedFromVersion, kDerivedWhat, kDerivedStep}}};

const DialectSql kPostgresSql{
    "SELECT to_regclass($1) IS NOT NULL",
    "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), "
    "coalesce((SELECT k.ord FROM pg_index i, unnest(i.indkey::int2[]) WITH ORDINALITY "
    "AS k(attnum, ord) WHERE i.indrelid = a.attrelid AND i.indisprimary AND "
    "k.attnum = a.attnum), 0) FROM pg_attribute a WHERE a.attrelid = 'bars'::regclass AND "
    "a.attnum > 0 AND NOT a.attisdropped",
    kCreateTables,
    kMigrations,
};

/// Serializes concurrent migrations (any constant; "barfill" in ASCII).
constexpr std::string_view kLockMigration = "SELECT pg_advisory_xact_lock(27981962562284908)";

constexpr std::string_view kCopyBars =
    "COPY bars (ticker, timeframe, adjusted, ts, open, high, low, close, volume, vwap, trades) "
    "FROM STDIN (FORMAT binary)";
constexpr std::string_view kCopyStage =
    "COPY barfill_stage (ticker, timeframe, adjusted, ts, open, high, low, close, volume, vwap, "
    "trades) FROM STDIN (FORMAT binary)";

// The staging merge (PgWriteMethod::kStagingMerge): the rows of a round go to a temp table,
// bars the vendor no longer sends are deleted, then the rest is upserted, skipping unchanged rows.
constexpr std::string_view kCreateStage =
    "CREATE TEMP TABLE IF NOT EXISTS barfill_stage (LIKE bars) ON COMMIT DELETE ROWS; "
    "CREATE TEMP TABLE IF NOT EXISTS barfill_stage_ranges (ticker text, timeframe text, "
    "adjusted boolean, from_ts timestamptz, to_ts timestamptz) ON COMMIT DELETE ROWS; "
    "TRUNCATE barfill_stage, barfill_stage_ranges";
constexpr std::string_view kStageRange =
    "INSERT INTO barfill_stage_ranges VALUES ($1, $2, $3, $4, $5)";
constexpr std::string_view kMergeStage =
    "ANALYZE barfill_stage; "
    "DELETE FROM bars b USING barfill_stage_ranges r WHERE b.ticker = r.ticker AND "
    "b.timeframe = r.timeframe AND b.adjusted = r.adjusted AND b.ts >= r.from_ts AND "
    "b.ts < r.to_ts AND NOT EXISTS (SELECT 1 FROM barfill_stage s WHERE s.ticker = b.ticker AND "
    "s.timeframe = b.timeframe AND s.adjusted = b.adjusted AND s.ts = b.ts); "
    "INSERT INTO bars SELECT * FROM barfill_stage ON CONFLICT (ticker, timeframe, adjusted, ts) "
    "DO UPDATE SET open = excluded.open, high = excluded.high, low = excluded.low, "
    "close = excluded.close, volume = excluded.volume, vwap = excluded.vwap, "
    "trades = excluded.trades WHERE (bars.open, bars.high, bars.low, bars.close, bars.volume, "
    "bars.vwap, bars.trades) IS DISTINCT FROM (excluded.open, excluded.high, excluded.low, "
    "excluded.close, excluded.volume, excluded.vwap, excluded.trades); "
    "TRUNCATE barfill_stage, barfill_stage_ranges";

/// The range PostgreSQL's timestamptz literals can hold comfortably: years 1 to 9999.
constexpr int64_t kMinLiteralMs = -62135596800000;
constexpr int64_t kMaxLiteralMs = 253402300799999;

std::string SessionOptions(const StoreOptions& options) {
  if (options.stalled_session_timeout.count() <= 0) return "";
  const std::string ms = std::to_string(options.stalled_session_timeout.count());
  return "-c statement_timeout=" + ms + " -c idle_in_transaction_session_timeout=" + ms;
}

PgLink::Settings LinkSettings(const StoreOptions& options) {
  PgLink::Settings settings;
  settings.connect_timeout = options.connect_timeout;
  settings.max_attempts = options.max_transaction_attempts;
  settings.first_delay = options.first_retry_delay;
  settings.max_delay = options.max_retry_delay;
  settings.clock = options.clock;
  settings.session_options = SessionOptions(options);
  return settings;
}

/// Calls the test hook, if any.
Status Hook(const StoreOptions& options, WriteStep step) {
  return options.write_hook ? options.write_hook(step) : Ok();
}

class PostgresStore final : public BarStore {
 public:
  PostgresStore(std::string conninfo, StoreOptions options, std::unique_ptr<PgConnection> conn)
      : options_(std::move(options)),
        link_(std::move(conninfo), LinkSettings(options_), std::move(conn)),
        describe_(link_.Describe()) {}

  std::string_view Kind() const override { return "postgresql"; }
  std::string Describe() const override { return describe_; }

  Status Migrate() override {
    return RunTransaction("BEGIN", [&](PgConnection& c) -> Status {
      BARFILL_TRY(c.Run(kLockMigration, "locking the schema"));
      notices_.clear();
      BARFILL_TRY(EnsureSchema(c, kPostgresSql, Dialect::kPostgres, options_.create, options_.upgrade, describe_,
                               &notices_));
      if (!options_.create) return Ok();
      return CheckPrivileges(c);
    });
  }

  std::vector<std::string> Warnings() override {
    std::vector<std::string> warnings;
    const Status read = link_.conn().Query("SELECT current_setting('synchronous_commit')", {}, [&](const SqlRow& row) -> Status {
      if (row.Text(0) == "off") {
        warnings.push_back("warning: " + describe_ +
                           " runs with synchronous_commit=off: a database crash may lose the last commits (bars and "
                           "ledger stay consistent, and those chunks are fetched again)");
      }
      return Ok();
    });
    (void)read;  // a setting we cannot read is nothing to warn about
    return warnings;
  }

  Status CommitChunks(std::span<const ChunkWrite> writes) override { return Commit(writes, nullptr); }

  Status CommitFenced(std::span<const ChunkWrite> writes, const LeaseFence& fence) override {
    return Commit(writes, &fence);
  }

  Status Commit(std::span<const ChunkWrite> writes, const LeaseFence* fence) {
    if (writes.empty() && fence == nullptr) return Ok();
    BARFILL_TRY(ValidateWrites(writes));
    const auto rounds = SplitIntoRounds(writes);
    const size_t total = TotalBars(writes);
    return RunTransaction("BEGIN", [&](PgConnection& c) -> Status {
      // The fence first: it locks the item, so no claim can take it over until COMMIT.
      if (fence != nullptr) BARFILL_TRY(CheckLease(c, *fence));
      BARFILL_TRY(Hook(options_, WriteStep::kBegun));
      CopyProgress progress{total / 2, 0, total == 0};
      for (const auto round : rounds) BARFILL_TRY(WriteBars(c, round, progress));
      if (!progress.hook_called) BARFILL_TRY(Hook(options_, WriteStep::kBarsHalfWritten));
      std::vector<CommittedRange> ranges;
      for (const ChunkWrite& w : writes) ranges.push_back(CommittedRange::Of(w));
      BARFILL_TRY(RecordLedger(c, ranges, NowMs()));
      return Hook(options_, WriteStep::kBeforeCommit);
    });
  }

  Status CommitFiles(std::span<const FileRecord> files, const std::function<Status(const ChunkSink&)>& produce) override {
    return RunTransaction("BEGIN", [&](PgConnection& c) -> Status {
      BARFILL_TRY(Hook(options_, WriteStep::kBegun));
      CopyProgress progress{0, 0, false};  // the hook runs with the files' first rows on the wire
      std::vector<CommittedRange> ranges;  // the ledger is written once every bar is in
      const ChunkSink sink = [&](std::span<const ChunkWrite> writes) -> Status {
        BARFILL_TRY(ValidateWrites(writes));
        for (const auto round : SplitIntoRounds(writes)) BARFILL_TRY(WriteBars(c, round, progress));
        for (const ChunkWrite& w : writes) ranges.push_back(CommittedRange::Of(w));
        return Ok();
      };
      BARFILL_TRY(produce(sink));
      if (!progress.hook_called) BARFILL_TRY(Hook(options_, WriteStep::kBarsHalfWritten));
      const int64_t now = NowMs();
      GroupByRange(ranges);
      BARFILL_TRY(RecordLedger(c, ranges, now));
      for (const FileRecord& file : files) BARFILL_TRY(RecordFile(c, file, now));
      return Hook(options_, WriteStep::kBeforeCommit);
    });
  }

  Result<std::vector<FileRecord>> ReadFiles(std::string_view key_prefix) override {
    std::vector<FileRecord> files;
    BARFILL_TRY(RunTransaction("BEGIN READ ONLY", [&](PgConnection& c) -> Status {
      auto rows = SelectFiles(c, key_prefix);
      if (!rows) return Fail(std::move(rows).error());
      files = std::move(*rows);
      return Ok();
    }));
    return files;
  }

  Status RecordFailure(const Chunk& chunk, const Error& error, int attempts) override {
    return RunTransaction("BEGIN", [&](PgConnection& c) -> Status {
      const CommittedRange failed{chunk.series, chunk.range, chunk.range};
      BARFILL_TRY(LockLedger(c, LedgerLockKeys({&failed, 1})));
      return RecordFailed(c, chunk, error, attempts, NowMs());
    });
  }

  Result<std::vector<LedgerEntry>> ReadLedger(const Series& series) override {
    std::vector<LedgerEntry> entries;
    BARFILL_TRY(RunTransaction("BEGIN READ ONLY", [&](PgConnection& c) -> Status {
      auto rows = SelectLedger(c, &series);
      if (!rows) return Fail(std::move(rows).error());
      entries = std::move(*rows);
      return Ok();
    }));
    return entries;
  }

  Result<std::vector<std::string>> ReadRecentTickers(const Timeframe& timeframe, bool adjusted, int64_t since_ms) override {
    return ReadOnly<std::vector<std::string>>(
        [&](PgConnection& c) { return SelectRecentTickers(c, timeframe, adjusted, since_ms); });
  }

  Status ReadBars(const Series& series, TimeRange range,
                  const std::function<Status(const BarBatch&)>& sink,
                  size_t batch_rows) override;

  Result<std::vector<WindowCount>> CountBarsIn(const Series& series, std::span<const TimeRange> windows) override {
    return ReadOnly<std::vector<WindowCount>>(
        [&](PgConnection& c) { return SelectWindowCounts(c, Dialect::kPostgres, series, windows); });
  }

  Result<std::vector<RangeCheck>> ReadChecks(const Series& series) override {
    return ReadOnly<std::vector<RangeCheck>>([&](PgConnection& c) { return SelectChecks(c, series); });
  }

  Status RecordChecks(std::span<const RangeCheck> checks) override {
    return RunTransaction("BEGIN", [&](PgConnection& c) { return UpsertChecks(c, checks); });
  }

  Status InTransaction(bool read_only, const std::function<Status(SqlSession&)>& body) override {
    return RunTransaction(read_only ? "BEGIN READ ONLY" : "BEGIN", [&](PgConnection& c) { return body(c); });
  }

  Result<std::vector<SeriesStatus>> ReadStatus() override {
    std::vector<SeriesStatus> status;
    BARFILL_TRY(RunTransaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                               [&](PgConnection& c) -> Status {
                                 auto rows = SelectStatus(c);
                                 if (!rows) return Fail(std::move(rows).error());
                                 status = std::move(*rows);
                                 return Ok();
                               }));
    return status;
  }

 private:
  /// Where the "half written" hook stands across the rounds of one call.
  struct CopyProgress {
    size_t half = 0;
    size_t sent = 0;
    bool hook_called = false;
  };

  Status CheckPrivileges(PgConnection& c) {
    bool allowed = false;
    BARFILL_TRY(c.Query(
        "SELECT has_table_privilege('bars', 'SELECT, INSERT, DELETE') AND "
        "has_table_privilege('barfill_ledger', 'SELECT, INSERT, UPDATE, DELETE')",
        {}, [&](const SqlRow& row) -> Status {
          allowed = row.Bool(0);
          return Ok();
        }));
    if (allowed) return Ok();
    return Fail(ErrorCode::kDatabase,
                describe_ + ": permission denied: this user needs SELECT, INSERT, DELETE on bars "
                            "and SELECT, INSERT, UPDATE, DELETE on barfill_ledger (GRANT them, or "
                            "connect as the tables' owner)");
  }

  /// Takes transaction-scoped advisory locks on the ledger of each (timeframe, adjusted) in
  /// `keys` (sorted, so two sessions never wait on each other in a cycle), held until COMMIT:
  /// the ledger's merges of adjacent ranges never race with another session's, while the bars
  /// before it are still written in parallel.
  static Status LockLedger(PgConnection& c, const std::vector<std::string>& keys) {
    BARFILL_TRY(c.StartPipeline());
    Status queued = Ok();
    for (const std::string& key : keys) {
      if (queued) queued = c.Exec("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))", {std::string_view(key)});
    }
    Status done = c.FinishPipeline("locking the ledger");
    BARFILL_TRY(queued);
    return done;
  }

  /// Replaces the bars of a round of non-overlapping writes.
  Status WriteBars(PgConnection& c, std::span<const ChunkWrite> round, CopyProgress& progress) {
    if (options_.pg_write_method == PgWriteMethod::kStagingMerge) return MergeRound(c, round, progress);
    BARFILL_TRY(c.StartPipeline());
    Status queued = DeleteBarsOfWrites(c, round);
    Status done = c.FinishPipeline("replacing the chunks' ranges");
    BARFILL_TRY(queued);
    BARFILL_TRY(done);
    return CopyRound(c, kCopyBars, round, progress);
  }

  Status MergeRound(PgConnection& c, std::span<const ChunkWrite> round, CopyProgress& progress) {
    BARFILL_TRY(c.Run(kCreateStage, "preparing the staging table"));
    BARFILL_TRY(CopyRound(c, kCopyStage, round, progress));
    BARFILL_TRY(Pipelined(c, round, "staging the chunks' ranges", [](PgConnection& conn, const ChunkWrite& write) {
      const Chunk& chunk = write.chunk;
      const std::string timeframe = chunk.series.timeframe.ToString();
      return conn.Exec(kStageRange, {std::string_view(chunk.series.ticker.symbol()), std::string_view(timeframe),
                                     chunk.series.adjusted, SqlTimestamp{chunk.range.from_ms},
                                     SqlTimestamp{chunk.range.to_ms}});
    }));
    return c.Run(kMergeStage, "merging staged bars");
  }

  /// The ledger rows of committed writes, once their bars are in the table (a final range a
  /// write splits is recounted from it), in one pipelined round trip after the ledger locks.
  static Status RecordLedger(PgConnection& c, std::span<const CommittedRange> ranges, int64_t now) {
    BARFILL_TRY(LockLedger(c, LedgerLockKeys(ranges)));
    BARFILL_TRY(c.StartPipeline());
    Status queued = RecordCommittedTogether(c, ranges, now);
    Status done = c.FinishPipeline("recording the chunks");
    BARFILL_TRY(queued);
    return done;
  }

  /// Queues `statements` for every write of the round in one pipeline (one round trip).
  template <typename Statements>
  static Status Pipelined(PgConnection& c, std::span<const ChunkWrite> round, std::string_view doing,
                          Statements&& statements) {
    BARFILL_TRY(c.StartPipeline());
    Status queued = Ok();
    for (const ChunkWrite& write : round) {
      if (queued) queued = statements(c, write);
    }
    Status done = c.FinishPipeline(doing);
    BARFILL_TRY(queued);
    return done;
  }

  /// Streams the bars of a round through one COPY, in ~1 MB pieces.
  Status CopyRound(PgConnection& c, std::string_view copy_sql, std::span<const ChunkWrite> round,
                   CopyProgress& progress) {
    if (TotalBars(round) == 0) return Ok();
    PgResult start(PQexec(c.get(), std::string(copy_sql).c_str()));
    if (!start || PQresultStatus(start.get()) != PGRES_COPY_IN) {
      return Fail(c.ErrorFrom(start.get(), "starting COPY"));
    }
    CopyBinaryEncoder encoder([&](std::string_view piece) -> Status {
      if (PQputCopyData(c.get(), piece.data(), static_cast<int>(piece.size())) != 1) {
        return Fail(c.ErrorFrom(nullptr, "sending COPY data"));
      }
      return Ok();
    });
    Status sent = [&]() -> Status {
      BARFILL_TRY(encoder.Begin());
      for (const ChunkWrite& write : round) {
        const size_t n = write.bars->size();
        size_t begin = 0;
        if (!progress.hook_called && progress.sent + n >= progress.half) {
          // Send the first half to the server before the hook runs, so that a crash injected
          // there really happens with rows on the wire.
          begin = progress.half - progress.sent;
          BARFILL_TRY(encoder.Append(write.chunk.series, *write.bars, 0, begin));
          BARFILL_TRY(encoder.Flush());
          progress.hook_called = true;
          BARFILL_TRY(Hook(options_, WriteStep::kBarsHalfWritten));
        }
        BARFILL_TRY(encoder.Append(write.chunk.series, *write.bars, begin, n));
        progress.sent += n;
      }
      return encoder.Finish();
    }();
    return EndCopy(c, std::move(sent), "COPY into bars");
  }

  /// Ends a COPY IN (aborting it when `sent` failed) and collects the server's verdict.
  static Status EndCopy(PgConnection& c, Status sent, std::string_view doing) {
    const char* abort_reason = sent ? nullptr : "barfill aborted the write";
    if (PQputCopyEnd(c.get(), abort_reason) != 1 && sent) {
      sent = Fail(c.ErrorFrom(nullptr, doing));
    }
    Status server = Ok();
    while (PgResult result{PQgetResult(c.get())}) {
      const ExecStatusType status = PQresultStatus(result.get());
      if (status == PGRES_COMMAND_OK) continue;
      if (server) server = Fail(c.ErrorFrom(result.get(), doing));
      if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT) break;  // connection unusable
    }
    if (!sent) return sent;
    return server;
  }

  /// The result of `query` run in a read-only transaction (redone like any other).
  template <typename T>
  Result<T> ReadOnly(const std::function<Result<T>(PgConnection&)>& query) {
    T out;
    BARFILL_TRY(RunTransaction("BEGIN READ ONLY", [&](PgConnection& c) -> Status {
      auto rows = query(c);
      if (!rows) return Fail(std::move(rows).error());
      out = std::move(*rows);
      return Ok();
    }));
    return out;
  }

  Status RunTransaction(std::string_view begin, const std::function<Status(PgConnection&)>& body) {
    return link_.Transaction(begin, body);
  }

  /// One COPY TO of the bars from `range`, handing batches to `sink`; `delivered_to` is set to
  /// the t after the last bar handed over, so that a retry resumes there.
  Status ReadBarsOnce(const Series& series, TimeRange range,
                      const std::function<Status(const BarBatch&)>& sink, size_t batch_rows,
                      int64_t& delivered_to);

  /// A quoted SQL literal (COPY takes no parameters).
  Result<std::string> Literal(std::string_view text) {
    char* quoted = PQescapeLiteral(link_.conn().get(), text.data(), text.size());
    if (quoted == nullptr) return Fail(link_.conn().ErrorFrom(nullptr, "quoting a literal"));
    std::string out(quoted);
    PQfreemem(quoted);
    return out;
  }

  StoreOptions options_;
  PgLink link_;  // reconnects and redoes a transaction after a lost connection
  std::string describe_;
};

std::string TimestampLiteral(int64_t ms) {
  return "'" + FormatIsoUtc(std::clamp(ms, kMinLiteralMs, kMaxLiteralMs)) + "'::timestamptz";
}

Status PostgresStore::ReadBars(const Series& series, TimeRange range,
                               const std::function<Status(const BarBatch&)>& sink,
                               size_t batch_rows) {
  // Bars come in ascending t, so after a lost connection the read resumes after the last bar
  // the sink received: nothing is repeated, nothing skipped.
  int64_t delivered_to = range.from_ms;
  return link_.WithRetries([&]() -> Status {
    const TimeRange rest{delivered_to, range.to_ms};
    if (rest.empty()) return Ok();
    BARFILL_TRY(link_.EnsureConnected());
    return ReadBarsOnce(series, rest, sink, batch_rows, delivered_to);
  });
}

Status PostgresStore::ReadBarsOnce(const Series& series, TimeRange range,
                                   const std::function<Status(const BarBatch&)>& sink,
                                   size_t batch_rows, int64_t& delivered_to) {
  auto ticker = Literal(series.ticker.symbol());
  if (!ticker) return Fail(ticker.error());
  auto timeframe = Literal(series.timeframe.ToString());
  if (!timeframe) return Fail(timeframe.error());
  // COPY TO streams rows as the index scan produces them: constant memory, no cursor round trips.
  const std::string sql =
      "COPY (SELECT ts, open, high, low, close, volume, vwap, trades FROM bars WHERE ticker = " +
      *ticker + " AND timeframe = " + *timeframe + " AND adjusted = " +
      (series.adjusted ? "true" : "false") + " AND ts >= " + TimestampLiteral(range.from_ms) +
      " AND ts < " + TimestampLiteral(range.to_ms) + " ORDER BY ts) TO STDOUT (FORMAT binary)";
  PGconn* conn = link_.conn().get();
  PgResult start(PQexec(conn, sql.c_str()));
  if (!start || PQresultStatus(start.get()) != PGRES_COPY_OUT) {
    return Fail(link_.conn().ErrorFrom(start.get(), "reading bars"));
  }
  CopyBinaryBarDecoder decoder;
  BarBatch batch;
  batch.reserve(std::max<size_t>(batch_rows, 1));
  Status status = Ok();
  bool canceled = false;
  for (;;) {
    char* buffer = nullptr;
    const int length = PQgetCopyData(conn, &buffer, /*async=*/0);
    if (length < 0) break;  // -1: done; -2: error, reported by PQgetResult below
    const std::string_view message(buffer, static_cast<size_t>(length));
    if (status) status = decoder.Decode(message, batch);
    PQfreemem(buffer);
    if (status && batch.size() >= batch_rows) {
      status = sink(batch);
      delivered_to = batch.t.back() + 1;
      batch.clear();
    }
    if (!status && !canceled) {
      // Stop the server early; the rest of the stream is drained and dropped.
      canceled = true;
      if (PGcancel* cancel = PQgetCancel(conn)) {
        char reason[256];
        PQcancel(cancel, reason, sizeof reason);
        PQfreeCancel(cancel);
      }
    }
  }
  Status server = Ok();
  while (PgResult result{PQgetResult(conn)}) {
    if (PQresultStatus(result.get()) != PGRES_COMMAND_OK && server) {
      server = Fail(link_.conn().ErrorFrom(result.get(), "reading bars"));
    }
  }
  if (!status) return status;
  BARFILL_TRY(server);
  if (batch.empty()) return Ok();
  BARFILL_TRY(sink(batch));
  delivered_to = batch.t.back() + 1;
  return Ok();
}

}  // namespace

Result<std::unique_ptr<PgLink>> OpenPgLink(const std::string& db_url, std::string_view command,
                                           const StoreOptions& options) {
  auto url = ParseStoreUrl(db_url);
  if (!url) return Fail(url.error());
  if (url->kind != StoreKind::kPostgres) return Fail(NeedsPostgresError(command));
  return PgLink::Open(url->conninfo, LinkSettings(options));
}

Result<std::unique_ptr<BarStore>> OpenPostgresStore(const std::string& conninfo,
                                                    const StoreOptions& options) {
  auto conn = PgConnection::Open(conninfo, options.connect_timeout, SessionOptions(options));
  if (!conn) return Fail(std::move(conn).error());
  if (options.create) {
    bool read_only = false;
    BARFILL_TRY((*conn)->Query(
        "SELECT current_setting('transaction_read_only') = 'on' OR pg_is_in_recovery()", {},
        [&](const SqlRow& row) -> Status {
          read_only = row.Bool(0);
          return Ok();
        }));
    if (read_only) {
      return Fail(ErrorCode::kDatabase,
                  (*conn)->Describe() +
                      " is read-only (default_transaction_read_only is on, or this is a "
                      "standby): point the database URL at a writable primary");
    }
  }
  return std::unique_ptr<BarStore>(
      std::make_unique<PostgresStore>(conninfo, options, std::move(*conn)));
}

}  // namespace barfill::store
