#include "polygon/aggs_request.h"

#include <cctype>
#include <charconv>
#include <vector>

namespace barfill::polygon {
namespace {

constexpr std::string_view kAggsPrefix = "/v2/aggs/ticker/";
constexpr int kHttpPort = 80;
constexpr int kHttpsPort = 443;

bool IsUnreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = HexValue(s[i + 1]);
      const int lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = path.find('/', start);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    parts.push_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

Result<int64_t> ParseMs(std::string_view text) {
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return Fail(ErrorCode::kBadResponse, "'" + std::string(text.substr(0, 40)) + "' is not a ms timestamp");
  }
  return value;
}

}  // namespace

AggsRequest AggsRequest::ForChunk(const Chunk& chunk, int limit) {
  return AggsRequest{.ticker = chunk.series.ticker.symbol(),
                     .timeframe = chunk.series.timeframe,
                     .from = FromMs{chunk.range.from_ms},
                     .to = ToMs{chunk.range.to_ms},
                     .adjusted = chunk.series.adjusted,
                     .sort = SortOrder::kAsc,
                     .limit = limit};
}

std::string_view UrlPath(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  const size_t path_start = url.find('/', scheme_end + 3);
  if (path_start == std::string_view::npos) return {};
  const size_t path_end = url.find_first_of("?#", path_start);
  return url.substr(path_start, path_end == std::string_view::npos ? url.size() - path_start
                                                                   : path_end - path_start);
}

Result<Origin> ParseOrigin(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return Fail(ErrorCode::kConfig, "'" + std::string(url.substr(0, 80)) + "' is not an http(s) URL");
  }
  Origin origin;
  origin.scheme = Lower(url.substr(0, scheme_end));
  if (origin.scheme != "http" && origin.scheme != "https") {
    return Fail(ErrorCode::kConfig, "URL scheme must be http or https (got '" + origin.scheme + "')");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  const size_t authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return Fail(ErrorCode::kConfig, "URL must not carry user info");
  }
  std::string_view host = authority;
  origin.port = origin.scheme == "https" ? kHttpsPort : kHttpPort;
  const size_t bracket = authority.rfind(']');
  const size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    host = authority.substr(0, colon);
    const std::string_view port_text = authority.substr(colon + 1);
    int port = 0;
    const auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port <= 0 || port > 65535) {
      return Fail(ErrorCode::kConfig, "URL has a bad port '" + std::string(port_text) + "'");
    }
    origin.port = port;
  }
  if (host.empty()) return Fail(ErrorCode::kConfig, "URL has no host");
  const bool bracketed = host.front() == '[' && host.back() == ']';
  for (const char ch : bracketed ? host.substr(1, host.size() - 2) : host) {
    const auto c = static_cast<unsigned char>(ch);
    if (!(std::isalnum(c) || c == '.' || c == '-' || (bracketed && c == ':'))) {
      return Fail(ErrorCode::kConfig, "URL has a bad host '" + std::string(host.substr(0, 80)) + "'");
    }
  }
  origin.host = Lower(host);
  return origin;
}

Result<std::string> NormalizeBaseUrl(std::string_view base_url) {
  BARFILL_TRY(ParseOrigin(base_url));
  if (base_url.find_first_of("?#") != std::string_view::npos) {
    return Fail(ErrorCode::kConfig, "the base URL must not carry a query or fragment");
  }
  std::string out(base_url);
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

std::string EscapePathSegment(std::string_view segment) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (const char ch : segment) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || c == ':') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

Result<std::string> BuildAggsUrl(std::string_view base_url, const AggsRequest& request) {
  if (request.ticker.empty()) return Fail(ErrorCode::kUsage, "aggregates request without a ticker");
  if (request.to.value <= request.from.value) {
    return Fail(ErrorCode::kUsage, "aggregates request for " + request.ticker + ": 'to' (" +
                                       std::to_string(request.to.value) + ") must be after 'from' (" +
                                       std::to_string(request.from.value) + ")");
  }
  if (request.limit <= 0 || request.limit > kMaxPageLimit) {
    return Fail(ErrorCode::kUsage, "aggregates limit must be 1.." + std::to_string(kMaxPageLimit));
  }
  std::string url;
  url.reserve(base_url.size() + 128);
  url.append(base_url);
  url.append(kAggsPrefix);
  url.append(EscapePathSegment(request.ticker));
  url.append("/range/");
  url.append(std::to_string(request.timeframe.multiplier()));
  url.push_back('/');
  url.append(request.timeframe.PolygonTimespan());
  url.push_back('/');
  url.append(std::to_string(request.from.value));
  url.push_back('/');
  url.append(std::to_string(request.to.value - 1));  // the API's `to` is inclusive
  url.append(request.adjusted ? "?adjusted=true" : "?adjusted=false");
  url.append(request.sort == SortOrder::kAsc ? "&sort=asc" : "&sort=desc");
  url.append("&limit=");
  url.append(std::to_string(request.limit));
  return url;
}

std::string WithApiKey(std::string_view url, std::string_view api_key) {
  std::string out(url);
  out.push_back(out.find('?') == std::string::npos ? '?' : '&');
  out.append("apiKey=");
  out.append(EscapePathSegment(api_key));
  return out;
}

Result<int64_t> FromOfAggsUrl(std::string_view url) {
  const std::string_view path = UrlPath(url);
  if (path.substr(0, kAggsPrefix.size()) != kAggsPrefix) {
    return Fail(ErrorCode::kBadResponse, "not an aggregates URL");
  }
  // ["", "v2", "aggs", "ticker", T, "range", m, span, from, to]
  const std::vector<std::string_view> parts = SplitPath(path);
  if (parts.size() != 10 || parts[5] != "range") {
    return Fail(ErrorCode::kBadResponse, "aggregates URL has an unexpected path shape");
  }
  return ParseMs(parts[8]);
}

Result<int64_t> CheckNextUrl(std::string_view next_url, const Origin& base_origin,
                             std::string_view ticker, int64_t previous_from) {
  const auto origin = ParseOrigin(next_url);
  if (!origin) {
    return Fail(ErrorCode::kBadResponse, "next_url is not a usable URL: " + origin.error().message);
  }
  if (!(*origin == base_origin)) {
    return Fail(ErrorCode::kBadResponse,
                "next_url points to " + origin->scheme + "://" + origin->host + ":" +
                    std::to_string(origin->port) + ", not the API at " + base_origin.scheme +
                    "://" + base_origin.host + ":" + std::to_string(base_origin.port) +
                    "; refusing to follow it");
  }
  const std::string_view path = UrlPath(next_url);
  const std::vector<std::string_view> parts = SplitPath(path);
  if (path.substr(0, kAggsPrefix.size()) != kAggsPrefix || parts.size() != 10 || parts[5] != "range") {
    return Fail(ErrorCode::kBadResponse, "next_url is not an aggregates range URL");
  }
  if (PercentDecode(parts[4]) != ticker) {
    return Fail(ErrorCode::kBadResponse, "next_url is for ticker '" + PercentDecode(parts[4]) +
                                             "', not " + std::string(ticker));
  }
  const auto from = ParseMs(parts[8]);
  if (!from) return Fail(ErrorCode::kBadResponse, "next_url 'from': " + from.error().message);
  if (*from <= previous_from) {
    return Fail(ErrorCode::kBadResponse, "next_url does not move forward (from " +
                                             std::to_string(*from) + " after " +
                                             std::to_string(previous_from) + "); stopping a loop");
  }
  return *from;
}

}  // namespace barfill::polygon
