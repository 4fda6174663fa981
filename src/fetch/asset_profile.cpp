#include "fetch/asset_profile.h"

#include <algorithm>

namespace barfill::fetch {
namespace {

constexpr int64_t kStockMinutesPerDay = 16 * 60;   // 04:00-20:00 New York
constexpr int64_t kAroundTheClockMinutesPerDay = 24 * 60;

AssetProfile MakeProfile(AssetClass asset) {
  AssetProfile p;
  p.asset = asset;
  p.base_minutes_per_day = TradesAroundTheClock(asset) ? kAroundTheClockMinutesPerDay : kStockMinutesPerDay;
  if (asset == AssetClass::kCrypto) {
    // The seed lost crypto jobs on big intraday bodies: give slow links more patience.
    p.low_speed_time_ms = 30'000;
    p.max_attempts = 8;
  }
  return p;
}

}  // namespace

const AssetProfile& ProfileFor(AssetClass asset) {
  static const AssetProfile kProfiles[] = {
      MakeProfile(AssetClass::kStock), MakeProfile(AssetClass::kCrypto), MakeProfile(AssetClass::kFx),
      MakeProfile(AssetClass::kIndex), MakeProfile(AssetClass::kOption)};
  return kProfiles[static_cast<int>(asset)];
}

int64_t MaxChunkMs(const Timeframe& timeframe, AssetClass asset) {
  if (timeframe.timespan() == Timespan::kSecond) {
    // Second bars: size by bar count so a page body stays a few MB.
    return kTargetBaseAggregatesPerRequest * timeframe.NominalMs();
  }
  if (timeframe.IsIntraday()) {
    const int64_t days = kTargetBaseAggregatesPerRequest / ProfileFor(asset).base_minutes_per_day;
    // A chunk must hold at least one whole bar.
    return std::max(days * kMsPerDay, timeframe.NominalMs());
  }
  const int64_t days = std::min(kMaxDailyChunkDays, kTargetBaseAggregatesPerRequest);
  return std::max(days * kMsPerDay, timeframe.NominalMs());
}

}  // namespace barfill::fetch
