#include "sim/aggs_api.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>

namespace barfill::sim {
namespace {

constexpr std::string_view kAggsPrefix = "/v2/aggs/ticker/";
constexpr size_t kMaxMsDigits = 16;

Unexpected BadRequest(std::string text) {
  Error error(ErrorCode::kBadRequest, std::move(text));
  error.http_status = 400;
  return Unexpected{std::move(error)};
}

/// A from/to argument: the first and last instant it names (a date names a whole market day).
struct TimeArg {
  int64_t first_ms = 0;
  int64_t last_ms = 0;
};

std::optional<TimeArg> ParseTimeArg(std::string_view raw, const MarketZone& zone) {
  if (!raw.empty() && raw.size() <= kMaxMsDigits &&
      std::all_of(raw.begin(), raw.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int64_t ms = 0;
    const auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), ms);
    if (ec != std::errc()) return std::nullopt;
    return TimeArg{ms, ms};
  }
  const auto day = CalendarDay::Parse(raw);
  if (!day) return std::nullopt;
  return TimeArg{zone.DayStartMs(*day), zone.DayStartMs(day->AddDays(1)) - 1};
}

std::optional<bool> ParseBool(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "true") return true;
  if (lower == "false") return false;
  return std::nullopt;
}

/// `adjusted` (or the legacy inverse `unadjusted`) into `adjusted`; other keys are not flags here.
Status ApplyFlag(const std::string& key, const std::string& value, bool* adjusted) {
  if (key != "adjusted" && key != "unadjusted") return Ok();
  const auto flag = ParseBool(value);
  if (!flag) return BadRequest("The parameter '" + key + "' must be true or false");
  *adjusted = key == "adjusted" ? *flag : !*flag;
  return Ok();
}

/// Applies limit/sort/adjusted (and the legacy `unadjusted`) from `params` to `call`.
Status ApplyOptions(const QueryParams& params, AggsCall* call) {
  for (const auto& [key, value] : params) {
    if (key == "limit") {
      int64_t limit = 0;
      const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
      if (ec != std::errc() || ptr != value.data() + value.size() || limit < 1) {
        return BadRequest("Could not parse the 'limit' parameter: use a positive integer");
      }
      call->limit = std::min(limit, kMaxBaseAggregatesPerRequest);
    } else if (key == "sort") {
      if (value == "asc") {
        call->descending = false;
      } else if (value == "desc") {
        call->descending = true;
      } else {
        return BadRequest("The parameter 'sort' must be 'asc' or 'desc'");
      }
    } else {
      BARFILL_TRY(ApplyFlag(key, value, &call->adjusted));
    }
  }
  return Ok();
}

char* WriteInt(char* p, int64_t v) { return std::to_chars(p, p + 24, v).ptr; }

char* WriteDouble(char* p, double v, bool scientific) {
  return scientific ? std::to_chars(p, p + 32, v, std::chars_format::scientific).ptr : WriteJsonNumber(p, v);
}

char* WriteLiteral(char* p, std::string_view text) {
  std::memcpy(p, text.data(), text.size());
  return p + text.size();
}

// The widest bar: eight keys, six doubles of at most 24 characters, two int64s of at most 20.
constexpr size_t kMaxBarJson = 64 + 6 * 32 + 2 * 24;

// "queryCount":Q,"resultsCount":N,"adjusted":B (no comma before it).
void WriteCounts(int64_t query_count, size_t n, bool adjusted, ByteBuffer* out) {
  char* p = out->Reserve(128);
  char* const begin = p;
  p = WriteLiteral(p, "\"queryCount\":");
  p = WriteInt(p, query_count);
  p = WriteLiteral(p, ",\"resultsCount\":");
  p = WriteInt(p, static_cast<int64_t>(n));
  p = WriteLiteral(p, adjusted ? ",\"adjusted\":true" : ",\"adjusted\":false");
  out->Commit(static_cast<size_t>(p - begin));
}

// ,"results":[...] when there are bars, in `order` (k -> row), each with "T" first when
// `symbols` are given.
template <typename Order>
void WriteResults(const BarBatch& bars, const std::vector<std::string>* symbols, BodyStyle style, Order order,
                  ByteBuffer* out) {
  const size_t n = bars.size();
  if (n == 0) return;
  out->Append(",\"results\":[");
  for (size_t k = 0; k < n; ++k) {
    const size_t i = order(k);
    if (symbols != nullptr) {
      out->Append(k == 0 ? "{\"T\":\"" : ",{\"T\":\"");
      AppendJsonEscaped(out, (*symbols)[i]);
      out->Append("\",");
    }
    char* q = out->Reserve(kMaxBarJson);
    char* const start = q;
    if (symbols == nullptr) q = WriteLiteral(q, k == 0 ? "{" : ",{");
    q = WriteLiteral(q, "\"v\":");
    q = WriteDouble(q, bars.volume[i], style.exponent_volumes);
    q = WriteLiteral(q, ",\"vw\":");
    q = WriteDouble(q, bars.vwap[i], false);
    q = WriteLiteral(q, ",\"o\":");
    q = WriteDouble(q, bars.open[i], false);
    q = WriteLiteral(q, ",\"c\":");
    q = WriteDouble(q, bars.close[i], false);
    q = WriteLiteral(q, ",\"h\":");
    q = WriteDouble(q, bars.high[i], false);
    q = WriteLiteral(q, ",\"l\":");
    q = WriteDouble(q, bars.low[i], false);
    q = WriteLiteral(q, ",\"t\":");
    q = WriteInt(q, bars.t[i]);
    q = WriteLiteral(q, ",\"n\":");
    q = WriteInt(q, bars.trades[i]);
    *q++ = '}';
    out->Commit(static_cast<size_t>(q - start));
  }
  out->Append(']');
}

// ,"status":...,"request_id":"..."[,"count":N]
void WriteStatus(BodyStyle style, std::string_view request_id, size_t n, ByteBuffer* out) {
  out->Append(style.delayed ? ",\"status\":\"DELAYED\",\"request_id\":\"" : ",\"status\":\"OK\",\"request_id\":\"");
  out->Append(request_id);
  out->Append('"');
  if (n > 0) {
    char* q = out->Reserve(40);
    char* const start = q;
    q = WriteLiteral(q, ",\"count\":");
    q = WriteInt(q, static_cast<int64_t>(n));
    out->Commit(static_cast<size_t>(q - start));
  }
}

}  // namespace

char* WriteJsonNumber(char* out, double value) {
  // Fast paths for the decimals the simulator makes. A decimal of at most 15 significant digits
  // is the only one of its length that reads back as its nearest double, so when it round-trips
  // it is what a shortest round-trip formatter prints; only the choice between fixed and
  // exponent form remains, which std::to_chars makes by length (fixed on a tie).
  constexpr double kMaxExact = 1e15;
  constexpr double kScale = 1e8;  // up to 8 decimal places
  constexpr uint64_t kScaleInt = 100000000;
  if (value >= 0 && value < kMaxExact && value == std::floor(value)) {
    const auto n = static_cast<uint64_t>(value);
    int digits = 1;
    for (uint64_t rest = n; rest >= 10; rest /= 10) ++digits;
    int trailing_zeros = 0;
    for (uint64_t rest = n; rest != 0 && rest % 10 == 0; rest /= 10) ++trailing_zeros;
    const int significant = n == 0 ? 1 : digits - trailing_zeros;
    const int exponent_form = significant + (significant > 1 ? 1 : 0) + 4;  // "d.ddde+XX"
    if (exponent_form >= digits) return std::to_chars(out, out + 24, n).ptr;
  } else if (value >= 1e-3 && value < kMaxExact / kScale) {
    // Below 1e-3 the exponent form can be shorter; such values take the general path.
    const auto scaled = static_cast<uint64_t>(std::llround(value * kScale));
    if (static_cast<double>(scaled) / kScale == value) {
      out = std::to_chars(out, out + 24, scaled / kScaleInt).ptr;
      *out++ = '.';
      uint64_t fraction = scaled % kScaleInt;
      int places = 8;
      while (fraction % 10 == 0) {
        fraction /= 10;
        --places;
      }
      for (int i = places - 1; i >= 0; --i) {
        out[i] = static_cast<char>('0' + fraction % 10);
        fraction /= 10;
      }
      return out + places;
    }
  }
  return std::to_chars(out, out + 32, value).ptr;
}

std::optional<AggsPath> MatchAggsPath(std::string_view path) {
  if (path.substr(0, kAggsPrefix.size()) != kAggsPrefix) return std::nullopt;
  std::string_view rest = path.substr(kAggsPrefix.size());
  std::vector<std::string_view> parts;
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    parts.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
    if (rest.empty()) parts.emplace_back();  // a trailing slash leaves an empty segment
  }
  if (parts.size() != 6 || parts[1] != "range") return std::nullopt;
  for (const std::string_view part : parts) {
    if (part.empty()) return std::nullopt;
  }
  return AggsPath{std::string(parts[0]), std::string(parts[2]), std::string(parts[3]),
                  std::string(parts[4]), std::string(parts[5])};
}

Result<AggsCall> ResolveAggsCall(const AggsPath& path, const QueryParams& query) {
  AggsCall call;
  call.path = path;
  call.ticker_text = PercentDecode(path.ticker, false);
  if (auto ticker = Ticker::Parse(call.ticker_text)) call.ticker = std::move(*ticker);

  int64_t multiplier = 0;
  const std::string& m = path.multiplier;
  const auto [mptr, mec] = std::from_chars(m.data(), m.data() + m.size(), multiplier);
  if (mec != std::errc() || mptr != m.data() + m.size()) {
    return BadRequest("Could not parse the multiplier parameter: '" + m + "' is not an integer");
  }
  auto timeframe = Timeframe::FromPolygon(multiplier, PercentDecode(path.timespan, false));
  if (!timeframe) return BadRequest(timeframe.error().message);
  call.timeframe = *timeframe;
  if (call.timeframe.timespan() == Timespan::kSecond) {
    return BadRequest("Second aggregates are not available from this simulator");
  }

  // Dates are days of the ticker's market: New York for stocks, as Polygon documents; UTC for
  // crypto and forex, whose day bars start at 00:00 UTC (a New York day would straddle two).
  const MarketZone zone = call.ticker ? call.ticker->zone() : MarketZone::NewYork();
  const auto from = ParseTimeArg(PercentDecode(path.from, false), zone);
  if (!from) return BadRequest(std::string(kTextBadFrom));
  const auto to = ParseTimeArg(PercentDecode(path.to, false), zone);
  if (!to) return BadRequest(std::string(kTextBadTo));
  if (to->last_ms < from->first_ms) return BadRequest(std::string(kTextToBeforeFrom));

  BARFILL_TRY(ApplyOptions(query, &call));
  for (const auto& [key, value] : query) {
    if (key != "cursor") continue;
    const auto decoded = Base64UrlDecode(value);
    if (!decoded) return BadRequest("Invalid cursor");
    BARFILL_TRY(ApplyOptions(ParseQuery(*decoded), &call));
  }

  if (from->first_ms > kLastSimulatedMs) {
    call.range = TimeRange{kLastSimulatedMs, kLastSimulatedMs};
  } else {
    call.range = TimeRange{BucketStart(call.timeframe, zone, from->first_ms),
                           NextBucketStart(call.timeframe, zone, std::min(to->last_ms, kLastSimulatedMs))};
  }
  return call;
}

std::string EncodeCursor(const AggsCall& call) {
  std::string options = "limit=" + std::to_string(call.limit) + "&sort=" + (call.descending ? "desc" : "asc");
  if (!call.adjusted) options += "&adjusted=false";
  return Base64UrlEncode(options);
}

int64_t NextBarStart(const AggsCall& call, int64_t t) {
  if (call.timeframe.IsIntraday()) return t + call.timeframe.NominalMs();
  const MarketZone zone = call.ticker ? call.ticker->zone() : MarketZone::NewYork();
  return NextBucketStart(call.timeframe, zone, t);
}

std::string NextUrl(std::string_view base_url, const AggsCall& call, int64_t next_from_ms) {
  std::string url;
  url.reserve(base_url.size() + 128);
  url.append(base_url);
  url.append(kAggsPrefix);
  url.append(call.path.ticker).append("/range/").append(call.path.multiplier).append("/");
  url.append(call.path.timespan).append("/").append(std::to_string(next_from_ms)).append("/");
  url.append(call.path.to).append("?cursor=").append(EncodeCursor(call));
  return url;
}

void WriteAggsBody(const AggsCall& call, const Page& page, std::string_view request_id,
                   std::string_view next_url, BodyStyle style, ByteBuffer* out) {
  const size_t n = page.bars.size();
  out->Append("{\"ticker\":\"");
  AppendJsonEscaped(out, call.ticker_text);
  out->Append("\",");
  WriteCounts(page.query_count, n, call.adjusted, out);
  WriteResults(page.bars, nullptr, style, [&](size_t k) { return call.descending ? n - 1 - k : k; }, out);
  WriteStatus(style, request_id, n, out);
  if (!next_url.empty()) {
    out->Append(",\"next_url\":\"");
    AppendJsonEscaped(out, next_url);
    out->Append('"');
  }
  out->Append('}');
}

void WriteErrorBody(std::string_view status, std::string_view request_id, std::string_view key,
                    std::string_view text, ByteBuffer* out) {
  out->Append("{\"status\":\"");
  out->Append(status);
  out->Append("\",\"request_id\":\"");
  out->Append(request_id);
  out->Append("\",\"");
  out->Append(key);
  out->Append("\":\"");
  AppendJsonEscaped(out, text);
  out->Append("\"}");
}

// ---- grouped daily ----------------------------------------------------------------------------

std::optional<GroupedPath> MatchGroupedPath(std::string_view path) {
  constexpr std::string_view kPrefix = "/v2/aggs/grouped/locale/";
  if (path.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string rest(path.substr(kPrefix.size()));
  std::transform(rest.begin(), rest.end(), rest.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // The date keeps its case: only locale and market were ever matched loosely.
  constexpr std::pair<std::string_view, AssetClass> kMarkets[] = {{"us/market/stocks/", AssetClass::kStock},
                                                                   {"global/market/crypto/", AssetClass::kCrypto},
                                                                   {"global/market/fx/", AssetClass::kFx}};
  for (const auto& [prefix, asset] : kMarkets) {
    if (rest.substr(0, prefix.size()) != prefix) continue;
    const std::string_view date = path.substr(kPrefix.size() + prefix.size());
    if (date.empty() || date.find('/') != std::string_view::npos) return std::nullopt;
    return GroupedPath{asset, std::string(date)};
  }
  return std::nullopt;
}

Result<GroupedCall> ResolveGroupedCall(const GroupedPath& path, const QueryParams& query) {
  GroupedCall call;
  call.asset = path.asset;
  const auto date = CalendarDay::Parse(PercentDecode(path.date, false));
  if (!date) return BadRequest(std::string(kTextBadDate));
  call.date = *date;
  call.day = ZoneFor(call.asset).DaysToRange(call.date, call.date);
  for (const auto& [key, value] : query) {
    if (key == "include_otc") {
      // The simulated market has no OTC tickers: the flag is checked, and changes nothing.
      if (!ParseBool(value)) return BadRequest("The parameter 'include_otc' must be true or false");
    } else {
      BARFILL_TRY(ApplyFlag(key, value, &call.adjusted));
    }
  }
  return call;
}

void ReadGroupedPage(const Market& market, const GroupedCall& call, const std::vector<Ticker>& universe,
                     const std::vector<std::string>& odd_symbols, GroupedPage* page) {
  page->symbols.clear();
  page->bars.clear();
  if (call.day.from_ms > kLastSimulatedMs) return;
  const Timeframe daily(1, Timespan::kDay);
  const bool stocks = call.asset == AssetClass::kStock;
  // 16:00 New York on the day, whatever its length (a DST change moves the wall clock, not the bar).
  const MarketZone zone = ZoneFor(call.asset);
  int64_t stamp = call.day.from_ms;
  if (stocks) {
    stamp += 16 * kMsPerHour;
    stamp -= zone.UtcOffsetMs(stamp) - zone.UtcOffsetMs(call.day.from_ms);
  }
  const auto add = [&](const Ticker& ticker, std::string symbol) {
    const BarBatch bars = GroundTruth(market, ticker, daily, call.adjusted, call.day);
    for (size_t i = 0; i < bars.size(); ++i) {
      Bar bar = bars[i];
      bar.t = stamp;
      page->symbols.push_back(symbol);
      page->bars.push_back(bar);
    }
  };
  for (const Ticker& ticker : universe) {
    if (ticker.asset_class() == call.asset) add(ticker, ticker.symbol());
  }
  if (!stocks) return;
  for (const std::string& symbol : odd_symbols) {
    std::string upper = symbol;
    std::transform(upper.begin(), upper.end(), upper.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    if (auto ticker = Ticker::Parse(upper)) add(*ticker, symbol);
  }
}

void WriteGroupedBody(const GroupedCall& call, const GroupedPage& page, std::string_view request_id,
                      BodyStyle style, ByteBuffer* out) {
  const size_t n = page.bars.size();
  out->Append('{');
  // Every result is one stored day bar: queryCount counts them all.
  WriteCounts(static_cast<int64_t>(n), n, call.adjusted, out);
  WriteResults(page.bars, &page.symbols, style, [](size_t k) { return k; }, out);
  WriteStatus(style, request_id, n, out);
  out->Append('}');
}

}  // namespace barfill::sim
