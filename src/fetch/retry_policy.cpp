#include "fetch/retry_policy.h"

#include <algorithm>

namespace barfill::fetch {
namespace {

// 2^kMaxShift x base already exceeds any sensible cap; stop doubling there to avoid overflow.
constexpr int kMaxShift = 30;

}  // namespace

bool RetryBudget::TryRetry() {
  int64_t used = retries_.load(std::memory_order_relaxed);
  for (;;) {
    const double allowed = ratio_ * static_cast<double>(first_attempts()) + static_cast<double>(min_retries_);
    if (static_cast<double>(used + 1) > allowed) {
      refused_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    if (retries_.compare_exchange_weak(used, used + 1, std::memory_order_relaxed)) return true;
  }
}

RetryPolicy::RetryPolicy(const RetrySettings& settings, uint64_t seed) : settings_(settings), rng_(seed) {}

bool RetryPolicy::ShouldRetry(const Error& error, int attempt) const {
  return IsRetryable(error) && attempt < settings_.max_attempts;
}

std::chrono::milliseconds RetryPolicy::Backoff(int retry) {
  const int shift = std::clamp(retry - 1, 0, kMaxShift);
  const int64_t ceiling =
      std::min(settings_.max_backoff_ms, std::max<int64_t>(0, settings_.base_backoff_ms) << shift);
  std::uniform_int_distribution<int64_t> pick(0, std::max<int64_t>(0, ceiling));
  return std::chrono::milliseconds(pick(rng_));
}

std::chrono::milliseconds RetryPolicy::DelayFor(const Error& error, int retry) {
  const std::chrono::milliseconds backoff = Backoff(retry);
  if (!error.retry_after) return backoff;
  const auto advised = std::min(*error.retry_after, std::chrono::milliseconds(settings_.retry_after_cap_ms));
  return std::max(backoff, advised);
}

}  // namespace barfill::fetch
