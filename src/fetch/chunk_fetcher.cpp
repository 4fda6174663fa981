#include "fetch/chunk_fetcher.h"

#include <chrono>
#include <random>
#include <thread>

#include "fetch/asset_profile.h"
#include "fetch/bar_validator.h"
#include "core/clock.h"
#include "fetch/rate_limiter.h"
#include "http/http_client.h"
#include "polygon/aggs_parser.h"
#include "polygon/aggs_request.h"

namespace barfill::fetch {
namespace {

static_assert(http::kBodyPadding >= polygon::kParsePadding,
              "HTTP bodies must carry the parser's padding so that they parse in place");

// A chunk needing more pages than this is a server bug, not data.
constexpr int kMaxPagesPerChunk = 10'000;

double Seconds(Clock::Duration d) { return std::chrono::duration<double>(d).count(); }

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

uint64_t FreshSeed() {
  static std::atomic<uint64_t> counter{0};
  std::random_device device;
  return (uint64_t{device()} << 32) ^ device() ^ (counter.fetch_add(1) * 0x9E3779B97F4A7C15ull);
}

http::HttpOptions MakeHttpOptions(const FetchConfig& config) {
  http::HttpOptions o;
  o.connect_timeout_ms = config.http.connect_timeout_ms;
  o.request_timeout_ms = config.http.request_timeout_ms;
  o.low_speed_bytes_per_s = config.http.low_speed_bytes_per_s;
  o.low_speed_time_ms = config.http.low_speed_time_ms;
  o.max_connection_age_ms = config.http.max_connection_age_ms;
  o.ca_file = config.http.ca_file;
  o.user_agent = config.http.user_agent;
  o.compressed = config.http.compressed;
  if (!config.api_key.empty()) o.secrets.push_back(config.api_key);
  return o;
}

}  // namespace

void FetchStats::Add(const FetchStats& o) {
  requests += o.requests;
  pages += o.pages;
  retries += o.retries;
  rate_limited += o.rate_limited;
  server_errors += o.server_errors;
  transport_errors += o.transport_errors;
  bad_responses += o.bad_responses;
  bytes += o.bytes;
  duplicates_dropped += o.duplicates_dropped;
  reordered += o.reordered;
  delayed_pages += o.delayed_pages;
  network_s += o.network_s;
  parse_s += o.parse_s;
  limiter_wait_s += o.limiter_wait_s;
  backoff_s += o.backoff_s;
}

struct ChunkFetcher::Impl {
  FetchConfig config;
  Clock* clock;
  RateLimiter* limiter;
  RetryBudget* budget;
  const std::atomic<bool>* cancel;
  std::function<void(const std::string&)> warn;
  int64_t retry_cap_ms;
  std::unique_ptr<RetryBudget> own_budget;

  std::string base_url;
  polygon::Origin origin;
  Status setup;  // a bad base URL fails every Fetch with a clear message

  http::HttpClient http;
  polygon::AggsParser parser;
  RetryPolicy policy;
  std::vector<std::string> headers;

  explicit Impl(const FetchShared& shared)
      : config(shared.config),
        clock(shared.clock != nullptr ? shared.clock : &RealClock()),
        limiter(shared.limiter),
        budget(shared.budget),
        cancel(shared.cancel),
        warn(shared.warn),
        retry_cap_ms(shared.config.retry.retry_after_cap_ms),
        http(MakeHttpOptions(shared.config)),
        policy(shared.config.retry, FreshSeed()) {
    if (budget == nullptr) {
      own_budget = std::make_unique<RetryBudget>(config.retry);
      budget = own_budget.get();
    }
    auto normalized = polygon::NormalizeBaseUrl(config.base_url);
    if (!normalized) {
      Error e = std::move(normalized).error();
      e.message = "base URL '" + http::Redact(config.base_url, {config.api_key}) + "': " + e.message;
      setup = Fail(std::move(e));
    } else {
      base_url = *normalized;
      origin = *polygon::ParseOrigin(base_url);
    }
    headers.push_back("Accept: application/json");
    if (!config.api_key.empty() && !config.api_key_in_query) {
      headers.push_back("Authorization: Bearer " + config.api_key);
    }
  }

  bool Cancelled() const { return cancel != nullptr && cancel->load(std::memory_order_relaxed); }

  Error Interrupted() const { return Error(ErrorCode::kInterrupted, "interrupted"); }

  // Prefixes the chunk and fills in the sanitized request URL.
  Error InContext(const Chunk& chunk, Error error, const std::string& shown_url) const {
    error.message = http::Redact(chunk.Describe() + ": " + error.message, {config.api_key});
    // The URL as built, before any apiKey was appended (redacted again all the same).
    error.request = http::Redact(shown_url, {config.api_key});
    return error;
  }

  void Count(const Error& error, FetchStats& stats) const {
    switch (error.code) {
      case ErrorCode::kRateLimited: ++stats.rate_limited; break;
      case ErrorCode::kServerError: ++stats.server_errors; break;
      case ErrorCode::kTransport: ++stats.transport_errors; break;
      case ErrorCode::kBadResponse: ++stats.bad_responses; break;
      default: break;
    }
  }

  // One attempt at one page: rate limiter, HTTP, parse into `out` (appended; untouched on error).
  Result<polygon::AggsPage> Attempt(const std::string& url, const http::RequestTimeouts& timeouts,
                                    const polygon::ParseOptions& parse_options, BarBatch& out,
                                    FetchStats& stats, int64_t* requested_at_ms) {
    if (limiter != nullptr) {
      Clock::Duration waited{};
      const Status acquired = limiter->Acquire(cancel, &waited);
      stats.limiter_wait_s += Seconds(waited);
      if (!acquired) return Fail(acquired.error());
    }
    if (Cancelled()) return Fail(Interrupted());
    const std::string wire_url = config.api_key_in_query && !config.api_key.empty()
                                     ? polygon::WithApiKey(url, config.api_key)
                                     : url;
    ++stats.requests;
    *requested_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    const auto net_start = std::chrono::steady_clock::now();
    auto got = http.Get(wire_url, headers, timeouts);
    stats.network_s += SecondsSince(net_start);
    if (!got) return Fail(std::move(got).error());
    const http::HttpResponse& response = **got;
    stats.bytes += static_cast<int64_t>(response.body.size());

    const auto parse_start = std::chrono::steady_clock::now();
    auto page = polygon::ReadAggsResponse(parser, response.status, response.body.data(),
                                          response.body.size(),
                                          response.body.size() + http::kBodyPadding, out,
                                          parse_options);
    stats.parse_s += SecondsSince(parse_start);
    if (!page) {
      Error error = std::move(page).error();
      error.retry_after = response.retry_after;
      if (!response.request_id.empty()) error.message += " [request " + response.request_id + "]";
      return Fail(std::move(error));
    }
    return page;
  }

  // All attempts at one page, with backoff between them.
  Result<polygon::AggsPage> FetchPage(const Chunk& chunk, const std::string& url,
                                      const http::RequestTimeouts& timeouts,
                                      const polygon::ParseOptions& parse_options, BarBatch& out,
                                      FetchStats& stats, int64_t* requested_at_ms) {
    for (int attempt = 1;; ++attempt) {
      if (attempt == 1) {
        budget->RecordFirstAttempt();
      } else {
        ++stats.retries;
      }
      auto page = Attempt(url, timeouts, parse_options, out, stats, requested_at_ms);
      if (page) {
        if (limiter != nullptr) limiter->OnSuccess();
        ++stats.pages;
        if (page->status == polygon::PageStatus::kDelayed) {
          ++stats.delayed_pages;
          if (warn) warn("note: the API answers with status DELAYED (the plan gets delayed data); the bars are stored");
        }
        return page;
      }
      Error error = std::move(page).error();
      if (error.code == ErrorCode::kInterrupted) return Fail(std::move(error));
      Count(error, stats);
      if (error.retry_after && *error.retry_after > std::chrono::milliseconds(retry_cap_ms) && warn) {
        warn("warning: the API asked to wait " + std::to_string(error.retry_after->count() / 1000) +
             " s (Retry-After); waiting at most " + std::to_string(retry_cap_ms / 1000) + " s at a time");
      }
      if (error.code == ErrorCode::kRateLimited) {
        if (limiter != nullptr) limiter->OnRateLimited(error.retry_after);
      } else if (limiter != nullptr && error.http_status != 0) {
        limiter->OnSuccess();  // the server answered; only 429s speak about the rate
      }
      if (!policy.ShouldRetry(error, attempt)) {
        if (!IsRetryable(error)) return Fail(InContext(chunk, std::move(error), url));
        Error gave_up = error;
        // A server that keeps answering garbage fails this chunk (exit 1); a network that keeps
        // failing gives up the run's network (exit 5, resumable).
        gave_up.code = error.code == ErrorCode::kBadResponse ? ErrorCode::kBadResponse : ErrorCode::kNetworkGaveUp;
        gave_up.message = "gave up after " + std::to_string(attempt) + " attempts: " + error.message;
        return Fail(InContext(chunk, std::move(gave_up), url));
      }
      if (!budget->TryRetry()) {
        Error gave_up = error;
        gave_up.code = ErrorCode::kNetworkGaveUp;
        gave_up.message = "the run's retry budget is spent (" + std::to_string(budget->retries()) +
                          " retries); last error: " + error.message;
        return Fail(InContext(chunk, std::move(gave_up), url));
      }
      const Clock::Duration delay = policy.DelayFor(error, attempt);
      const Clock::TimePoint sleep_start = clock->Now();
      const bool slept = clock->SleepFor(delay, cancel);
      stats.backoff_s += Seconds(clock->Now() - sleep_start);
      if (!slept) return Fail(Interrupted());
    }
  }

  // The range being fetched and where its next page starts.
  Chunk range;
  std::string next_url;  // empty before the first page
  int64_t next_from = 0;
  int pages = 0;
  bool done = true;

  void Begin(const Chunk& chunk) {
    range = chunk;
    next_url.clear();
    next_from = chunk.range.from_ms;
    pages = 0;
    done = false;
  }

  Result<FetchedPage> NextPage(BarBatch& out, FetchStats& stats) {
    out.clear();
    if (!setup) return Fail(setup.error());
    if (done) return Fail(ErrorCode::kInternal, "NextPage called without a range to fetch");
    if (Cancelled()) return Fail(Interrupted());
    done = true;  // until this page succeeds and another one follows
    const AssetClass asset = range.series.ticker.asset_class();
    http::RequestTimeouts timeouts;
    if (config.use_asset_profiles) {
      const AssetProfile& profile = ProfileFor(asset);
      policy.set_max_attempts(profile.max_attempts);
      timeouts.low_speed_time_ms = profile.low_speed_time_ms;
      timeouts.request_timeout_ms = profile.request_timeout_ms;
    }
    if (config.stall_timeout_ms > 0) timeouts.low_speed_time_ms = config.stall_timeout_ms;
    polygon::ParseOptions parse_options;
    parse_options.volume_optional = asset == AssetClass::kIndex;

    std::string url = next_url;
    if (url.empty()) {
      auto first_url = polygon::BuildAggsUrl(base_url, polygon::AggsRequest::ForChunk(range, config.page_limit));
      if (!first_url) return Fail(InContext(range, std::move(first_url).error(), ""));
      url = std::move(*first_url);
    }
    if (++pages > kMaxPagesPerChunk) {
      return Fail(InContext(range, Error(ErrorCode::kInvalidData, "more than " + std::to_string(kMaxPagesPerChunk) + " pages"), url));
    }
    FetchedPage fetched;
    const int64_t requests_before = stats.requests;
    auto page = FetchPage(range, url, timeouts, parse_options, out, stats, &fetched.requested_at_ms);
    fetched.requests = static_cast<int>(stats.requests - requests_before);
    if (!page) return Fail(std::move(page).error());
    fetched.query_count = page->query_count;
    fetched.range.from_ms = next_from;
    fetched.range.to_ms = range.range.to_ms;
    if (!page->next_url.empty()) {
      auto following = polygon::CheckNextUrl(page->next_url, origin, range.series.ticker.symbol(), next_from);
      if (!following) {
        // Retrying would only bring the same bad link back: fail the range, loudly.
        Error error = std::move(following).error();
        error.code = ErrorCode::kInvalidData;
        return Fail(InContext(range, std::move(error), url));
      }
      // The next page starts on the bar boundary at or before its `from`, as the API snaps it.
      const int64_t boundary = BucketStart(range.series.timeframe, range.series.ticker.zone(), *following);
      if (boundary <= next_from) {
        return Fail(InContext(range, Error(ErrorCode::kInvalidData, "next_url does not start a later bar"), url));
      }
      if (boundary < range.range.to_ms) {
        fetched.range.to_ms = boundary;
        next_from = boundary;
        next_url = std::move(page->next_url);
        done = false;
      }
    }
    fetched.last = done;

    const auto validate_start = std::chrono::steady_clock::now();
    ValidationReport report;
    const Status valid = ValidateBars(Chunk{range.series, fetched.range}, out, report);
    stats.parse_s += SecondsSince(validate_start);
    stats.duplicates_dropped += report.duplicates_dropped;
    if (report.reordered) ++stats.reordered;
    if (!valid) {
      out.clear();
      done = true;
      return Fail(InContext(range, valid.error(), url));
    }
    return fetched;
  }

  Status Fetch(const Chunk& chunk, BarBatch& out, FetchStats& stats) {
    out.clear();
    Begin(chunk);
    BarBatch page;
    while (true) {
      auto fetched = NextPage(page, stats);
      if (!fetched) {
        out.clear();
        return Fail(std::move(fetched).error());
      }
      out.Append(page);
      if (fetched->last) return Ok();
    }
  }
};

ChunkFetcher::ChunkFetcher(const FetchShared& shared) : impl_(std::make_unique<Impl>(shared)) {}
ChunkFetcher::~ChunkFetcher() = default;

Status ChunkFetcher::Fetch(const Chunk& chunk, BarBatch& out, FetchStats& stats) {
  return impl_->Fetch(chunk, out, stats);
}

void ChunkFetcher::Begin(const Chunk& range) { impl_->Begin(range); }

Result<FetchedPage> ChunkFetcher::NextPage(BarBatch& out, FetchStats& stats) { return impl_->NextPage(out, stats); }

}  // namespace barfill::fetch
