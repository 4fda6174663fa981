#include "testing/sim_requests.h"

#include <simdjson.h>

#include "testing/http_get.h"

namespace barfill::testing {

std::vector<std::pair<std::string, std::string>> SimRequests(const std::string& base_url) {
  std::vector<std::pair<std::string, std::string>> requests;
  const std::string body = HttpGetText(base_url + "/__requests");
  simdjson::dom::parser parser;
  simdjson::dom::array array;
  if (parser.parse(body).get(array)) return requests;
  for (simdjson::dom::element e : array) {
    std::string_view target;
    if (e.get(target)) continue;
    const size_t q = target.find('?');
    requests.emplace_back(std::string(target.substr(0, q)),
                          q == std::string_view::npos ? "" : std::string(target.substr(q + 1)));
  }
  return requests;
}

std::optional<std::string> RequestIntoDoneChunk(const std::vector<std::pair<std::string, std::string>>& requests,
                                                const std::vector<LedgerEntry>& done) {
  for (const auto& [path, query] : requests) {
    if (!path.starts_with("/v2/aggs/")) continue;  // corporate actions have no ranges
    // /v2/aggs/ticker/{ticker}/range/{multiplier}/{timespan}/{from}/{to}
    const size_t to_slash = path.rfind('/');
    const size_t from_slash = path.rfind('/', to_slash - 1);
    const int64_t from = std::stoll(path.substr(from_slash + 1, to_slash - from_slash - 1));
    const std::string series_path = path.substr(0, from_slash);
    for (const LedgerEntry& e : done) {
      const std::string done_path = "/v2/aggs/ticker/" + e.series.ticker.symbol() + "/range/" +
                                    std::to_string(e.series.timeframe.multiplier()) + "/" +
                                    std::string(e.series.timeframe.PolygonTimespan());
      if (series_path == done_path && e.range.Contains(from)) return path + "?" + query;
    }
  }
  return std::nullopt;
}

}  // namespace barfill::testing
