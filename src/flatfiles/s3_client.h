// A small S3 client for the flat files: ListObjectsV2, HEAD and streamed GET (with Range and
// If-Match for resuming), signed with SigV4 by libcurl. Path-style addressing:
// <endpoint>/<bucket>/<key>. No AWS SDK; no curl type in this header.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "http/http_client.h"

namespace barfill::flatfiles {

/// Where the files are and how to reach them. Timeouts in ms.
struct S3Options {
  std::string endpoint = "https://files.massive.com";  ///< scheme://host[:port], no path
  std::string bucket = "flatfiles";
  std::string region = "us-east-1";  ///< the SigV4 credential scope; no Massive document names one
  std::string access_key_id;         ///< the dashboard's S3 Access Key (not the REST API key)
  std::string secret_access_key;     ///< never printed: removed from every error text
  int64_t connect_timeout_ms = 10'000;
  /// A transfer slower than this many bytes per second for low_speed_time_ms is a stall, and fails.
  int64_t low_speed_bytes_per_s = 1024;
  int64_t low_speed_time_ms = 30'000;
  int64_t list_timeout_ms = 60'000;  ///< one listing page
  int64_t head_timeout_ms = 30'000;
  /// A whole GET; 0 = no limit (a 140 MB file on a slow link takes what it takes; a stall still
  /// ends it).
  int64_t get_timeout_ms = 0;
  std::string ca_file;  ///< extra CA bundle; empty = the system store
  std::string user_agent = "barfill/0.1";
};

/// One object as a listing or a HEAD describes it.
struct ObjectInfo {
  std::string key;
  std::string etag;            ///< without the quotes: 32 hex digits, or "<hex>-N" for multipart
  int64_t size = -1;
  int64_t last_modified_ms = 0;
};

/// One ListObjectsV2 call.
struct ListRequest {
  std::string prefix;
  std::string delimiter;           ///< "/" rolls deeper keys up into common_prefixes
  int max_keys = 1000;             ///< the server caps it at 1000
  std::string continuation_token;  ///< from the previous page's next_continuation_token
  std::string start_after;         ///< only keys after this one
};

/// One page of a listing.
struct ListPage {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_continuation_token;
};

/// The whole listing under a prefix, every page followed.
struct Listing {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> common_prefixes;
  int pages = 0;
};

/// Receives object bytes as they arrive. An error stops the transfer and is returned as is.
using ByteSink = std::function<Status(std::string_view bytes)>;

/// How to GET an object.
struct GetOptions {
  int64_t offset = 0;   ///< start at this byte (a Range request) to resume a download
  std::string if_match; ///< ETag (unquoted) the object must still have, else 412
  /// Called when the answer starts, before its first byte: the object's size and ETag, which a
  /// resume after a failure mid-body pins itself to.
  std::function<void(const ObjectInfo&)> on_start;
};

/// What a finished GET delivered.
struct GetResult {
  ObjectInfo info;         ///< size is the whole object's, also for a ranged GET
  int64_t offset = 0;      ///< first byte delivered
  int64_t bytes = 0;       ///< bytes delivered to the sink
};

/// The S3 client. Not thread-safe: one per thread (each keeps its own keep-alive connections).
///
/// Errors, by what the caller should do (IsRetryable decides retries):
///   kRateLimited (429) and kServerError (5xx, 503 SlowDown included): retry after a backoff;
///   kTransport (reset, stall, timeout): retry; a GET resumes with offset = bytes received;
///   kBadResponse: an unreadable listing, or a 412 (the object was replaced: start it over);
///   kNotFound: 404 NoSuchKey, or 403 AccessDenied on one object: absent or not entitled
///     (outside the plan's history or asset classes, not published yet, agreements unsigned);
///   kAuth: credentials refused (unknown key id, wrong secret, clock skew, listing denied);
///   kConfig: wrong bucket or region; kUsage: bad options or key.
class S3Client {
 public:
  /// Checks the options (endpoint, bucket, credentials) and builds the client.
  static Result<std::unique_ptr<S3Client>> Create(S3Options options);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  /// One page of ListObjectsV2.
  Result<ListPage> List(const ListRequest& request);
  /// Every page under `prefix` (continuation tokens followed), in key order.
  Result<Listing> ListAll(std::string_view prefix, std::string_view delimiter = "");
  /// The object's size, ETag and Last-Modified, without its bytes.
  Result<ObjectInfo> Head(std::string_view key);
  /// Streams the object (from options.offset on) into `sink`. On a transport failure the bytes
  /// already given to the sink stay given: resume with offset += what the sink received, and
  /// if_match = the ETag of the first attempt, so that a replaced object is noticed (412).
  Result<GetResult> Get(std::string_view key, const GetOptions& options, const ByteSink& sink);

  /// The URL of a key: <endpoint>/<bucket>/<key>.
  std::string ObjectUrl(std::string_view key) const;
  const S3Options& options() const { return options_; }
  /// TCP connections opened so far (keep-alive check).
  int64_t connections_opened() const;

 private:
  explicit S3Client(S3Options options);
  /// Sends one signed request; a non-2xx answer becomes the S3 error it names. `subject` is
  /// the key or the listing prefix, for messages.
  Result<http::StreamResponse> Send(http::StreamRequest request, bool listing, std::string_view subject);

  S3Options options_;
  http::SigV4Credentials credentials_;
  std::unique_ptr<http::HttpClient> http_;
};

/// One object's download across attempts: it remembers how far it got and which version (ETag)
/// it was reading, so that each Continue after a failure asks only for the missing bytes, and
/// only of the same version.
///
///   ObjectDownload download(&client, key);
///   while (!download.complete()) {
///     Status s = download.Continue(sink);
///     if (!s && download.replaced()) { ...drop what the sink got, start a fresh reader... }
///     if (!s && !IsRetryable(s.error())) return s;   // else back off and loop
///   }
class ObjectDownload {
 public:
  ObjectDownload(S3Client* client, std::string key);

  /// Fetches the rest of the object into `sink`. On a 412 (the object changed since the first
  /// byte) it fails with kBadResponse, sets replaced(), and the next Continue starts at byte 0.
  /// An error from the sink itself (say, corrupt gzip) ends Continue with that error and keeps
  /// the position: to read the object again from byte 0, use a new ObjectDownload.
  Status Continue(const ByteSink& sink);

  bool complete() const { return complete_; }
  /// The last Continue found the object replaced: what the sink received so far is stale.
  bool replaced() const { return replaced_; }
  int64_t received() const { return received_; }
  int64_t size() const { return size_; }
  const std::string& etag() const { return etag_; }
  const std::string& key() const { return key_; }
  int attempts() const { return attempts_; }
  /// Attempts that started past byte 0 (ranged requests).
  int resumes() const { return resumes_; }

 private:
  S3Client* client_;
  std::string key_;
  std::string etag_;
  int64_t received_ = 0;
  int64_t size_ = -1;
  int64_t last_modified_ms_ = 0;
  bool complete_ = false;
  bool replaced_ = false;
  int attempts_ = 0;
  int resumes_ = 0;
};

/// "%2F"-style RFC 3986 encoding: every byte but A-Z a-z 0-9 - _ . ~ is escaped (upper-case
/// hex); with keep_slash, '/' is kept (for paths).
std::string UriEncode(std::string_view text, bool keep_slash);

/// The query string of `params` sorted by name and RFC 3986-encoded, the canonical form SigV4
/// signs: libcurl 7.88 signs the query exactly as given, so it must already be canonical.
std::string CanonicalQuery(std::vector<std::pair<std::string, std::string>> params);

}  // namespace barfill::flatfiles
