#include "fetch/file_downloader.h"

#include <chrono>
#include <cstdio>
#include <random>

namespace barfill::fetch {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// An open spool file, closed however the download ends.
class Spool {
 public:
  explicit Spool(const std::string& path) : path_(path) { Reopen(); }
  ~Spool() {
    if (file_ != nullptr) std::fclose(file_);
  }
  bool ok() const { return file_ != nullptr; }
  /// Empties the spool: the object is read again from byte 0.
  void Reopen() {
    if (file_ != nullptr) std::fclose(file_);
    file_ = std::fopen(path_.c_str(), "wb");
  }
  Status Write(std::string_view bytes) {
    if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
      return Fail(ErrorCode::kInternal, "cannot write the spool file " + path_ + " (disk full?)");
    }
    return Ok();
  }
  Status Close() {
    const bool closed = std::fclose(file_) == 0;
    file_ = nullptr;
    if (!closed) return Fail(ErrorCode::kInternal, "cannot write the spool file " + path_ + " (disk full?)");
    return Ok();
  }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace

void FileDownloadStats::Add(const FileDownloadStats& o) {
  requests += o.requests;
  resumes += o.resumes;
  restarts += o.restarts;
  bytes += o.bytes;
  network_s += o.network_s;
  backoff_s += o.backoff_s;
}

struct FileDownloader::Impl {
  std::unique_ptr<flatfiles::S3Client> client;
  RetryPolicy policy;
  RetryBudget* budget;
  std::unique_ptr<RetryBudget> own_budget;
  Clock* clock;
  const std::atomic<bool>* cancel;

  Impl(std::unique_ptr<flatfiles::S3Client> c, const RetrySettings& retry, RetryBudget* b, Clock* k,
       const std::atomic<bool>* stop)
      : client(std::move(c)), policy(retry, std::random_device{}()), budget(b), clock(k != nullptr ? k : &RealClock()),
        cancel(stop) {
    if (budget == nullptr) {
      own_budget = std::make_unique<RetryBudget>(retry);
      budget = own_budget.get();
    }
  }

  bool Cancelled() const { return cancel != nullptr && cancel->load(std::memory_order_relaxed); }

  Result<SpooledFile> Download(const std::string& key, const std::string& spool_path, FileDownloadStats& stats) {
    Spool spool(spool_path);
    if (!spool.ok()) return Fail(ErrorCode::kInternal, "cannot create the spool file " + spool_path);
    flatfiles::ObjectDownload download(client.get(), key);
    budget->RecordFirstAttempt();
    for (int attempt = 1;; ++attempt) {
      if (Cancelled()) return Fail(ErrorCode::kInterrupted, "interrupted");
      const int64_t before = download.received();
      const auto start = std::chrono::steady_clock::now();
      const Status step = download.Continue([&](std::string_view bytes) { return spool.Write(bytes); });
      stats.network_s += SecondsSince(start);
      ++stats.requests;
      if (before > 0 && !download.replaced()) ++stats.resumes;
      stats.bytes += download.received() - before;
      if (step) break;
      Error error = step.error();
      if (download.replaced()) {
        // The vendor republished the file while we read it: what we have is stale.
        ++stats.restarts;
        spool.Reopen();
        download = flatfiles::ObjectDownload(client.get(), key);
      }
      if (!policy.ShouldRetry(error, attempt)) {
        if (!IsRetryable(error)) return Fail(std::move(error));
        error.code = ErrorCode::kNetworkGaveUp;
        error.message = key + ": gave up after " + std::to_string(attempt) + " attempts: " + error.message;
        return Fail(std::move(error));
      }
      if (!budget->TryRetry()) {
        error.code = ErrorCode::kNetworkGaveUp;
        error.message = key + ": the run's retry budget is spent; last error: " + error.message;
        return Fail(std::move(error));
      }
      const Clock::TimePoint sleep_start = clock->Now();
      const bool slept = clock->SleepFor(policy.DelayFor(error, attempt), cancel);
      stats.backoff_s += std::chrono::duration<double>(clock->Now() - sleep_start).count();
      if (!slept) return Fail(ErrorCode::kInterrupted, "interrupted");
    }
    BARFILL_TRY(spool.Close());
    SpooledFile file;
    file.path = spool_path;
    file.info.key = key;
    file.info.etag = download.etag();
    file.info.size = download.size();
    return file;
  }
};

Result<std::unique_ptr<FileDownloader>> FileDownloader::Create(flatfiles::S3Options options, const RetrySettings& retry,
                                                               RetryBudget* budget, Clock* clock,
                                                               const std::atomic<bool>* cancel) {
  auto client = flatfiles::S3Client::Create(std::move(options));
  if (!client) return Fail(client.error());
  return std::unique_ptr<FileDownloader>(
      new FileDownloader(std::make_unique<Impl>(std::move(*client), retry, budget, clock, cancel)));
}

FileDownloader::FileDownloader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FileDownloader::~FileDownloader() = default;

Result<SpooledFile> FileDownloader::Download(const std::string& key, const std::string& spool_path,
                                             FileDownloadStats& stats) {
  return impl_->Download(key, spool_path, stats);
}

}  // namespace barfill::fetch
