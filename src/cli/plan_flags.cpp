#include "cli/plan_flags.h"

#include <fstream>
#include <sstream>

namespace barfill::cli {
namespace {

// The engine's message about one part of the plan, put in terms of the flag that gave it.
Unexpected FlagError(std::string_view flag, const Error& error) {
  return Fail(ErrorCode::kUsage, std::string(flag) + ": " + error.message);
}

Result<CalendarDay> DayFlag(std::string_view flag, const std::string& text, CalendarDay today) {
  auto day = engine::ParseDay(text, today);
  if (!day) return Fail(ErrorCode::kUsage, std::string(flag) + " " + day.error().message);
  return *day;
}

/// The tickers of a file: commas or new lines between them, '#' starts a comment.
Result<std::vector<std::string>> TickersFromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Fail(ErrorCode::kUsage, "--tickers @" + path + ": cannot read the file (give one ticker or more per line)");
  std::vector<std::string> items;
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    for (std::string& item : engine::SplitList(line)) items.push_back(std::move(item));
  }
  if (items.empty()) return Fail(ErrorCode::kUsage, "--tickers @" + path + ": the file lists no tickers");
  return items;
}

}  // namespace

Result<engine::Plan> ApplyPlanFlags(std::optional<engine::Plan> base, const PlanFlags& flags) {
  const bool have_base = base.has_value();
  engine::Plan plan = have_base ? std::move(*base) : engine::Plan{};
  if (!have_base) plan.name = "command line";
  const CalendarDay today = flags.today.value_or(TodayUtc());
  if (!flags.tickers.empty() || !have_base) {
    std::vector<std::string> items = engine::SplitList(flags.tickers);
    if (items.size() == 1 && items[0].starts_with("@")) {
      auto listed = TickersFromFile(items[0].substr(1));
      if (!listed) return Fail(listed.error());
      items = std::move(*listed);
    }
    if (items.empty()) {
      return Fail(ErrorCode::kUsage, "--tickers is required (e.g. AAPL,X:BTCUSD), or give a plan file with --plan");
    }
    plan.all_tickers = items.size() == 1 ? engine::ParseAllTickers(items[0]) : std::nullopt;
    plan.tickers.clear();
    if (!plan.all_tickers) {
      auto tickers = engine::ParseTickers(items);
      if (!tickers) return FlagError("--tickers", tickers.error());
      plan.tickers = std::move(*tickers);
    }
  }
  if (!flags.ticker_prefixes.empty()) plan.ticker_prefixes = engine::SplitList(flags.ticker_prefixes);
  if (!flags.exclude.empty()) plan.exclude = engine::SplitList(flags.exclude);
  if ((!plan.ticker_prefixes.empty() || !plan.exclude.empty()) && !plan.all_tickers) {
    return Fail(ErrorCode::kUsage, "--ticker-prefix and --exclude narrow --tickers all; with a list of tickers, edit the list");
  }
  if (!flags.timeframes.empty() || !have_base) {
    auto timeframes = engine::ParseTimeframes(engine::SplitList(flags.timeframes));
    if (!timeframes) return FlagError("--timeframes", timeframes.error());
    plan.timeframes = std::move(*timeframes);
  }
  if (!flags.from.empty()) {
    auto day = DayFlag("--from", flags.from, today);
    if (!day) return Fail(day.error());
    plan.from = *day;
  } else if (!have_base) {
    return Fail(ErrorCode::kUsage, "--from is required (YYYY-MM-DD), or give a plan file with --plan");
  }
  if (!flags.to.empty()) {
    auto day = DayFlag("--to", flags.to, today);
    if (!day) return Fail(day.error());
    plan.to = *day;
  } else if (!have_base) {
    return Fail(ErrorCode::kUsage, "--to is required (YYYY-MM-DD), or give a plan file with --plan");
  }
  if (plan.to < plan.from) {
    return Fail(ErrorCode::kUsage, "--from " + plan.from.ToString() + " must not be after --to " + plan.to.ToString());
  }
  if (flags.adjusted) {
    plan.adjusted = *flags.adjusted;
    plan.unadjusted_too = flags.unadjusted_too;
  }
  return plan;
}

}  // namespace barfill::cli
