// Many processes on many hosts, one plan: `barfill enqueue` puts a plan's ranges into the work
// queue in PostgreSQL, and any number of `barfill worker`s claim them (SKIP LOCKED), fetch them
// under one shared rate limit, and commit each page with its ledger progress only while their
// lease holds (a fencing token checked inside the commit). docs/workers.md tells the whole story.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "core/result.h"
#include "engine/planner.h"
#include "engine/report.h"
#include "engine/run_config.h"
#include "store/bar_store.h"
#include "store/work_queue.h"

namespace barfill::engine {

/// What an enqueue did.
struct EnqueueReport {
  int64_t series = 0;             ///< series of the plan
  int64_t series_up_to_date = 0;  ///< nothing to fetch (final in the ledger)
  int64_t ranges = 0;             ///< ranges the plan still needs, beyond those queued already
  store::EnqueueCounts counts;
  RequestEstimate requests;
  std::string store;
};

/// Plans `config` against the ledger and the queue's open items and adds what is left as
/// items: a range done, or queued already (pending or leased), adds nothing, so enqueueing
/// twice adds nothing. PostgreSQL only (kUsage for SQLite, before anything is opened).
Result<EnqueueReport> EnqueuePlan(const RunConfig& config, const StoreOptions& store_options = {});

/// One event of a worker's life, for its log (text or JSON).
struct WorkerEvent {
  WorkerEvent() = default;
  WorkerEvent(std::string kind_, std::string message_) : kind(std::move(kind_)), message(std::move(message_)) {}

  std::string kind;  ///< "started", "claimed", "done", "failed", "released", "lease_lost", "waiting", "stopped", "warning"
  std::string message;
  int64_t worker = 0;  ///< the worker's id (barfill status)
  int64_t item = 0;  ///< the queue item, 0 when none
  std::string series;
  int64_t rows = 0;
};

/// What a worker has done so far and what it sees, for metrics (--metrics-port).
struct WorkerMetrics {
  fetch::FetchStats fetch;
  int64_t rows = 0;
  int64_t items_done = 0;
  int64_t items_failed = 0;
  int64_t lease_losses = 0;
  int64_t queue_pending = -1;  ///< -1 until read
  int64_t queue_leased = -1;
  double rate_per_s = -1;      ///< enforced now: the shared row's, or this process's limiter's
};

struct WorkerOptions {
  /// How long a claim holds an item without a heartbeat; the heartbeat renews it every third.
  std::chrono::milliseconds lease{30'000};
  /// Exit once no item is pending or leased (batch jobs); otherwise wait for new work.
  bool exit_when_empty = false;
  /// While waiting with nothing to claim: how often to look for leases that expired (no
  /// notification announces those); an enqueue or a release wakes the worker at once.
  std::chrono::milliseconds idle_check{2'000};
  /// At start, how long to wait for a PostgreSQL that refuses connections for now (restarting,
  /// in recovery, not listening yet) before giving up with its error.
  std::chrono::milliseconds start_wait{60'000};
  std::string host;  ///< for barfill status
  int64_t pid = 0;
  /// Set (by a signal handler) to drain: no new claims, fetches in flight abandoned (their items
  /// released), pages fetched committed; the worker then ends with outcome kDone.
  const std::atomic<bool>* cancel = nullptr;
  /// Receives each event; called from several threads (serialized by the worker).
  std::function<void(const WorkerEvent&)> on_event;
  /// When set, receives a snapshot about every second (the queue's depth read every 5 s).
  std::function<void(const WorkerMetrics&)> on_metrics;
};

/// What one worker did, from its start to its end.
struct WorkerReport {
  int64_t worker_id = 0;
  int64_t items_done = 0;
  int64_t items_failed = 0;
  int64_t items_released = 0;  ///< given back when it drained or stopped
  int64_t lease_losses = 0;    ///< items another worker took over (their late commits refused)
  int64_t rows = 0;
  int64_t pages = 0;
  double duration_s = 0;
  fetch::FetchStats fetch_stats;
  bool drained = false;  ///< stopped by the cancel flag
  RunOutcome outcome = RunOutcome::kDone;
  std::string error;
};

/// Runs one worker until the queue is empty (exit_when_empty), the cancel flag is set, or an
/// error stops it (auth refused, database gone for good, the network gave up). PostgreSQL only.
/// Errors before the first claim (SQLite, no queue, unreachable database) are returned; later
/// ones are the report's outcome.
Result<WorkerReport> RunWorker(const RunConfig& config, const WorkerOptions& options,
                               const StoreOptions& store_options = {});

}  // namespace barfill::engine
