#include "engine/plan.h"

#include <gtest/gtest.h>

namespace barfill::engine {
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

TEST(Plan, ParsePlanChecksEveryPartWithoutNamingFlags) {
  const CalendarDay today = *CalendarDay::Parse("2026-03-01");
  auto plan = ParsePlan(PlanText{"", {"AAPL", "X:BTCUSD", "AAPL"}, {"1m", "5m"}, "yesterday", "today"}, today);
  ASSERT_TRUE(plan) << plan.error().message;
  EXPECT_EQ(plan->name, "command line");
  EXPECT_EQ(plan->tickers.size(), 2u) << "duplicates dropped";
  EXPECT_EQ(plan->from.ToString(), "2026-02-28");
  EXPECT_EQ(plan->to.ToString(), "2026-03-01");
  struct Case { PlanText text; const char* message; };
  const Case cases[] = {
      {{"", {}, {"1m"}, "2025-01-01", "2025-01-02"}, "no tickers given (e.g. AAPL,X:BTCUSD)"},
      {{"", {"AAPL"}, {}, "2025-01-01", "2025-01-02"}, "no timeframes given (e.g. 1m,5m,1h,1d)"},
      {{"", {"AAPL"}, {"1m"}, "2024-13-01", "2025-01-02"}, "from '2024-13-01' is not a valid YYYY-MM-DD date"},
      {{"", {"AAPL"}, {"1m"}, "2025-02-01", "2025-01-02"}, "from 2025-02-01 must not be after to 2025-01-02"},
  };
  for (const Case& c : cases) {
    const auto bad = ParsePlan(c.text, today);
    ASSERT_FALSE(bad) << c.message;
    EXPECT_EQ(bad.error().message, c.message);
    EXPECT_EQ(bad.error().message.find("--"), std::string::npos);
  }
}

TEST(Plan, SplitList) {
  EXPECT_EQ(SplitList(" a, b,,c ,"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(SplitList("").empty());
}

}  // namespace
}  // namespace barfill::engine
