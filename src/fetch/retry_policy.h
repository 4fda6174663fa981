// When to retry a failed page request and how long to wait: full-jitter exponential backoff,
// a per-page attempt limit, and a per-run retry budget so that a dead API cannot cause a storm.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>

#include "core/result.h"

namespace barfill::fetch {

/// Retry behaviour: full-jitter exponential backoff, per-request attempts, per-run budget.
struct RetrySettings {
  int max_attempts = 6;                 ///< attempts per page request
  int64_t base_backoff_ms = 250;
  int64_t max_backoff_ms = 30'000;
  int64_t retry_after_cap_ms = 120'000;  ///< a larger Retry-After is capped (and reported)
  double budget_ratio = 0.2;            ///< retries may be at most this share of requests...
  int64_t budget_min_retries = 100;     ///< ...plus this many, before the run gives up (exit 5)
};

/// The run's retry allowance, shared by every fetcher: retries <= ratio x first attempts + min.
class RetryBudget {
 public:
  RetryBudget(double ratio, int64_t min_retries) : ratio_(ratio), min_retries_(min_retries) {}
  explicit RetryBudget(const RetrySettings& settings)
      : RetryBudget(settings.budget_ratio, settings.budget_min_retries) {}

  /// A request that is not a retry (it earns budget).
  void RecordFirstAttempt() { first_attempts_.fetch_add(1, std::memory_order_relaxed); }
  /// Takes one retry from the budget; false when it is spent.
  bool TryRetry();

  int64_t first_attempts() const { return first_attempts_.load(std::memory_order_relaxed); }
  int64_t retries() const { return retries_.load(std::memory_order_relaxed); }
  int64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  const double ratio_;
  const int64_t min_retries_;
  std::atomic<int64_t> first_attempts_{0};
  std::atomic<int64_t> retries_{0};
  std::atomic<int64_t> refused_{0};
};

/// Per-fetcher (not thread-safe: it owns a random generator).
class RetryPolicy {
 public:
  RetryPolicy(const RetrySettings& settings, uint64_t seed);

  /// Whether a page that failed with `error` on attempt number `attempt` (1-based) gets another
  /// attempt: IsRetryable(error) and attempts left.
  bool ShouldRetry(const Error& error, int attempt) const;

  /// Full jitter: uniform in [0, min(max_backoff, base x 2^(retry-1))]; `retry` is 1-based.
  std::chrono::milliseconds Backoff(int retry);

  /// The wait before retry `retry` after `error`: the backoff, or the server's Retry-After
  /// (capped at retry_after_cap_ms) when that is longer.
  std::chrono::milliseconds DelayFor(const Error& error, int retry);

  const RetrySettings& settings() const { return settings_; }
  void set_max_attempts(int attempts) { settings_.max_attempts = attempts; }

 private:
  RetrySettings settings_;
  std::mt19937_64 rng_;
};

}  // namespace barfill::fetch
