#include "engine/grouped_pass.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "engine/bounded_queue.h"
#include "engine/busy_clock.h"
#include "engine/run_stop.h"
#include "fetch/grouped_fetcher.h"

namespace barfill::engine {
namespace {

/// Fetched days a writer commits together at most, when that many are waiting.
constexpr size_t kDaysPerTransaction = 16;

/// A fetched day on its way to a writer.
struct FetchedDayItem {
  const GroupedDayWork* work = nullptr;
  fetch::FetchedDay fetched;
};

class GroupedPass {
 public:
  GroupedPass(const GroupedPlan& plan, const RunOptions& options, const fetch::FetchShared& fetch,
              std::span<BarStore* const> writers)
      : plan_(plan),
        options_(options),
        fetch_(fetch),
        writers_(writers.begin(), writers.end()),
        queue_(std::max<size_t>(2, 2 * static_cast<size_t>(options.concurrency))) {
    fetch_.cancel = stop_.flag();
  }

  void Run(RunReport& report) {
    const auto start = Stopwatch::now();
    RunObserver* observer = options_.observer;
    ProgressTicker progress(observer != nullptr ? options_.progress_interval : std::chrono::milliseconds(0),
                            [&] { return Snapshot(start); },
                            [observer](const ProgressSnapshot& s) { observer->OnProgress(s); });
    std::vector<std::thread> writer_threads;
    for (BarStore* store : writers_) writer_threads.emplace_back([this, store] { WriterLoop(*store); });
    fetchers_ = std::max(1, std::min<int>(options_.concurrency, static_cast<int>(plan_.days.size())));
    std::vector<std::thread> fetcher_threads;
    for (int i = 0; i < fetchers_; ++i) fetcher_threads.emplace_back([this] { FetcherLoop(); });
    progress.Start();
    // Wait for the fetchers, passing a stop request from outside (a signal) on to them.
    while (finished_fetchers_.load() < fetchers_) {
      stop_.PassOn(options_.cancel);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (std::thread& t : fetcher_threads) t.join();
    queue_.Close();
    for (std::thread& t : writer_threads) t.join();
    progress.Finish();
    const double duration = SecondsSince(start);

    std::lock_guard lock(mutex_);
    GroupedReport& g = report.grouped;
    g.days_planned += static_cast<int64_t>(plan_.days.size());
    g.per_ticker_requests += plan_.PerTickerRequests();
    g.days_stored += days_stored_;
    g.days_failed += days_failed_;
    g.requests += stats_.requests;
    g.retries += stats_.retries;
    g.bars += rows_;
    g.series_served += static_cast<int64_t>(served_.size());
    g.rejected += rejected_;
    g.skipped += skipped_;
    g.duration_s += duration;
    report.duration_s += duration;
    report.api_s += api_busy_.Seconds();
    report.fetcher_thread_s += duration * fetchers_;
    report.db_s += db_busy_.Seconds();
    report.fetch_stats.Add(stats_);
    report.records += rows_;
    report.requests_minimum += days_stored_;  // one request per market day is the least possible
    for (FailureRecord& f : failures_) report.failures.push_back(std::move(f));
    stop_.AddTo(report);
  }

 private:
  void Stop(RunOutcome outcome, const std::string& reason) { stop_.Stop(outcome, reason); }

  void FetcherLoop() {
    fetch::GroupedFetcher fetcher(fetch_);
    while (!stop_.stopped()) {
      const size_t index = next_day_.fetch_add(1);
      if (index >= plan_.days.size()) break;
      const GroupedDayWork& work = plan_.days[index];
      fetch::GroupedDayQuery query{polygon::GroupedDailyRequest{work.market, work.date, work.adjusted}, work.expect_bars};
      fetch::FetchStats stats;
      api_busy_.Enter();
      auto fetched = fetcher.FetchDay(query, stats);
      api_busy_.Leave();
      {
        std::lock_guard lock(mutex_);
        stats_.Add(stats);
      }
      if (fetched) {
        if (!queue_.Push(FetchedDayItem{&work, std::move(*fetched)})) break;
        continue;
      }
      if (!DayFailed(work, fetched.error(), static_cast<int>(std::max<int64_t>(1, stats.requests)))) break;
    }
    finished_fetchers_.fetch_add(1);
  }

  /// Handles a day the API did not answer; false when the pass stops.
  bool DayFailed(const GroupedDayWork& work, const Error& error, int attempts) {
    if (error.code == ErrorCode::kInterrupted || stop_.stopped()) return false;  // the day stays to do
    const FetchFailure failure = OnFetchFailure(error, options_);
    if (failure.stop) Stop(*failure.stop, failure.reason);
    if (!failure.item_fails) return false;
    std::lock_guard lock(mutex_);
    ++days_failed_;
    failures_.push_back(FailureRecord{Series{Ticker(), Timeframe(1, Timespan::kDay), work.adjusted}, work.range,
                                      error.ToString(), error.code, attempts});
    return true;
  }

  void WriterLoop(BarStore& store) {
    std::vector<FetchedDayItem> group;
    while (std::optional<FetchedDayItem> first = queue_.Pop()) {
      if (db_failed_.load()) continue;  // after a fatal database error nothing more is written
      group.clear();
      group.push_back(std::move(*first));
      // Days already waiting commit together: fewer transactions (each one syncs to disk).
      while (group.size() < kDaysPerTransaction) {
        std::optional<FetchedDayItem> more = queue_.TryPop();
        if (!more) break;
        group.push_back(std::move(*more));
      }
      Store(store, group);
    }
  }

  /// Commits the days of `group` in one transaction, then records their rejected tickers.
  void Store(BarStore& store, std::vector<FetchedDayItem>& group) {
    std::sort(group.begin(), group.end(), [](const FetchedDayItem& a, const FetchedDayItem& b) {
      return std::tie(a.work->market, a.work->adjusted, a.work->date) < std::tie(b.work->market, b.work->adjusted, b.work->date);
    });
    std::vector<GroupedDayWrites> each;
    int64_t skipped = 0;
    for (const FetchedDayItem& item : group) {
      each.push_back(WritesForDay(plan_, *item.work, item.fetched));
      skipped += item.fetched.day.skipped;
    }
    const GroupedDayWrites days = MergeDays(std::move(each));
    if (!days.writes.empty()) {
      db_busy_.Enter();
      const Status status = store.CommitChunks(days.writes);
      db_busy_.Leave();
      if (!status) {
        db_failed_ = true;
        const GroupedDayWork& work = *group.front().work;
        Stop(RunOutcome::kDatabase, "database error while writing " +
                                        polygon::GroupedDailyRequest{work.market, work.date, work.adjusted}.Describe() +
                                        (group.size() > 1 ? " and " + std::to_string(group.size() - 1) + " more days" : "") +
                                        ": " + status.error().ToString() + "; the run is resumable once the database is fixed");
        return;
      }
      if (options_.observer != nullptr) options_.observer->OnCommitted(group.size());
    }
    // A ticker whose bar failed validation: its day fails for its series, as a rejected range page does.
    for (const GroupedDayWrites::Rejected& r : days.rejected) {
      db_busy_.Enter();
      const Status recorded = store.RecordFailure(r.chunk, r.error, 1);
      db_busy_.Leave();
      if (!recorded) {
        db_failed_ = true;
        Stop(RunOutcome::kDatabase, "database error while recording a failed day: " + recorded.error().ToString());
        return;
      }
    }
    std::lock_guard lock(mutex_);
    days_stored_ += static_cast<int64_t>(group.size());
    rows_ += days.rows;
    skipped_ += skipped;
    rejected_ += static_cast<int64_t>(days.rejected.size());
    for (const ChunkWrite& w : days.writes) served_.insert(w.chunk.series.ticker.symbol());
    for (const GroupedDayWrites::Rejected& r : days.rejected) {
      failures_.push_back(FailureRecord{r.chunk.series, r.chunk.range, r.error.ToString(), r.error.code, 1});
    }
  }

  ProgressSnapshot Snapshot(Stopwatch::time_point start) {
    ProgressSnapshot s;
    s.phase = "grouped daily";
    s.elapsed_s = SecondsSince(start);
    s.series_total = static_cast<int64_t>(plan_.series.size());
    s.ranges_total = static_cast<int64_t>(plan_.days.size());
    std::lock_guard lock(mutex_);
    s.ranges_settled = days_stored_ + days_failed_;
    s.ranges_failed = days_failed_;
    s.pages = days_stored_;
    s.rows = rows_;
    s.requests = stats_.requests;
    s.retries = stats_.retries;
    s.rate_limited = stats_.rate_limited;
    return s;
  }

  const GroupedPlan& plan_;
  const RunOptions& options_;
  fetch::FetchShared fetch_;
  const std::vector<BarStore*> writers_;
  BoundedQueue<FetchedDayItem> queue_;
  int fetchers_ = 1;
  std::atomic<size_t> next_day_{0};
  RunStop stop_;
  std::atomic<int> finished_fetchers_{0};
  std::atomic<bool> db_failed_{false};
  BusyClock api_busy_;
  BusyClock db_busy_;

  std::mutex mutex_;  // guards everything below
  fetch::FetchStats stats_;
  int64_t days_stored_ = 0;
  int64_t days_failed_ = 0;
  int64_t rows_ = 0;
  int64_t rejected_ = 0;
  int64_t skipped_ = 0;
  std::set<std::string> served_;
  std::vector<FailureRecord> failures_;
};

}  // namespace

void RunGroupedPass(const GroupedPlan& plan, const RunOptions& options, const fetch::FetchShared& fetch,
                    std::span<BarStore* const> writers, RunReport& report) {
  if (plan.days.empty()) return;
  GroupedPass pass(plan, options, fetch, writers);
  pass.Run(report);
}

}  // namespace barfill::engine
