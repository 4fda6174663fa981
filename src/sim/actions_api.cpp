#include "sim/actions_api.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <set>

#include "sim/action_table.h"
#include "sim/aggs_api.h"

namespace barfill::sim {
namespace {

Unexpected BadRequest(std::string text) {
  Error error(ErrorCode::kBadRequest, std::move(text));
  error.http_status = 400;
  return Unexpected{std::move(error)};
}

bool IsV1(ActionsEndpoint e) { return e == ActionsEndpoint::kSplitsV1 || e == ActionsEndpoint::kDividendsV1; }
bool IsSplits(ActionsEndpoint e) { return e == ActionsEndpoint::kSplitsV1 || e == ActionsEndpoint::kSplitsV3; }

/// One field of a row: text (dates and names compare as text), a number, or absent.
struct Value {
  enum class Kind { kNull, kText, kNumber } kind = Kind::kNull;
  std::string text;
  double number = 0;
  bool exponent = false;  ///< written in exponent form (a fault)
};

Value Text(std::string text) { return Value{Value::Kind::kText, std::move(text), 0, false}; }
Value Number(double x, bool exponent = false) { return Value{Value::Kind::kNumber, {}, x, exponent}; }
Value Day(const std::optional<CalendarDay>& day) { return day ? Text(day->ToString()) : Value{}; }

/// A row: its fields in the order the body writes them, then fields only filters see.
struct Row {
  std::vector<std::pair<std::string_view, Value>> fields;
  size_t shown = 0;  ///< fields[0, shown) go into the body

  const Value* Get(std::string_view name) const {
    for (const auto& [key, value] : fields) {
      if (key == name) return &value;
    }
    return nullptr;
  }
};

/// The fields each endpoint can filter on (besides ticker) and sort by.
std::vector<std::string_view> FilterFields(ActionsEndpoint e) {
  switch (e) {
    case ActionsEndpoint::kSplitsV1: return {"ticker", "execution_date", "adjustment_type"};
    case ActionsEndpoint::kDividendsV1: return {"ticker", "ex_dividend_date", "frequency", "distribution_type"};
    case ActionsEndpoint::kSplitsV3: return {"ticker", "execution_date", "reverse_split"};
    case ActionsEndpoint::kDividendsV3:
      return {"ticker", "ex_dividend_date", "record_date", "declaration_date", "pay_date", "cash_amount", "frequency",
              "dividend_type"};
  }
  return {};
}

Row SplitRow(ActionsEndpoint e, const SplitRecord& s, bool exponent) {
  Row row;
  if (e == ActionsEndpoint::kSplitsV1) {
    row.fields = {{"id", Text(s.id)},
                  {"execution_date", Text(s.execution_date.ToString())},
                  {"split_from", Number(s.split_from, exponent)},
                  {"split_to", Number(s.split_to, exponent)},
                  {"ticker", Text(s.ticker)},
                  {"adjustment_type", Text(s.adjustment_type)},
                  {"historical_adjustment_factor", Number(s.vendor_factor)}};
  } else {
    row.fields = {{"execution_date", Text(s.execution_date.ToString())},
                  {"id", Text(s.id)},
                  {"split_from", Number(s.split_from, exponent)},
                  {"split_to", Number(s.split_to, exponent)},
                  {"ticker", Text(s.ticker)}};
  }
  row.shown = row.fields.size();
  row.fields.emplace_back("reverse_split", Text(s.split_from > s.split_to ? "true" : "false"));
  return row;
}

Row DividendRow(ActionsEndpoint e, const DividendRecord& d) {
  Row row;
  if (e == ActionsEndpoint::kDividendsV1) {
    row.fields = {{"cash_amount", Number(d.cash_amount)},
                  {"currency", Text(d.currency)},
                  {"declaration_date", Day(d.declaration_date)},
                  {"distribution_type", Text(d.distribution_type)},
                  {"ex_dividend_date", Text(d.ex_dividend_date.ToString())},
                  {"frequency", Number(d.frequency)},
                  {"historical_adjustment_factor", Number(d.vendor_factor)},
                  {"id", Text(d.id)},
                  {"pay_date", Day(d.pay_date)},
                  {"record_date", Day(d.record_date)},
                  {"split_adjusted_cash_amount", Number(d.split_adjusted_cash_amount)},
                  {"ticker", Text(d.ticker)}};
  } else {
    // v3's cash_amount has been split-adjusted for some rows and not others (polygon-io/issues#230);
    // the simulator sends the split-adjusted amount.
    row.fields = {{"cash_amount", Number(d.split_adjusted_cash_amount)},
                  {"currency", Text(d.currency)},
                  {"declaration_date", Day(d.declaration_date)},
                  {"dividend_type", Text(d.frequency == 0 ? "SC" : "CD")},
                  {"ex_dividend_date", Text(d.ex_dividend_date.ToString())},
                  {"frequency", Number(d.frequency)},
                  {"id", Text(d.id)},
                  {"pay_date", Day(d.pay_date)},
                  {"record_date", Day(d.record_date)},
                  {"ticker", Text(d.ticker)}};
  }
  row.shown = row.fields.size();
  return row;
}

bool Named(const std::vector<std::string>& names, std::string_view ticker) {
  return std::find(names.begin(), names.end(), ticker) != names.end();
}

/// Every row of the call's tickers as the endpoint lists them, faults included.
std::vector<Row> RowsOf(const ActionsCall& call, const Market& market, const ActionFaults& faults) {
  std::vector<Row> rows;
  for (const std::string& symbol : call.tickers) {
    auto ticker = Ticker::Parse(symbol);
    if (!ticker) continue;  // a name no market lists has no actions
    if (!IsSplits(call.endpoint)) {
      for (const DividendRecord& d : ListedActions(market, *ticker).dividends) rows.push_back(DividendRow(call.endpoint, d));
      continue;
    }
    std::vector<SplitRecord> splits = ListedSplits(market, *ticker);
    if (Named(faults.conflicting, symbol) && !splits.empty()) {
      SplitRecord twin = splits.back();
      twin.split_to += 1;
      twin.id = EventId(symbol, "split-duplicate", twin.execution_date, twin.split_from, twin.split_to);
      splits.push_back(std::move(twin));
    }
    if (faults.v3_disagrees && call.endpoint == ActionsEndpoint::kSplitsV3 && !splits.empty()) {
      const CalendarDay latest = std::max_element(splits.begin(), splits.end(), [](const auto& a, const auto& b) {
                                   return a.execution_date < b.execution_date;
                                 })->execution_date;
      std::erase_if(splits, [&](const SplitRecord& s) { return s.execution_date == latest; });
    }
    const bool exponent = Named(faults.exponent, symbol);
    for (const SplitRecord& s : splits) rows.push_back(SplitRow(call.endpoint, s, exponent));
  }
  return rows;
}

int Compare(const Value& a, const Value& b) {
  if (a.kind != b.kind) return a.kind < b.kind ? -1 : 1;
  if (a.kind == Value::Kind::kNumber) return a.number < b.number ? -1 : a.number > b.number ? 1 : 0;
  return a.text.compare(b.text) < 0 ? -1 : a.text.compare(b.text) > 0 ? 1 : 0;
}

/// The value a filter compares a field with, typed like the field.
Result<Value> FilterValue(const Value& like, std::string_view key, const std::string& text) {
  if (like.kind != Value::Kind::kNumber) return Text(text);
  char* end = nullptr;
  const double x = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) return BadRequest("The parameter '" + std::string(key) + "' must be a number");
  return Number(x);
}

/// Whether `row` passes every filter of `params`. With `check_all`, every filter is read (to find a
/// bad one) even after one has failed.
Result<bool> Passes(const Row& row, ActionsEndpoint endpoint, const QueryParams& params, bool check_all = false) {
  bool passes = true;
  const std::vector<std::string_view> fields = FilterFields(endpoint);
  for (const auto& [key, text] : params) {
    const size_t dot = key.find('.');
    const std::string_view field = std::string_view(key).substr(0, dot);
    const std::string_view op = dot == std::string::npos ? "" : std::string_view(key).substr(dot + 1);
    if (std::find(fields.begin(), fields.end(), field) == fields.end()) continue;
    const Value* value = row.Get(field);
    if (value == nullptr) return false;
    const auto fail = [&]() -> Result<bool> {
      passes = false;
      return check_all;  // keep reading the other filters
    };
    if (op == "any_of") {
      bool any = false;
      size_t start = 0;
      while (start <= text.size()) {
        const size_t comma = std::min(text.find(',', start), text.size());
        auto wanted = FilterValue(*value, key, text.substr(start, comma - start));
        if (!wanted) return Fail(wanted.error());
        any = any || Compare(*value, *wanted) == 0;
        start = comma + 1;
      }
      if (!any && !*fail()) return false;
      continue;
    }
    auto wanted = FilterValue(*value, key, text);
    if (!wanted) return Fail(wanted.error());
    const int c = Compare(*value, *wanted);
    bool match = true;
    if (op.empty()) {
      match = c == 0;
    } else if (op == "gt") {
      match = c > 0;
    } else if (op == "gte") {
      match = c >= 0;
    } else if (op == "lt") {
      match = c < 0;
    } else if (op == "lte") {
      match = c <= 0;
    } else {
      return BadRequest("Unknown filter '" + key + "': use .any_of, .gt, .gte, .lt or .lte");
    }
    if (!match && !*fail()) return false;
  }
  return passes;
}

std::string ParamOr(const QueryParams& params, std::string_view key, std::string fallback) {
  for (const auto& [k, v] : params) {
    if (k == key) return v;
  }
  return fallback;
}

/// Sort keys: (field, descending) in order, from v1's "col.dir,..." or v3's sort + order.
Result<std::vector<std::pair<std::string, bool>>> SortKeys(ActionsEndpoint e, const QueryParams& params) {
  std::vector<std::pair<std::string, bool>> keys;
  if (IsV1(e)) {
    const std::string sort = ParamOr(params, "sort", IsSplits(e) ? "execution_date.desc" : "ticker.asc");
    size_t start = 0;
    while (start <= sort.size()) {
      const size_t comma = std::min(sort.find(',', start), sort.size());
      const std::string item = sort.substr(start, comma - start);
      const size_t dot = item.rfind('.');
      const std::string dir = dot == std::string::npos ? "asc" : item.substr(dot + 1);
      if (dir != "asc" && dir != "desc") return BadRequest("The parameter 'sort' takes column.asc or column.desc items");
      keys.emplace_back(item.substr(0, dot), dir == "desc");
      start = comma + 1;
    }
  } else {
    const std::string order = ParamOr(params, "order", "desc");
    if (order != "asc" && order != "desc") return BadRequest("The parameter 'order' must be 'asc' or 'desc'");
    keys.emplace_back(ParamOr(params, "sort", IsSplits(e) ? "execution_date" : "ex_dividend_date"), order == "desc");
  }
  keys.emplace_back("ticker", false);
  keys.emplace_back(IsSplits(e) ? "execution_date" : "ex_dividend_date", false);
  keys.emplace_back("id", false);
  return keys;
}

void WriteValue(const Value& value, ByteBuffer* out) {
  char text[40];
  switch (value.kind) {
    case Value::Kind::kNull: out->Append("null"); break;
    case Value::Kind::kText:
      out->Append('"');
      AppendJsonEscaped(out, value.text);
      out->Append('"');
      break;
    case Value::Kind::kNumber: {
      char* end = value.exponent ? std::to_chars(text, text + sizeof text, value.number, std::chars_format::scientific).ptr
                                 : WriteJsonNumber(text, value.number);
      out->Append(std::string_view(text, static_cast<size_t>(end - text)));
      break;
    }
  }
}

std::string Cursor(const QueryParams& params, int64_t offset) {
  std::string query;
  for (const auto& [k, v] : params) query += k + "=" + v + "&";
  query += "offset=" + std::to_string(offset);
  std::string cursor = Base64UrlEncode(query);
  while (cursor.size() % 4 != 0) cursor.push_back('=');  // the vendor's cursors keep their padding
  return cursor;
}

}  // namespace

std::optional<ActionsEndpoint> MatchActionsPath(std::string_view path) {
  if (path == "/stocks/v1/splits") return ActionsEndpoint::kSplitsV1;
  if (path == "/stocks/v1/dividends") return ActionsEndpoint::kDividendsV1;
  if (path == "/v3/reference/splits") return ActionsEndpoint::kSplitsV3;
  if (path == "/v3/reference/dividends") return ActionsEndpoint::kDividendsV3;
  return std::nullopt;
}

Result<ActionFaults> ActionFaults::Parse(std::string_view text) {
  ActionFaults faults;
  size_t start = 0;
  while (start < text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    const std::string item(text.substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    const std::string name = item.substr(0, eq);
    std::vector<std::string> tickers;
    if (eq != std::string::npos) {
      size_t from = eq + 1;
      while (from <= item.size()) {
        const size_t plus = std::min(item.find('+', from), item.size());
        if (plus > from) tickers.push_back(item.substr(from, plus - from));
        from = plus + 1;
      }
    }
    if (name == "conflict" && !tickers.empty()) {
      faults.conflicting.insert(faults.conflicting.end(), tickers.begin(), tickers.end());
    } else if (name == "exponent" && !tickers.empty()) {
      faults.exponent.insert(faults.exponent.end(), tickers.begin(), tickers.end());
    } else if (name == "v3disagree" && eq == std::string::npos) {
      faults.v3_disagrees = true;
    } else {
      return Fail(ErrorCode::kUsage, "--action-faults: '" + item +
                                         "' is not one of conflict=T1+T2, exponent=T1+T2, v3disagree");
    }
  }
  return faults;
}

Result<ActionsCall> ResolveActionsCall(ActionsEndpoint endpoint, const QueryParams& query) {
  ActionsCall call;
  call.endpoint = endpoint;
  for (const auto& [key, value] : query) {
    if (key != "cursor") continue;
    const auto decoded = Base64UrlDecode(value);
    if (!decoded) return BadRequest("Invalid cursor");
    for (auto& [k, v] : ParseQuery(*decoded)) {
      if (k == "offset") {
        call.offset = std::strtoll(v.c_str(), nullptr, 10);
      } else {
        call.params.emplace_back(std::move(k), std::move(v));
      }
    }
  }
  if (call.offset == 0 && call.params.empty()) {
    for (const auto& [key, value] : query) {
      if (key != "apiKey" && key != "cursor") call.params.emplace_back(key, value);
    }
  }
  const int64_t max_limit = IsV1(endpoint) ? 5000 : 1000;
  const std::string limit_text = ParamOr(call.params, "limit", IsV1(endpoint) ? "100" : "10");
  char* end = nullptr;
  const long long limit = std::strtoll(limit_text.c_str(), &end, 10);
  if (limit_text.empty() || end != limit_text.c_str() + limit_text.size() || limit < 1) {
    return BadRequest("Could not parse the 'limit' parameter: use a positive integer");
  }
  call.limit = std::min<int64_t>(limit, max_limit);
  for (const auto& [key, value] : call.params) {
    if (key == "ticker") call.tickers.push_back(value);
    if (key == "ticker.any_of") {
      size_t start = 0;
      while (start <= value.size()) {
        const size_t comma = std::min(value.find(',', start), value.size());
        if (comma > start) call.tickers.push_back(value.substr(start, comma - start));
        start = comma + 1;
      }
    }
  }
  if (call.tickers.empty()) {
    return BadRequest("The simulator lists corporate actions by ticker: give 'ticker' or 'ticker.any_of'");
  }
  std::sort(call.tickers.begin(), call.tickers.end());
  call.tickers.erase(std::unique(call.tickers.begin(), call.tickers.end()), call.tickers.end());
  BARFILL_TRY(SortKeys(endpoint, call.params));
  // Filters are checked here, against a row of the endpoint's shape, so a page never fails half way.
  const Row shape = IsSplits(endpoint) ? SplitRow(endpoint, SplitRecord{}, false) : DividendRow(endpoint, DividendRecord{});
  BARFILL_TRY(Passes(shape, endpoint, call.params, /*check_all=*/true));
  return call;
}

void WriteActionsBody(const ActionsCall& call, const Market& market, const ActionFaults& faults,
                      std::string_view base_url, std::string_view request_id, ByteBuffer* out) {
  std::vector<Row> rows;
  for (Row& row : RowsOf(call, market, faults)) {
    auto passes = Passes(row, call.endpoint, call.params);
    if (passes && *passes) rows.push_back(std::move(row));
  }
  const auto keys = *SortKeys(call.endpoint, call.params);
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    for (const auto& [field, descending] : keys) {
      const Value* x = a.Get(field);
      const Value* y = b.Get(field);
      const int c = x != nullptr && y != nullptr ? Compare(*x, *y) : 0;
      if (c != 0) return descending ? c > 0 : c < 0;
    }
    return false;
  });
  const size_t begin = std::min(rows.size(), static_cast<size_t>(call.offset));
  const size_t end = std::min(rows.size(), begin + static_cast<size_t>(call.limit));
  const std::string head_v1 = IsSplits(call.endpoint) ? "{\"status\":\"OK\",\"request_id\":\"" : "{\"request_id\":\"";
  if (IsV1(call.endpoint)) {
    out->Append(head_v1);
    out->Append(request_id);
    out->Append(IsSplits(call.endpoint) ? "\",\"results\":[" : "\",\"status\":\"OK\",\"results\":[");
  } else {
    out->Append("{\"results\":[");
  }
  for (size_t i = begin; i < end; ++i) {
    out->Append(i == begin ? "{" : ",{");
    for (size_t f = 0; f < rows[i].shown; ++f) {
      const auto& [key, value] = rows[i].fields[f];
      if (value.kind == Value::Kind::kNull) continue;  // optional fields are left out, not null
      if (out->view().back() != '{') out->Append(',');
      out->Append('"');
      out->Append(key);
      out->Append("\":");
      WriteValue(value, out);
    }
    out->Append('}');
  }
  out->Append(']');
  if (!IsV1(call.endpoint)) {
    out->Append(",\"status\":\"OK\",\"request_id\":\"");
    out->Append(request_id);
    out->Append('"');
  }
  if (end < rows.size()) {
    std::string path = IsV1(call.endpoint) ? (IsSplits(call.endpoint) ? "/stocks/v1/splits" : "/stocks/v1/dividends")
                                           : (IsSplits(call.endpoint) ? "/v3/reference/splits" : "/v3/reference/dividends");
    out->Append(",\"next_url\":\"");
    AppendJsonEscaped(out, std::string(base_url) + path + "?cursor=" + Cursor(call.params, static_cast<int64_t>(end)));
    out->Append('"');
  }
  out->Append('}');
}

}  // namespace barfill::sim
