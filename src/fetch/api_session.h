// One fetcher thread's session with the API: its HTTP connection(s), JSON parser and retry
// policy, and the loop that sends one request under the shared rate limiter, reads the answer and
// retries as the policy and the run's budget allow (docs/design.md §6-§7). ChunkFetcher (ranges)
// and GroupedFetcher (grouped daily) both ask through it, so both count, classify, back off and
// give up alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/ticker.h"
#include "fetch/chunk_fetcher.h"
#include "http/http_client.h"
#include "polygon/aggs_parser.h"
#include "polygon/aggs_request.h"

namespace barfill::fetch {

/// Reads one HTTP answer (its status and a body with `capacity` >= size + kParsePadding readable
/// bytes) into the caller's result. Returns the body's status (a DELAYED one is counted and noted)
/// or the classified error, which decides whether the request is retried (IsRetryable).
using AnswerReader = std::function<Result<polygon::PageStatus>(
    polygon::AggsParser& parser, int http_status, const char* data, size_t size, size_t capacity)>;

/// One per fetcher thread; not thread-safe itself.
class ApiSession {
 public:
  explicit ApiSession(const FetchShared& shared);
  ~ApiSession();
  ApiSession(const ApiSession&) = delete;
  ApiSession& operator=(const ApiSession&) = delete;

  /// Ok, or why the configured base URL cannot be used (then every request would fail).
  const Status& setup() const;
  /// The base URL, normalized (no trailing slash).
  const std::string& base_url() const;
  const polygon::Origin& origin() const;
  const FetchConfig& config() const;

  bool Cancelled() const;
  static Error Interrupted();

  /// The timeouts of a request for `asset`; also sets its attempts. Both come from the asset's
  /// profile unless the configuration says otherwise; --stall-timeout wins.
  http::RequestTimeouts PrepareFor(AssetClass asset);

  /// Every attempt at one request: rate limiter, GET, `read`, and retries with backoff while the
  /// policy and the run's retry budget allow. `what` names the request in errors ("AAPL 1d
  /// 2024-...", "grouped daily stocks 2025-03-10"); `url` is the URL without credentials.
  /// `requested_at_ms` (may be null) gets the wall clock (Unix ms) when the answering request was sent.
  /// Errors: as ChunkFetcher::Fetch.
  Status Request(std::string_view what, const std::string& url, const http::RequestTimeouts& timeouts,
                 const AnswerReader& read, FetchStats& stats, int64_t* requested_at_ms);

  /// `error` prefixed with `what`, carrying `url` as its request; the key removed from both.
  Error InContext(std::string_view what, Error error, const std::string& url) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace barfill::fetch
