#include "core/ticker.h"

#include <array>
#include <cctype>

namespace barfill {
namespace {

constexpr size_t kMaxTickerLength = 64;

// Quote currencies of crypto pairs; a prefix-less ticker ending in one of them and long enough
// to hold a base currency is almost surely a crypto pair that lost its "X:".
constexpr std::array<std::string_view, 6> kCryptoQuotes = {"USDT", "USDC", "USD", "EUR", "BTC",
                                                           "ETH"};

bool LooksLikeCryptoPair(std::string_view s) {
  for (const std::string_view quote : kCryptoQuotes) {
    if (s.size() >= quote.size() + 3 && s.size() <= quote.size() + 6 &&
        s.substr(s.size() - quote.size()) == quote) {
      for (const char c : s) {
        if (!std::isupper(static_cast<unsigned char>(c))) return false;
      }
      return true;
    }
  }
  return false;
}

bool ValidSymbolChar(char c) {
  return std::isupper(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
         c == '.' || c == '-' || c == '_';
}

}  // namespace

std::string_view AssetClassName(AssetClass asset) {
  switch (asset) {
    case AssetClass::kStock: return "stocks";
    case AssetClass::kCrypto: return "crypto";
    case AssetClass::kFx: return "fx";
    case AssetClass::kIndex: return "indices";
    case AssetClass::kOption: return "options";
  }
  return "stocks";
}

MarketZone ZoneFor(AssetClass asset) {
  return asset == AssetClass::kCrypto || asset == AssetClass::kFx ? MarketZone::Utc()
                                                                  : MarketZone::NewYork();
}

bool TradesAroundTheClock(AssetClass asset) {
  return asset == AssetClass::kCrypto || asset == AssetClass::kFx;
}

Result<Ticker> Ticker::Parse(std::string_view text) {
  const std::string shown(text);
  if (text.empty()) return Fail(ErrorCode::kUsage, "empty ticker");
  if (text.size() > kMaxTickerLength) {
    return Fail(ErrorCode::kUsage, "ticker '" + shown.substr(0, 20) + "...' is longer than " +
                                       std::to_string(kMaxTickerLength) + " characters");
  }
  AssetClass asset = AssetClass::kStock;
  std::string_view body = text;
  if (text.size() >= 2 && text[1] == ':') {
    switch (text[0]) {
      case 'X': asset = AssetClass::kCrypto; break;
      case 'C': asset = AssetClass::kFx; break;
      case 'I': asset = AssetClass::kIndex; break;
      case 'O': asset = AssetClass::kOption; break;
      default:
        return Fail(ErrorCode::kUsage, "ticker '" + shown +
                                           "' has an unknown prefix: use X: (crypto), C: (forex), "
                                           "I: (index), O: (option) or none (stock)");
    }
    body = text.substr(2);
    if (body.empty()) return Fail(ErrorCode::kUsage, "ticker '" + shown + "' has nothing after its prefix");
  }
  for (const char c : body) {
    if (std::islower(static_cast<unsigned char>(c))) {
      std::string upper(text);
      for (char& u : upper) u = static_cast<char>(std::toupper(static_cast<unsigned char>(u)));
      return Fail(ErrorCode::kUsage, "ticker '" + shown + "' must be upper case (tickers are case-sensitive; did you mean " + upper + "?)");
    }
    if (!ValidSymbolChar(c)) {
      return Fail(ErrorCode::kUsage, "ticker '" + shown + "' contains an invalid character");
    }
  }
  if (asset == AssetClass::kStock && LooksLikeCryptoPair(body)) {
    return Fail(ErrorCode::kUsage,
                "crypto tickers look like X:" + shown + " (got " + shown + ")");
  }
  return Ticker(shown, asset);
}

}  // namespace barfill
