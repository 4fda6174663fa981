// Per-asset-class settings: how long a chunk may be so that one request stays under the API's
// base-aggregate limit, and how patient to be with each request.
#pragma once

#include <cstdint>

#include "core/ticker.h"
#include "core/timeframe.h"

namespace barfill::fetch {

struct AssetProfile {
  AssetClass asset = AssetClass::kStock;
  /// Base minutes a trading day can hold: 960 for US stocks (04:00-20:00 New York), 1440 for
  /// markets that trade around the clock.
  int64_t base_minutes_per_day = 960;
  int max_attempts = 6;
  int64_t low_speed_time_ms = 20'000;
  int64_t request_timeout_ms = 300'000;
};

/// Base aggregates one request aims at, a margin below the API's 50,000 so that a session that
/// runs long never pushes a chunk over the limit.
inline constexpr int64_t kTargetBaseAggregatesPerRequest = 45'000;
/// Day-or-longer bars are chunked on calendar years divisible by this (2025, 2030, ...): one
/// request holds years of them, but a failure should not throw away more than this.
inline constexpr int kDailyChunkYears = 5;
/// The longest such chunk in days.
inline constexpr int64_t kMaxDailyChunkDays = kDailyChunkYears * 366;

const AssetProfile& ProfileFor(AssetClass asset);

/// The longest chunk (in ms) of `timeframe` bars for `asset` whose request covers at most
/// kTargetBaseAggregatesPerRequest base aggregates: 31 days of minutes for crypto, 46 for stocks.
int64_t MaxChunkMs(const Timeframe& timeframe, AssetClass asset);

}  // namespace barfill::fetch
