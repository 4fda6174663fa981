#include "fetch/rate_limiter.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace barfill::fetch {
namespace {

constexpr double kFreePerMinute = 5;
constexpr double kPaidPerSecond = 100;
constexpr std::string_view kRateHint = "(e.g. 150/min, 100/s, free, paid)";

std::string FormatNumber(double v) {
  char buf[32];
  const auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, ec == std::errc() ? ptr : buf);
}

Clock::Duration Seconds(double s) {
  return std::chrono::duration_cast<Clock::Duration>(std::chrono::duration<double>(s));
}

}  // namespace

RateSpec RateSpec::Unlimited() {
  return RateSpec{std::numeric_limits<double>::infinity(), "unlimited"};
}

bool RateSpec::unlimited() const { return std::isinf(per_second); }

Result<RateSpec> ParseRate(std::string_view text) {
  const std::string shown(text);
  if (text == "free") return RateSpec{kFreePerMinute / 60, "5/min"};
  if (text == "paid") return RateSpec{kPaidPerSecond, "100/s"};
  const size_t slash = text.find('/');
  const auto bad = [&] {
    return Fail(ErrorCode::kUsage, "rate '" + shown + "' is not a rate " + std::string(kRateHint));
  };
  if (slash == std::string_view::npos) return bad();
  const std::string_view number = text.substr(0, slash);
  const std::string_view unit = text.substr(slash + 1);
  double n = 0;
  const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
  if (number.empty() || ec != std::errc() || ptr != number.data() + number.size() || !std::isfinite(n)) {
    return bad();
  }
  if (n <= 0) return Fail(ErrorCode::kUsage, "rate must be > 0 " + std::string(kRateHint));
  if (unit == "min" || unit == "m") return RateSpec{n / 60, FormatNumber(n) + "/min"};
  if (unit == "s" || unit == "sec") return RateSpec{n, FormatNumber(n) + "/s"};
  return bad();
}

RateLimiter::RateLimiter(RateSpec spec, Clock& clock, RateLimiterOptions options)
    : spec_(std::move(spec)),
      clock_(clock),
      options_(options),
      max_rate_(spec_.per_second * (1 - std::clamp(options.safety_margin, 0.0, 0.5))),
      burst_([&] {
        if (options.burst > 0) return options.burst;
        if (spec_.unlimited()) return kMaxAutoBurst;
        // In any 60 s window GCRA lets through (rate x 60) + burst requests; the margin leaves
        // room for margin x per-minute extra ones.
        const double spare = spec_.per_minute() * options.safety_margin;
        return std::clamp(static_cast<int>(std::floor(spare)), 1, kMaxAutoBurst);
      }()),
      rate_(max_rate_) {}

Clock::Duration RateLimiter::Interval() const {
  if (std::isinf(rate_)) return Clock::Duration::zero();
  return Seconds(1.0 / rate_);
}

Status RateLimiter::Acquire(const std::atomic<bool>* cancel, Clock::Duration* waited) {
  if (options_.shared != nullptr) return AcquireShared(cancel, waited);
  const Clock::TimePoint start = clock_.Now();
  for (;;) {
    Clock::TimePoint wake;
    {
      std::lock_guard lock(mutex_);
      const Clock::TimePoint now = clock_.Now();
      const Clock::Duration interval = Interval();
      const Clock::Duration tolerance = interval * (burst_ - 1);
      const Clock::TimePoint allowed = std::max(tat_ - tolerance, paused_until_);
      if (now >= allowed) {
        tat_ = std::max(tat_, now) + interval;
        if (waited != nullptr) *waited = now - start;
        return Ok();
      }
      wake = allowed;
    }
    if (!clock_.SleepUntil(wake, cancel)) {
      if (waited != nullptr) *waited = clock_.Now() - start;
      return Fail(ErrorCode::kInterrupted, "interrupted while waiting for the rate limiter");
    }
  }
}

int RateLimiter::SharedBatch() const {
  // About 50 ms of the rate, at least one slot, at most a burst's worth.
  return std::clamp(static_cast<int>(std::floor(max_rate_ * 0.05)), 1, kMaxAutoBurst);
}

Status RateLimiter::AcquireShared(const std::atomic<bool>* cancel, Clock::Duration* waited) {
  const Clock::TimePoint start = clock_.Now();
  const auto interrupted = [&] {
    if (waited != nullptr) *waited = clock_.Now() - start;
    return Fail(ErrorCode::kInterrupted, "interrupted while waiting for the rate limiter");
  };
  for (;;) {
    Clock::TimePoint slot;
    {
      std::unique_lock lock(shared_mutex_);
      const Clock::TimePoint now = clock_.Now();
      // A slot left unused for longer than an interval is dropped: sent now, it would bunch up
      // with the fleet's next ones.
      while (!slots_.empty() && slots_.front() + shared_interval_ < now) slots_.pop_front();
      if (slots_.empty()) {
        auto grant = options_.shared->Reserve(SharedBatch(), successes_.exchange(0));
        if (!grant) {
          // The database is away (restarting?): no slot, no request; ask again shortly.
          lock.unlock();
          if (!clock_.SleepFor(std::chrono::milliseconds(500), cancel)) return interrupted();
          continue;
        }
        const Clock::TimePoint granted = clock_.Now();
        shared_interval_ = grant->interval;
        for (const Clock::Duration offset : grant->slots) slots_.push_back(granted + offset);
        if (slots_.empty()) continue;
      }
      slot = slots_.front();
      slots_.pop_front();
      std::lock_guard local(mutex_);
      slot = std::max(slot, paused_until_);  // a 429 this process saw since the reservation
    }
    if (!clock_.SleepUntil(slot, cancel)) return interrupted();
    if (waited != nullptr) *waited = clock_.Now() - start;
    return Ok();
  }
}

void RateLimiter::OnSuccess() {
  if (options_.shared != nullptr) successes_.fetch_add(1);
  std::lock_guard lock(mutex_);
  if (rate_ >= max_rate_) return;
  if (++success_run_ < options_.recover_after) return;
  success_run_ = 0;
  rate_ = std::min(max_rate_, rate_ + max_rate_ * options_.recover_step);
}

Clock::Duration RateLimiter::PauseFor(std::optional<std::chrono::milliseconds> retry_after) const {
  if (retry_after) {
    return std::min<Clock::Duration>(*retry_after, std::chrono::milliseconds(options_.retry_after_cap_ms));
  }
  // Without advice, wait a couple of request slots (at least min_pause), so that a sliding
  // window on the server gets room.
  const Clock::Duration pause = std::max<Clock::Duration>(std::chrono::milliseconds(options_.min_pause_ms),
                                                          std::isinf(rate_) ? Clock::Duration::zero() : Interval() * 2);
  return std::min<Clock::Duration>(pause, std::chrono::milliseconds(options_.retry_after_cap_ms));
}

void RateLimiter::OnRateLimited(std::optional<std::chrono::milliseconds> retry_after) {
  if (options_.shared != nullptr) {
    // Everyone sharing the limit pauses: the row's arrival time moves past the pause, so the
    // slots this process holds would fall into it; they go.
    Clock::Duration pause;
    {
      std::lock_guard lock(mutex_);
      pause = PauseFor(retry_after);
    }
    {
      std::lock_guard shared(shared_mutex_);
      slots_.clear();
      (void)options_.shared->Pause(pause);  // the local pause below holds even if this fails
    }
  }
  std::lock_guard lock(mutex_);
  const Clock::TimePoint now = clock_.Now();
  success_run_ = 0;
  const Clock::Duration pause = PauseFor(retry_after);
  const bool new_episode = !decreased_once_ || now >= paused_until_;
  paused_until_ = std::max(paused_until_, now + pause);
  if (new_episode) {
    // Requests already in flight when the first 429 came back must not cut the rate again.
    if (!std::isinf(rate_)) {
      rate_ = std::max(max_rate_ * options_.min_rate_fraction, rate_ * options_.decrease_factor);
    }
    decreased_once_ = true;
    ++decreases_;
  }
  // After the pause: one request, then the (lowered) rate; no burst straight into the limit.
  const Clock::Duration tolerance = Interval() * (burst_ - 1);
  tat_ = std::max(tat_, paused_until_ + tolerance);
}

double RateLimiter::CurrentRate() const {
  std::lock_guard lock(mutex_);
  return rate_;
}

int64_t RateLimiter::decreases() const {
  std::lock_guard lock(mutex_);
  return decreases_;
}

}  // namespace barfill::fetch
