#include "engine/file_pass.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <semaphore>
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

/// Files a batch reads at once: the first batch is read while the database waits, the later ones
/// beside the writers' COPY. One per core, at most four.
size_t ReadThreads() {
  return std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
}

/// A downloaded file on its way to a writer.
struct SpooledWork {
  const FileWork* work = nullptr;
  fetch::SpooledFile spool;
};

/// A batch of files read once (its blocks wait in the merge's scratch file) and stored by every
/// writer, each the tickers of its part (DayFileMerge::PartStarts) in a transaction of its own:
/// one parse, and each writer's rows are its own stretch of the primary key.
struct ReadBatch {
  std::vector<SpooledWork> files;
  std::unique_ptr<flatfiles::DayFileMerge> merge;
  Timeframe timeframe;             // the files' own
  bool own = false;                // the plan stores the files' own bars
  std::vector<Timeframe> derived;  // --derive: built from their minutes
  std::vector<FileRecord> records;
  std::vector<std::string> notes;  // files with rows skipped or restamped

  std::mutex mutex;  // guards below
  size_t parts_left = 0;
  bool failed = false;
  std::vector<int64_t> tickers;       // per file: tickers stored, over the parts
  std::vector<int64_t> derived_bars;  // per derived timeframe
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
    for (size_t i = 0; i < writers_.size(); ++i) parts_.push_back(std::make_unique<BoundedQueue<std::shared_ptr<ReadBatch>>>(1));
  }

  void Run(RunReport& report) {
    const auto start = Stopwatch::now();
    RunObserver* observer = options_.observer;
    ProgressTicker progress(observer != nullptr ? options_.progress_interval : std::chrono::milliseconds(0),
                            [&] { return Snapshot(start); },
                            [observer](const ProgressSnapshot& s) { observer->OnProgress(s); });
    std::vector<std::thread> writer_threads;
    for (size_t part = 0; part < writers_.size(); ++part) {
      writer_threads.emplace_back([this, part] { WriterLoop(*writers_[part], part); });
    }
    std::thread reader([this] { ReaderLoop(); });
    std::vector<std::thread> downloaders;
    const int count = std::max(1, std::min<int>(options_.downloaders, static_cast<int>(files_.files.size())));
    for (int i = 0; i < count; ++i) downloaders.emplace_back([this] { DownloaderLoop(); });
    progress.Start();
    for (std::thread& t : downloaders) t.join();
    queue_.Close();
    reader.join();
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

  /// Reads the downloaded files, a batch at a time, and hands each batch to every writer.
  /// At most two batches are out at once: one being stored while the next is read.
  void ReaderLoop() {
    std::unique_ptr<fetch::FileDownloader> redownloader;  // for files whose bytes were damaged
    std::vector<SpooledWork> files;
    while (NextBatch(files)) {
      batches_out_.acquire();
      std::shared_ptr<ReadBatch> batch = Stopped() ? nullptr : Read(files, redownloader);
      if (batch == nullptr) {
        for (const SpooledWork& item : files) std::filesystem::remove(item.spool.path);
        batches_out_.release();
        continue;
      }
      batch->parts_left = parts_.size();
      for (auto& part : parts_) part->Push(batch);
    }
    for (auto& part : parts_) part->Close();
  }

  /// Ends the run on a database error while `doing` something with `batch`'s files.
  void StopOnDatabase(std::string_view doing, const ReadBatch& batch, const Error& error) {
    const size_t more = batch.files.size() - 1;
    Stop(RunOutcome::kDatabase, "database error while " + std::string(doing) + " " + batch.files.front().work->key.key +
                                    (more > 0 ? " and " + std::to_string(more) + " more files" : "") + ": " +
                                    error.ToString() + "; the run is resumable once the database is fixed");
  }

  /// Writer `part` stores its part of every batch.
  void WriterLoop(BarStore& store, size_t part) {
    while (std::optional<std::shared_ptr<ReadBatch>> batch = parts_[part]->Pop()) {
      bool stored = false;
      if (!Stopped()) {
        const Status status = StorePart(store, **batch, part);
        if (!status) StopOnDatabase("storing", **batch, status.error());
        stored = static_cast<bool>(status);
      }
      FinishPart(store, *batch, stored);
    }
  }

  /// The next files of one dataset for one batch, as many as options allow, spread evenly over
  /// the batches the files left make. False once every file is taken.
  bool NextBatch(std::vector<SpooledWork>& batch) {
    batch.clear();
    const size_t left = files_.files.size() - std::min(taken_, files_.files.size());
    const auto per_batch = static_cast<size_t>(std::max(1, options_.files_per_transaction));
    const size_t batches = std::max<size_t>(1, (left + per_batch - 1) / per_batch);
    const size_t most = std::max<size_t>(1, (left + batches - 1) / batches);
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

  /// Reads `files` (gunzip, CSV, checks) into a merge's scratch file. A file whose bytes turn out
  /// damaged (a gzip stream cut short) is downloaded again, a few times; a file that cannot be
  /// read leaves the batch, failed, and is removed. Null when no file is left.
  std::shared_ptr<ReadBatch> Read(std::vector<SpooledWork>& files, std::unique_ptr<fetch::FileDownloader>& redownloader) {
    const flatfiles::Dataset dataset = files.front().work->key.dataset;
    flatfiles::DayFileReaderOptions reader_options;
    reader_options.max_rows_per_block = kRowsPerBlock;
    reader_options.filter = FilesFilter(plan_, dataset.asset);
    std::vector<int> downloads(files.size(), 1);
    while (!files.empty() && !Stopped()) {
      std::vector<flatfiles::DayFileInput> inputs;
      for (const SpooledWork& item : files) inputs.push_back({item.work->key, item.spool.path});
      auto merge = std::make_unique<flatfiles::DayFileMerge>(std::move(inputs), spool_dir_, reader_options);
      merge->set_read_threads(ReadThreads());
      const Status read = merge->Read();
      {
        std::lock_guard lock(mutex_);
        parse_s_ += merge->read_seconds();
      }
      if (read) return NewBatch(std::move(files), std::move(merge));
      const size_t bad = merge->failed_file();
      if (bad == flatfiles::DayFileMerge::npos) {  // no file to blame: none of them is stored
        for (const SpooledWork& item : files) Failed(*item.work, read.error());
        return nullptr;
      }
      if (!Redownload(files[bad], read.error(), downloads[bad], redownloader)) {
        std::filesystem::remove(files[bad].spool.path);
        files.erase(files.begin() + static_cast<std::ptrdiff_t>(bad));
        downloads.erase(downloads.begin() + static_cast<std::ptrdiff_t>(bad));
      }
    }
    return nullptr;
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

  /// A batch whose files are read: what it stores, and the files' ledger rows.
  std::shared_ptr<ReadBatch> NewBatch(std::vector<SpooledWork> files, std::unique_ptr<flatfiles::DayFileMerge> merge) {
    auto batch = std::make_shared<ReadBatch>();
    batch->files = std::move(files);
    batch->merge = std::move(merge);
    const flatfiles::Dataset dataset = batch->files.front().work->key.dataset;
    batch->timeframe = flatfiles::TimeframeOf(dataset.timeframe);
    // What the files store: their own bars when the plan asks for them, and with --derive the
    // coarser bars built from their minute rows in the same pass (no other download or parse).
    const std::vector<Timeframe> timeframes_stored = StoredFrom(plan_, dataset.timeframe);
    batch->own = !timeframes_stored.empty() && timeframes_stored.front() == batch->timeframe;
    batch->derived.assign(timeframes_stored.begin() + (batch->own ? 1 : 0), timeframes_stored.end());
    batch->derived_bars.assign(batch->derived.size(), 0);
    batch->tickers.assign(batch->files.size(), 0);
    batch->records.resize(batch->files.size());
    for (size_t f = 0; f < batch->files.size(); ++f) {
      const SpooledWork& item = batch->files[f];
      const flatfiles::DayFileSummary& summary = batch->merge->summaries()[f];
      FileRecord& record = batch->records[f];
      record.key = item.work->key.key;
      record.etag = item.spool.info.etag;
      record.size = item.spool.info.size;
      record.last_modified_ms = item.work->object.last_modified_ms;
      record.rows = summary.bars;
      record.bad_rows = summary.bad_rows;
      if (summary.bad_rows > 0 || summary.restamped_rows > 0) batch->notes.push_back(record.key + ": " + summary.Describe());
      record.all_tickers = plan_.all_tickers.has_value() && plan_.ticker_prefixes.empty() && plan_.exclude.empty();
      // The timeframes stored from it; with every ticker, those an earlier load of this version stored too.
      std::vector<std::string> timeframes = record.all_tickers ? SplitList(item.work->stored_before) : std::vector<std::string>{};
      for (const Timeframe& tf : timeframes_stored) {
        if (std::find(timeframes.begin(), timeframes.end(), tf.ToString()) == timeframes.end()) timeframes.push_back(tf.ToString());
      }
      for (const std::string& tf : timeframes) record.timeframes += (record.timeframes.empty() ? "" : ",") + tf;
    }
    return batch;
  }

  /// Stores the tickers of `part` of `batch` in one transaction of `store`. With one writer that
  /// transaction records the files too; with several, the last writer to finish records them
  /// (FinishPart), once every part is in.
  Status StorePart(BarStore& store, ReadBatch& batch, size_t part) {
    const size_t parts = parts_.size();
    const Timeframe timeframe = batch.timeframe;
    const bool own = batch.own;
    const std::vector<Timeframe>& derived = batch.derived;
    const AssetClass asset = batch.files.front().work->key.dataset.asset;
    std::vector<int64_t> derived_bars(derived.size(), 0);
    std::vector<std::unordered_set<std::string>> seen(batch.files.size());  // tickers of each file so far
    const std::vector<Ticker> starts = batch.merge->PartStarts(parts);
    std::vector<Ticker> part_tickers;  // the plan's listed tickers in this part
    for (const Ticker& t : plan_.tickers) {
      if (t.asset_class() == asset && flatfiles::DayFileMerge::PartOf(starts, t) == part) part_tickers.push_back(t);
    }
    // Called by the store, again from the start if it redoes the transaction.
    const auto produce = [&](const ChunkSink& sink) -> Status {
      std::fill(derived_bars.begin(), derived_bars.end(), 0);
      for (auto& tickers : seen) tickers.clear();
      // The writes waiting for the sink, one stream per timeframe (own first), so that a
      // timeframe's writes stay together in the primary key's order.
      struct Stream {
        std::vector<BarBatch> batches;  // owned bars of the writes
        std::vector<ChunkWrite> writes;
      };
      std::vector<Stream> streams(derived.size() + 1);
      size_t waiting = 0;
      // Per file, a ticker's last derived buckets, for a later block of it that continues them.
      std::vector<std::unordered_map<std::string, std::vector<DerivedCarry>>> carries(derived.empty() ? 0 : batch.files.size());
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
        if (stream > 0) write.derived_from = batch.files[file].work->key.key;
        waiting += bars.size();
        streams[stream].batches.push_back(std::move(bars));
        streams[stream].writes.push_back(std::move(write));
        return waiting >= kRowsPerSinkCall ? flush() : Ok();
      };
      const Status emitted = batch.merge->Emit(starts, part, [&](size_t file, const Ticker& ticker, const BarBatch& bars) -> Status {
        // A ticker seen before in this file (rows not in one block) continues after its last
        // bar: its write must not replace what the earlier block wrote.
        const TimeRange day = batch.files[file].work->range;  // its day and the closed days it accounts for
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
      BARFILL_TRY(emitted);
      for (size_t f = 0; f < batch.files.size(); ++f) {
        // A ticker of the plan (of this part) without a row that day did not trade: that day of it is final too.
        const TimeRange day = batch.files[f].work->range;
        for (const Ticker& t : part_tickers) {
          if (seen[f].contains(t.symbol())) continue;
          if (own) BARFILL_TRY(add(f, 0, Series{t, timeframe, false}, BarBatch{}, day, 0));
          for (size_t i = 0; i < derived.size(); ++i) BARFILL_TRY(add(f, i + 1, Series{t, derived[i], false}, BarBatch{}, day, 0));
        }
      }
      if (parts == 1) {
        for (size_t f = 0; f < batch.files.size(); ++f) batch.records[f].tickers = static_cast<int64_t>(seen[f].size());
      }
      return flush();
    };
    Status stored;
    {
      BusyScope busy(db_busy_);
      stored = store.CommitFiles(parts == 1 ? std::span<const FileRecord>(batch.records) : std::span<const FileRecord>(), produce);
    }
    if (!stored) return stored;
    std::lock_guard lock(batch.mutex);
    for (size_t f = 0; f < seen.size(); ++f) batch.tickers[f] += static_cast<int64_t>(seen[f].size());
    for (size_t i = 0; i < derived.size(); ++i) batch.derived_bars[i] += derived_bars[i];
    return Ok();
  }

  /// Ends writer `store`'s part of `batch`. The last part to end records the files (several
  /// writers: in a transaction of its own, after every part committed; a crash before it leaves
  /// the files to load again, and a load replaces their days), counts them, and frees the batch.
  void FinishPart(BarStore& store, const std::shared_ptr<ReadBatch>& batch, bool stored) {
    {
      std::lock_guard lock(batch->mutex);
      batch->failed = batch->failed || !stored;
      if (--batch->parts_left > 0) return;
    }
    bool recorded = !batch->failed;  // every part is in: recorded even when the run stops now
    if (recorded && parts_.size() > 1) {
      for (size_t f = 0; f < batch->records.size(); ++f) batch->records[f].tickers = batch->tickers[f];
      Status status;
      {
        BusyScope busy(db_busy_);
        status = store.CommitFiles(batch->records, [](const ChunkSink&) { return Ok(); });
      }
      if (!status) {
        StopOnDatabase("recording", *batch, status.error());
        recorded = false;
      }
    }
    if (recorded) Counted(*batch);
    for (const SpooledWork& item : batch->files) std::filesystem::remove(item.spool.path);
    batch->merge.reset();  // its scratch file goes now, not when the last pointer to the batch goes
    batches_out_.release();
  }

  /// Adds a stored batch to the pass's counts.
  void Counted(ReadBatch& batch) {
    std::lock_guard lock(mutex_);
    fetched_ += static_cast<int64_t>(batch.files.size());
    for (const FileRecord& record : batch.records) {
      rows_ += record.rows;
      stored_rows_ += batch.own ? record.rows : 0;
      bad_rows_ += record.bad_rows;
    }
    for (size_t i = 0; i < batch.derived.size(); ++i) {
      derived_bars_[batch.derived[i].ToString()] += batch.derived_bars[i];
      stored_rows_ += batch.derived_bars[i];
    }
    for (std::string& note : batch.notes) notes_.push_back(std::move(note));
    if (options_.observer != nullptr) options_.observer->OnCommitted(batch.files.size());
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
  BoundedQueue<SpooledWork> queue_;     // downloaded files, for the reader
  std::optional<SpooledWork> held_;     // a file of another dataset, for the next batch (reader's)
  size_t taken_ = 0;                    // files the reader took so far
  std::vector<std::unique_ptr<BoundedQueue<std::shared_ptr<ReadBatch>>>> parts_;  // per writer: batches to store
  std::counting_semaphore<> batches_out_{2};  // batches read and not yet stored: one stored, one read ahead
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
