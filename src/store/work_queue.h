// The work queue of `barfill enqueue` and `barfill worker`, in PostgreSQL (docs/workers.md): one
// row per range to fetch (barfill_queue), claimed with SELECT ... FOR UPDATE SKIP LOCKED and held
// under a lease that the worker's heartbeat extends; every claim raises the item's generation,
// and a commit proves it still holds that generation (CheckLease) inside its own transaction.
// The workers themselves are rows too (barfill_workers), for `barfill status`.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/series.h"
#include "store/bar_store.h"
#include "store/shared_rate.h"
#include "store/sql_session.h"

namespace barfill::store {

/// One range of a series to fetch, as the queue holds it.
struct QueueItem {
  int64_t id = 0;
  Series series;
  TimeRange range;
};

/// An item claimed by a worker, and the fence its commits carry.
struct Lease {
  QueueItem item;
  LeaseFence fence;
  bool reclaimed = false;  ///< another worker held it before and its lease expired
};

/// What an enqueue did.
struct EnqueueCounts {
  int64_t added = 0;     ///< new items
  int64_t reopened = 0;  ///< failed items made pending again
  int64_t already = 0;   ///< the same range queued already (pending, leased or done)
};

/// A worker as `barfill status` shows it.
struct WorkerRow {
  int64_t id = 0;
  std::string host;
  int64_t pid = 0;
  int64_t started_ms = 0;
  int64_t heartbeat_ms = 0;
  std::string state;  ///< "running", "stopped"
  int64_t items_done = 0;
  int64_t items_failed = 0;
  int64_t rows = 0;
  int64_t lease_losses = 0;
  std::string current;  ///< the item it works on ("AAPL 1m 2025-01-02..."), empty when idle
};

/// A database session that held an item's lock past the item's lease while it waited for its
/// client (a worker paused or cut off in the middle of a commit), ended by EndStalledSessions.
struct StalledSession {
  int64_t item = 0;
  int64_t worker = 0;       ///< the worker that held the lease
  int64_t backend_pid = 0;  ///< the server process that was ended
};

/// The queue as `barfill status` shows it.
struct QueueStatus {
  int64_t pending = 0;
  int64_t leased = 0;
  int64_t done = 0;
  int64_t failed = 0;
  int64_t expired = 0;                    ///< leased items whose lease ran out (reclaimable)
  std::optional<int64_t> oldest_lease_ms;  ///< when the longest-held lease was claimed
  std::vector<WorkerRow> workers;
  std::vector<std::string> failures;  ///< failed items with their last error
  /// The shared rate limits (one per API key, named by its hash prefix).
  std::vector<std::pair<std::string, SharedRateState>> rates;
  int64_t total() const { return pending + leased + done + failed; }
};

/// The queue's tables in one PostgreSQL database. Each instance owns one connection (reopened
/// after a lost connection): use one per thread.
class WorkQueue {
 public:
  /// Opens the queue of the database `db_url` names. SQLite is refused (kUsage, naming
  /// PostgreSQL); `command` names the command in that message ("barfill worker").
  static Result<std::unique_ptr<WorkQueue>> Open(const std::string& db_url, std::string_view command,
                                                 const StoreOptions& options = {});
  ~WorkQueue();

  std::string Describe() const;

  /// Ranges of open items (pending or leased), so a plan enqueued again leaves them out.
  Result<std::vector<QueueItem>> OpenItems();
  /// Adds the items (their ids are ignored) in one transaction and wakes the waiting workers.
  /// A range queued already adds nothing; a failed one becomes pending again.
  Result<EnqueueCounts> Enqueue(std::span<const QueueItem> items);

  /// A new worker row for this process; returns its id.
  Result<int64_t> RegisterWorker(std::string_view host, int64_t pid);
  /// Claims up to `n` items: pending ones, or leased ones whose lease expired (reclaimed), under
  /// a lease of `lease`. Never waits on an item another worker is claiming (SKIP LOCKED).
  Result<std::vector<Lease>> Claim(int64_t worker, int n, std::chrono::milliseconds lease);
  /// Ends the sessions that keep an expired lease's item locked while they wait for their client:
  /// a worker stopped (SIGSTOP, a frozen VM) or cut off in the middle of a fenced commit, e.g.
  /// during a COPY, where the server applies neither statement_timeout nor
  /// idle_in_transaction_session_timeout until the client sends again. Claim skips a locked item,
  /// so without this such an item stays out of everyone's reach for as long as the pause lasts.
  /// Only a session whose transaction began while the lease held (a commit under that lease, not
  /// another claim of the expired item) and which waits on its client is ended
  /// (pg_terminate_backend); its worker's retried commit then meets the fence. Sessions of
  /// another role are not visible and are left alone.
  Result<std::vector<StalledSession>> EndStalledSessions();
  /// Extends the unexpired leases of `worker` by `lease` and records its heartbeat and current
  /// item; returns the items it still holds (an item missing from the answer was lost).
  Result<std::vector<int64_t>> Heartbeat(int64_t worker, std::chrono::milliseconds lease,
                                         std::optional<int64_t> current_item);
  /// Marks a leased item done (or failed with `error`), fenced like a commit: kLeaseLost when the
  /// lease is no longer this worker's. `rows` is added to the worker's count.
  Status Finish(const LeaseFence& fence, bool failed, std::string_view error, int64_t rows);
  /// Gives an item back (pending, no lease) so another worker takes it at once; false (and
  /// nothing changed) when the lease is no longer this worker's.
  Result<bool> Release(const LeaseFence& fence);
  /// Counts a lease this worker lost to another.
  Status CountLeaseLoss(int64_t worker);
  /// Marks the worker stopped.
  Status StopWorker(int64_t worker);
  /// Whether any item is pending or leased (by anyone).
  Result<bool> HasOpenItems();
  /// Waits up to `timeout` for an enqueue's or a release's notification (LISTEN barfill_queue);
  /// true when one came. Returns early (false) when `wake` says so (it is asked every 100 ms).
  Result<bool> WaitForWork(std::chrono::milliseconds timeout, const std::function<bool()>& wake);

  /// Counts by state, the oldest lease, the workers (newest first; stopped ones of the last
  /// day) and the failed items.
  Result<QueueStatus> ReadStatus();

 private:
  struct Impl;
  explicit WorkQueue(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// "barfill worker needs PostgreSQL: ..." for a command given another database (kUsage).
Error NeedsPostgresError(std::string_view command);

/// Inside a commit's transaction: kLeaseLost unless `fence` still holds (the item leased to the
/// worker at that generation, its lease not expired); locks the item until the transaction ends.
Status CheckLease(SqlSession& sql, const LeaseFence& fence);

}  // namespace barfill::store
