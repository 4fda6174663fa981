#include "engine/plan.h"

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <set>
#include <sstream>

namespace barfill::engine {
namespace {

constexpr std::array<std::string_view, 11> kPlanKeys = {
    "name", "description", "tickers", "timeframes", "from", "to",
    "adjusted", "rate", "concurrency", "db", "base_url"};

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string Suggestion(std::string_view key) {
  std::string normalized(key);
  normalized.erase(std::remove(normalized.begin(), normalized.end(), '_'), normalized.end());
  std::string best;
  size_t best_distance = 3;  // farther than this is no suggestion
  for (const std::string_view candidate : kPlanKeys) {
    std::string plain(candidate);
    plain.erase(std::remove(plain.begin(), plain.end(), '_'), plain.end());
    size_t d = std::min(EditDistance(key, candidate), EditDistance(normalized, plain));
    // "ratelimit" for "rate", "ticker" for "tickers": one is the start of the other.
    if (plain.size() >= 3 && normalized.size() >= 3 &&
        (normalized.starts_with(plain) || plain.starts_with(normalized))) {
      d = std::min<size_t>(d, 1);
    }
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

std::string Where(const std::string& source, const toml::node& node) {
  const auto& begin = node.source().begin;
  return source + ":" + std::to_string(begin.line) + ":" + std::to_string(begin.column);
}

Unexpected ConfigError(const std::string& where, const std::string& what) {
  return Fail(ErrorCode::kConfig, where + ": " + what);
}

// Reads a list either as a TOML array of strings or a comma-separated string.
Result<std::vector<std::string>> ReadStringList(const std::string& source, std::string_view key,
                                                const toml::node& node) {
  std::vector<std::string> items;
  if (const auto* text = node.as_string()) return SplitList(text->get());
  const auto* array = node.as_array();
  if (array == nullptr) return ConfigError(Where(source, node), std::string(key) + " must be a list of strings");
  for (const toml::node& item : *array) {
    const auto* text = item.as_string();
    if (text == nullptr) return ConfigError(Where(source, item), std::string(key) + " must hold only strings");
    for (std::string& part : SplitList(text->get())) items.push_back(std::move(part));
  }
  return items;
}

Result<std::string> ReadString(const std::string& source, std::string_view key, const toml::node& node) {
  const auto* text = node.as_string();
  if (text == nullptr) return ConfigError(Where(source, node), std::string(key) + " must be a string");
  return text->get();
}

}  // namespace

Result<std::vector<Ticker>> ParseTickers(const std::vector<std::string>& items) {
  if (items.empty()) return Fail(ErrorCode::kUsage, "no tickers given (e.g. AAPL,X:BTCUSD)");
  std::vector<Ticker> tickers;
  std::set<std::string> seen;
  for (const std::string& item : items) {
    auto ticker = Ticker::Parse(item);
    if (!ticker) return Fail(ticker.error());
    if (seen.insert(item).second) tickers.push_back(*ticker);
  }
  return tickers;
}

Result<std::vector<Timeframe>> ParseTimeframes(const std::vector<std::string>& items) {
  if (items.empty()) return Fail(ErrorCode::kUsage, "no timeframes given (e.g. 1m,5m,1h,1d)");
  std::vector<Timeframe> timeframes;
  for (const std::string& item : items) {
    auto tf = Timeframe::Parse(item);
    if (!tf) return Fail(tf.error());
    if (std::find(timeframes.begin(), timeframes.end(), *tf) == timeframes.end()) timeframes.push_back(*tf);
  }
  return timeframes;
}

// "today" and "yesterday" let a scheduled run keep a series up to date with the same command.
Result<CalendarDay> ParseDay(const std::string& text, CalendarDay today) {
  if (text == "today") return today;
  if (text == "yesterday") return today.AddDays(-1);
  return CalendarDay::Parse(text);
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    std::string_view item = text.substr(start, comma - start);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
    if (!item.empty()) items.emplace_back(item);
    start = comma + 1;
  }
  return items;
}

Result<Plan> ParsePlanToml(std::string_view text, const std::string& source) {
  toml::table table;
  try {
    table = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    return Fail(ErrorCode::kConfig, source + ":" + std::to_string(begin.line) + ":" +
                                        std::to_string(begin.column) + ": " + std::string(e.description()));
  }
  Plan plan;
  plan.name = source;
  std::vector<std::string> tickers;
  std::vector<std::string> timeframes;
  std::string from;
  std::string to;
  for (const auto& [key, node] : table) {
    const std::string_view k = key.str();
    const std::string where = Where(source, node);
    if (std::find(kPlanKeys.begin(), kPlanKeys.end(), k) == kPlanKeys.end()) {
      return ConfigError(where, "unknown plan key '" + std::string(k) + "'" + Suggestion(k));
    }
    if (k == "tickers" || k == "timeframes") {
      auto list = ReadStringList(source, k, node);
      if (!list) return Fail(list.error());
      (k == "tickers" ? tickers : timeframes) = std::move(*list);
    } else if (k == "adjusted") {
      const auto* flag = node.as_boolean();
      const auto* word = node.as_string();
      if (word != nullptr && word->get() == "both") {
        plan.adjusted = true;
        plan.unadjusted_too = true;
      } else if (flag == nullptr) {
        return ConfigError(where, "adjusted must be true, false or \"both\"");
      } else {
        plan.adjusted = flag->get();
      }
    } else if (k == "concurrency") {
      const auto* n = node.as_integer();
      if (n == nullptr || n->get() < 1 || n->get() > kMaxConcurrency) {
        return ConfigError(where, "concurrency must be an integer from 1 to " + std::to_string(kMaxConcurrency));
      }
      plan.concurrency = static_cast<int>(n->get());
    } else {
      auto value = ReadString(source, k, node);
      if (!value) return Fail(value.error());
      if (k == "name") plan.name = *value;
      else if (k == "from") from = *value;
      else if (k == "to") to = *value;
      else if (k == "rate") plan.rate = *value;
      else if (k == "db") plan.db = *value;
      else if (k == "base_url") plan.base_url = *value;
    }
  }
  // Validate what the file says so errors point at the file, not at a later flag.
  auto parsed_tickers = ParseTickers(tickers);
  if (!parsed_tickers) return ConfigError(source, parsed_tickers.error().message);
  auto parsed_timeframes = ParseTimeframes(timeframes);
  if (!parsed_timeframes) return ConfigError(source, parsed_timeframes.error().message);
  plan.tickers = std::move(*parsed_tickers);
  plan.timeframes = std::move(*parsed_timeframes);
  if (from.empty() || to.empty()) return ConfigError(source, "a plan needs both 'from' and 'to' (YYYY-MM-DD)");
  auto from_day = ParseDay(from, TodayUtc());
  if (!from_day) return ConfigError(source, "from " + from_day.error().message);
  auto to_day = ParseDay(to, TodayUtc());
  if (!to_day) return ConfigError(source, "to " + to_day.error().message);
  if (*to_day < *from_day) return ConfigError(source, "'from' " + from + " is after 'to' " + to);
  plan.from = *from_day;
  plan.to = *to_day;
  return plan;
}

Result<Plan> LoadPlanFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail(ErrorCode::kConfig, "cannot read plan file " + path);
  std::stringstream text;
  text << in.rdbuf();
  return ParsePlanToml(text.str(), path);
}

std::optional<AssetClass> ParseAllTickers(std::string_view item) {
  static constexpr std::pair<std::string_view, AssetClass> kAll[] = {
      {"all", AssetClass::kStock},          {"all:stocks", AssetClass::kStock},  {"all:crypto", AssetClass::kCrypto},
      {"all:forex", AssetClass::kFx},       {"all:indices", AssetClass::kIndex}, {"all:options", AssetClass::kOption}};
  for (const auto& [word, asset] : kAll) {
    if (item == word) return asset;
  }
  return std::nullopt;
}

Result<Plan> ParsePlan(const PlanText& text, CalendarDay today) {
  Plan plan;
  plan.name = text.name.empty() ? "command line" : text.name;
  if (text.tickers.size() == 1 && ParseAllTickers(text.tickers[0])) {
    plan.all_tickers = ParseAllTickers(text.tickers[0]);
  } else {
    auto tickers = ParseTickers(text.tickers);
    if (!tickers) return Fail(tickers.error());
    plan.tickers = std::move(*tickers);
  }
  auto timeframes = ParseTimeframes(text.timeframes);
  if (!timeframes) return Fail(timeframes.error());
  auto from = ParseDay(text.from, today);
  if (!from) return Fail(ErrorCode::kUsage, "from " + from.error().message);
  auto to = ParseDay(text.to, today);
  if (!to) return Fail(ErrorCode::kUsage, "to " + to.error().message);
  if (*to < *from) {
    return Fail(ErrorCode::kUsage, "from " + from->ToString() + " must not be after to " + to->ToString());
  }
  plan.timeframes = std::move(*timeframes);
  plan.from = *from;
  plan.to = *to;
  plan.adjusted = text.adjusted || text.unadjusted_too;
  plan.unadjusted_too = text.unadjusted_too;
  return plan;
}

}  // namespace barfill::engine
