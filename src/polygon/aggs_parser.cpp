#include "polygon/aggs_parser.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

namespace barfill::polygon {
namespace {

namespace od = simdjson::ondemand;

static_assert(kParsePadding == simdjson::SIMDJSON_PADDING, "kParsePadding must match simdjson");

// Bits of the fields a bar carries.
enum : unsigned {
  kHasT = 1u << 0,
  kHasO = 1u << 1,
  kHasH = 1u << 2,
  kHasL = 1u << 3,
  kHasC = 1u << 4,
  kHasV = 1u << 5,
};
constexpr unsigned kRequiredWithoutVolume = kHasT | kHasO | kHasH | kHasL | kHasC;

// Smallest body a bar can take ({"t":0,"o":0,"h":0,"l":0,"c":0} is 31 bytes): bounds how much a
// hostile resultsCount may make us reserve.
constexpr size_t kMinBytesPerBar = 30;

// A raw (still escaped) key is exactly `name` when its bytes match and a quote follows.
template <size_t N>
bool KeyIs(const char* raw, const char (&name)[N]) {
  return std::memcmp(raw, name, N - 1) == 0 && raw[N - 1] == '"';
}

// An optional number (vw, n): null leaves `out` at its "missing" value.
template <typename T>
simdjson::error_code ReadOptional(simdjson::simdjson_result<od::value> result, T& out) {
  od::value value;
  if (auto e = std::move(result).get(value)) return e;
  bool is_null = false;
  if (auto e = value.is_null().get(is_null)) return e;
  if (is_null) return simdjson::SUCCESS;
  if constexpr (std::is_same_v<T, double>) {
    return value.get_double().get(out);
  } else {
    return value.get_int64().get(out);
  }
}

PageStatus StatusOf(std::string_view s) {
  if (s == "OK") return PageStatus::kOk;
  if (s == "DELAYED") return PageStatus::kDelayed;
  if (s == "ERROR") return PageStatus::kError;
  if (s == "NOT_AUTHORIZED") return PageStatus::kNotAuthorized;
  if (s == "NOT_FOUND") return PageStatus::kNotFound;
  return PageStatus::kOther;
}

const char* FieldName(unsigned bit) {
  switch (bit) {
    case kHasT: return "t";
    case kHasO: return "o";
    case kHasH: return "h";
    case kHasL: return "l";
    case kHasC: return "c";
    case kHasV: return "v";
    default: return "?";
  }
}

}  // namespace

struct AggsParser::Impl {
  od::parser parser;
  std::string padded;  // for Parse(string_view): a copy with padding
  const char* base = nullptr;

  Error Bad(od::document& doc, const std::string& what, simdjson::error_code code) {
    std::string message = "invalid aggregates body: " + what;
    if (code != simdjson::SUCCESS) {
      message += ": ";
      message += simdjson::error_message(code);
    }
    const char* at = nullptr;
    if (base != nullptr && doc.current_location().get(at) == simdjson::SUCCESS && at != nullptr) {
      message += " (near byte " + std::to_string(at - base) + ")";
    }
    return Error(ErrorCode::kBadResponse, std::move(message));
  }

  // Reads one bar object into `bar`; returns the set of fields seen, or an error code.
  // Writes straight into row `i` of the batch's columns (no Bar in between), and its `T` into
  // `ticker` when one is wanted.
  static simdjson::error_code ReadBar(od::object& object, BarBatch& out, size_t i, std::string* ticker,
                                      unsigned& seen) {
    seen = 0;
    out.vwap[i] = kNoVwap;
    out.trades[i] = kNoTrades;
    out.volume[i] = 0;
    if (ticker != nullptr) ticker->clear();
    for (auto field : object) {
      od::raw_json_string key;
      if (auto e = field.key().get(key)) return e;
      const char* k = key.raw();
      simdjson::error_code e = simdjson::SUCCESS;
      switch (k[0]) {
        case 't':
          if (k[1] == '"') { e = field.value().get_int64().get(out.t[i]); seen |= kHasT; }
          break;
        case 'o':
          if (k[1] == '"') { e = field.value().get_double().get(out.open[i]); seen |= kHasO; }
          break;
        case 'h':
          if (k[1] == '"') { e = field.value().get_double().get(out.high[i]); seen |= kHasH; }
          break;
        case 'l':
          if (k[1] == '"') { e = field.value().get_double().get(out.low[i]); seen |= kHasL; }
          break;
        case 'c':
          if (k[1] == '"') { e = field.value().get_double().get(out.close[i]); seen |= kHasC; }
          break;
        case 'v':
          if (k[1] == '"') {
            e = field.value().get_double().get(out.volume[i]);
            seen |= kHasV;
          } else if (k[1] == 'w' && k[2] == '"') {
            e = ReadOptional(field.value(), out.vwap[i]);
          }
          break;
        case 'n':
          if (k[1] == '"') e = ReadOptional(field.value(), out.trades[i]);
          break;
        case 'T':
          if (k[1] == '"' && ticker != nullptr) {
            std::string_view text;
            e = field.value().get_string().get(text);
            if (!e) ticker->assign(text);
          }
          break;
        default:
          break;  // otc, an unwanted T, and anything new: skipped unread
      }
      if (e) return e;
    }
    return simdjson::SUCCESS;
  }

  Result<AggsPage> Run(const char* data, size_t size, size_t capacity, BarBatch& out,
                       const ParseOptions& options) {
    const size_t original_size = out.size();
    std::vector<std::string>* const tickers = options.tickers;
    if (tickers != nullptr && tickers->size() != original_size) {
      return Fail(ErrorCode::kInternal, "the ticker column must be as long as the batch");
    }
    // The ticker column, when there is one, always has the batch's length.
    const auto resize = [&](size_t n) {
      out.resize(n);
      if (tickers != nullptr) tickers->resize(n);
    };
    auto fail = [&](Error error) -> Result<AggsPage> {
      resize(original_size);
      return Fail(std::move(error));
    };
    base = data;
    AggsPage page;
    od::document doc;
    if (auto e = parser.iterate(simdjson::padded_string_view(data, size, capacity)).get(doc)) {
      return fail(Error(ErrorCode::kBadResponse,
                        std::string("invalid aggregates body: ") + simdjson::error_message(e) +
                            (size == 0 ? " (empty body)" : "")));
    }
    od::object root;
    if (auto e = doc.get_object().get(root)) return fail(Bad(doc, "not a JSON object", e));

    const unsigned required = options.volume_optional ? kRequiredWithoutVolume
                                                      : kRequiredWithoutVolume | kHasV;
    for (auto field : root) {
      od::raw_json_string key;
      if (auto e = field.key().get(key)) return fail(Bad(doc, "bad key", e));
      const char* k = key.raw();
      if (KeyIs(k, "results")) {
        od::value value;
        if (auto e = field.value().get(value)) return fail(Bad(doc, "'results'", e));
        bool is_null = false;
        if (auto e = value.is_null().get(is_null)) return fail(Bad(doc, "'results'", e));
        if (is_null) continue;
        od::array results;
        if (auto e = value.get_array().get(results)) return fail(Bad(doc, "'results' is not an array", e));
        // Columns are sized once (resultsCount usually comes first) and filled by index,
        // cheaper than eight push_backs per bar.
        size_t filled = out.size();
        if (page.results_count > 0) {
          const auto bound = static_cast<int64_t>(size / kMinBytesPerBar);
          resize(filled + static_cast<size_t>(std::min(page.results_count, bound)));
        }
        for (auto element : results) {
          od::object object;
          if (auto e = element.get_object().get(object)) {
            return fail(Bad(doc, "result " + std::to_string(page.bars) + " is not an object", e));
          }
          if (filled == out.size()) resize(filled + filled / 2 + 64);
          unsigned seen = 0;
          std::string* const ticker = tickers != nullptr ? &(*tickers)[filled] : nullptr;
          if (auto e = ReadBar(object, out, filled, ticker, seen)) {
            return fail(Bad(doc, "result " + std::to_string(page.bars), e));
          }
          if ((seen & required) != required) {
            const unsigned missing = required & ~seen;
            return fail(Bad(doc,
                            "result " + std::to_string(page.bars) + " has no '" +
                                FieldName(missing & (~missing + 1)) + "'",
                            simdjson::SUCCESS));
          }
          ++filled;
          ++page.bars;
        }
        resize(filled);
      } else if (KeyIs(k, "status")) {
        std::string_view s;
        if (auto e = field.value().get_string().get(s)) return fail(Bad(doc, "'status'", e));
        page.status_text.assign(s);
        page.status = StatusOf(s);
      } else if (KeyIs(k, "resultsCount")) {
        if (auto e = field.value().get_int64().get(page.results_count)) {
          return fail(Bad(doc, "'resultsCount'", e));
        }
      } else if (KeyIs(k, "count")) {
        if (auto e = field.value().get_int64().get(page.count)) return fail(Bad(doc, "'count'", e));
      } else if (KeyIs(k, "queryCount")) {
        // Informational (what the page cost in base aggregates): a strange value is not worth a retry.
        int64_t query_count = -1;
        if (field.value().get_int64().get(query_count) == simdjson::SUCCESS && query_count >= 0) {
          page.query_count = query_count;
        }
      } else if (KeyIs(k, "next_url")) {
        std::string_view s;
        if (auto e = field.value().get_string().get(s)) return fail(Bad(doc, "'next_url'", e));
        page.next_url.assign(s);
      } else if (KeyIs(k, "request_id")) {
        std::string_view s;
        if (field.value().get_string().get(s) == simdjson::SUCCESS) page.request_id.assign(s);
      } else if (KeyIs(k, "error") || KeyIs(k, "message")) {
        std::string_view s;
        if (field.value().get_string().get(s) == simdjson::SUCCESS && page.message.empty()) {
          page.message.assign(s);
        }
      }
      // Other keys (ticker, queryCount, adjusted, ...) are skipped unread.
    }
    // current_location() reports OUT_OF_BOUNDS exactly when the whole input was consumed.
    const char* trailing = nullptr;
    if (doc.current_location().get(trailing) == simdjson::SUCCESS) {
      return fail(Bad(doc, "trailing content after the JSON object", simdjson::SUCCESS));
    }

    const auto bars = static_cast<int64_t>(page.bars);
    if (page.results_count >= 0 && page.results_count != bars) {
      return fail(Error(ErrorCode::kBadResponse,
                        "aggregates body says resultsCount " + std::to_string(page.results_count) +
                            " but holds " + std::to_string(bars) + " results (truncated?)"));
    }
    if (page.count >= 0 && page.count != bars) {
      return fail(Error(ErrorCode::kBadResponse, "aggregates body says count " +
                                                     std::to_string(page.count) + " but holds " +
                                                     std::to_string(bars) + " results (truncated?)"));
    }
    return page;
  }
};

AggsParser::AggsParser() : impl_(std::make_unique<Impl>()) {}
AggsParser::~AggsParser() = default;

Result<AggsPage> AggsParser::Parse(const char* data, size_t size, size_t capacity, BarBatch& out,
                                   const ParseOptions& options) {
  if (capacity < size + kParsePadding) {
    return Parse(std::string_view(data, size), out, options);
  }
  return impl_->Run(data, size, capacity, out, options);
}

Result<AggsPage> AggsParser::Parse(std::string_view body, BarBatch& out, const ParseOptions& options) {
  std::string& padded = impl_->padded;
  padded.assign(body);
  padded.append(simdjson::SIMDJSON_PADDING, '\0');
  return impl_->Run(padded.data(), body.size(), padded.size(), out, options);
}

std::string BodyExcerpt(std::string_view body, size_t max_chars) {
  std::string out;
  for (const char ch : body.substr(0, max_chars)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n' || c == '\r' || c == '\t') {
      out.push_back(' ');
    } else if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      out.push_back(ch);
    }
  }
  if (body.size() > max_chars) out += "...";
  return out;
}

Result<AggsPage> ReadAggsResponse(AggsParser& parser, int http_status, const char* data,
                                  size_t size, size_t capacity, BarBatch& out,
                                  const ParseOptions& options) {
  const size_t original_size = out.size();
  const size_t original_tickers = options.tickers != nullptr ? options.tickers->size() : 0;
  auto parsed = parser.Parse(data, size, capacity, out, options);

  // The server's own words: `error` or `message` of a JSON body, else an excerpt of the body.
  const auto server_text = [&]() -> std::string {
    if (parsed && !parsed->message.empty()) return parsed->message;
    if (size == 0) return "empty body";
    return BodyExcerpt(std::string_view(data, size));
  };
  const auto error = [&](ErrorCode code, std::string message) -> Result<AggsPage> {
    out.resize(original_size);
    if (options.tickers != nullptr) options.tickers->resize(original_tickers);
    Error e(code, std::move(message));
    e.http_status = http_status;
    return Fail(std::move(e));
  };

  if (http_status == 200) {
    if (!parsed) return error(ErrorCode::kBadResponse, std::move(parsed).error().message);
    switch (parsed->status) {
      case PageStatus::kOk:
      case PageStatus::kDelayed:
        return parsed;
      case PageStatus::kNotAuthorized:
        return error(ErrorCode::kAuth, "API refused the request: " + server_text());
      case PageStatus::kNotFound:
        return error(ErrorCode::kBadRequest, "API says not found: " + server_text());
      case PageStatus::kMissing:
        return error(ErrorCode::kBadResponse, "aggregates body has no 'status'");
      case PageStatus::kError:
      case PageStatus::kOther:
        return error(ErrorCode::kBadResponse,
                     "API answered status " + parsed->status_text + ": " + server_text());
    }
  }
  out.resize(original_size);
  return Fail(ErrorForHttpStatus(http_status, server_text()));
}

Error ErrorForHttpStatus(int http_status, const std::string& server_text) {
  const auto error = [&](ErrorCode code, std::string message) {
    Error e(code, std::move(message));
    e.http_status = http_status;
    return e;
  };
  if (http_status == 401 || http_status == 403) {
    return error(ErrorCode::kAuth, "API refused the key or plan: " + server_text);
  }
  if (http_status == 429) return error(ErrorCode::kRateLimited, "rate limited: " + server_text);
  if (http_status == 408 || (http_status >= 500 && http_status <= 599)) {
    return error(ErrorCode::kServerError, "server error: " + server_text);
  }
  if (http_status >= 400 && http_status <= 499) {
    return error(ErrorCode::kBadRequest, "API rejected the request: " + server_text);
  }
  return error(ErrorCode::kBadResponse, "unexpected HTTP status: " + server_text);
}

}  // namespace barfill::polygon
