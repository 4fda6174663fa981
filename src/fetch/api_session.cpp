#include "fetch/api_session.h"

#include <atomic>
#include <chrono>
#include <random>
#include <vector>

#include "core/clock.h"
#include "fetch/asset_profile.h"
#include "fetch/rate_limiter.h"

namespace barfill::fetch {
namespace {

static_assert(http::kBodyPadding >= polygon::kParsePadding,
              "HTTP bodies must carry the parser's padding so that they parse in place");

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

struct ApiSession::Impl {
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
  Status setup;  // a bad base URL fails every request with a clear message

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

  // Prefixes what is fetched and fills in the sanitized request URL.
  Error InContext(std::string_view what, Error error, const std::string& shown_url) const {
    error.message = http::Redact(std::string(what) + ": " + error.message, {config.api_key});
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

  // One attempt: rate limiter, HTTP, `read` (which leaves the caller's result untouched on error).
  Result<polygon::PageStatus> Attempt(const std::string& url, const http::RequestTimeouts& timeouts,
                                      const AnswerReader& read, FetchStats& stats, int64_t* requested_at_ms) {
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
    if (requested_at_ms != nullptr) {
      *requested_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
    }
    const auto net_start = std::chrono::steady_clock::now();
    auto got = http.Get(wire_url, headers, timeouts);
    stats.network_s += SecondsSince(net_start);
    if (!got) return Fail(std::move(got).error());
    const http::HttpResponse& response = **got;
    stats.bytes += static_cast<int64_t>(response.body.size());

    const auto parse_start = std::chrono::steady_clock::now();
    auto status = read(parser, response.status, response.body.data(), response.body.size(),
                       response.body.size() + http::kBodyPadding);
    stats.parse_s += SecondsSince(parse_start);
    if (!status) {
      Error error = std::move(status).error();
      error.retry_after = response.retry_after;
      if (!response.request_id.empty()) error.message += " [request " + response.request_id + "]";
      return Fail(std::move(error));
    }
    return status;
  }

  // All attempts at one request, with backoff between them.
  Status Request(std::string_view what, const std::string& url, const http::RequestTimeouts& timeouts,
                 const AnswerReader& read, FetchStats& stats, int64_t* requested_at_ms) {
    for (int attempt = 1;; ++attempt) {
      if (attempt == 1) {
        budget->RecordFirstAttempt();
      } else {
        ++stats.retries;
      }
      auto status = Attempt(url, timeouts, read, stats, requested_at_ms);
      if (status) {
        if (limiter != nullptr) limiter->OnSuccess();
        ++stats.pages;
        if (*status == polygon::PageStatus::kDelayed) {
          ++stats.delayed_pages;
          if (warn) warn("note: the API answers with status DELAYED (the plan gets delayed data); the bars are stored");
        }
        return Ok();
      }
      Error error = std::move(status).error();
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
        if (!IsRetryable(error)) return Fail(InContext(what, std::move(error), url));
        Error gave_up = error;
        // A server that keeps answering garbage fails this request's range (exit 1); a network
        // that keeps failing gives up the run's network (exit 5, resumable).
        gave_up.code = error.code == ErrorCode::kBadResponse ? ErrorCode::kBadResponse : ErrorCode::kNetworkGaveUp;
        gave_up.message = "gave up after " + std::to_string(attempt) + " attempts: " + error.message;
        return Fail(InContext(what, std::move(gave_up), url));
      }
      if (!budget->TryRetry()) {
        Error gave_up = error;
        gave_up.code = ErrorCode::kNetworkGaveUp;
        gave_up.message = "the run's retry budget is spent (" + std::to_string(budget->retries()) +
                          " retries); last error: " + error.message;
        return Fail(InContext(what, std::move(gave_up), url));
      }
      const Clock::Duration delay = policy.DelayFor(error, attempt);
      const Clock::TimePoint sleep_start = clock->Now();
      const bool slept = clock->SleepFor(delay, cancel);
      stats.backoff_s += Seconds(clock->Now() - sleep_start);
      if (!slept) return Fail(Interrupted());
    }
  }
};

ApiSession::ApiSession(const FetchShared& shared) : impl_(std::make_unique<Impl>(shared)) {}
ApiSession::~ApiSession() = default;

const Status& ApiSession::setup() const { return impl_->setup; }
const std::string& ApiSession::base_url() const { return impl_->base_url; }
const polygon::Origin& ApiSession::origin() const { return impl_->origin; }
const FetchConfig& ApiSession::config() const { return impl_->config; }
bool ApiSession::Cancelled() const { return impl_->Cancelled(); }
Error ApiSession::Interrupted() { return Error(ErrorCode::kInterrupted, "interrupted"); }

http::RequestTimeouts ApiSession::PrepareFor(AssetClass asset) {
  const FetchConfig& config = impl_->config;
  http::RequestTimeouts timeouts;
  if (config.use_asset_profiles) {
    const AssetProfile& profile = ProfileFor(asset);
    impl_->policy.set_max_attempts(profile.max_attempts);
    timeouts.low_speed_time_ms = profile.low_speed_time_ms;
    timeouts.request_timeout_ms = profile.request_timeout_ms;
  }
  if (config.stall_timeout_ms > 0) timeouts.low_speed_time_ms = config.stall_timeout_ms;
  return timeouts;
}

Status ApiSession::Request(std::string_view what, const std::string& url, const http::RequestTimeouts& timeouts,
                           const AnswerReader& read, FetchStats& stats, int64_t* requested_at_ms) {
  return impl_->Request(what, url, timeouts, read, stats, requested_at_ms);
}

Error ApiSession::InContext(std::string_view what, Error error, const std::string& url) const {
  return impl_->InContext(what, std::move(error), url);
}

}  // namespace barfill::fetch
