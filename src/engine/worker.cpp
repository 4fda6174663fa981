#include "engine/worker.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/clock.h"
#include "engine/backfill.h"
#include "engine/busy_clock.h"
#include "engine/planner.h"
#include "fetch/rate_limiter.h"
#include "store/shared_rate.h"

namespace barfill::engine {
namespace {

/// The rate limiter's slots from the PostgreSQL row all workers of the key share.
class PgSharedRate final : public fetch::SharedRateSource {
 public:
  explicit PgSharedRate(std::unique_ptr<store::SharedRateRow> row) : row_(std::move(row)) {}

  Result<Grant> Reserve(int n, int successes) override {
    auto slots = row_->Reserve(n, successes);
    if (!slots) return Fail(slots.error());
    Grant grant;
    grant.interval = std::chrono::microseconds(slots->interval_us);
    for (int k = 0; k < n; ++k) grant.slots.push_back(std::chrono::microseconds(slots->SlotUs(k)));
    return grant;
  }

  Status Pause(Clock::Duration pause) override {
    return row_->Pause(std::chrono::duration_cast<std::chrono::microseconds>(pause).count());
  }

 private:
  std::unique_ptr<store::SharedRateRow> row_;
};

/// The row's settings from the limiter this worker would run alone, so the fleet enforces what
/// one process would.
store::SharedRateSettings SharedSettings(const RunConfig& config, const fetch::RateLimiter& alone,
                                         const fetch::RateLimiterOptions& options) {
  store::SharedRateSettings s;
  s.key_hash = store::RateKeyHash(config.fetch_config.api_key);
  s.min_interval_us = std::max<int64_t>(1, static_cast<int64_t>(1e6 / alone.MaxRate()));
  s.max_interval_us = std::max<int64_t>(s.min_interval_us, static_cast<int64_t>(1e6 / (alone.MaxRate() * options.min_rate_fraction)));
  s.burst = alone.burst();
  s.recover_after = options.recover_after;
  s.recover_step_permille = static_cast<int>(options.recover_step * 1000);
  s.decrease_permille = static_cast<int>(options.decrease_factor * 1000);
  return s;
}

/// The store URL must name PostgreSQL: the queue, the leases and the shared limit live there.
Status RequirePostgres(const RunConfig& config, std::string_view command) {
  if (config.store_kind == StoreKind::kPostgres) return Ok();
  return Fail(store::NeedsPostgresError(command));
}

/// Why a worker stops early; the first reason wins.
struct StopReason {
  RunOutcome outcome = RunOutcome::kDone;
  std::string message;
};

class Worker {
 public:
  Worker(const RunConfig& config, const WorkerOptions& options, StoreOptions store_options)
      : config_(config), options_(options), store_options_(std::move(store_options)) {}

  ~Worker() {
    // Threads are joined by Run; this only guards an early return.
    for (std::thread& t : fetchers_) {
      if (t.joinable()) t.join();
    }
  }

  /// Everything that can fail before the first claim: the stores, the queue, the shared limit.
  Status Start() {
    BARFILL_TRY(RequirePostgres(config_, "barfill worker"));
    StoreOptions options = store_options_;
    options.create = false;  // a database without barfill's tables has no queue: say so
    options.upgrade = true;
    // A worker paused inside a transaction (SIGSTOP, a VM frozen) must not hold its item's lock
    // past its lease: between statements the server ends such a session
    // (idle_in_transaction_session_timeout), a statement that runs too long is cancelled
    // (statement_timeout), and the worker's redone commit meets the fence. A session that waits
    // for its client inside a statement (a COPY waiting for its data) is subject
    // to neither: the workers that find the item expired but locked end it (EndStalledSessions).
    options.stalled_session_timeout = options_.lease;
    for (int i = 0; i < config_.concurrency; ++i) {
      auto store = OpenStore(config_.db_url, options);
      if (!store) return Fail(store.error());
      if (i == 0) BARFILL_TRY((*store)->Migrate());
      stores_.push_back(std::move(*store));
    }
    for (std::unique_ptr<store::WorkQueue>* queue : {&queue_, &heartbeat_queue_, &listener_}) {
      auto opened = store::WorkQueue::Open(config_.db_url, "barfill worker", options);
      if (!opened) return Fail(opened.error());
      *queue = std::move(*opened);
    }

    limiter_options_.retry_after_cap_ms = config_.fetch_config.retry.retry_after_cap_ms;
    if (!config_.rate.unlimited()) {
      const fetch::RateLimiter alone(config_.rate, clock_, limiter_options_);
      auto row = store::SharedRateRow::Open(config_.db_url, SharedSettings(config_, alone, limiter_options_), options);
      if (!row) return Fail(row.error());
      shared_rate_ = std::make_unique<PgSharedRate>(std::move(*row));
      limiter_options_.shared = shared_rate_.get();
    }
    limiter_ = std::make_unique<fetch::RateLimiter>(config_.rate, clock_, limiter_options_);
    budget_ = std::make_unique<fetch::RetryBudget>(config_.fetch_config.retry);
    fetch_.config = config_.fetch_config;
    fetch_.limiter = limiter_.get();
    fetch_.budget = budget_.get();
    fetch_.clock = &clock_;
    fetch_.cancel = &stop_;
    fetch_.warn = [this](const std::string& line) { Emit({"warning", line}); };
    // Registered last, so that a start that fails (and is tried again) leaves no worker row.
    auto id = queue_->RegisterWorker(options_.host, options_.pid);
    if (!id) return Fail(id.error());
    report_.worker_id = *id;
    return Ok();
  }

  WorkerReport Run() {
    const auto start = std::chrono::steady_clock::now();
    Emit({"started", "worker " + std::to_string(report_.worker_id) + " on " + options_.host + " (pid " +
                         std::to_string(options_.pid) + "), " + std::to_string(config_.concurrency) +
                         " fetchers, lease " + std::to_string(options_.lease.count()) + " ms, rate " +
                         config_.rate.text + (limiter_options_.shared != nullptr ? " shared" : "")});
    std::thread heartbeat([this] { HeartbeatLoop(); });
    for (auto& store : stores_) fetchers_.emplace_back([this, s = store.get()] { FetcherLoop(*s); });
    ClaimLoop();
    {
      std::lock_guard lock(mutex_);
      closing_ = true;
    }
    work_ready_.notify_all();
    for (std::thread& t : fetchers_) t.join();
    fetchers_.clear();
    {
      std::lock_guard lock(mutex_);
      heartbeat_stop_ = true;
    }
    heartbeat_wake_.notify_all();
    heartbeat.join();
    {
      std::lock_guard lock(queue_mutex_);
      (void)queue_->StopWorker(report_.worker_id);
    }
    report_.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    report_.drained = options_.cancel != nullptr && options_.cancel->load();
    if (stop_reason_.outcome != RunOutcome::kDone) {
      report_.outcome = stop_reason_.outcome;
      report_.error = stop_reason_.message;
    } else if (report_.items_failed > 0) {
      report_.outcome = RunOutcome::kRangesFailed;
      report_.error = std::to_string(report_.items_failed) + " item(s) failed (barfill status lists them); "
                      "enqueue the plan again to retry them";
    }
    Emit({"stopped", "worker " + std::to_string(report_.worker_id) + ": " + std::to_string(report_.items_done) +
                         " items done, " + std::to_string(report_.items_failed) + " failed, " +
                         std::to_string(report_.lease_losses) + " leases lost, " + std::to_string(report_.rows) +
                         " rows"});
    return report_;
  }

 private:
  /// An item this worker holds: claimed, waiting for a fetcher or being fetched.
  struct Held {
    store::Lease lease;
    std::atomic<bool> lost{false};      ///< the heartbeat found it taken over or expired
    std::atomic<bool> finishing{false};  ///< its last statement is on its way: no longer "lost"
  };

  bool Stopping() const { return stop_.load() || (options_.cancel != nullptr && options_.cancel->load()); }

  void Stop(RunOutcome outcome, const std::string& message) {
    {
      std::lock_guard lock(mutex_);
      if (stop_reason_.outcome == RunOutcome::kDone) stop_reason_ = {outcome, message};
    }
    stop_.store(true);
  }

  void Emit(WorkerEvent event) {
    if (!options_.on_event) return;
    event.worker = report_.worker_id;
    std::lock_guard lock(event_mutex_);
    options_.on_event(event);
  }

  static WorkerEvent ItemEvent(std::string kind, const store::Lease& lease, std::string message, int64_t rows = 0) {
    WorkerEvent e;
    e.kind = std::move(kind);
    e.item = lease.item.id;
    e.series = Chunk{lease.item.series, lease.item.range}.Describe();
    e.message = std::move(message);
    e.rows = rows;
    return e;
  }

  /// Claims for idle fetchers; waits (LISTEN/NOTIFY, or a while for leases to expire) when there
  /// is nothing to claim. Returns when drained, stopped, or the queue is empty (exit_when_empty).
  void ClaimLoop() {
    for (;;) {
      if (options_.cancel != nullptr && options_.cancel->load() && !stop_.load()) {
        // Drain: fetches in flight are abandoned (their items released), fetched pages commit.
        stop_.store(true);
      }
      if (Stopping()) return;
      int want = 0;
      {
        std::unique_lock lock(mutex_);
        fetcher_idle_.wait_for(lock, std::chrono::milliseconds(100),
                               [&] { return idle_ > static_cast<int>(ready_.size()) || stop_.load(); });
        want = idle_ - static_cast<int>(ready_.size());
      }
      if (want <= 0) continue;
      Result<std::vector<store::Lease>> leases = [&] {
        std::lock_guard lock(queue_mutex_);
        return queue_->Claim(report_.worker_id, want, options_.lease);
      }();
      if (!leases) {
        Stop(RunOutcome::kDatabase, "cannot claim work: " + leases.error().ToString());
        return;
      }
      if (!leases->empty()) {
        std::lock_guard lock(mutex_);
        for (store::Lease& lease : *leases) {
          Emit(ItemEvent("claimed", lease, lease.reclaimed ? "reclaimed after its lease expired" : "claimed"));
          auto held = std::make_shared<Held>();
          held->lease = std::move(lease);
          held_[held->lease.item.id] = held;
          ready_.push_back(std::move(held));
        }
        work_ready_.notify_all();
        continue;
      }
      // Nothing claimable. An expired item may still be locked by a session stalled in the middle
      // of a commit (its worker paused or cut off): end it, and claim again once it is gone.
      if (EndStalledSessions()) {
        (void)clock_.SleepFor(std::chrono::milliseconds(100), options_.cancel);
        continue;
      }
      if (options_.exit_when_empty && AllIdle()) {
        auto open = listener_->HasOpenItems();
        if (!open) {
          Stop(RunOutcome::kDatabase, "cannot read the queue: " + open.error().ToString());
          return;
        }
        if (!*open) return;
      }
      // Nothing to claim: an enqueue or a release wakes us at once; leases that expire do not
      // announce themselves, so look again after a while.
      const auto woken = listener_->WaitForWork(options_.idle_check, [this] {
        return Stopping() || item_finished_.exchange(false);
      });
      if (!woken) {
        Stop(RunOutcome::kDatabase, "cannot wait for work: " + woken.error().ToString());
        return;
      }
    }
  }

  /// Ends the sessions that keep an expired item locked while they wait for their client
  /// (WorkQueue::EndStalledSessions); true when it ended any.
  bool EndStalledSessions() {
    Result<std::vector<store::StalledSession>> ended = [&] {
      std::lock_guard lock(queue_mutex_);
      return queue_->EndStalledSessions();
    }();
    if (!ended) {
      if (!stalled_check_failing_) {
        Emit({"warning", "cannot look for sessions stalled past their lease (" + ended.error().ToString() + ")"});
      }
      stalled_check_failing_ = true;
      return false;
    }
    stalled_check_failing_ = false;
    for (const store::StalledSession& stalled : *ended) {
      WorkerEvent event("warning", "item " + std::to_string(stalled.item) + ": ended the database session (server pid " +
                                       std::to_string(stalled.backend_pid) + ") of worker " +
                                       std::to_string(stalled.worker) +
                                       ", which kept the item locked past its lease while waiting for that worker "
                                       "(paused or cut off in the middle of a commit); the item can be reclaimed");
      event.item = stalled.item;
      Emit(event);
    }
    return !ended->empty();
  }

  bool AllIdle() {
    std::lock_guard lock(mutex_);
    return idle_ == config_.concurrency && ready_.empty();
  }

  void FetcherLoop(BarStore& store) {
    fetch::ChunkFetcher fetcher(fetch_);
    for (;;) {
      std::shared_ptr<Held> held;
      {
        std::unique_lock lock(mutex_);
        ++idle_;
        item_finished_.store(true);  // after ++idle_: the claim loop may see everyone idle now
        fetcher_idle_.notify_all();
        work_ready_.wait(lock, [&] { return closing_ || !ready_.empty(); });
        --idle_;
        if (ready_.empty()) return;
        held = std::move(ready_.front());
        ready_.pop_front();
      }
      if (Stopping()) {
        Release(*held);
      } else {
        Process(store, fetcher, *held);
      }
      std::lock_guard lock(mutex_);
      held_.erase(held->lease.item.id);
    }
  }

  void Release(Held& held) {
    if (held.lost.load()) return LeaseLost(held);
    Result<bool> released = [&] {
      std::lock_guard lock(queue_mutex_);
      return queue_->Release(held.lease.fence);
    }();
    if (released && !*released) return LeaseLost(held);  // another worker holds it by now
    std::lock_guard lock(mutex_);
    ++report_.items_released;
    Emit(ItemEvent("released", held.lease, released ? "given back to the queue" : "could not be given back (" +
                                                                                      released.error().ToString() +
                                                                                      "); its lease expires instead"));
  }

  void LeaseLost(Held& held) {
    {
      std::lock_guard lock(queue_mutex_);
      (void)queue_->CountLeaseLoss(report_.worker_id);
    }
    {
      std::lock_guard lock(mutex_);
      ++report_.lease_losses;
    }
    Emit(ItemEvent("lease_lost", held.lease,
                   "lease lost: the item expired or another worker took it over; this worker's late commit is "
                   "refused and the item is left to the other"));
  }

  /// Fetches what the ledger still lacks of one item, committing each page fenced by the lease.
  void Process(BarStore& store, fetch::ChunkFetcher& fetcher, Held& held) {
    const store::Lease& lease = held.lease;
    const Series& series = lease.item.series;
    {
      std::lock_guard lock(mutex_);
      current_.insert(lease.item.id);
    }
    struct Done {
      Worker* w;
      int64_t id;
      ~Done() {
        std::lock_guard lock(w->mutex_);
        w->current_.erase(id);
      }
    } done{this, lease.item.id};
    // A worker that held the item before may have committed some of it: only the rest is asked.
    auto ledger = store.ReadLedger(series);
    if (!ledger) {
      Stop(RunOutcome::kDatabase, "database error while reading the ledger: " + ledger.error().ToString());
      Release(held);
      return;
    }
    int64_t rows = 0;
    for (const TimeRange& part : StillToFetch(lease.item.range, *ledger)) {
      fetcher.Begin(Chunk{series, part});
      int64_t page_from = part.from_ms;
      for (;;) {
        if (held.lost.load()) return LeaseLost(held);
        BarBatch bars;
        fetch::FetchStats stats;
        auto page = fetcher.NextPage(bars, stats);
        {
          std::lock_guard lock(mutex_);
          report_.fetch_stats.Add(stats);
        }
        const int attempts = static_cast<int>(std::max<int64_t>(1, stats.requests));
        if (!page) {
          const Error& error = page.error();
          if (error.code == ErrorCode::kInterrupted || Stopping()) return Release(held);
          if (error.code == ErrorCode::kAuth) {
            Stop(RunOutcome::kRefused, error.ToString());
            return Release(held);
          }
          if (error.code == ErrorCode::kTransportFatal) {
            Stop(RunOutcome::kNetwork, "cannot reach the API: " + error.ToString());
            return Release(held);
          }
          if (budget_->refused() > 0) {
            Stop(RunOutcome::kNetwork, "the API kept failing and this worker's retry budget is spent (last: " +
                                           error.ToString() + "); its items go back to the queue");
            return Release(held);
          }
          // The range fails from this page on, as in a backfill: the ledger says where and why.
          (void)store.RecordFailure(Chunk{series, TimeRange{page_from, part.to_ms}}, error, attempts);
          return Finish(held, error.ToString(), rows);
        }
        ChunkWrite write{Chunk{series, page->range}, &bars, attempts};
        write.final_range = FinalPart(*page, bars);
        write.requests = attempts;
        write.base_aggregates = page->query_count >= 0 ? page->query_count : static_cast<int64_t>(bars.size());
        const Status committed = store.CommitFenced({&write, 1}, lease.fence);
        if (!committed) {
          if (committed.error().code == ErrorCode::kLeaseLost) {
            held.lost.store(true);
            return LeaseLost(held);
          }
          Stop(RunOutcome::kDatabase, "database error while writing " + write.chunk.Describe() + ": " +
                                          committed.error().ToString() + "; the item goes back to the queue");
          return Release(held);
        }
        rows += static_cast<int64_t>(bars.size());
        {
          std::lock_guard lock(mutex_);
          ++report_.pages;
          report_.rows += static_cast<int64_t>(bars.size());
        }
        page_from = page->range.to_ms;
        if (page->last) break;
        if (Stopping()) return Release(held);  // pages committed stay; the rest is another's
      }
    }
    Finish(held, "", rows);
  }

  /// Marks the item done (no error) or failed, fenced like a commit.
  void Finish(Held& held, const std::string& error, int64_t rows) {
    held.finishing.store(true);
    Status finished;
    {
      std::lock_guard lock(queue_mutex_);
      finished = queue_->Finish(held.lease.fence, !error.empty(), error, rows);
    }
    if (!finished) {
      if (finished.error().code == ErrorCode::kLeaseLost) return LeaseLost(held);
      Stop(RunOutcome::kDatabase, "database error while finishing an item: " + finished.error().ToString());
      return;
    }
    {
      std::lock_guard lock(mutex_);
      ++(error.empty() ? report_.items_done : report_.items_failed);
    }
    Emit(ItemEvent(error.empty() ? "done" : "failed", held.lease, error.empty() ? "done" : error, rows));
  }

  /// Renews the leases every third of their length; an item missing from the answer was lost.
  /// Between heartbeats, publishes metrics about every second.
  void HeartbeatLoop() {
    const auto period = std::max<std::chrono::milliseconds>(options_.lease / 3, std::chrono::milliseconds(50));
    const auto tick = options_.on_metrics ? std::min<std::chrono::milliseconds>(period, std::chrono::seconds(1)) : period;
    auto next_beat = std::chrono::steady_clock::now() + period;
    auto next_queue_read = std::chrono::steady_clock::now();  // the queue's depth: at once, then every 5 s
    bool failing = false;
    WorkerMetrics metrics;
    for (;;) {
      std::vector<std::shared_ptr<Held>> asked;
      std::optional<int64_t> current;
      {
        std::unique_lock lock(mutex_);
        heartbeat_wake_.wait_for(lock, tick, [&] { return heartbeat_stop_; });
        if (heartbeat_stop_) return;
        metrics.fetch = report_.fetch_stats;
        metrics.rows = report_.rows;
        metrics.items_done = report_.items_done;
        metrics.items_failed = report_.items_failed;
        metrics.lease_losses = report_.lease_losses;
        for (const auto& [id, held] : held_) asked.push_back(held);
        if (!current_.empty()) current = *current_.begin();
      }
      if (std::chrono::steady_clock::now() >= next_beat) {
        next_beat = std::chrono::steady_clock::now() + period;
        Beat(asked, current, failing);
      }
      if (options_.on_metrics && std::chrono::steady_clock::now() >= next_queue_read) {
        next_queue_read = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        ReadQueueMetrics(metrics);
      }
      if (options_.on_metrics) options_.on_metrics(metrics);
    }
  }

  void Beat(const std::vector<std::shared_ptr<Held>>& asked, std::optional<int64_t> current, bool& failing) {
    auto held_ids = heartbeat_queue_->Heartbeat(report_.worker_id, options_.lease, current);
    if (!held_ids) {
      if (!failing) Emit({"warning", "heartbeat failed (" + held_ids.error().ToString() + "); retrying"});
      failing = true;
      return;
    }
    failing = false;
    const std::set<int64_t> still(held_ids->begin(), held_ids->end());
    for (const auto& held : asked) {
      if (!still.contains(held->lease.item.id) && !held->finishing.load()) held->lost.store(true);
    }
  }

  /// The queue's depth and the rate the fleet enforces now, for metrics.
  void ReadQueueMetrics(WorkerMetrics& metrics) {
    auto status = heartbeat_queue_->ReadStatus();
    if (!status) return;  // metrics wait for the next heartbeat
    metrics.queue_pending = status->pending;
    metrics.queue_leased = status->leased;
    metrics.rate_per_s = limiter_->CurrentRate();
    const std::string key = store::RateKeyHash(config_.fetch_config.api_key);
    for (const auto& [hash, rate] : status->rates) {
      if (key.starts_with(hash) && limiter_options_.shared != nullptr) metrics.rate_per_s = rate.rate_per_s;
    }
  }

  const RunConfig& config_;
  const WorkerOptions& options_;
  StoreOptions store_options_;
  Clock& clock_ = RealClock();

  std::vector<std::unique_ptr<BarStore>> stores_;  // one per fetcher
  std::unique_ptr<store::WorkQueue> queue_;        // claims and item updates (queue_mutex_)
  std::unique_ptr<store::WorkQueue> heartbeat_queue_;
  std::unique_ptr<store::WorkQueue> listener_;     // LISTEN barfill_queue; only the claim loop
  std::mutex queue_mutex_;

  fetch::RateLimiterOptions limiter_options_;
  std::unique_ptr<PgSharedRate> shared_rate_;
  std::unique_ptr<fetch::RateLimiter> limiter_;
  std::unique_ptr<fetch::RetryBudget> budget_;
  fetch::FetchShared fetch_;

  std::atomic<bool> stop_{false};
  std::atomic<bool> item_finished_{false};
  bool stalled_check_failing_ = false;  // only the claim loop
  std::mutex event_mutex_;
  std::mutex mutex_;  // guards everything below
  std::condition_variable work_ready_;
  std::condition_variable fetcher_idle_;
  std::condition_variable heartbeat_wake_;
  std::deque<std::shared_ptr<Held>> ready_;
  std::map<int64_t, std::shared_ptr<Held>> held_;
  std::set<int64_t> current_;
  int idle_ = 0;
  bool closing_ = false;
  bool heartbeat_stop_ = false;
  StopReason stop_reason_;
  WorkerReport report_;
  std::vector<std::thread> fetchers_;
};

}  // namespace

Result<EnqueueReport> EnqueuePlan(const RunConfig& config, const StoreOptions& store_options) {
  BARFILL_TRY(RequirePostgres(config, "barfill enqueue"));
  auto store = OpenStore(config.db_url, store_options);
  if (!store) return Fail(store.error());
  BARFILL_TRY((*store)->Migrate());
  auto queue = store::WorkQueue::Open(config.db_url, "barfill enqueue", store_options);
  if (!queue) return Fail(queue.error());
  auto open = (*queue)->OpenItems();
  if (!open) return Fail(open.error());
  // Ranges queued already (pending or leased) are left out, like ranges the ledger holds, so a
  // plan enqueued twice adds nothing even after workers committed part of an item.
  std::map<std::string, std::vector<TimeRange>> queued;
  for (const store::QueueItem& item : *open) queued[item.series.Describe()].push_back(item.range);
  const CoveredElsewhere elsewhere = [&](const Series& series) {
    const auto found = queued.find(series.Describe());
    return found == queued.end() ? std::vector<TimeRange>{} : found->second;
  };
  auto work = BuildWorkPlan(config.plan, **store, TodayUtc(), config.concurrency, kMaxBaseAggregatesPerRequest, elsewhere);
  if (!work) return Fail(work.error());
  std::vector<store::QueueItem> items;
  for (const SeriesWork& sw : work->series) {
    for (const CoarseRange& r : sw.ranges) items.push_back(store::QueueItem{0, sw.series, r.range});
  }
  EnqueueReport report;
  report.series = static_cast<int64_t>(work->series.size());
  report.series_up_to_date = work->series_up_to_date;
  report.ranges = static_cast<int64_t>(items.size());
  report.requests = work->requests;
  report.store = (*queue)->Describe();
  auto counts = (*queue)->Enqueue(items);
  if (!counts) return Fail(counts.error());
  report.counts = *counts;
  return report;
}

Result<WorkerReport> RunWorker(const RunConfig& config, const WorkerOptions& options, const StoreOptions& store_options) {
  // A worker may start while its server restarts or fails over (a fleet restarted together):
  // it waits for the server, as it does mid-run, instead of exiting; other errors end it at once.
  Clock& clock = RealClock();
  const auto give_up = std::chrono::steady_clock::now() + options.start_wait;
  std::chrono::milliseconds delay{100};
  for (;;) {
    {
      Worker worker(config, options, store_options);
      Status started = worker.Start();
      if (started) return worker.Run();
      const bool cancelled = options.cancel != nullptr && options.cancel->load();
      if (started.error().code != ErrorCode::kDatabaseRetryable || cancelled ||
          std::chrono::steady_clock::now() + delay > give_up) {
        return Fail(std::move(started).error());
      }
      if (options.on_event) {
        options.on_event({"warning", "PostgreSQL is not available yet (" + started.error().ToString() +
                                         "); retrying for up to " +
                                         std::to_string(options.start_wait.count() / 1000) + " s"});
      }
    }
    (void)clock.SleepFor(delay, options.cancel);
    delay = std::min(delay * 2, std::chrono::milliseconds(2000));
  }
}

}  // namespace barfill::engine
