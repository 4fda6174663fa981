#include "cli/plan_flags.h"

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

}  // namespace

Result<engine::Plan> ApplyPlanFlags(std::optional<engine::Plan> base, const PlanFlags& flags) {
  const bool have_base = base.has_value();
  engine::Plan plan = have_base ? std::move(*base) : engine::Plan{};
  if (!have_base) plan.name = "command line";
  const CalendarDay today = flags.today.value_or(TodayUtc());
  if (!flags.tickers.empty() || !have_base) {
    const std::vector<std::string> items = engine::SplitList(flags.tickers);
    if (items.empty()) {
      return Fail(ErrorCode::kUsage, "--tickers is required (e.g. AAPL,X:BTCUSD), or give a plan file with --plan");
    }
    auto tickers = engine::ParseTickers(items);
    if (!tickers) return FlagError("--tickers", tickers.error());
    plan.tickers = std::move(*tickers);
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
