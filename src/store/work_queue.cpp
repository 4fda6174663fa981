#include "store/work_queue.h"

#include <poll.h>

#include <algorithm>

#include "core/market_time.h"
#include "store/ledger.h"
#include "store/pg_connection.h"

namespace barfill::store {
namespace {

constexpr std::string_view kChannel = "barfill_queue";

constexpr std::string_view kItemColumns = "id, ticker, timeframe, adjusted, from_ts, to_ts";

Result<QueueItem> ItemFrom(const SqlRow& row) {
  auto series = ParseSeries(row.Text(1), row.Text(2), row.Bool(3));
  if (!series) return Fail(series.error());
  return QueueItem{row.Int(0), *series, TimeRange{row.TimestampMs(4), row.TimestampMs(5)}};
}

/// A lease given as milliseconds, bound as a bigint.
int64_t Ms(std::chrono::milliseconds d) { return d.count(); }

// The lease expiry a claim or heartbeat sets: the database's clock, so hosts need not agree.
constexpr std::string_view kLeaseEnd = "clock_timestamp() + make_interval(secs => $2::float8 / 1000)";

}  // namespace

struct WorkQueue::Impl {
  std::unique_ptr<PgLink> link;
};

WorkQueue::WorkQueue(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WorkQueue::~WorkQueue() = default;

Result<std::unique_ptr<WorkQueue>> WorkQueue::Open(const std::string& db_url, std::string_view command,
                                                   const StoreOptions& options) {
  auto link = OpenPgLink(db_url, command, options);
  if (!link) return Fail(link.error());
  auto impl = std::make_unique<Impl>();
  impl->link = std::move(*link);
  return std::unique_ptr<WorkQueue>(new WorkQueue(std::move(impl)));
}

Error NeedsPostgresError(std::string_view command) {
  return Error(ErrorCode::kUsage, std::string(command) +
                                      " needs PostgreSQL: the work queue, the leases and the shared rate limit live "
                                      "there; give --db postgresql://... (SQLite serves one process: use barfill "
                                      "backfill)");
}

std::string WorkQueue::Describe() const { return impl_->link->Describe(); }

Result<std::vector<QueueItem>> WorkQueue::OpenItems() {
  std::vector<QueueItem> items;
  const Status done = impl_->link->Transaction("BEGIN READ ONLY", [&](PgConnection& c) -> Status {
    items.clear();
    return c.Query("SELECT " + std::string(kItemColumns) + " FROM barfill_queue WHERE state IN ('pending', 'leased')",
                   {}, [&](const SqlRow& row) -> Status {
                     auto item = ItemFrom(row);
                     if (!item) return Fail(item.error());
                     items.push_back(std::move(*item));
                     return Ok();
                   });
  });
  if (!done) return Fail(done.error());
  return items;
}

Result<EnqueueCounts> WorkQueue::Enqueue(std::span<const QueueItem> items) {
  EnqueueCounts counts;
  const Status done = impl_->link->Transaction("BEGIN", [&](PgConnection& c) -> Status {
    counts = EnqueueCounts{};
    for (const QueueItem& item : items) {
      const std::string timeframe = item.series.timeframe.ToString();
      bool touched = false;
      BARFILL_TRY(c.Query(
          "INSERT INTO barfill_queue (ticker, timeframe, adjusted, from_ts, to_ts, state, enqueued_at, updated_at) "
          "VALUES ($1, $2, $3, $4, $5, 'pending', clock_timestamp(), clock_timestamp()) "
          "ON CONFLICT (ticker, timeframe, adjusted, from_ts, to_ts) DO UPDATE SET state = 'pending', worker = NULL, "
          "lease_expires = NULL, last_error = NULL, updated_at = clock_timestamp() WHERE barfill_queue.state = 'failed' "
          "RETURNING xmax = 0",
          {std::string_view(item.series.ticker.symbol()), std::string_view(timeframe), item.series.adjusted,
           SqlTimestamp{item.range.from_ms}, SqlTimestamp{item.range.to_ms}},
          [&](const SqlRow& row) -> Status {
            touched = true;
            ++(row.Bool(0) ? counts.added : counts.reopened);
            return Ok();
          }));
      if (!touched) ++counts.already;
    }
    // Delivered at COMMIT: waiting workers claim at once instead of at their next poll.
    return c.Run("NOTIFY " + std::string(kChannel), "waking the workers");
  });
  if (!done) return Fail(done.error());
  return counts;
}

Result<int64_t> WorkQueue::RegisterWorker(std::string_view host, int64_t pid) {
  int64_t id = 0;
  const Status done = impl_->link->Transaction("BEGIN", [&](PgConnection& c) -> Status {
    return c.Query(
        "INSERT INTO barfill_workers (host, pid, started_at, heartbeat_at, state) "
        "VALUES ($1, $2, clock_timestamp(), clock_timestamp(), 'running') RETURNING id",
        {host, pid}, [&](const SqlRow& row) -> Status {
          id = row.Int(0);
          return Ok();
        });
  });
  if (!done) return Fail(done.error());
  return id;
}

Result<std::vector<Lease>> WorkQueue::Claim(int64_t worker, int n, std::chrono::milliseconds lease) {
  std::vector<Lease> leases;
  // The oldest open items first; an item another worker is claiming or committing right now is
  // locked and skipped, never waited for.
  const std::string sql =
      "UPDATE barfill_queue q SET state = 'leased', worker = $1, generation = q.generation + 1, lease_expires = " +
      std::string(kLeaseEnd) +
      ", claims = q.claims + 1, updated_at = clock_timestamp() FROM (SELECT id, state AS was FROM barfill_queue WHERE "
      "state = 'pending' OR (state = 'leased' AND lease_expires < clock_timestamp()) ORDER BY id LIMIT $3 "
      "FOR UPDATE SKIP LOCKED) c WHERE q.id = c.id RETURNING q.id, q.ticker, q.timeframe, q.adjusted, q.from_ts, "
      "q.to_ts, q.generation, c.was = 'leased'";
  const Status done = impl_->link->Transaction("BEGIN", [&](PgConnection& c) -> Status {
    leases.clear();
    return c.Query(sql, {worker, Ms(lease), static_cast<int64_t>(n)}, [&](const SqlRow& row) -> Status {
      auto item = ItemFrom(row);
      if (!item) return Fail(item.error());
      Lease l;
      l.item = std::move(*item);
      l.fence = LeaseFence{l.item.id, worker, row.Int(6)};
      l.reclaimed = row.Bool(7);
      leases.push_back(std::move(l));
      return Ok();
    });
  });
  if (!done) return Fail(done.error());
  std::sort(leases.begin(), leases.end(), [](const Lease& a, const Lease& b) { return a.item.id < b.item.id; });
  return leases;
}

Result<std::vector<StalledSession>> WorkQueue::EndStalledSessions() {
  std::vector<StalledSession> ended;
  // The lock a commit's fence takes (CheckLease: SELECT ... FOR UPDATE) leaves the locking
  // transaction's id in the row's xmax; pg_stat_activity names the session that runs it.
  const Status done = impl_->link->Transaction("BEGIN", [&](PgConnection& c) -> Status {
    ended.clear();
    return c.Query(
        "SELECT q.id, coalesce(q.worker, 0), a.pid::bigint, pg_terminate_backend(a.pid) FROM barfill_queue q "
        "JOIN pg_stat_activity a ON a.backend_xid = q.xmax WHERE q.state = 'leased' AND "
        "q.lease_expires < clock_timestamp() AND a.xact_start < q.lease_expires AND a.wait_event_type = 'Client' "
        "AND a.pid <> pg_backend_pid()",
        {}, [&](const SqlRow& row) -> Status {
          if (row.Bool(3)) ended.push_back(StalledSession{row.Int(0), row.Int(1), row.Int(2)});
          return Ok();
        });
  });
  if (!done) return Fail(done.error());
  return ended;
}

Result<std::vector<int64_t>> WorkQueue::Heartbeat(int64_t worker, std::chrono::milliseconds lease,
                                                  std::optional<int64_t> current_item) {
  std::vector<int64_t> held;
  const Status done = impl_->link->Transaction("BEGIN", [&](PgConnection& c) -> Status {
    held.clear();
    const SqlValue current = current_item ? SqlValue(*current_item) : SqlValue(nullptr);
    BARFILL_TRY(c.ExecValues("UPDATE barfill_workers SET heartbeat_at = clock_timestamp(), current_item = $2 WHERE id = $1",
                             std::vector<SqlValue>{worker, current}));
    // Only leases still valid are extended: one that ran out may be another worker's already.
    return c.Query("UPDATE barfill_queue SET lease_expires = " + std::string(kLeaseEnd) +
                       " WHERE worker = $1 AND state = 'leased' AND lease_expires > clock_timestamp() RETURNING id",
                   {worker, Ms(lease)}, [&](const SqlRow& row) -> Status {
                     held.push_back(row.Int(0));
                     return Ok();
                   });
  });
  if (!done) return Fail(done.error());
  return held;
}

Status CheckLease(SqlSession& sql, const LeaseFence& fence) {
  bool held = false;
  BARFILL_TRY(sql.Query(
      "SELECT 1 FROM barfill_queue WHERE id = $1 AND worker = $2 AND generation = $3 AND state = 'leased' AND "
      "lease_expires > clock_timestamp() FOR UPDATE",
      {fence.item, fence.worker, fence.generation}, [&](const SqlRow&) -> Status {
        held = true;
        return Ok();
      }));
  if (held) return Ok();
  return Fail(ErrorCode::kLeaseLost, "the lease on queue item " + std::to_string(fence.item) + " (generation " +
                                         std::to_string(fence.generation) +
                                         ") expired or was taken over by another worker; its commit is refused");
}

Status WorkQueue::Finish(const LeaseFence& fence, bool failed, std::string_view error, int64_t rows) {
  return impl_->link->Transaction("BEGIN", [&](PgConnection& c) -> Status {
    BARFILL_TRY(CheckLease(c, fence));
    const std::string_view state = failed ? "failed" : "done";
    const SqlValue last_error = failed ? SqlValue(error) : SqlValue(nullptr);
    BARFILL_TRY(c.ExecValues(
        "UPDATE barfill_queue SET state = $2, lease_expires = NULL, last_error = $3, updated_at = clock_timestamp() "
        "WHERE id = $1",
        std::vector<SqlValue>{fence.item, state, last_error}));
    BARFILL_TRY(c.Exec(
        "UPDATE barfill_workers SET items_done = items_done + $2, items_failed = items_failed + $3, rows = rows + $4 "
        "WHERE id = $1",
        {fence.worker, int64_t{failed ? 0 : 1}, int64_t{failed ? 1 : 0}, rows}));
    // Idle workers waiting to exit (--exit-when-empty) learn at once that the last item is done.
    return c.Run("NOTIFY " + std::string(kChannel), "waking the workers");
  });
}

Result<bool> WorkQueue::Release(const LeaseFence& fence) {
  bool released = false;
  const Status done = impl_->link->Transaction("BEGIN", [&](PgConnection& c) -> Status {
    released = false;
    BARFILL_TRY(c.Query(
        "UPDATE barfill_queue SET state = 'pending', worker = NULL, lease_expires = NULL, updated_at = clock_timestamp() "
        "WHERE id = $1 AND worker = $2 AND generation = $3 AND state = 'leased' RETURNING id",
        {fence.item, fence.worker, fence.generation}, [&](const SqlRow&) -> Status {
          released = true;
          return Ok();
        }));
    return c.Run("NOTIFY " + std::string(kChannel), "waking the workers");
  });
  if (!done) return Fail(done.error());
  return released;
}

Status WorkQueue::CountLeaseLoss(int64_t worker) {
  return impl_->link->Transaction("BEGIN", [&](PgConnection& c) -> Status {
    return c.Exec("UPDATE barfill_workers SET lease_losses = lease_losses + 1 WHERE id = $1", {worker});
  });
}

Status WorkQueue::StopWorker(int64_t worker) {
  return impl_->link->Transaction("BEGIN", [&](PgConnection& c) -> Status {
    return c.Exec("UPDATE barfill_workers SET state = 'stopped', current_item = NULL, heartbeat_at = clock_timestamp() "
                  "WHERE id = $1",
                  {worker});
  });
}

Result<bool> WorkQueue::HasOpenItems() {
  bool open = false;
  const Status done = impl_->link->Transaction("BEGIN READ ONLY", [&](PgConnection& c) -> Status {
    return c.Query("SELECT EXISTS (SELECT 1 FROM barfill_queue WHERE state IN ('pending', 'leased'))", {},
                   [&](const SqlRow& row) -> Status {
                     open = row.Bool(0);
                     return Ok();
                   });
  });
  if (!done) return Fail(done.error());
  return open;
}

Result<bool> WorkQueue::WaitForWork(std::chrono::milliseconds timeout, const std::function<bool()>& wake) {
  PgLink& link = *impl_->link;
  // LISTEN each time (it is idempotent): a fresh connection after a server restart has none.
  const Status listening = link.WithRetries([&]() -> Status {
    BARFILL_TRY(link.EnsureConnected());
    return link.conn().Run("LISTEN " + std::string(kChannel), "listening for work");
  });
  if (!listening) return Fail(listening.error());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  PGconn* conn = link.conn().get();
  for (;;) {
    if (PQconsumeInput(conn) != 1) return false;  // the connection is gone; the next call reconnects
    bool notified = false;
    while (PGnotify* note = PQnotifies(conn)) {
      notified = true;
      PQfreemem(note);
    }
    if (notified) return true;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline || (wake && wake())) return false;
    // Short slices, so that a stop request is seen promptly.
    const auto slice = std::min<std::chrono::milliseconds>(
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now), std::chrono::milliseconds(100));
    pollfd fd{PQsocket(conn), POLLIN, 0};
    (void)poll(&fd, 1, static_cast<int>(slice.count()) + 1);
  }
}

Result<QueueStatus> WorkQueue::ReadStatus() {
  QueueStatus status;
  const Status done = impl_->link->Transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", [&](PgConnection& c) -> Status {
    status = QueueStatus{};
    BARFILL_TRY(c.Query(
        "SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'leased'), "
        "count(*) FILTER (WHERE state = 'done'), count(*) FILTER (WHERE state = 'failed'), "
        "count(*) FILTER (WHERE state = 'leased' AND lease_expires < clock_timestamp()), "
        "min(updated_at) FILTER (WHERE state = 'leased') FROM barfill_queue",
        {}, [&](const SqlRow& row) -> Status {
          status.pending = row.Int(0);
          status.leased = row.Int(1);
          status.done = row.Int(2);
          status.failed = row.Int(3);
          status.expired = row.Int(4);
          if (!row.IsNull(5)) status.oldest_lease_ms = row.TimestampMs(5);
          return Ok();
        }));
    BARFILL_TRY(c.Query(
        "SELECT w.id, w.host, w.pid, w.started_at, w.heartbeat_at, w.state, w.items_done, w.items_failed, w.rows, "
        "w.lease_losses, q.ticker, q.timeframe, q.adjusted, q.from_ts, q.to_ts FROM barfill_workers w "
        "LEFT JOIN barfill_queue q ON q.id = w.current_item AND q.worker = w.id AND q.state = 'leased' "
        "WHERE w.state = 'running' OR w.heartbeat_at > clock_timestamp() - interval '1 day' ORDER BY w.id DESC LIMIT 100",
        {}, [&](const SqlRow& row) -> Status {
          WorkerRow w;
          w.id = row.Int(0);
          w.host = std::string(row.Text(1));
          w.pid = row.Int(2);
          w.started_ms = row.TimestampMs(3);
          w.heartbeat_ms = row.TimestampMs(4);
          w.state = std::string(row.Text(5));
          w.items_done = row.Int(6);
          w.items_failed = row.Int(7);
          w.rows = row.Int(8);
          w.lease_losses = row.Int(9);
          if (!row.IsNull(10)) {
            auto series = ParseSeries(row.Text(10), row.Text(11), row.Bool(12));
            if (series) w.current = Chunk{*series, TimeRange{row.TimestampMs(13), row.TimestampMs(14)}}.Describe();
          }
          status.workers.push_back(std::move(w));
          return Ok();
        }));
    BARFILL_TRY(c.Query(
        "SELECT key_hash, interval_us, rate_limited, decreases, greatest(0, (extract(epoch from paused_until - "
        "clock_timestamp()) * 1000)::bigint) FROM barfill_rate ORDER BY key_hash",
        {}, [&](const SqlRow& row) -> Status {
          SharedRateState rate;
          rate.rate_per_s = row.Int(1) > 0 ? 1e6 / static_cast<double>(row.Int(1)) : 0;
          rate.rate_limited = row.Int(2);
          rate.decreases = row.Int(3);
          rate.paused_for_ms = row.Int(4);
          // The hash's first characters tell keys apart; the key itself is never stored.
          status.rates.emplace_back(std::string(row.Text(0).substr(0, 19)), rate);
          return Ok();
        }));
    return c.Query(
        "SELECT ticker, timeframe, adjusted, from_ts, to_ts, coalesce(last_error, '') FROM barfill_queue "
        "WHERE state = 'failed' ORDER BY id LIMIT 20",
        {}, [&](const SqlRow& row) -> Status {
          auto series = ParseSeries(row.Text(0), row.Text(1), row.Bool(2));
          if (!series) return Fail(series.error());
          status.failures.push_back(Chunk{*series, TimeRange{row.TimestampMs(3), row.TimestampMs(4)}}.Describe() + ": " +
                                    std::string(row.Text(5)));
          return Ok();
        });
  });
  if (!done) return Fail(done.error());
  return status;
}

}  // namespace barfill::store
