// Fetching one chunk: every page of its range, under the shared rate limiter, with retries,
// parsed straight into a columnar batch and validated. This is the engine's only door to the API.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/bar.h"
#include "core/clock.h"
#include "core/result.h"
#include "core/series.h"
#include "fetch/retry_policy.h"

namespace barfill::fetch {

class RateLimiter;


/// Settings of the HTTP layer (libcurl). Timeouts in ms.
struct HttpSettings {
  int64_t connect_timeout_ms = 10'000;
  int64_t request_timeout_ms = 300'000;  ///< whole transfer, a generous cap
  int64_t low_speed_bytes_per_s = 1024;  ///< below this for low_speed_time_ms = black hole
  int64_t low_speed_time_ms = 20'000;
  int64_t max_connection_age_ms = 50'000;  ///< retire idle connections before servers drop them
  std::string ca_file;                     ///< extra CA bundle, e.g. for a self-signed test server
  std::string user_agent = "barfill/0.1";
  bool compressed = true;  ///< Accept-Encoding gzip & co: far fewer bytes from the real API
};

struct FetchConfig {
  std::string base_url = "https://api.polygon.io";
  std::string api_key;           ///< never logged, never in an error or report
  bool api_key_in_query = false;  ///< send ?apiKey= (re-appended to next_url) instead of Bearer
  int page_limit = 50000;         ///< `limit` sent with every request
  HttpSettings http;
  RetrySettings retry;
  /// Take max_attempts, low_speed_time_ms and request_timeout_ms from the ticker's AssetProfile
  /// instead of `retry`/`http`.
  bool use_asset_profiles = true;
  /// When > 0, overrides every profile's low-speed time: how long a transfer may stall below
  /// low_speed_bytes_per_s before it is abandoned and retried (--stall-timeout).
  int64_t stall_timeout_ms = 0;
};

/// What fetching cost; the caller adds these to the run's totals. Times in seconds.
struct FetchStats {
  int64_t requests = 0;      ///< HTTP requests sent (pages and their retries)
  int64_t pages = 0;         ///< pages received and parsed successfully
  int64_t retries = 0;       ///< requests that were retries
  int64_t rate_limited = 0;  ///< 429 responses
  int64_t server_errors = 0;     ///< 5xx/408 responses
  int64_t transport_errors = 0;  ///< resets, timeouts, truncated transfers
  int64_t bad_responses = 0;     ///< invalid JSON, count mismatch
  int64_t bytes = 0;             ///< body bytes received (after decompression)
  int64_t duplicates_dropped = 0;  ///< identical duplicate bars removed
  int64_t reordered = 0;           ///< batches that arrived out of order and were sorted
  int64_t delayed_pages = 0;       ///< pages with status DELAYED
  double network_s = 0;        ///< waiting for HTTP responses
  double parse_s = 0;          ///< JSON parsing and validation
  double limiter_wait_s = 0;   ///< waiting for the rate limiter
  double backoff_s = 0;        ///< sleeping between retries

  void Add(const FetchStats& other);
};

/// Everything fetchers share: one rate limiter per API key, one retry budget, one clock. A null
/// limiter means no rate limit, a null budget a private one from `config.retry`, a null clock
/// the real one.
struct FetchShared {
  FetchConfig config;
  RateLimiter* limiter = nullptr;
  RetryBudget* budget = nullptr;
  Clock* clock = nullptr;
  const std::atomic<bool>* cancel = nullptr;  ///< set on SIGINT/SIGTERM: stop waiting, give up
  /// A line for the user (a capped Retry-After, DELAYED data); called from fetcher threads, so
  /// it must be thread-safe. May be empty.
  std::function<void(const std::string&)> warn;
};

/// One page of a range, as Begin/NextPage hand them out.
struct FetchedPage {
  /// The part of the range this page answers for: from where it was asked to the start of the
  /// next page (the from of its next_url, on a bar boundary), or to the range's end for the last.
  /// Its bars replace exactly this part.
  TimeRange range;
  int64_t query_count = -1;      ///< base aggregates the API read for it (queryCount); -1 unknown
  int requests = 1;              ///< requests it took, retries included
  bool last = false;             ///< the range has no more pages
  int64_t requested_at_ms = 0;   ///< wall clock (Unix ms) when its answering request was sent
};

/// One per fetcher thread: owns its HTTP connection(s); not thread-safe itself.
class ChunkFetcher {
 public:
  explicit ChunkFetcher(const FetchShared& shared);
  ~ChunkFetcher();
  ChunkFetcher(const ChunkFetcher&) = delete;
  ChunkFetcher& operator=(const ChunkFetcher&) = delete;

  /// Fetches all pages of `chunk` into `out` (cleared first): sorted by t, duplicates removed,
  /// every bar validated and inside the chunk's range. A failed page is retried alone; pages
  /// already received are kept. Errors: kAuth (stop the run), kBadRequest or kInvalidData (this
  /// chunk fails), kNetworkGaveUp (attempts or the run's retry budget exhausted; the message
  /// holds the last error), kInterrupted (cancelled).
  Status Fetch(const Chunk& chunk, BarBatch& out, FetchStats& stats);

  /// Starts a range: the next NextPage asks for all of `range` with the configured limit and
  /// later ones follow next_url, so a range costs as few requests as the API allows.
  void Begin(const Chunk& range);
  /// Fetches the next page of the range begun into `out` (cleared): bars sorted by t, unique,
  /// validated and inside the page's range. A failed page is retried alone. Errors as Fetch;
  /// after an error, or after the last page, call Begin again.
  Result<FetchedPage> NextPage(BarBatch& out, FetchStats& stats);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace barfill::fetch
