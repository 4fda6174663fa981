#include "cli/plan_flags.h"

#include <gtest/gtest.h>

#include <fstream>

namespace barfill::cli {
namespace {

TEST(PlanFlags, FlagsBuildAndOverride) {
  PlanFlags flags;
  flags.tickers = "AAPL, X:BTCUSD,AAPL";
  flags.timeframes = "1m,5m";
  flags.from = "2025-01-01";
  flags.to = "2025-01-31";
  auto plan = ApplyPlanFlags(std::nullopt, flags);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->tickers.size(), 2u) << "duplicates dropped";
  EXPECT_EQ(plan->timeframes.size(), 2u);

  PlanFlags override_flags;
  override_flags.to = "2025-01-15";
  override_flags.adjusted = false;
  auto overridden = ApplyPlanFlags(*plan, override_flags);
  ASSERT_TRUE(overridden);
  EXPECT_EQ(overridden->to.ToString(), "2025-01-15");
  EXPECT_FALSE(overridden->adjusted);
  EXPECT_EQ(overridden->tickers.size(), 2u);
}

TEST(PlanFlags, FlagErrorsAreOneClearLine) {
  struct Case { PlanFlags flags; const char* message; };
  const Case cases[] = {
      {{"", "1m", "2025-01-01", "2025-01-02", {}, {}}, "--tickers is required (e.g. AAPL,X:BTCUSD), or give a plan file with --plan"},
      {{"AAPL", "", "2025-01-01", "2025-01-02", {}, {}}, "--timeframes: no timeframes given (e.g. 1m,5m,1h,1d)"},
      {{"AAPL", "minutes", "2025-01-01", "2025-01-02", {}, {}},
       "--timeframes: unknown timeframe 'minutes': use N followed by s, m, h, d, w, mo, q or y (e.g. 1m, 5m, 15m, 1h, 1d, 1mo)"},
      {{"AAPL", "1m", "2024-13-01", "2025-01-02", {}, {}}, "--from '2024-13-01' is not a valid YYYY-MM-DD date"},
      {{"AAPL", "1m", "2025-02-01", "2025-01-02", {}, {}}, "--from 2025-02-01 must not be after --to 2025-01-02"},
      {{"AAPL", "1m", "", "2025-01-02", {}, {}}, "--from is required (YYYY-MM-DD), or give a plan file with --plan"},
      {{"BTCUSD", "1m", "2025-01-01", "2025-01-02", {}, {}}, "--tickers: crypto tickers look like X:BTCUSD (got BTCUSD)"},
  };
  for (const Case& c : cases) {
    const auto plan = ApplyPlanFlags(std::nullopt, c.flags);
    ASSERT_FALSE(plan) << c.message;
    EXPECT_EQ(plan.error().message, c.message);
    EXPECT_EQ(plan.error().code, ErrorCode::kUsage);
  }
}

TEST(PlanFlags, AllTickersAndTickersFromAFile) {
  PlanFlags flags;
  flags.tickers = "all:crypto";
  flags.timeframes = "1m";
  flags.from = "2025-01-01";
  flags.to = "2025-01-31";
  flags.exclude = "X:ETHUSD";
  auto all = ApplyPlanFlags(std::nullopt, flags);
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_TRUE(all->all_tickers.has_value());
  EXPECT_EQ(*all->all_tickers, AssetClass::kCrypto);
  EXPECT_TRUE(all->tickers.empty());
  EXPECT_EQ(all->exclude, std::vector<std::string>{"X:ETHUSD"});

  flags.tickers = "AAPL";
  auto narrowed_list = ApplyPlanFlags(std::nullopt, flags);
  ASSERT_FALSE(narrowed_list);
  EXPECT_EQ(narrowed_list.error().message,
            "--ticker-prefix and --exclude narrow --tickers all; with a list of tickers, edit the list");

  const std::string path = ::testing::TempDir() + "/tickers.txt";
  {
    std::ofstream out(path);
    out << "# my universe\nAAPL, MSFT\nX:BTCUSD  # crypto too\n\n";
  }
  flags.exclude.clear();
  flags.tickers = "@" + path;
  auto listed = ApplyPlanFlags(std::nullopt, flags);
  ASSERT_TRUE(listed) << listed.error().message;
  ASSERT_EQ(listed->tickers.size(), 3u);
  EXPECT_EQ(listed->tickers[2].symbol(), "X:BTCUSD");
  flags.tickers = "@/nonexistent/tickers.txt";
  auto missing = ApplyPlanFlags(std::nullopt, flags);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message,
            "--tickers @/nonexistent/tickers.txt: cannot read the file (give one ticker or more per line)");
}

TEST(PlanFlags, TodayAndYesterday) {
  PlanFlags flags;
  flags.tickers = "AAPL";
  flags.timeframes = "1d";
  flags.from = "yesterday";
  flags.to = "today";
  flags.today = *CalendarDay::Parse("2026-03-01");
  auto plan = ApplyPlanFlags(std::nullopt, flags);
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->from.ToString(), "2026-02-28");
  EXPECT_EQ(plan->to.ToString(), "2026-03-01");
}

}  // namespace
}  // namespace barfill::cli
