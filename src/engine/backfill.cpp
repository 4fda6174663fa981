#include "engine/backfill.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "engine/bounded_queue.h"

namespace barfill::engine {
namespace {

using Stopwatch = std::chrono::steady_clock;  // wall time of the run, for the report

double SecondsSince(Stopwatch::time_point start) {
  return std::chrono::duration<double>(Stopwatch::now() - start).count();
}

/// Wall time during which at least one of several threads is busy (the union of their busy
/// intervals), so that N overlapping fetches count once.
class BusyClock {
 public:
  void Enter() {
    std::lock_guard lock(mutex_);
    if (busy_++ == 0) since_ = Stopwatch::now();
  }
  void Leave() {
    std::lock_guard lock(mutex_);
    if (--busy_ == 0) total_ += Stopwatch::now() - since_;
  }
  double Seconds() const {
    std::lock_guard lock(mutex_);
    auto total = total_;
    if (busy_ > 0) total += Stopwatch::now() - since_;
    return std::chrono::duration<double>(total).count();
  }

 private:
  mutable std::mutex mutex_;
  int busy_ = 0;
  Stopwatch::time_point since_;
  Stopwatch::duration total_{};
};

/// A fetched chunk (or its failure) on its way to the writer.
struct WriteItem {
  WorkItem work;
  BarBatch bars;
  int attempts = 1;
  std::optional<Error> failure;
};

/// Why the run stops early; the first reason wins.
enum class StopKind { kNone, kAuth, kDatabase, kNetwork, kInterrupted };

RunOutcome OutcomeOf(StopKind kind) {
  switch (kind) {
    case StopKind::kAuth: return RunOutcome::kRefused;
    case StopKind::kDatabase: return RunOutcome::kDatabase;
    case StopKind::kNetwork: return RunOutcome::kNetwork;
    case StopKind::kInterrupted: return RunOutcome::kInterrupted;
    case StopKind::kNone: return RunOutcome::kDone;
  }
  return RunOutcome::kDone;
}

/// One pass over a WorkPlan: the fetchers, the writer, the progress line.
class Pass {
 public:
  Pass(const WorkPlan& work, const RunOptions& options, const fetch::FetchShared& fetch, std::vector<BarStore*> writers)
      : work_(work),
        options_(options),
        writers_(std::move(writers)),
        external_stop_(options.cancel),
        cursor_(work),
        queue_(options.queue_chunks > 0 ? options.queue_chunks : 2 * static_cast<size_t>(options.concurrency),
               options.queue_rows, [](const WriteItem& item) { return item.bars.size(); }),
        series_left_(work.series.size()),
        series_failed_(work.series.size(), false) {
    fetch_ = fetch;
    fetch_.cancel = &stop_;
    for (size_t i = 0; i < work.series.size(); ++i) series_left_[i] = work.series[i].chunks_todo;
  }

  void Run(const std::string& phase) {
    start_ = Stopwatch::now();
    RunObserver* observer = options_.observer;
    ProgressTicker progress(
        observer != nullptr ? options_.progress_interval : std::chrono::milliseconds(0),
        [&] { return Snapshot(phase); }, [observer](const ProgressSnapshot& s) { observer->OnProgress(s); });
    std::vector<std::thread> writer_threads;
    for (BarStore* store : writers_) writer_threads.emplace_back([this, store] { WriterLoop(*store); });
    std::vector<std::thread> fetchers;
    for (int i = 0; i < options_.concurrency; ++i) fetchers.emplace_back([&] { FetcherLoop(); });
    progress.Start();
    // Wait for the fetchers, passing a stop request from outside (a signal) on to them.
    while (finished_fetchers_.load() < options_.concurrency) {
      if (external_stop_ != nullptr && external_stop_->load() && !stop_.load()) Stop(StopKind::kInterrupted, "interrupted by signal");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (std::thread& t : fetchers) t.join();
    queue_.Close();
    for (std::thread& t : writer_threads) t.join();
    progress.Finish();
    duration_s_ = SecondsSince(start_);
  }

  /// Adds this pass's time, traffic and records to `report`.
  void AddWorkTo(RunReport& report) const {
    report.duration_s += duration_s_;
    report.api_s += api_busy_.Seconds();
    report.db_s += db_busy_.Seconds();
    report.fetcher_thread_s += duration_s_ * options_.concurrency;
    report.backpressure_s += backpressure_s_;
    report.fetch_stats.Add(fetch_totals_);
    report.records += rows_;
  }

  /// Adds this pass's chunk outcomes and failures to `report`.
  void AddChunksTo(RunReport& report) {
    report.chunks_done += chunks_done_;
    report.chunks_empty += chunks_empty_;
    report.chunks_failed += chunks_failed_;
    report.chunks_pending += work_.chunks_todo - chunks_done_ - chunks_empty_ - chunks_failed_;
    for (FailureRecord& f : failures_) report.failures.push_back(std::move(f));
    failures_.clear();
  }

  /// Records why this pass stopped early, unless `report` already has a reason.
  void AddStopTo(RunReport& report) const {
    if (stop_kind_ != StopKind::kNone && report.stop_reason.empty()) {
      report.stop_reason = stop_reason_;
      report.outcome = OutcomeOf(stop_kind_);
    }
  }

  /// Series of this pass that had a chunk fail.
  bool SeriesFailed(size_t i) const { return series_failed_[i]; }
  /// Series of this pass with chunks neither done nor failed (the run stopped early).
  bool SeriesIncomplete(size_t i) const { return series_left_[i] > 0; }

 private:
  void Stop(StopKind kind, const std::string& reason) {
    {
      std::lock_guard lock(stop_mutex_);
      if (stop_kind_ == StopKind::kNone) {
        stop_kind_ = kind;
        stop_reason_ = reason;
      }
    }
    stop_.store(true);
  }

  void FetcherLoop() {
    fetch::ChunkFetcher fetcher(fetch_);
    while (!stop_.load()) {
      std::optional<WorkItem> item = cursor_.Next();
      if (!item) break;
      WriteItem out;
      out.work = std::move(*item);
      fetch::FetchStats stats;
      api_busy_.Enter();
      const Status status = fetcher.Fetch(out.work.chunk, out.bars, stats);
      api_busy_.Leave();
      out.attempts = static_cast<int>(std::max<int64_t>(1, stats.requests));
      {
        std::lock_guard lock(totals_mutex_);
        fetch_totals_.Add(stats);
      }
      if (!status) {
        const Error& error = status.error();
        if (error.code == ErrorCode::kInterrupted || stop_.load()) break;  // stays pending
        if (error.code == ErrorCode::kAuth) {
          Stop(StopKind::kAuth, error.ToString());
          break;
        }
        if (error.code == ErrorCode::kTransportFatal) {
          // A bad URL or a TLS certificate that does not verify fails every chunk alike.
          Stop(StopKind::kNetwork, "cannot reach the API: " + error.ToString());
          break;
        }
        if (options_.retry_budget_exhausted && options_.retry_budget_exhausted()) {
          Stop(StopKind::kNetwork, "the API kept failing and the run's retry budget is spent (last: " +
                                       error.ToString() + "); run again later to resume");
        }
        out.failure = error;
        out.bars.clear();
      }
      const auto wait_start = Stopwatch::now();
      const bool queued = queue_.Push(std::move(out));
      {
        std::lock_guard lock(totals_mutex_);
        backpressure_s_ += SecondsSince(wait_start);
      }
      if (!queued) break;
    }
    finished_fetchers_.fetch_add(1);
  }

  void WriterLoop(BarStore& store) {
    std::vector<WriteItem> group;
    while (true) {
      std::optional<WriteItem> first = queue_.Pop();
      if (!first) break;
      group.clear();
      size_t rows = 0;
      const auto add = [&](WriteItem&& item) {
        if (item.failure) {
          RecordFailure(store, item);
        } else {
          rows += item.bars.size();
          group.push_back(std::move(item));
        }
      };
      add(std::move(*first));
      // Commit several chunks together while more are already waiting: fewer transactions.
      while (rows < options_.writer_batch_rows) {
        std::optional<WriteItem> more = queue_.TryPop();
        if (!more) break;
        add(std::move(*more));
      }
      if (!group.empty()) Commit(store, group);
    }
  }

  void Commit(BarStore& store, std::vector<WriteItem>& group) {
    if (db_failed_) return;  // after a fatal database error nothing more is written
    // Key order (ticker, timeframe, time) lets the primary-key index grow at its right edge
    // instead of splitting pages in the middle: PostgreSQL loads ordered rows faster.
    std::sort(group.begin(), group.end(), [](const WriteItem& a, const WriteItem& b) {
      const Series& x = a.work.chunk.series;
      const Series& y = b.work.chunk.series;
      if (x.ticker.symbol() != y.ticker.symbol()) return x.ticker.symbol() < y.ticker.symbol();
      const std::string xt = x.timeframe.ToString();
      const std::string yt = y.timeframe.ToString();
      if (xt != yt) return xt < yt;
      return a.work.chunk.range.from_ms < b.work.chunk.range.from_ms;
    });
    std::vector<ChunkWrite> writes;
    writes.reserve(group.size());
    for (const WriteItem& item : group) writes.push_back(ChunkWrite{item.work.chunk, &item.bars, item.attempts});
    db_busy_.Enter();
    const Status status = store.CommitChunks(writes);
    db_busy_.Leave();
    if (!status) {
      db_failed_ = true;
      Stop(StopKind::kDatabase, "database error while writing " + group.front().work.chunk.Describe() + ": " +
                                    status.error().ToString() + "; the run is resumable once the database is fixed");
      return;
    }
    for (const WriteItem& item : group) {
      if (item.bars.empty()) {
        ++chunks_empty_;
      } else {
        ++chunks_done_;
      }
      rows_ += static_cast<int64_t>(item.bars.size());
      ChunkSettled(item.work.series_index);
    }
    if (options_.observer != nullptr) options_.observer->OnCommitted(group.size());
  }

  void RecordFailure(BarStore& store, const WriteItem& item) {
    ++chunks_failed_;
    {
      std::lock_guard lock(settle_mutex_);
      series_failed_[item.work.series_index] = true;
      failures_.push_back(FailureRecord{item.work.chunk.series, item.work.chunk.range, item.failure->ToString(),
                                        item.failure->code, item.attempts});
    }
    ChunkSettled(item.work.series_index);
    if (db_failed_) return;
    db_busy_.Enter();
    const Status status = store.RecordFailure(item.work.chunk, *item.failure, item.attempts);
    db_busy_.Leave();
    if (!status) {
      db_failed_ = true;
      Stop(StopKind::kDatabase, "database error while recording a failed chunk: " + status.error().ToString());
    }
  }

  void ChunkSettled(size_t series_index) {
    std::lock_guard lock(settle_mutex_);
    if (--series_left_[series_index] == 0) series_finished_.fetch_add(1);
  }

  ProgressSnapshot Snapshot(const std::string& phase) {
    ProgressSnapshot s;
    s.phase = phase;
    s.elapsed_s = SecondsSince(start_);
    s.series_total = static_cast<int64_t>(work_.series.size());
    s.series_finished = series_finished_.load();
    s.chunks_total = work_.chunks_todo;
    s.chunks_settled = chunks_done_.load() + chunks_empty_.load() + chunks_failed_.load();
    s.chunks_failed = chunks_failed_.load();
    s.rows = rows_.load();
    std::lock_guard lock(totals_mutex_);
    s.requests = fetch_totals_.requests;
    s.retries = fetch_totals_.retries;
    s.rate_limited = fetch_totals_.rate_limited;
    return s;
  }

  const WorkPlan& work_;
  const RunOptions& options_;
  const std::vector<BarStore*> writers_;  // one writer thread (and connection) each
  const std::atomic<bool>* external_stop_;
  fetch::FetchShared fetch_;
  ChunkCursor cursor_;
  BoundedQueue<WriteItem> queue_;

  std::atomic<bool> stop_{false};
  std::mutex stop_mutex_;
  StopKind stop_kind_ = StopKind::kNone;
  std::string stop_reason_;
  std::atomic<int> finished_fetchers_{0};
  Stopwatch::time_point start_;
  double duration_s_ = 0;

  BusyClock api_busy_;
  BusyClock db_busy_;
  std::mutex totals_mutex_;
  fetch::FetchStats fetch_totals_;
  double backpressure_s_ = 0;

  // Written by the writer threads; atomics so the progress line can read them.
  std::atomic<int64_t> rows_{0};
  std::atomic<int64_t> chunks_done_{0};
  std::atomic<int64_t> chunks_empty_{0};
  std::atomic<int64_t> chunks_failed_{0};
  std::atomic<int64_t> series_finished_{0};
  std::mutex settle_mutex_;  // guards the three below
  std::vector<int64_t> series_left_;
  std::vector<bool> series_failed_;
  std::vector<FailureRecord> failures_;
  std::atomic<bool> db_failed_{false};
};

}  // namespace

int64_t PeakRssBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmHWM:")) return std::stoll(line.substr(6)) * 1024;
  }
  return 0;
}

RunReport RunBackfill(const Plan& plan, const WorkPlan& work, const RunOptions& options, const fetch::FetchShared& fetch,
                      BarStore& store, std::span<BarStore* const> extra_writers) {
  std::vector<BarStore*> writers = {&store};
  writers.insert(writers.end(), extra_writers.begin(), extra_writers.end());
  RunReport report;
  report.plan_name = plan.name;
  report.store = store.Describe();
  report.concurrency = options.concurrency;
  report.writers = static_cast<int>(writers.size());
  report.rate_per_s = options.rate_per_s;
  report.jobs_total = static_cast<int64_t>(work.series.size());
  report.chunks_total = work.chunks_total;
  report.chunks_skipped = work.chunks_skipped;

  Pass main_pass(work, options, fetch, writers);
  main_pass.Run("backfill");
  main_pass.AddWorkTo(report);
  main_pass.AddChunksTo(report);
  main_pass.AddStopTo(report);

  std::vector<bool> degraded(work.series.size(), false);
  if (options.fallback_daily && report.outcome == RunOutcome::kDone) {
    // Intraday series with failed chunks get the daily bars of the plan's range instead.
    Plan daily = plan;
    daily.tickers.clear();
    daily.timeframes = {Timeframe(1, Timespan::kDay)};
    for (size_t i = 0; i < work.series.size(); ++i) {
      const Series& s = work.series[i].series;
      if (main_pass.SeriesFailed(i) && s.timeframe.IsIntraday() &&
          std::find(daily.tickers.begin(), daily.tickers.end(), s.ticker) == daily.tickers.end()) {
        daily.tickers.push_back(s.ticker);
      }
    }
    if (!daily.tickers.empty()) {
      const CalendarDay today = work.clamped_to ? *work.clamped_to : plan.to;
      auto daily_work = BuildWorkPlan(daily, store, today);
      if (daily_work) {
        Pass daily_pass(*daily_work, options, fetch, writers);
        daily_pass.Run("fallback to daily bars");
        daily_pass.AddWorkTo(report);  // its chunks are not the plan's: only time and records count
        for (size_t d = 0; d < daily_work->series.size(); ++d) {
          if (daily_pass.SeriesFailed(d) || daily_pass.SeriesIncomplete(d)) continue;
          for (size_t i = 0; i < work.series.size(); ++i) {
            const Series& s = work.series[i].series;
            if (main_pass.SeriesFailed(i) && s.timeframe.IsIntraday() && s.ticker == daily_work->series[d].series.ticker) {
              degraded[i] = true;
            }
          }
        }
        daily_pass.AddStopTo(report);
      }
    }
  }

  for (size_t i = 0; i < work.series.size(); ++i) {
    if (main_pass.SeriesFailed(i)) {
      ++report.jobs_failed;
      if (degraded[i]) {
        ++report.jobs_degraded;
        report.degraded.push_back(work.series[i].series.Describe());
      }
    } else if (main_pass.SeriesIncomplete(i)) {
      ++report.jobs_incomplete;
    } else {
      ++report.jobs_succeeded;
    }
  }
  if (report.outcome == RunOutcome::kDone && report.chunks_failed > 0) {
    // Chunks the network gave up on are a network outcome (exit 5, resumable); chunks the API
    // answered wrongly are failed chunks (exit 1). Both stay retryable in the ledger.
    const auto network = std::count_if(report.failures.begin(), report.failures.end(),
                                       [](const FailureRecord& f) { return f.code == ErrorCode::kNetworkGaveUp; });
    if (network > 0) {
      report.outcome = RunOutcome::kNetwork;
      report.error = "the network gave up on " + std::to_string(network) + " chunk(s) after their retries; run again later to resume (last: " +
                     report.failures.back().error + ")";
    } else {
      report.outcome = RunOutcome::kChunksFailed;
      report.error = std::to_string(report.chunks_failed) + " chunk(s) failed (listed above); a re-run retries them";
    }
  }
  if (report.error.empty()) report.error = report.stop_reason;
  report.peak_rss_bytes = PeakRssBytes();
  return report;
}

}  // namespace barfill::engine
