// The rate limit every barfill worker with one API key shares, as one PostgreSQL row
// (barfill_rate, keyed by a hash of the key, never the key): GCRA's theoretical arrival time, the
// pause after a 429 and the AIMD interval. A worker reserves a few request slots with one short
// statement; the database's clock orders them, so the fleet as a whole keeps the rate whatever
// the number of workers or hosts (docs/workers.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "store/bar_store.h"

namespace barfill::store {

/// The limit as one worker configures it; workers of one key should agree.
struct SharedRateSettings {
  std::string key_hash;         ///< RateKeyHash(api key)
  int64_t min_interval_us = 0;  ///< between requests at the configured rate (after the safety margin)
  int64_t max_interval_us = 0;  ///< at the lowest rate AIMD may cut to
  int burst = 1;                ///< requests that may go back to back after an idle spell
  int recover_after = 20;       ///< answers without a 429 before one additive step
  int recover_step_permille = 100;    ///< share of the configured rate one step adds back
  int decrease_permille = 500;        ///< the rate is multiplied by this on a 429 episode
};

/// Slots granted by one reservation, as offsets from when the answer arrived.
struct RateSlots {
  int64_t base_us = 0;      ///< GCRA's arrival time of the first slot (may be far ahead)
  int64_t interval_us = 0;  ///< between slots, at the rate enforced now
  int64_t tolerance_us = 0;  ///< how far before its arrival time a slot may go (the burst)
  /// When slot k (0-based) may go: never before now.
  int64_t SlotUs(int k) const {
    const int64_t at = base_us + k * interval_us - tolerance_us;
    return at > 0 ? at : 0;
  }
};

/// The row as `barfill status` shows it.
struct SharedRateState {
  double rate_per_s = 0;  ///< enforced now
  int64_t rate_limited = 0;  ///< 429s reported by any worker
  int64_t decreases = 0;
  int64_t paused_for_ms = 0;  ///< > 0 while everyone pauses
};

/// "sha256:" and the hex SHA-256 of the key with a barfill prefix: names the row without the key.
std::string RateKeyHash(std::string_view api_key);

/// One connection to the row of one key (reopened after a lost connection); one thread at a time.
class SharedRateRow {
 public:
  /// Connects and creates the row if it is missing. PostgreSQL only.
  static Result<std::unique_ptr<SharedRateRow>> Open(const std::string& db_url, SharedRateSettings settings,
                                                     const StoreOptions& options = {});
  ~SharedRateRow();

  /// Reserves `n` consecutive slots; `successes` are answers without a 429 since the last call
  /// (they earn the rate back, AIMD).
  Result<RateSlots> Reserve(int n, int successes);
  /// A 429: every worker of the key pauses `pause_us` from now; the first report of an episode
  /// also cuts the rate.
  Status Pause(int64_t pause_us);
  Result<SharedRateState> Read();

 private:
  struct Impl;
  explicit SharedRateRow(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace barfill::store
