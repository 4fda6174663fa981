// GETs of API pages for one fetcher thread: the shared rate limiter in front of every request, the
// retry policy and the run's retry budget around it, errors classified by what the caller should
// do and never showing the key. ChunkFetcher (aggregates) and ActionsFetcher (splits, dividends)
// both ask through it, so every endpoint is paced and retried alike. Internal to src/fetch.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "fetch/chunk_fetcher.h"
#include "http/http_client.h"
#include "polygon/aggs_request.h"

namespace barfill::fetch {

class ApiClient {
 public:
  explicit ApiClient(const FetchShared& shared);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  /// Ok, or why every request fails (a bad base URL).
  const Status& setup() const;
  /// The base URL without trailing slashes, and its origin (next_url must stay on it).
  const std::string& base_url() const;
  const polygon::Origin& origin() const;
  const FetchConfig& config() const;
  /// Attempts per request from now on (asset profiles differ).
  void SetMaxAttempts(int attempts);

  /// Reads one answer: the endpoint's parser. An error is classified like any other (retryable
  /// or not); on success the caller keeps what it parsed.
  using Reader = std::function<Status(const http::HttpResponse& response)>;

  /// GETs `url` (without credentials; the key is added as configured) until `read` accepts an
  /// answer, retrying what IsRetryable allows within the attempts and the run's budget. Errors:
  /// kAuth, kBadRequest, kInvalidData and kBadResponse as `read` or the HTTP status say,
  /// kNetworkGaveUp (attempts or budget spent; the message holds the last error), kInterrupted.
  /// Messages start with `context` and never hold the key. `requested_at_ms` (may be null)
  /// receives when the answering request was sent (Unix ms).
  Status Get(const std::string& url, const http::RequestTimeouts& timeouts, const Reader& read, FetchStats& stats,
             std::string_view context, int64_t* requested_at_ms = nullptr);

  /// `error` prefixed with `context`, its request set to `url`, the key removed from both.
  Error InContext(std::string_view context, Error error, const std::string& url) const;
  /// Whether the run was asked to stop.
  bool Cancelled() const;
  /// A warning for the user (thread-safe), if the run listens.
  void Warn(const std::string& line) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace barfill::fetch
