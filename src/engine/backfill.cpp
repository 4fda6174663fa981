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
#include "engine/busy_clock.h"
#include "engine/run_stop.h"

namespace barfill::engine {
namespace {

/// A fetched page (or the failure of a range) on its way to the writers.
struct WriteItem {
  RangeItem where;
  TimeRange page;         ///< the part of the range the page answers for; a failure: from here to the range's end
  TimeRange final_range;  ///< what the ledger records as final (less than `page` for a live range)
  BarBatch bars;
  int attempts = 1;
  int64_t base_aggregates = -1;
  int page_index = 0;  ///< its place in the range (0 for the first page)
  bool last = false;   ///< the range's last page
  std::optional<Error> failure;
};

/// One pass over a WorkPlan: the fetchers, the writers, the progress.
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
        series_(work.series.size()) {
    fetch_ = fetch;
    fetch_.cancel = stop_.flag();
    for (size_t i = 0; i < work.series.size(); ++i) {
      SeriesProgress& sp = series_[i];
      sp.ranges.resize(work.series[i].ranges.size());
      sp.ranges_left = static_cast<int64_t>(work.series[i].ranges.size());
      sp.part_base.assign(work.series[i].todo.size(), -1);
    }
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
      stop_.PassOn(external_stop_);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (std::thread& t : fetchers) t.join();
    queue_.Close();
    for (std::thread& t : writer_threads) t.join();
    progress.Finish();
    duration_s_ = SecondsSince(start_);
  }

  /// Adds this pass's time, traffic, records and pages to `report`.
  void AddWorkTo(RunReport& report) const {
    report.duration_s += duration_s_;
    report.api_s += api_busy_.Seconds();
    report.db_s += db_busy_.Seconds();
    report.fetcher_thread_s += duration_s_ * options_.concurrency;
    report.backpressure_s += backpressure_s_;
    report.fetch_stats.Add(fetch_totals_);
    report.records += rows_;
    report.pages += pages_;
    for (const SeriesProgress& sp : series_) {
      for (const int64_t base : sp.part_base) {
        if (base >= 0) report.requests_minimum += std::max<int64_t>(1, (base + kMaxBaseAggregatesPerRequest - 1) / kMaxBaseAggregatesPerRequest);
      }
    }
  }

  /// Adds this pass's range outcomes and failures to `report`.
  void AddRangesTo(RunReport& report) {
    report.ranges_total += work_.ranges_todo;
    report.ranges_done += ranges_done_;
    report.ranges_failed += ranges_failed_;
    report.ranges_pending += work_.ranges_todo - ranges_done_ - ranges_failed_;
    for (FailureRecord& f : failures_) report.failures.push_back(std::move(f));
    failures_.clear();
    AddVerifiedTo(report);
  }

  /// Records why this pass stopped early, unless `report` already has a reason.
  void AddStopTo(RunReport& report) const {
    stop_.AddTo(report);
  }

  /// Series of this pass that had a range fail.
  bool SeriesFailed(size_t i) const { return series_[i].failed; }
  /// Series of this pass with ranges neither done nor failed (the run stopped early).
  bool SeriesIncomplete(size_t i) const { return series_[i].ranges_left > 0; }

 private:
  /// How far one range has come: pages committed, and how many it has once its last is known.
  struct RangeProgress {
    int committed = 0;
    int expected = -1;
    bool settled = false;
    bool failed = false;
    BarChanges changes;  // a range fetched to verify it: what its pages changed
    int64_t bars = 0;
  };
  struct SeriesProgress {
    std::vector<RangeProgress> ranges;
    int64_t ranges_left = 0;
    std::vector<int64_t> part_base;  // base aggregates received per todo part; -1: no page yet
    bool failed = false;
  };

  void Stop(RunOutcome kind, const std::string& reason) { stop_.Stop(kind, reason); }

  void FetcherLoop() {
    fetch::ChunkFetcher fetcher(fetch_);
    while (!stop_.stopped()) {
      std::optional<RangeItem> item = cursor_.Next();
      if (!item) break;
      if (!FetchRange(fetcher, *item)) break;
    }
    finished_fetchers_.fetch_add(1);
  }

  /// Fetches one range page by page, handing each page to the writers as soon as it is in, so a
  /// long range commits its progress as it goes. False when the fetcher should stop.
  bool FetchRange(fetch::ChunkFetcher& fetcher, const RangeItem& where) {
    const SeriesWork& sw = work_.series[where.series_index];
    const TimeRange range = sw.ranges[where.range_index].range;
    fetcher.Begin(Chunk{sw.series, range});
    int64_t page_from = range.from_ms;
    for (int page_index = 0;; ++page_index) {
      WriteItem out;
      out.where = where;
      out.page_index = page_index;
      fetch::FetchStats stats;
      api_busy_.Enter();
      auto page = fetcher.NextPage(out.bars, stats);
      api_busy_.Leave();
      out.attempts = static_cast<int>(std::max<int64_t>(1, stats.requests));
      {
        std::lock_guard lock(totals_mutex_);
        fetch_totals_.Add(stats);
      }
      if (page) {
        out.page = page->range;
        out.final_range = FinalPart(*page, out.bars);
        out.base_aggregates = page->query_count >= 0 ? page->query_count : static_cast<int64_t>(out.bars.size());
        out.last = page->last;
        page_from = page->range.to_ms;
      } else {
        const Error& error = page.error();
        if (error.code == ErrorCode::kInterrupted || stop_.stopped()) return false;  // the rest stays to do
        const FetchFailure failure = OnFetchFailure(error, options_);
        if (failure.stop) Stop(*failure.stop, failure.reason);
        if (!failure.item_fails) return false;
        out.page = TimeRange{page_from, range.to_ms};
        out.failure = error;
        out.bars.clear();
      }
      const bool more = page && !page->last;
      const auto wait_start = Stopwatch::now();
      const bool queued = queue_.Push(std::move(out));
      {
        std::lock_guard lock(totals_mutex_);
        backpressure_s_ += SecondsSince(wait_start);
      }
      if (!queued) return false;
      if (!more) return true;
      if (stop_.stopped()) return false;  // pages already queued commit; the rest stays to do
    }
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
      // Commit several pages together while more are already waiting: fewer transactions.
      while (rows < options_.writer_batch_rows) {
        std::optional<WriteItem> more = queue_.TryPop();
        if (!more) break;
        add(std::move(*more));
      }
      if (!group.empty()) Commit(store, group);
    }
  }

  const Series& SeriesOf(const WriteItem& item) const { return work_.series[item.where.series_index].series; }

  void Commit(BarStore& store, std::vector<WriteItem>& group) {
    if (db_failed_) return;  // after a fatal database error nothing more is written
    // Key order (ticker, timeframe, time) lets the primary-key index grow at its right edge
    // instead of splitting pages in the middle: PostgreSQL loads ordered rows faster.
    std::sort(group.begin(), group.end(), [this](const WriteItem& a, const WriteItem& b) {
      const Series& x = SeriesOf(a);
      const Series& y = SeriesOf(b);
      if (x.ticker.symbol() != y.ticker.symbol()) return x.ticker.symbol() < y.ticker.symbol();
      const std::string xt = x.timeframe.ToString();
      const std::string yt = y.timeframe.ToString();
      if (xt != yt) return xt < yt;
      return a.page.from_ms < b.page.from_ms;
    });
    // Pages of ranges fetched to verify them are compared with what they replace, first.
    std::vector<BarChanges> changes(group.size());
    for (size_t i = 0; i < group.size(); ++i) {
      if (!IsVerify(group[i])) continue;
      db_busy_.Enter();
      auto stored = StoredBars(store, SeriesOf(group[i]), group[i].page);
      db_busy_.Leave();
      if (!stored) {
        db_failed_ = true;
        Stop(RunOutcome::kDatabase, "database error while reading bars to compare: " + stored.error().ToString());
        return;
      }
      changes[i] = CompareBars(*stored, group[i].bars);
    }
    std::vector<ChunkWrite> writes;
    writes.reserve(group.size());
    for (const WriteItem& item : group) {
      ChunkWrite write{Chunk{SeriesOf(item), item.page}, &item.bars, item.attempts};
      write.final_range = item.final_range;
      write.requests = item.attempts;
      write.base_aggregates = item.base_aggregates;
      writes.push_back(write);
    }
    db_busy_.Enter();
    const Status status = store.CommitChunks(writes);
    db_busy_.Leave();
    if (!status) {
      db_failed_ = true;
      Stop(RunOutcome::kDatabase, "database error while writing " + writes.front().chunk.Describe() + ": " +
                                    status.error().ToString() + "; the run is resumable once the database is fixed");
      return;
    }
    for (size_t i = 0; i < group.size(); ++i) {
      const WriteItem& item = group[i];
      rows_ += static_cast<int64_t>(item.bars.size());
      ++pages_;
      PageCommitted(item, changes[i]);
    }
    if (options_.observer != nullptr) options_.observer->OnCommitted(group.size());
  }

  void RecordFailure(BarStore& store, const WriteItem& item) {
    const Chunk failed{SeriesOf(item), item.page};
    {
      std::lock_guard lock(settle_mutex_);
      series_[item.where.series_index].failed = true;
      failures_.push_back(FailureRecord{failed.series, failed.range, item.failure->ToString(), item.failure->code,
                                        item.attempts});
    }
    RangeSettled(item.where, /*failed=*/true);
    if (db_failed_) return;
    db_busy_.Enter();
    const Status status = store.RecordFailure(failed, *item.failure, item.attempts);
    db_busy_.Leave();
    if (!status) {
      db_failed_ = true;
      Stop(RunOutcome::kDatabase, "database error while recording a failed range: " + status.error().ToString());
    }
  }

  /// Counts a committed page; its range is done once all its pages are in (two writers may
  /// commit them in any order).
  void PageCommitted(const WriteItem& item, const BarChanges& changes) {
    std::lock_guard lock(settle_mutex_);
    SeriesProgress& sp = series_[item.where.series_index];
    const size_t part = work_.series[item.where.series_index].ranges[item.where.range_index].part;
    sp.part_base[part] = std::max<int64_t>(sp.part_base[part], 0) + item.base_aggregates;
    RangeProgress& rp = sp.ranges[item.where.range_index];
    rp.changes.Add(changes);
    rp.bars += static_cast<int64_t>(item.bars.size());
    ++rp.committed;
    if (item.last) rp.expected = item.page_index + 1;
    if (rp.committed == rp.expected) SettleLocked(item.where, /*failed=*/false);
  }

  void RangeSettled(const RangeItem& where, bool failed) {
    std::lock_guard lock(settle_mutex_);
    SettleLocked(where, failed);
  }

  void SettleLocked(const RangeItem& where, bool failed) {
    SeriesProgress& sp = series_[where.series_index];
    RangeProgress& rp = sp.ranges[where.range_index];
    if (rp.settled) return;
    rp.settled = true;
    rp.failed = failed;
    (failed ? ranges_failed_ : ranges_done_).fetch_add(1);
    if (--sp.ranges_left == 0) series_finished_.fetch_add(1);
  }

  bool IsVerify(const WriteItem& item) const {
    return work_.series[item.where.series_index].ranges[item.where.range_index].verify;
  }

  /// The bars `store` holds for `series` in `range`, to compare a page with.
  static Result<BarBatch> StoredBars(BarStore& store, const Series& series, TimeRange range) {
    BarBatch stored;
    BARFILL_TRY(store.ReadBars(series, range, [&](const BarBatch& batch) {
      stored.Append(batch);
      return Ok();
    }));
    return stored;
  }

  /// Every range fetched to verify it, with what its committed pages changed.
  void AddVerifiedTo(RunReport& report) {
    std::lock_guard lock(settle_mutex_);
    for (size_t i = 0; i < work_.series.size(); ++i) {
      const SeriesWork& sw = work_.series[i];
      for (size_t r = 0; r < sw.ranges.size(); ++r) {
        if (!sw.ranges[r].verify) continue;
        const RangeProgress& rp = series_[i].ranges[r];
        report.verified.push_back(VerifiedRange{sw.series, sw.ranges[r].range, rp.changes, rp.bars, rp.settled && !rp.failed});
        report.changes.Add(rp.changes);
      }
    }
  }

  ProgressSnapshot Snapshot(const std::string& phase) {
    ProgressSnapshot s;
    s.phase = phase;
    s.elapsed_s = SecondsSince(start_);
    s.series_total = static_cast<int64_t>(work_.series.size());
    s.series_finished = series_finished_.load() + work_.series_up_to_date;
    s.ranges_total = work_.ranges_todo;
    s.ranges_settled = ranges_done_.load() + ranges_failed_.load();
    s.ranges_failed = ranges_failed_.load();
    s.pages = pages_.load();
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
  RangeCursor cursor_;
  BoundedQueue<WriteItem> queue_;

  RunStop stop_;
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
  std::atomic<int64_t> pages_{0};
  std::atomic<int64_t> ranges_done_{0};
  std::atomic<int64_t> ranges_failed_{0};
  std::atomic<int64_t> series_finished_{0};
  std::mutex settle_mutex_;  // guards the two below
  std::vector<SeriesProgress> series_;
  std::vector<FailureRecord> failures_;
  std::atomic<bool> db_failed_{false};
};

}  // namespace

TimeRange FinalPart(const fetch::FetchedPage& page, const BarBatch& bars) {
  if (page.range.to_ms <= page.requested_at_ms) return page.range;
  const int64_t end = bars.empty() ? page.range.from_ms : std::max(page.range.from_ms, bars.t.back());
  return TimeRange{page.range.from_ms, end};
}

FetchFailure OnFetchFailure(const Error& error, const RunOptions& options) {
  if (error.code == ErrorCode::kAuth) return {RunOutcome::kRefused, error.ToString(), false};
  if (error.code == ErrorCode::kTransportFatal) {
    // A bad URL or a TLS certificate that does not verify fails every range alike.
    return {RunOutcome::kNetwork, "cannot reach the API: " + error.ToString(), false};
  }
  if (options.retry_budget_exhausted && options.retry_budget_exhausted()) {
    return {RunOutcome::kNetwork,
            "the API kept failing and the run's retry budget is spent (last: " + error.ToString() +
                "); run again later to resume",
            true};
  }
  return {};
}

void SettleFailures(RunReport& report) {
  if (report.outcome != RunOutcome::kDone || report.failures.empty()) return;
  // Ranges or files the network gave up on are a network outcome (exit 5, resumable); ones the
  // API answered wrongly are failures (exit 1). Both stay retryable in the ledger.
  const auto network = std::count_if(report.failures.begin(), report.failures.end(),
                                     [](const FailureRecord& f) { return f.code == ErrorCode::kNetworkGaveUp; });
  if (network > 0) {
    report.outcome = RunOutcome::kNetwork;
    report.error = "the network gave up on " + std::to_string(network) +
                   " range(s) or file(s) after their retries; run again later to resume (last: " +
                   report.failures.back().error + ")";
  } else {
    report.outcome = RunOutcome::kRangesFailed;
    report.error = std::to_string(report.failures.size()) + " range(s) or file(s) failed (listed above); a re-run retries them";
  }
}

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
  report.series_up_to_date = work.series_up_to_date;

  Pass main_pass(work, options, fetch, writers);
  main_pass.Run("backfill");
  main_pass.AddWorkTo(report);
  main_pass.AddRangesTo(report);
  main_pass.AddStopTo(report);

  std::vector<bool> degraded(work.series.size(), false);
  if (options.fallback_daily && report.outcome == RunOutcome::kDone) {
    // Intraday series with failed ranges get the daily bars of the plan's range instead.
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
      auto daily_work = BuildWorkPlan(daily, store, today, options.concurrency);
      if (daily_work) {
        Pass daily_pass(*daily_work, options, fetch, writers);
        daily_pass.Run("fallback to daily bars");
        daily_pass.AddWorkTo(report);  // its ranges are not the plan's: only time, records and requests count
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
  SettleFailures(report);
  if (report.error.empty()) report.error = report.stop_reason;
  report.peak_rss_bytes = PeakRssBytes();
  return report;
}

}  // namespace barfill::engine
