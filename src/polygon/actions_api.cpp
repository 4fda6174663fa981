#include "polygon/actions_api.h"

#include <simdjson.h>

#include <charconv>
#include <optional>

#include "polygon/aggs_parser.h"

namespace barfill::polygon {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view kV3SplitsPath = "/v3/reference/splits";
constexpr int kMaxV3Limit = 1000;

/// A number field, kept as sent: null is NaN; exponent form is marked.
simdjson::error_code ReadNumber(od::value value, double& out, bool& exponent) {
  std::string_view raw = value.raw_json_token();
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t')) raw.remove_suffix(1);
  if (raw == "null") {
    out = kNoFactor;
    return simdjson::SUCCESS;
  }
  const auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), out);
  if (ec != std::errc() || ptr != raw.data() + raw.size()) return simdjson::NUMBER_ERROR;
  if (raw.find_first_of("eE") != std::string_view::npos) exponent = true;
  return simdjson::SUCCESS;
}

simdjson::error_code ReadText(od::value value, std::string& out) {
  bool is_null = false;
  if (auto e = value.is_null().get(is_null)) return e;
  if (is_null) return simdjson::SUCCESS;
  std::string_view text;
  if (auto e = value.get_string().get(text)) return e;
  out.assign(text);
  return simdjson::SUCCESS;
}

std::optional<CalendarDay> DayOf(const std::string& text) {
  auto day = CalendarDay::Parse(text);
  if (!day) return std::nullopt;
  return *day;
}

Error Bad(const std::string& what, simdjson::error_code code = simdjson::SUCCESS) {
  std::string message = "invalid corporate-actions body: " + what;
  if (code != simdjson::SUCCESS) message += std::string(": ") + simdjson::error_message(code);
  return Error(ErrorCode::kBadResponse, std::move(message));
}

/// Reads one result object into a split or a dividend.
Status ReadRow(ActionsKind kind, od::object object, size_t index, ActionsPage& page) {
  SplitRecord split;
  DividendRecord dividend;
  std::string day;
  std::string declaration;
  std::string record;
  std::string pay;
  double frequency = 0;
  bool unused_exponent = false;
  for (auto field : object) {
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return Fail(Bad("result " + std::to_string(index), e));
    od::value value;
    if (auto e = field.value().get(value)) return Fail(Bad("result " + std::to_string(index), e));
    simdjson::error_code e = simdjson::SUCCESS;
    if (key == "id") {
      e = ReadText(value, kind == ActionsKind::kSplits ? split.id : dividend.id);
    } else if (key == "ticker") {
      e = ReadText(value, kind == ActionsKind::kSplits ? split.ticker : dividend.ticker);
    } else if (key == "execution_date" || key == "ex_dividend_date") {
      e = ReadText(value, day);
    } else if (key == "split_from") {
      e = ReadNumber(value, split.split_from, split.exponent_form);
    } else if (key == "split_to") {
      e = ReadNumber(value, split.split_to, split.exponent_form);
    } else if (key == "adjustment_type") {
      e = ReadText(value, split.adjustment_type);
    } else if (key == "historical_adjustment_factor") {
      e = ReadNumber(value, kind == ActionsKind::kSplits ? split.vendor_factor : dividend.vendor_factor, unused_exponent);
    } else if (key == "cash_amount") {
      e = ReadNumber(value, dividend.cash_amount, dividend.exponent_form);
    } else if (key == "split_adjusted_cash_amount") {
      e = ReadNumber(value, dividend.split_adjusted_cash_amount, unused_exponent);
    } else if (key == "currency") {
      e = ReadText(value, dividend.currency);
    } else if (key == "distribution_type") {
      e = ReadText(value, dividend.distribution_type);
    } else if (key == "frequency") {
      e = ReadNumber(value, frequency, unused_exponent);
    } else if (key == "declaration_date") {
      e = ReadText(value, declaration);
    } else if (key == "record_date") {
      e = ReadText(value, record);
    } else if (key == "pay_date") {
      e = ReadText(value, pay);
    }
    if (e) return Fail(Bad("result " + std::to_string(index) + " field '" + std::string(key) + "'", e));
  }
  const std::string& id = kind == ActionsKind::kSplits ? split.id : dividend.id;
  const std::string& ticker = kind == ActionsKind::kSplits ? split.ticker : dividend.ticker;
  const auto parsed_day = DayOf(day);
  if (id.empty() || ticker.empty() || !parsed_day) {
    return Fail(ErrorCode::kInvalidData, "corporate-actions result " + std::to_string(index) + " (" +
                                             (id.empty() ? "no id" : id) +
                                             ") lacks an id, a ticker or a YYYY-MM-DD date; barfill cannot key it");
  }
  if (kind == ActionsKind::kSplits) {
    split.execution_date = *parsed_day;
    page.splits.push_back(std::move(split));
  } else {
    dividend.ex_dividend_date = *parsed_day;
    dividend.declaration_date = DayOf(declaration);
    dividend.record_date = DayOf(record);
    dividend.pay_date = DayOf(pay);
    dividend.frequency = std::isfinite(frequency) ? static_cast<int>(frequency) : 0;
    page.dividends.push_back(std::move(dividend));
  }
  return Ok();
}

}  // namespace

std::string_view ActionsPath(ActionsKind kind) {
  return kind == ActionsKind::kSplits ? "/stocks/v1/splits" : "/stocks/v1/dividends";
}

Result<std::string> BuildActionsUrl(std::string_view base_url, ActionsKind kind, const std::vector<std::string>& tickers) {
  if (tickers.empty() || tickers.size() > kTickersPerActionsRequest) {
    return Fail(ErrorCode::kInternal, "a corporate-actions request takes 1.." + std::to_string(kTickersPerActionsRequest) + " tickers");
  }
  std::string url(base_url);
  url += ActionsPath(kind);
  url += "?ticker.any_of=";
  for (size_t i = 0; i < tickers.size(); ++i) {
    if (i > 0) url += ',';
    url += EscapePathSegment(tickers[i]);
  }
  url += "&limit=" + std::to_string(kMaxActionsLimit);
  url += kind == ActionsKind::kSplits ? "&sort=ticker.asc,execution_date.asc" : "&sort=ticker.asc,ex_dividend_date.asc";
  return url;
}

Result<std::string> BuildV3SplitsUrl(std::string_view base_url, std::string_view ticker) {
  if (ticker.empty()) return Fail(ErrorCode::kInternal, "a v3 splits request needs a ticker");
  return std::string(base_url) + std::string(kV3SplitsPath) + "?ticker=" + EscapePathSegment(ticker) +
         "&limit=" + std::to_string(kMaxV3Limit) + "&order=asc&sort=execution_date";
}

Status CheckActionsNextUrl(std::string_view next_url, const Origin& base_origin, std::string_view previous_url) {
  const auto origin = ParseOrigin(next_url);
  if (!origin) return Fail(ErrorCode::kBadResponse, "next_url is not a usable URL: " + origin.error().message);
  if (!(*origin == base_origin)) {
    return Fail(ErrorCode::kBadResponse, "next_url points to " + origin->scheme + "://" + origin->host + ":" +
                                             std::to_string(origin->port) + ", not the API at " + base_origin.scheme +
                                             "://" + base_origin.host + ":" + std::to_string(base_origin.port) +
                                             "; refusing to follow it");
  }
  if (UrlPath(next_url) != UrlPath(previous_url)) {
    return Fail(ErrorCode::kBadResponse, "next_url leaves " + std::string(UrlPath(previous_url)) + " for " +
                                             std::string(UrlPath(next_url)) + "; refusing to follow it");
  }
  if (next_url == previous_url) return Fail(ErrorCode::kBadResponse, "next_url repeats the page just read; stopping a loop");
  return Ok();
}

Result<ActionsPage> ReadActionsResponse(ActionsKind kind, int http_status, std::string_view body) {
  simdjson::padded_string padded(body);
  od::parser parser;
  od::document doc;
  ActionsPage page;
  std::string status;
  std::string message;
  const auto parse_error = [&]() -> std::optional<Error> {
    if (auto e = parser.iterate(padded).get(doc)) return Bad(body.empty() ? "empty body" : "not JSON", e);
    od::object root;
    if (auto e = doc.get_object().get(root)) return Bad("not a JSON object", e);
    size_t index = 0;
    for (auto field : root) {
      std::string_view key;
      if (auto e = field.unescaped_key().get(key)) return Bad("bad key", e);
      od::value value;
      if (auto e = field.value().get(value)) return Bad("'" + std::string(key) + "'", e);
      if (key == "results") {
        od::array results;
        if (auto e = value.get_array().get(results)) return Bad("'results' is not an array", e);
        for (auto element : results) {
          od::object object;
          if (auto e = element.get_object().get(object)) return Bad("result " + std::to_string(index) + " is not an object", e);
          if (Status read = ReadRow(kind, object, index++, page); !read) return read.error();
        }
      } else if (key == "status") {
        if (auto e = ReadText(value, status)) return Bad("'status'", e);
      } else if (key == "next_url") {
        if (auto e = ReadText(value, page.next_url)) return Bad("'next_url'", e);
      } else if (key == "error" || key == "message") {
        (void)ReadText(value, message);
      }
      // request_id (a string, or the integer 1 in the vendor's own example) and anything new: skipped.
    }
    return std::nullopt;
  }();
  if (http_status != 200) return Fail(ErrorForHttpStatus(http_status, !message.empty() ? message : BodyExcerpt(body)));
  if (parse_error) return Fail(*parse_error);
  if (status == "NOT_AUTHORIZED") return Fail(ErrorCode::kAuth, "API refused the request: " + message);
  if (status != "OK" && status != "DELAYED") {
    return Fail(ErrorCode::kBadResponse, "corporate-actions body has status '" + status + "': " + message);
  }
  return page;
}

}  // namespace barfill::polygon
