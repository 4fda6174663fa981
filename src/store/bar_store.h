// The storage interface the engine writes through, without knowing which database is behind it.
// Implementations: PostgreSQL (libpq, COPY BINARY) and SQLite (embedded default).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/bar.h"
#include "core/clock.h"
#include "core/result.h"
#include "core/series.h"

namespace barfill {

namespace store {
class SqlSession;
}

/// Where a chunk stands in the ledger. Pending chunks are those not recorded at all. A stale range
/// holds adjusted bars that a split since changed: the planner fetches it again, like a pending one.
enum class ChunkState { kPending, kDone, kFailed, kEmpty, kStale };

/// "pending", "done", "failed", "empty", "stale".
std::string_view ChunkStateName(ChunkState state);

/// One ledger row: a range of one series. Done and empty rows are final: everything in their
/// range is stored (done) or known to have no bars (empty), and is not fetched again. Adjacent
/// final rows are merged as pages commit, so a range fetched page by page is one row whose end
/// is its progress. A failed row names where a range stopped and why.
struct LedgerEntry {
  Series series;
  TimeRange range;
  ChunkState state = ChunkState::kPending;
  int64_t rows = 0;
  int attempts = 0;
  std::string last_error;     ///< empty unless failed
  int64_t updated_at_ms = 0;  ///< when the row was last written (Unix ms)
  int64_t requests = 0;         ///< API requests the range cost
  int64_t base_aggregates = -1;  ///< the API's queryCount over the range; -1 when unknown
};

/// A fetched, validated slice of a series (a page, or a whole chunk) ready to be stored: bars
/// sorted by t, unique, inside the range. It replaces every stored bar of its range.
struct ChunkWrite {
  ChunkWrite() = default;
  ChunkWrite(Chunk chunk_, const BarBatch* bars_, int attempts_ = 1)
      : chunk(std::move(chunk_)), bars(bars_), attempts(attempts_) {}

  Chunk chunk;  ///< the series, and the range whose bars this write replaces
  const BarBatch* bars = nullptr;
  int attempts = 1;
  /// The part of chunk.range the ledger records as final, from the range's start: the whole
  /// range (nullopt), or less when it reaches into the present and its last bars may still
  /// change (they are fetched again next time); an empty range records nothing.
  std::optional<TimeRange> final_range;
  int64_t requests = 1;          ///< API requests this write cost
  int64_t base_aggregates = -1;  ///< the API's queryCount over the write; -1 when unknown
  /// Non-empty: the bars were built here from the minute rows of this day file (`backfill
  /// --derive`), not served by the vendor; the range is marked derived (barfill_derived). Empty:
  /// vendor bars, and any derived mark overlapping the range goes.
  std::string derived_from;

  TimeRange FinalRange() const { return final_range.value_or(chunk.range); }
  /// The bars inside FinalRange().
  int64_t FinalRows() const;
};

/// A day file as the ledger remembers it (table barfill_files), so that a later run skips it
/// unless the vendor replaced it (another ETag, size or time).
struct FileRecord {
  std::string key;   ///< "us_stocks_sip/minute_aggs_v1/2025/03/2025-03-03.csv.gz"
  std::string etag;
  int64_t size = 0;
  int64_t last_modified_ms = 0;
  int64_t rows = 0;      ///< bars stored from it
  int64_t tickers = 0;   ///< series written from it
  int64_t bad_rows = 0;  ///< rows it held that failed a check (never stored)
  bool all_tickers = false;  ///< every ticker of the file was stored, not only a plan's
  int64_t updated_at_ms = 0;
  /// The timeframes stored from it, comma-separated ("1m,5m,1h" with `--derive`); empty: the
  /// file's own (every file loaded before schema 7).
  std::string timeframes{};
};

/// What a barfill worker proves when it commits: it still holds its lease on queue item `item`,
/// with the generation it claimed it at (every claim of an item raises its generation).
struct LeaseFence {
  int64_t item = 0;
  int64_t worker = 0;
  int64_t generation = 0;
};

/// Receives the writes of a file, in as many calls as its producer likes.
using ChunkSink = std::function<Status(std::span<const ChunkWrite> writes)>;

/// Per-series summary for `barfill status`.
struct SeriesStatus {
  Series series;
  int64_t ranges_done = 0;    ///< final ledger ranges with bars
  int64_t ranges_failed = 0;
  int64_t ranges_empty = 0;   ///< final ledger ranges without bars
  int64_t rows = 0;
  int64_t first_bar_ms = 0;  ///< 0 when the series has no bars
  int64_t last_bar_ms = 0;
  std::vector<LedgerEntry> failed;  ///< failed ranges with their last error
  int64_t ranges_stale = 0;
  std::vector<LedgerEntry> stale;   ///< stale ranges, with why (last_error)
  int64_t derived_ranges = 0;  ///< ranges whose bars `--derive` built from minute files
  int64_t derived_bars = 0;    ///< the bars in them (vwap NULL)
};

/// The bars a store holds in one time window of a series (a session), for the gap report.
struct WindowCount {
  int64_t bars = 0;
};

/// When a repair or a recent-session refresh last fetched a range of a series again to verify
/// it, what it found, and when a repair may look again (barfill_checks, schema 3).
struct RangeCheck {
  Series series;
  TimeRange range;
  int64_t verified_at_ms = 0;  ///< the last verification (Unix ms)
  int checks = 0;              ///< verifications so far
  int64_t bars = 0;            ///< bars the range held after it
  /// While the range still looks suspicious: when a repair may fetch it again (Unix ms); 0 when
  /// it looked complete and needs no retry.
  int64_t retry_at_ms = 0;
};

/// A store is used by one thread at a time (each thread opens its own).
class BarStore {
 public:
  virtual ~BarStore() = default;

  /// "postgresql" or "sqlite".
  virtual std::string_view Kind() const = 0;
  /// Where the data lives, for messages: host/port/database or file path; never a password.
  virtual std::string Describe() const = 0;

  /// Creates the schema in an empty database, or checks the version of an existing one and
  /// upgrades an older one in one transaction (when StoreOptions::upgrade; Notices() then says
  /// so). A newer or unknown schema, or an older one a reader may not upgrade, is an error
  /// naming the fix, never a silent change.
  virtual Status Migrate() = 0;

  /// What Migrate did that the user should hear of ("upgraded ... from schema 1 to 2"), one line each.
  virtual std::vector<std::string> Notices() { return notices_; }

  /// Stores each chunk's bars and marks it done (or empty) in the ledger. Each chunk is atomic
  /// with its ledger row, and replaces whatever bars the store held in the chunk's range, so a
  /// re-run leaves exactly one copy of each bar, with the newer values. Several chunks may share
  /// one transaction when that is faster; if the call fails, none of them is marked done.
  virtual Status CommitChunks(std::span<const ChunkWrite> writes) = 0;

  /// CommitChunks for a barfill worker: the same transaction first checks that `fence` still
  /// holds (the item leased to this worker, at this generation, not expired) and locks the item
  /// until COMMIT, so that no other worker can take it over meanwhile. A lease taken over or
  /// expired refuses the whole commit (kLeaseLost): nothing of it is stored. PostgreSQL only.
  virtual Status CommitFenced(std::span<const ChunkWrite> writes, const LeaseFence& fence);

  /// Stores whole day files in one transaction: `produce` hands every write of the files to the
  /// sink, in as many calls and in whatever order of series it likes (so memory stays bounded
  /// whatever the files' size); then the writes' ledger progress and the files' rows are
  /// recorded and everything commits — or, on any error, nothing does. `files` is read once
  /// `produce` has returned (it may fill in the counts). `produce` may be called again from the
  /// start when the transaction is retried (a lost connection), so it must be able to start over.
  /// The writes of one series must come in ascending time.
  virtual Status CommitFiles(std::span<const FileRecord> files, const std::function<Status(const ChunkSink&)>& produce) = 0;

  /// CommitFiles for one file.
  Status CommitFile(const FileRecord& file, const std::function<Status(const ChunkSink&)>& produce) {
    return CommitFiles({&file, 1}, produce);
  }

  /// The files the ledger holds whose key starts with `key_prefix`, in key order.
  virtual Result<std::vector<FileRecord>> ReadFiles(std::string_view key_prefix) = 0;

  /// Records that a chunk failed after its retries; it stays retryable by the next run.
  virtual Status RecordFailure(const Chunk& chunk, const Error& error, int attempts) = 0;

  /// All ledger rows of a series, ordered by range start.
  virtual Result<std::vector<LedgerEntry>> ReadLedger(const Series& series) = 0;

  /// The tickers whose `timeframe` series (adjusted or not) have bars in a range ending after
  /// `since_ms`, sorted: who traded lately (`--tickers all` asks REST for these).
  virtual Result<std::vector<std::string>> ReadRecentTickers(const Timeframe& timeframe, bool adjusted, int64_t since_ms) = 0;

  /// Streams the bars of a series in `range` in ascending t, at most `batch_rows` per call of
  /// `sink`, with constant memory. A failing `sink` stops the read and its error is returned.
  virtual Status ReadBars(const Series& series, TimeRange range,
                          const std::function<Status(const BarBatch&)>& sink,
                          size_t batch_rows = 8192) = 0;

  /// Every series the store knows (from its ledger or bars), with counts and failures.
  virtual Result<std::vector<SeriesStatus>> ReadStatus() = 0;

  /// Settings a user should hear about before a run (e.g. PostgreSQL synchronous_commit=off),
  /// one line each; empty when all is as it should be.
  virtual std::vector<std::string> Warnings() { return {}; }

  /// The bars of `series` in each of `windows` (in the same order), counted by the database in
  /// one query per call. Both stores implement it; the default says a store cannot.
  virtual Result<std::vector<WindowCount>> CountBarsIn(const Series& series, std::span<const TimeRange> windows);

  /// The verifications recorded for `series`, ordered by range start.
  virtual Result<std::vector<RangeCheck>> ReadChecks(const Series& series);

  /// Records verifications in one transaction, each replacing the one of its exact range.
  virtual Status RecordChecks(std::span<const RangeCheck> checks);

  /// Runs `body` in one transaction (a write transaction unless `read_only`), redone whole on a
  /// lost connection in PostgreSQL, so `body` must be idempotent. The door of the tables that
  /// store/actions_store.h keeps beside the bars; the engine never calls it.
  virtual Status InTransaction(bool read_only, const std::function<Status(store::SqlSession&)>& body) = 0;

 protected:
  std::vector<std::string> notices_;
};

/// Points inside one CommitChunks transaction where a test can inject a failure or a crash.
enum class WriteStep {
  kBegun,            ///< the transaction is open, nothing written yet
  kBarsHalfWritten,  ///< about half of the call's bars have been sent
  kBeforeCommit,     ///< everything is written, COMMIT not yet sent
};

/// How the PostgreSQL writer makes a chunk idempotent (see bench/store for the measurements).
enum class PgWriteMethod {
  kReplaceRange,  ///< DELETE the chunk's range, then COPY straight into bars (the default)
  kStagingMerge,  ///< COPY into a temp table, then INSERT ... ON CONFLICT DO UPDATE
};

/// How to open a store; every member has a sensible default.
struct StoreOptions {
  /// False for readers (status, export): never create a file or a schema; a missing database
  /// or schema is an error instead.
  bool create = true;
  /// Upgrade an older schema in place (writers, `barfill migrate`); readers leave it and say
  /// which command upgrades it.
  bool upgrade = true;
  PgWriteMethod pg_write_method = PgWriteMethod::kReplaceRange;
  /// Attempts of one transaction on a lost connection, serialization failure or deadlock.
  int max_transaction_attempts = 8;
  /// First reconnect delay; it doubles up to max_retry_delay (with jitter).
  std::chrono::milliseconds first_retry_delay{50};
  std::chrono::milliseconds max_retry_delay{4000};
  /// PostgreSQL connect timeout (unless the URL sets connect_timeout).
  std::chrono::seconds connect_timeout{10};
  /// SQLite: how long a writer waits for another process's lock.
  std::chrono::milliseconds busy_timeout{10000};
  /// PostgreSQL: when > 0, the server cancels a statement (a COPY waiting for rows included)
  /// and ends a session idle inside a transaction after this long: a worker paused mid-commit
  /// must not hold its item's locks past its lease.
  std::chrono::milliseconds stalled_session_timeout{0};
  /// Waits between transaction attempts; null: the real clock (tests pass a FakeClock).
  Clock* clock = nullptr;
  /// Test seam: called at each WriteStep of CommitChunks; an error aborts the transaction.
  std::function<Status(WriteStep)> write_hook;

  /// For readers (status, export, the library's reader): create nothing, upgrade nothing.
  static StoreOptions ForReading() {
    StoreOptions options;
    options.create = false;
    options.upgrade = false;
    return options;
  }
};

/// Which database a URL names.
enum class StoreKind { kSqlite, kPostgres };

/// A database URL, parsed without connecting.
struct StoreUrl {
  StoreKind kind = StoreKind::kSqlite;
  std::string sqlite_path;  ///< for kSqlite: the file ("sqlite:PATH" or "sqlite:///abs/path")
  std::string conninfo;     ///< for kPostgres: the libpq URI or key=value conninfo as given
};

/// Parses "sqlite:PATH", "sqlite:///abs/path", "postgresql://...", "postgres://..." or a libpq
/// "key=value" conninfo. Anything else (mysql://, a bare path, an empty SQLite path) is a kUsage
/// error naming the accepted forms; a password in the URL never appears in the message.
Result<StoreUrl> ParseStoreUrl(std::string_view url);

/// Opens a store from a URL: "sqlite:PATH" (the default is "sqlite:barfill.db"),
/// "postgresql://..." / "postgres://..." (libpq URI), or a libpq "key=value" conninfo; an empty
/// PostgreSQL URI ("postgresql://") uses the PG* environment. It connects and checks at once
/// (reachable, writable unless !create), so a caller can refuse to start before any download.
/// Connection problems are kDatabase errors that name the host, port, database and reason.
Result<std::unique_ptr<BarStore>> OpenStore(const std::string& url,
                                            const StoreOptions& options = {});

}  // namespace barfill
