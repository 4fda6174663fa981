#include "engine/file_pass.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "core/bar_fold.h"
#include "engine/bounded_queue.h"
#include "engine/busy_clock.h"
#include "engine/run_stop.h"
#include "fetch/file_downloader.h"
#include "flatfiles/day_file_merge.h"
#include "flatfiles/day_file_reader.h"

namespace barfill::engine {
namespace {

/// Bars a file's writes collect before they go to the store's transaction.
constexpr size_t kRowsPerSinkCall = 100'000;
/// A ticker's bars of one day are one block (1,440 minutes at most): one write per ticker.
constexpr size_t kRowsPerBlock = 4096;
/// A file whose bytes turn out damaged (gzip cut short) is downloaded again this many times.
constexpr int kDownloadsPerFile = 3;

/// The last bucket `--derive` built for a ticker, for a later block of the same ticker that continues it.
struct DerivedCarry {
  Bar bar;            ///< its bar so far (t = the bucket start)
  int64_t count = 0;  ///< minute bars folded into it; 0: none
};

/// Folds one ticker's minute bars (ascending) into bars of `length_ms` (core/bar_fold.h: the
/// vendor's bucketing, as the simulator builds them), vwap missing (files carry none). A `resume`
/// whose bucket the first minute falls in is continued. `last` gets the last bucket. Returns
/// where the bars replace stored ones: the first bucket's start.
int64_t DeriveFromMinutes(const BarBatch& minutes, int64_t length_ms, const DerivedCarry* resume, DerivedCarry* last,
                          BarBatch* out) {
  if (minutes.empty()) return 0;
  BarFold fold;
  const int64_t first = IntradayBucketStart(minutes.t.front(), length_ms);
  if (resume != nullptr && resume->count > 0 && resume->bar.t == first) fold.Resume(resume->bar, resume->count);
  // One bar per bucket: at most the minutes over the bucket's length, plus a partial bucket at each end.
  out->reserve(minutes.size() / static_cast<size_t>(length_ms / kMsPerMinute) + 2);
  const auto close = [&] {
    const int64_t count = fold.count();
    Bar bar = fold.Take();
    bar.vwap = kNoVwap;
    *last = DerivedCarry{bar, count};
    out->push_back(bar);
  };
  for (size_t i = 0; i < minutes.size(); ++i) {
    const int64_t bucket = IntradayBucketStart(minutes.t[i], length_ms);
    if (fold.open() && bucket != fold.start()) close();
    fold.Add(minutes[i], bucket);
  }
  close();
  return first;
}

/// A downloaded file on its way to a writer.
struct SpooledWork {
  const FileWork* work = nullptr;
  fetch::SpooledFile spool;
};

class FilePass {
 public:
  FilePass(const Plan& plan, const FilePlan& files, const FilePassOptions& options, std::span<BarStore* const> writers,
           const std::string& spool_dir)
      : plan_(plan),
        files_(files),
        options_(options),
        writers_(writers.begin(), writers.end()),
        spool_dir_(spool_dir),
        queue_(std::max<size_t>(2, writers.size())) {
    for (const Ticker& t : plan.tickers) plan_tickers_.insert(t.symbol());
  }

  void Run(RunReport& report) {
    const auto start = Stopwatch::now();
    RunObserver* observer = options_.observer;
    ProgressTicker progress(observer != nullptr ? options_.progress_interval : std::chrono::milliseconds(0),
                            [&] { return Snapshot(start); },
                            [observer](const ProgressSnapshot& s) { observer->OnProgress(s); });
    std::vector<std::thread> writer_threads;
    for (BarStore* store : writers_) writer_threads.emplace_back([this, store] { WriterLoop(*store); });
    std::vector<std::thread> downloaders;
    const int count = std::max(1, std::min<int>(options_.downloaders, static_cast<int>(files_.files.size())));
    for (int i = 0; i < count; ++i) downloaders.emplace_back([this] { DownloaderLoop(); });
    progress.Start();
    for (std::thread& t : downloaders) t.join();
    queue_.Close();
    for (std::thread& t : writer_threads) t.join();
    progress.Finish();

    std::lock_guard lock(mutex_);
    FilesReport& r = report.files;
    r.fetched += fetched_;
    r.failed += failed_;
    r.refused += refused_;
    r.bytes += downloads_.bytes;
    r.rows += rows_;
    r.bad_rows += bad_rows_;
    r.resumes += downloads_.resumes;
    r.restarts += downloads_.restarts;
    r.download_s += download_busy_.Seconds();
    r.db_s += db_busy_.Seconds();
    r.parse_s += parse_s_;
    r.duration_s += SecondsSince(start);
    for (std::string& note : notes_) r.notes.push_back(std::move(note));
    for (const Timeframe& tf : DerivedTimeframes(plan_)) {
      const auto built = derived_bars_.find(tf.ToString());
      if (built == derived_bars_.end()) continue;
      const auto known = std::find_if(r.derived.begin(), r.derived.end(), [&](const auto& d) { return d.first == built->first; });
      if (known == r.derived.end()) {
        r.derived.emplace_back(built->first, built->second);
      } else {
        known->second += built->second;
      }
    }
    for (FailureRecord& f : failures_) report.failures.push_back(std::move(f));
    report.records += stored_rows_;
    stop_.AddTo(report);
  }

 private:
  bool Stopped() const {
    return stop_.stopped() || (options_.cancel != nullptr && options_.cancel->load());
  }

  void Stop(RunOutcome outcome, const std::string& text) { stop_.Stop(outcome, text); }

  Result<std::unique_ptr<fetch::FileDownloader>> NewDownloader() {
    return fetch::FileDownloader::Create(options_.s3, options_.retry, options_.budget, options_.clock,
                                         options_.cancel);
  }

  std::string SpoolPath(const FileWork& work) {
    std::string name = work.key.key;
    std::replace(name.begin(), name.end(), '/', '_');
    return spool_dir_ + "/" + name;
  }

  /// Downloads `work`; false when the file is done with (refused, failed, or the pass stops).
  std::optional<fetch::SpooledFile> Download(fetch::FileDownloader& downloader, const FileWork& work) {
    fetch::FileDownloadStats stats;
    std::optional<fetch::SpooledFile> spooled;
    {
      BusyScope busy(download_busy_);
      auto got = downloader.Download(work.key.key, SpoolPath(work), stats);
      if (got) spooled = std::move(*got);
      if (!got) HandleDownloadError(work, got.error());
    }
    std::lock_guard lock(mutex_);
    downloads_.Add(stats);
    return spooled;
  }

  void HandleDownloadError(const FileWork& work, const Error& error) {
    switch (error.code) {
      case ErrorCode::kInterrupted: return;
      case ErrorCode::kAuth:
        Stop(RunOutcome::kRefused, "the flat files refused the credentials: " + error.ToString());
        return;
      case ErrorCode::kNotFound: {
        // Absent or not entitled: outside the plan's history or asset classes, not published
        // yet, or agreements unsigned. Its days stay to do (REST takes them in auto mode).
        std::lock_guard lock(mutex_);
        ++refused_;
        notes_.push_back(work.key.key + ": refused or not found (" + error.message +
                         "): likely outside the subscription's history or asset classes, or not published yet");
        return;
      }
      default: break;
    }
    if (error.code == ErrorCode::kNetworkGaveUp && options_.budget != nullptr && options_.budget->refused() > 0) {
      Stop(RunOutcome::kNetwork, "the flat files kept failing and the run's retry budget is spent (last: " +
                                     error.ToString() + "); run again later to resume");
    }
    Failed(work, error);
  }

  void Failed(const FileWork& work, const Error& error) {
    std::lock_guard lock(mutex_);
    ++failed_;
    const Timeframe tf = flatfiles::TimeframeOf(work.key.dataset.timeframe);
    const MarketZone zone = ZoneFor(work.key.dataset.asset);
    failures_.push_back(FailureRecord{Series{Ticker(), tf, false}, zone.DaysToRange(work.key.day, work.key.day),
                                      work.key.key + ": " + error.ToString(), error.code, 1});
  }

  void DownloaderLoop() {
    auto downloader = NewDownloader();
    if (!downloader) {
      Stop(RunOutcome::kRefused, "cannot reach the flat files: " + downloader.error().ToString());
      return;
    }
    while (!Stopped()) {
      const size_t index = next_file_.fetch_add(1);
      if (index >= files_.files.size()) break;
      const FileWork& work = files_.files[index];
      auto spooled = Download(**downloader, work);
      if (!spooled) continue;
      if (!queue_.Push(SpooledWork{&work, std::move(*spooled)})) break;
    }
  }

  void WriterLoop(BarStore& store) {
    std::unique_ptr<fetch::FileDownloader> redownloader;  // for files whose bytes were damaged
    std::vector<SpooledWork> batch;
    while (NextBatch(batch)) {
      if (!Stopped()) StoreBatch(store, batch, redownloader);
      for (const SpooledWork& item : batch) std::filesystem::remove(item.spool.path);
    }
  }

  /// The next files of one dataset for one transaction, as many as options allow: their
  /// tickers' days then reach the primary key together. False once every file is taken.
  bool NextBatch(std::vector<SpooledWork>& batch) {
    batch.clear();
    std::lock_guard lock(batch_mutex_);  // one writer gathers at a time: its files are consecutive
    // Near the end, the files left are shared among the writers rather than one taking them all.
    const size_t left = files_.files.size() - std::min(taken_, files_.files.size());
    const size_t writers = std::max<size_t>(1, writers_.size());
    const size_t most = std::clamp<size_t>((left + writers - 1) / writers, 1,
                                           static_cast<size_t>(std::max(1, options_.files_per_transaction)));
    while (batch.size() < most) {
      std::optional<SpooledWork> item = std::move(held_);
      held_.reset();
      if (!item) item = queue_.Pop();
      if (!item) break;
      if (!batch.empty() && !(item->work->key.dataset == batch.front().work->key.dataset)) {
        held_ = std::move(item);  // another dataset: it starts the next batch
        break;
      }
      batch.push_back(std::move(*item));
    }
    taken_ += batch.size();
    // Downloads finish out of order: the files go by day, so that each ticker's rows reach the
    // primary key in ascending time (PostgreSQL then appends at the index's right edge instead of
    // splitting pages in the middle; the merge keeps the batch's file order within a ticker).
    std::sort(batch.begin(), batch.end(), [](const SpooledWork& a, const SpooledWork& b) {
      return a.work->key.day.DaysSinceEpoch() < b.work->key.day.DaysSinceEpoch();
    });
    return !batch.empty();
  }

  /// Stores `batch` in one transaction. A file whose bytes turn out damaged (a gzip stream cut
  /// short) is downloaded again, a few times; a file that cannot be read leaves the batch, failed,
  /// and the rest is stored without it. Files left out are removed from `batch`.
  void StoreBatch(BarStore& store, std::vector<SpooledWork>& batch,
                  std::unique_ptr<fetch::FileDownloader>& redownloader) {
    std::vector<int> downloads(batch.size(), 1);
    while (!batch.empty() && !Stopped()) {
      size_t bad = flatfiles::DayFileMerge::npos;
      const Status stored = Store(store, batch, bad);
      if (stored) return;
      const Error& error = stored.error();
      if (error.code == ErrorCode::kDatabase || error.code == ErrorCode::kDatabaseRetryable) {
        Stop(RunOutcome::kDatabase, "database error while storing " + batch.front().work->key.key +
                                        (batch.size() > 1 ? " and " + std::to_string(batch.size() - 1) + " more files" : "") +
                                        ": " + error.ToString() + "; the run is resumable once the database is fixed");
        return;
      }
      if (bad == flatfiles::DayFileMerge::npos) {  // no file to blame: none of them is stored
        for (const SpooledWork& item : batch) Failed(*item.work, error);
        return;
      }
      if (!Redownload(batch[bad], error, downloads[bad], redownloader)) {
        std::filesystem::remove(batch[bad].spool.path);
        batch.erase(batch.begin() + static_cast<std::ptrdiff_t>(bad));
        downloads.erase(downloads.begin() + static_cast<std::ptrdiff_t>(bad));
      }
    }
  }

  /// Fetches a damaged file again; false when it is done with (failed, refused, or given up).
  bool Redownload(SpooledWork& item, const Error& error, int& downloads,
                  std::unique_ptr<fetch::FileDownloader>& redownloader) {
    if (error.code != ErrorCode::kBadResponse || downloads >= kDownloadsPerFile || Stopped()) {
      Failed(*item.work, error);
      return false;
    }
    if (!redownloader) {
      auto created = NewDownloader();
      if (!created) {
        Failed(*item.work, created.error());
        return false;
      }
      redownloader = std::move(*created);
    }
    auto again = Download(*redownloader, *item.work);
    if (!again) return false;
    item.spool = std::move(*again);
    ++downloads;
    return true;
  }

  /// Reads the spooled files side by side into one transaction of `store`; on a file's error,
  /// `bad` names it.
  Status Store(BarStore& store, const std::vector<SpooledWork>& batch, size_t& bad) {
    const flatfiles::Dataset dataset = batch.front().work->key.dataset;
    const Timeframe timeframe = flatfiles::TimeframeOf(dataset.timeframe);
    // What the files store: their own bars when the plan asks for them, and with --derive the
    // coarser bars built from their minute rows in the same pass (no other download or parse).
    const std::vector<Timeframe> timeframes_stored = StoredFrom(plan_, dataset.timeframe);
    const bool own = !timeframes_stored.empty() && timeframes_stored.front() == timeframe;
    const std::vector<Timeframe> derived(timeframes_stored.begin() + (own ? 1 : 0), timeframes_stored.end());
    flatfiles::DayFileReaderOptions reader_options;
    reader_options.max_rows_per_block = kRowsPerBlock;
    reader_options.filter = FilesFilter(plan_, dataset.asset);
    std::vector<flatfiles::DayFileInput> inputs;
    for (const SpooledWork& item : batch) inputs.push_back({item.work->key, item.spool.path});
    std::vector<FileRecord> records(batch.size());
    std::vector<std::string> notes;  // files with rows skipped or restamped
    std::vector<int64_t> derived_bars(derived.size(), 0);
    double parse_s = 0;
    // Called by the store, again from the start if it redoes the transaction.
    const auto produce = [&](const ChunkSink& sink) -> Status {
      std::fill(derived_bars.begin(), derived_bars.end(), 0);
      // The writes waiting for the sink, one stream per timeframe (own first), so that a
      // timeframe's writes stay together in the primary key's order.
      struct Stream {
        std::vector<BarBatch> batches;  // owned bars of the writes
        std::vector<ChunkWrite> writes;
      };
      std::vector<Stream> streams(derived.size() + 1);
      size_t waiting = 0;
      std::vector<std::unordered_set<std::string>> seen(batch.size());  // tickers of each file so far
      // Per file, a ticker's last derived buckets, for a later block of it that continues them.
      std::vector<std::unordered_map<std::string, std::vector<DerivedCarry>>> carries(derived.empty() ? 0 : batch.size());
      const auto flush = [&]() -> Status {
        std::vector<ChunkWrite> writes;
        for (Stream& stream : streams) {
          for (size_t i = 0; i < stream.writes.size(); ++i) {
            stream.writes[i].bars = &stream.batches[i];
            writes.push_back(std::move(stream.writes[i]));
          }
        }
        if (!writes.empty()) BARFILL_TRY(sink(writes));
        for (Stream& stream : streams) {
          stream.writes.clear();
          stream.batches.clear();
        }
        waiting = 0;
        return Ok();
      };
      const auto add = [&](size_t file, size_t stream, const Series& series, BarBatch bars, TimeRange range,
                           int64_t base_aggregates) -> Status {
        ChunkWrite write(Chunk{series, range}, nullptr, 1);
        write.requests = 0;  // files cost no API request
        write.base_aggregates = base_aggregates;
        if (stream > 0) write.derived_from = batch[file].work->key.key;
        waiting += bars.size();
        streams[stream].batches.push_back(std::move(bars));
        streams[stream].writes.push_back(std::move(write));
        return waiting >= kRowsPerSinkCall ? flush() : Ok();
      };
      flatfiles::DayFileMerge merge(inputs, spool_dir_, reader_options, [&](size_t file, const Ticker& ticker, const BarBatch& bars) -> Status {
        // A ticker seen before in this file (rows not in one block) continues after its last
        // bar: its write must not replace what the earlier block wrote.
        const TimeRange day = batch[file].work->range;  // its day and the closed days it accounts for
        const bool again = !seen[file].insert(ticker.symbol()).second;
        const auto n = static_cast<int64_t>(bars.size());
        if (own) BARFILL_TRY(add(file, 0, Series{ticker, timeframe, false}, bars, again ? TimeRange{bars.t.front(), day.to_ms} : day, n));
        if (derived.empty()) return Ok();
        std::vector<DerivedCarry>& carry = carries[file][ticker.symbol()];
        carry.resize(derived.size());
        for (size_t i = 0; i < derived.size(); ++i) {
          BarBatch coarse;
          const int64_t from = DeriveFromMinutes(bars, derived[i].NominalMs(), again ? &carry[i] : nullptr, &carry[i], &coarse);
          derived_bars[i] += static_cast<int64_t>(coarse.size());
          BARFILL_TRY(add(file, i + 1, Series{ticker, derived[i], false}, std::move(coarse), again ? TimeRange{from, day.to_ms} : day, n));
        }
        return Ok();
      });
      const Status read = merge.Run();
      parse_s = merge.read_seconds();
      if (!read) {
        bad = merge.failed_file();
        return read;
      }
      notes.clear();
      for (size_t f = 0; f < batch.size(); ++f) {
        const flatfiles::DayFileSummary& summary = merge.summaries()[f];
        records[f].rows = summary.bars;
        records[f].tickers = static_cast<int64_t>(seen[f].size());
        records[f].bad_rows = summary.bad_rows;
        if (summary.bad_rows > 0 || summary.restamped_rows > 0) notes.push_back(records[f].key + ": " + summary.Describe());
        // A ticker of the plan without a row that day did not trade: that day of it is final too.
        const TimeRange day = batch[f].work->range;
        for (const Ticker& t : plan_.tickers) {
          if (t.asset_class() != dataset.asset || seen[f].contains(t.symbol())) continue;
          if (own) BARFILL_TRY(add(f, 0, Series{t, timeframe, false}, BarBatch{}, day, 0));
          for (size_t i = 0; i < derived.size(); ++i) BARFILL_TRY(add(f, i + 1, Series{t, derived[i], false}, BarBatch{}, day, 0));
        }
      }
      return flush();
    };
    for (size_t f = 0; f < batch.size(); ++f) {
      const SpooledWork& item = batch[f];
      FileRecord& record = records[f];
      record.key = item.work->key.key;
      record.etag = item.spool.info.etag;
      record.size = item.spool.info.size;
      record.last_modified_ms = item.work->object.last_modified_ms;
      record.all_tickers = plan_.all_tickers.has_value() && plan_.ticker_prefixes.empty() && plan_.exclude.empty();
      // The timeframes stored from it; with every ticker, those an earlier load of this version stored too.
      std::vector<std::string> timeframes = record.all_tickers ? SplitList(item.work->stored_before) : std::vector<std::string>{};
      for (const Timeframe& tf : timeframes_stored) {
        if (std::find(timeframes.begin(), timeframes.end(), tf.ToString()) == timeframes.end()) timeframes.push_back(tf.ToString());
      }
      for (const std::string& tf : timeframes) record.timeframes += (record.timeframes.empty() ? "" : ",") + tf;
    }
    Status stored;
    {
      BusyScope busy(db_busy_);
      stored = store.CommitFiles(records, produce);
    }
    std::lock_guard lock(mutex_);
    parse_s_ += parse_s;
    if (!stored) return stored;
    fetched_ += static_cast<int64_t>(batch.size());
    for (const FileRecord& record : records) {
      rows_ += record.rows;
      stored_rows_ += own ? record.rows : 0;
      bad_rows_ += record.bad_rows;
    }
    for (size_t i = 0; i < derived.size(); ++i) {
      derived_bars_[derived[i].ToString()] += derived_bars[i];
      stored_rows_ += derived_bars[i];
    }
    for (std::string& note : notes) notes_.push_back(std::move(note));
    if (options_.observer != nullptr) options_.observer->OnCommitted(batch.size());
    return Ok();
  }

  ProgressSnapshot Snapshot(Stopwatch::time_point start) {
    ProgressSnapshot s;
    s.phase = "flat files";
    s.elapsed_s = SecondsSince(start);
    std::lock_guard lock(mutex_);
    s.files_total = static_cast<int64_t>(files_.files.size());
    s.files_settled = fetched_ + failed_ + refused_;
    s.files_failed = failed_;
    s.bytes = downloads_.bytes;
    s.rows = rows_;
    s.requests = downloads_.requests;
    return s;
  }

  const Plan& plan_;
  const FilePlan& files_;
  const FilePassOptions& options_;
  const std::vector<BarStore*> writers_;
  const std::string spool_dir_;
  std::unordered_set<std::string> plan_tickers_;
  BoundedQueue<SpooledWork> queue_;
  std::mutex batch_mutex_;               // held while a writer gathers its batch
  std::optional<SpooledWork> held_;      // a file of another dataset, for the next batch
  size_t taken_ = 0;                     // files the writers took so far
  std::atomic<size_t> next_file_{0};
  RunStop stop_;
  BusyClock download_busy_;
  BusyClock db_busy_;

  std::mutex mutex_;  // guards everything below
  fetch::FileDownloadStats downloads_;
  int64_t fetched_ = 0;
  int64_t failed_ = 0;
  int64_t refused_ = 0;
  int64_t rows_ = 0;
  int64_t bad_rows_ = 0;
  int64_t stored_rows_ = 0;  // bars stored: the file's own (when planned) and derived ones
  std::map<std::string, int64_t> derived_bars_;  // --derive: bars built from minute rows, by timeframe
  double parse_s_ = 0;
  std::vector<std::string> notes_;
  std::vector<FailureRecord> failures_;
};

}  // namespace

void RunFilePass(const Plan& plan, const FilePlan& files, const FilePassOptions& options,
                 std::span<BarStore* const> writers, RunReport& report) {
  if (files.files.empty()) return;
  std::string spool_dir = options.spool_dir;
  bool own_dir = false;
  if (spool_dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/barfill-spool.XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      report.outcome = RunOutcome::kRefused;
      report.stop_reason = "cannot create a spool directory under " + pattern.substr(0, pattern.rfind('/'));
      return;
    }
    spool_dir = pattern;
    own_dir = true;
  }
  FilePass pass(plan, files, options, writers, spool_dir);
  pass.Run(report);
  if (own_dir) {
    std::error_code ignored;
    std::filesystem::remove_all(spool_dir, ignored);
  }
}

}  // namespace barfill::engine
