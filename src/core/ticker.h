// Tickers as Polygon spells them, with the asset class read from the prefix.
#pragma once

#include <string>
#include <string_view>

#include "core/market_time.h"
#include "core/result.h"

namespace barfill {

enum class AssetClass { kStock, kCrypto, kFx, kIndex, kOption };

/// "stocks", "crypto", "fx", "indices", "options" (also the plan-file profile names).
std::string_view AssetClassName(AssetClass asset);

/// The zone calendar days and day bars are counted in: New York for stocks, indices and
/// options; UTC for crypto and forex.
MarketZone ZoneFor(AssetClass asset);

/// True for markets that trade around the clock (crypto 24/7, forex 24x5): the chunk size must
/// assume a base aggregate every minute.
bool TradesAroundTheClock(AssetClass asset);

class Ticker {
 public:
  Ticker() = default;

  /// Validates and classifies: "X:" crypto, "C:" forex, "I:" index, "O:" option, otherwise a
  /// stock ("BRK.B" included). Rejects empty, lower-case, or a crypto pair without "X:".
  static Result<Ticker> Parse(std::string_view text);

  const std::string& symbol() const { return symbol_; }
  AssetClass asset_class() const { return asset_; }
  MarketZone zone() const { return ZoneFor(asset_); }

  friend bool operator==(const Ticker& a, const Ticker& b) { return a.symbol_ == b.symbol_; }
  friend bool operator<(const Ticker& a, const Ticker& b) { return a.symbol_ < b.symbol_; }

 private:
  Ticker(std::string symbol, AssetClass asset) : symbol_(std::move(symbol)), asset_(asset) {}
  std::string symbol_;
  AssetClass asset_ = AssetClass::kStock;
};

}  // namespace barfill
