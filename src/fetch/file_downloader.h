// Fetching one flat file: the whole object to a spool file on local disk, resumed with Range
// after a transport failure (only the missing bytes are asked for again), started over when the
// vendor replaced the object mid-download, retried with the REST path's policy and budget. The
// spool lets a database transaction that has to be redone re-read the file without downloading
// it again, and keeps memory flat whatever the file's size.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "fetch/retry_policy.h"
#include "flatfiles/s3_client.h"

namespace barfill::fetch {

/// What downloading files cost; the caller adds these up. Times in seconds.
struct FileDownloadStats {
  int64_t requests = 0;  ///< GETs sent (first attempts, resumes and retries)
  int64_t resumes = 0;   ///< GETs that asked for the rest of an object (Range)
  int64_t restarts = 0;  ///< objects replaced mid-download and fetched again from byte 0
  int64_t bytes = 0;     ///< compressed bytes received
  double network_s = 0;  ///< in GETs
  double backoff_s = 0;  ///< sleeping between attempts

  void Add(const FileDownloadStats& other);
};

/// A downloaded object: where its bytes are, and which version they are.
struct SpooledFile {
  std::string path;
  flatfiles::ObjectInfo info;  ///< the ETag and size of the bytes in `path`
};

/// One per downloading thread (it owns an S3 client and its connections); not thread-safe.
class FileDownloader {
 public:
  /// `budget` is shared by the run (null: a private one); `clock` null: the real one; `cancel`
  /// may be null.
  static Result<std::unique_ptr<FileDownloader>> Create(flatfiles::S3Options options, const RetrySettings& retry,
                                                        RetryBudget* budget, Clock* clock,
                                                        const std::atomic<bool>* cancel);
  ~FileDownloader();

  /// Downloads `key` into `spool_path` (overwritten). Errors: kAuth (credentials refused: stop
  /// the run), kNotFound (404, or a 403 on this object: absent or not entitled), kNetworkGaveUp
  /// (attempts or budget spent), kInterrupted, kUsage/kConfig (bad options).
  Result<SpooledFile> Download(const std::string& key, const std::string& spool_path, FileDownloadStats& stats);

 private:
  struct Impl;
  explicit FileDownloader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace barfill::fetch
