#include "core/timeframe.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

namespace barfill {
namespace {

struct SpanInfo {
  Timespan span;
  std::string_view suffix;   // barfill short form
  std::string_view polygon;  // Polygon's word
};

constexpr std::array<SpanInfo, 8> kSpans = {{
    {Timespan::kSecond, "s", "second"},
    {Timespan::kMinute, "m", "minute"},
    {Timespan::kHour, "h", "hour"},
    {Timespan::kDay, "d", "day"},
    {Timespan::kWeek, "w", "week"},
    {Timespan::kMonth, "mo", "month"},
    {Timespan::kQuarter, "q", "quarter"},
    {Timespan::kYear, "y", "year"},
}};

const SpanInfo& InfoOf(Timespan span) {
  return kSpans[static_cast<size_t>(span)];
}

constexpr std::string_view kValidForms =
    "use N followed by s, m, h, d, w, mo, q or y (e.g. 1m, 5m, 15m, 1h, 1d, 1mo)";

}  // namespace

Result<Timeframe> Timeframe::Parse(std::string_view text) {
  const std::string shown(text);
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits == text.size()) {
    return Fail(ErrorCode::kUsage, "unknown timeframe '" + shown + "': " + std::string(kValidForms));
  }
  int64_t multiplier = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + digits, multiplier);
  if (ec != std::errc() || multiplier <= 0 || multiplier > kMaxMultiplier) {
    return Fail(ErrorCode::kUsage, "timeframe '" + shown + "': the multiplier must be an integer from 1 to " +
                                       std::to_string(kMaxMultiplier));
  }
  const std::string_view suffix = text.substr(digits);
  for (const SpanInfo& info : kSpans) {
    if (suffix == info.suffix) return Timeframe(static_cast<int>(multiplier), info.span);
  }
  if (suffix == "M") {
    return Fail(ErrorCode::kUsage, "timeframe '" + shown + "' is ambiguous: write " +
                                       std::to_string(multiplier) + "m for minutes or " +
                                       std::to_string(multiplier) + "mo for months");
  }
  return Fail(ErrorCode::kUsage, "unknown timeframe '" + shown + "': " + std::string(kValidForms));
}

Result<Timeframe> Timeframe::FromPolygon(int64_t multiplier, std::string_view timespan) {
  if (multiplier <= 0 || multiplier > kMaxMultiplier) {
    return Fail(ErrorCode::kUsage, "multiplier must be a positive integer up to " +
                                       std::to_string(kMaxMultiplier));
  }
  std::string lower(timespan);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const SpanInfo& info : kSpans) {
    if (lower == info.polygon) return Timeframe(static_cast<int>(multiplier), info.span);
  }
  return Fail(ErrorCode::kUsage, "timespan '" + std::string(timespan) +
                                     "' must be one of second, minute, hour, day, week, month, quarter, year");
}

std::string Timeframe::ToString() const {
  return std::to_string(multiplier_) + std::string(InfoOf(timespan_).suffix);
}

std::string_view Timeframe::PolygonTimespan() const { return InfoOf(timespan_).polygon; }

BaseAggregate Timeframe::base() const {
  return IsIntraday() ? BaseAggregate::kMinute : BaseAggregate::kDay;
}

bool Timeframe::IsIntraday() const {
  return timespan_ == Timespan::kSecond || timespan_ == Timespan::kMinute ||
         timespan_ == Timespan::kHour;
}

int64_t Timeframe::NominalMs() const {
  int64_t unit = 0;
  switch (timespan_) {
    case Timespan::kSecond: unit = kMsPerSecond; break;
    case Timespan::kMinute: unit = kMsPerMinute; break;
    case Timespan::kHour: unit = kMsPerHour; break;
    case Timespan::kDay: unit = kMsPerDay; break;
    case Timespan::kWeek: unit = 7 * kMsPerDay; break;
    case Timespan::kMonth: unit = 31 * kMsPerDay; break;
    case Timespan::kQuarter: unit = 92 * kMsPerDay; break;
    case Timespan::kYear: unit = 366 * kMsPerDay; break;
  }
  return unit * multiplier_;
}

int64_t Timeframe::BasePerBar() const {
  switch (timespan_) {
    case Timespan::kSecond: return 1;
    case Timespan::kMinute: return multiplier_;
    case Timespan::kHour: return 60LL * multiplier_;
    case Timespan::kDay: return multiplier_;
    case Timespan::kWeek: return 7LL * multiplier_;
    case Timespan::kMonth: return 31LL * multiplier_;
    case Timespan::kQuarter: return 92LL * multiplier_;
    case Timespan::kYear: return 366LL * multiplier_;
  }
  return 1;
}

}  // namespace barfill
