#include "engine/plan.h"

#include <gtest/gtest.h>

namespace barfill {
namespace {

TEST(Plan, ShippedBaselineIsTheSeedsBaseline) {
  const auto plan = LoadPlanFile(std::string(BARFILL_SOURCE_DIR) + "/plans/phase2-baseline.toml");
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->tickers.size(), 50u);
  int crypto = 0;
  for (const Ticker& t : plan->tickers) crypto += t.asset_class() == AssetClass::kCrypto ? 1 : 0;
  EXPECT_EQ(crypto, 5);
  EXPECT_EQ(plan->timeframes.size(), 5u);
  EXPECT_EQ(plan->SeriesCount(), 250u);
  EXPECT_EQ(plan->from.ToString(), "2025-01-01");
  EXPECT_EQ(plan->to.ToString(), "2025-12-31");
  EXPECT_TRUE(plan->adjusted);
}

TEST(Plan, UnknownKeysAreErrorsWithSuggestions) {
  const auto plan = ParsePlanToml("tickers = [\"AAPL\"]\ntimeframes=[\"1d\"]\nfrom=\"2025-01-01\"\nto=\"2025-01-31\"\nratelimit = \"5/min\"\n", "p.toml");
  ASSERT_FALSE(plan);
  EXPECT_EQ(plan.error().code, ErrorCode::kConfig);
  EXPECT_EQ(plan.error().message, "p.toml:5:13: unknown plan key 'ratelimit' (did you mean 'rate'?)");
  const auto typo = ParsePlanToml("tikers = [\"AAPL\"]\n", "p.toml");
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message.find("did you mean 'tickers'"), std::string::npos) << typo.error().message;
}

TEST(Plan, SyntaxAndValueErrorsNameTheFile) {
  const auto syntax = ParsePlanToml("tickers = [\"AAPL\"\n", "bad.toml");
  ASSERT_FALSE(syntax);
  EXPECT_EQ(syntax.error().message.rfind("bad.toml:", 0), 0u) << syntax.error().message;
  const auto crypto = ParsePlanToml("tickers=[\"BTCUSD\"]\ntimeframes=[\"1m\"]\nfrom=\"2025-01-01\"\nto=\"2025-01-02\"\n", "c.toml");
  ASSERT_FALSE(crypto);
  EXPECT_EQ(crypto.error().message, "c.toml: crypto tickers look like X:BTCUSD (got BTCUSD)");
  const auto inverted = ParsePlanToml("tickers=[\"AAPL\"]\ntimeframes=[\"1m\"]\nfrom=\"2025-02-01\"\nto=\"2025-01-02\"\n", "i.toml");
  ASSERT_FALSE(inverted);
  EXPECT_EQ(inverted.error().message, "i.toml: 'from' 2025-02-01 is after 'to' 2025-01-02");
  const auto conc = ParsePlanToml("concurrency = 0\n", "n.toml");
  ASSERT_FALSE(conc);
  EXPECT_EQ(conc.error().message, "n.toml:1:15: concurrency must be an integer from 1 to 256");
}

TEST(Plan, FlagsBuildAndOverride) {
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

TEST(Plan, FlagErrorsAreOneClearLine) {
  struct Case { PlanFlags flags; const char* message; };
  const Case cases[] = {
      {{"", "1m", "2025-01-01", "2025-01-02", {}}, "no tickers: give --tickers AAPL,X:BTCUSD or a plan file"},
      {{"AAPL", "", "2025-01-01", "2025-01-02", {}}, "no timeframes: give --timeframes 1m,5m,1h,1d"},
      {{"AAPL", "minutes", "2025-01-01", "2025-01-02", {}},
       "unknown timeframe 'minutes': use N followed by s, m, h, d, w, mo, q or y (e.g. 1m, 5m, 15m, 1h, 1d, 1mo)"},
      {{"AAPL", "1m", "2024-13-01", "2025-01-02", {}}, "--from '2024-13-01' is not a valid YYYY-MM-DD date"},
      {{"AAPL", "1m", "2025-02-01", "2025-01-02", {}}, "--from 2025-02-01 must not be after --to 2025-01-02"},
      {{"AAPL", "1m", "", "2025-01-02", {}}, "--from is required (YYYY-MM-DD), or give a plan file with --plan"},
      {{"BTCUSD", "1m", "2025-01-01", "2025-01-02", {}}, "crypto tickers look like X:BTCUSD (got BTCUSD)"},
  };
  for (const Case& c : cases) {
    const auto plan = ApplyPlanFlags(std::nullopt, c.flags);
    ASSERT_FALSE(plan) << c.message;
    EXPECT_EQ(plan.error().message, c.message);
    EXPECT_EQ(plan.error().code, ErrorCode::kUsage);
  }
}

TEST(Plan, TodayAndYesterday) {
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

TEST(Plan, SplitList) {
  EXPECT_EQ(SplitList(" a, b,,c ,"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(SplitList("").empty());
}

}  // namespace
}  // namespace barfill
