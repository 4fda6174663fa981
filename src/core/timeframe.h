// Bar sizes: barfill's short form ("5m", "1mo") and Polygon's multiplier/timespan pair.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace barfill {

enum class Timespan { kSecond, kMinute, kHour, kDay, kWeek, kMonth, kQuarter, kYear };

/// The stored aggregate Polygon builds a timeframe from, and counts against `limit`.
enum class BaseAggregate { kMinute, kDay };

inline constexpr int64_t kMsPerSecond = 1000;
inline constexpr int64_t kMsPerMinute = 60 * kMsPerSecond;
inline constexpr int64_t kMsPerHour = 60 * kMsPerMinute;
inline constexpr int64_t kMsPerDay = 24 * kMsPerHour;

/// Polygon's limit on base aggregates read per request.
inline constexpr int64_t kMaxBaseAggregatesPerRequest = 50000;

class Timeframe {
 public:
  /// Largest multiplier accepted; far beyond any useful bar size, small enough to never overflow.
  static constexpr int kMaxMultiplier = 10000;

  constexpr Timeframe() = default;
  constexpr Timeframe(int multiplier, Timespan timespan)
      : multiplier_(multiplier), timespan_(timespan) {}

  /// Parses "1m", "5m", "15m", "1h", "4h", "1d", "1w", "1mo", "1q", "1y", "30s".
  static Result<Timeframe> Parse(std::string_view text);
  /// Parses Polygon's pair, e.g. (5, "minute"); the timespan is case-insensitive.
  static Result<Timeframe> FromPolygon(int64_t multiplier, std::string_view timespan);

  int multiplier() const { return multiplier_; }
  Timespan timespan() const { return timespan_; }

  /// The short form: "5m", "1mo".
  std::string ToString() const;
  /// Polygon's lower-case timespan word: "minute", "day", ...
  std::string_view PolygonTimespan() const;

  BaseAggregate base() const;
  /// Seconds, minutes and hours: bars of fixed length aligned to the Unix epoch.
  bool IsIntraday() const;
  /// Fixed bar length in ms for s/m/h/d/w; for month/quarter/year, the longest such bar.
  int64_t NominalMs() const;
  /// How many base aggregates one bar spans at most: 5m -> 5, 1h -> 60, 1d -> 1, 1w -> 7,
  /// 1mo -> 31, 1q -> 92, 1y -> 366; a second bar lies inside one minute, so 1.
  int64_t BasePerBar() const;

  friend bool operator==(const Timeframe&, const Timeframe&) = default;

 private:
  int multiplier_ = 1;
  Timespan timespan_ = Timespan::kMinute;
};

}  // namespace barfill
