// The rules every reader of corporate actions shares: which splits adjust, the cumulative factors,
// and the vendor's rounding of adjusted prices.
#include "core/corporate_actions.h"

#include <gtest/gtest.h>

namespace barfill {
namespace {

CalendarDay D(const char* text) { return *CalendarDay::Parse(text); }

SplitRecord Split(const char* id, const char* day, double from, double to) {
  SplitRecord s;
  s.id = id;
  s.ticker = "AAPL";
  s.execution_date = D(day);
  s.split_from = from;
  s.split_to = to;
  return s;
}

const ClassifiedSplit& ById(const std::vector<ClassifiedSplit>& all, const std::string& id) {
  for (const ClassifiedSplit& c : all) {
    if (c.split.id == id) return c;
  }
  ADD_FAILURE() << "no split " << id;
  return all.front();
}

constexpr CalendarDay kToday{2026, 1, 15};

TEST(SplitFactors, MatchTheVendorsCumulativeFactors) {
  // AAPL's splits as the vendor lists them: 2005 1:2 (factor 0.017857), 2014 1:7 (0.035714), 2020 1:4 (0.25).
  const auto classified = ClassifySplits({Split("a", "2020-08-31", 1, 4), Split("b", "2014-06-09", 1, 7),
                                          Split("c", "2005-02-28", 1, 2)},
                                         {}, kToday);
  std::vector<SplitRecord> active;
  for (const auto& c : classified) {
    EXPECT_EQ(c.status, ActionStatus::kActive) << c.reason;
    active.push_back(c.split);
  }
  const std::vector<FactorRange> ranges = BuildFactorRanges(active, {});
  ASSERT_EQ(ranges.size(), 3u);
  EXPECT_EQ(ranges[0].from_day, kFirstAdjustedDay);
  EXPECT_EQ(ranges[0].to_day, D("2005-02-28"));
  EXPECT_NEAR(ranges[0].split_price, 0.017857, 5e-7);
  EXPECT_EQ(ranges[0].split_volume, 56);
  EXPECT_NEAR(ranges[1].split_price, 0.035714, 5e-7);
  EXPECT_EQ(ranges[1].split_volume, 28);
  EXPECT_EQ(ranges[2].split_price, 0.25);
  EXPECT_EQ(ranges[2].to_day, D("2020-08-31"));
  // Session days before the execution date are adjusted, the day itself is not.
  EXPECT_EQ(FactorFor(ranges, D("2020-08-28"))->split_price, 0.25);
  EXPECT_EQ(FactorFor(ranges, D("2020-08-31")), nullptr);
  EXPECT_EQ(FactorFor(ranges, D("2014-06-06"))->split_volume, 28);
}

TEST(SplitAdjustedPrice, RoundsHalfUpToFourDecimalsLikeTheVendor) {
  // The vendor's 2005 AAPL day bar: raw close 40.89 under a factor of 1/28 is sent as 1.4604.
  EXPECT_EQ(SplitAdjustedPrice(40.89, 1.0 / 28), 1.4604);
  EXPECT_EQ(SplitAdjustedPrice(1739.98, 0.25), 434.995);
  EXPECT_EQ(SplitAdjustedPrice(174.03, 1), 174.03);  // prices of at most 4 decimals pass unchanged
  EXPECT_EQ(SplitAdjustedPrice(0.16, 8), 1.28);       // a reverse split multiplies
  EXPECT_EQ(SplitAdjustedPrice(1.23, 0.125), 0.1538); // 0.15375: half up
}

TEST(AdjustBar, AdjustsPricesAndVolumeButNotTrades) {
  Bar raw;
  raw.t = 0;
  raw.open = 100;
  raw.high = 104;
  raw.low = 99;
  raw.close = 103.33;
  raw.volume = 1000;
  raw.vwap = 101.2345;
  raw.trades = 17;
  const FactorRange range{kFirstAdjustedDay, D("2020-01-02"), 1.0 / 3, 3, 0.99};
  const Bar split = AdjustBar(raw, range, Adjustment::kSplits);
  EXPECT_EQ(split.open, 33.3333);
  EXPECT_EQ(split.close, 34.4433);
  EXPECT_EQ(split.vwap, 33.7448);
  EXPECT_EQ(split.volume, 3000);
  EXPECT_EQ(split.trades, 17);
  const Bar total = AdjustBar(raw, range, Adjustment::kTotalReturn);
  EXPECT_EQ(total.open, 100 * (1.0 / 3) * 0.99);
  EXPECT_EQ(total.volume, 3000);
  EXPECT_EQ(AdjustBar(raw, range, Adjustment::kNone), raw);
}

TEST(ClassifySplits, ConflictingRowsOfOneDayAreUnusedUntilResolved) {
  const std::vector<SplitRecord> rows = {Split("real", "2024-05-01", 15, 1), Split("twin", "2024-05-01", 1, 2),
                                         Split("other", "2020-01-06", 1, 2)};
  const auto open = ClassifySplits(rows, {}, kToday);
  EXPECT_EQ(ById(open, "real").status, ActionStatus::kConflict);
  EXPECT_EQ(ById(open, "twin").status, ActionStatus::kConflict);
  EXPECT_NE(ById(open, "real").reason.find("resolve"), std::string::npos) << ById(open, "real").reason;
  EXPECT_EQ(ById(open, "other").status, ActionStatus::kActive);

  const auto resolved = ClassifySplits(rows, {SplitOverride{"real", true, "checked the filing"}}, kToday);
  EXPECT_EQ(ById(resolved, "real").status, ActionStatus::kActive);
  EXPECT_EQ(ById(resolved, "twin").status, ActionStatus::kIgnored);
  const auto ignored = ClassifySplits(rows, {SplitOverride{"twin", false, "spurious"}}, kToday);
  EXPECT_EQ(ById(ignored, "real").status, ActionStatus::kActive);
  EXPECT_EQ(ById(ignored, "twin").status, ActionStatus::kIgnored);
}

TEST(ClassifySplits, TheSameSplitListedTwiceCountsOnce) {
  const auto c = ClassifySplits({Split("a", "2022-06-22", 1, 10), Split("b", "2022-06-22", 2, 20)}, {}, kToday);
  EXPECT_EQ(ById(c, "a").status, ActionStatus::kActive);
  EXPECT_EQ(ById(c, "b").status, ActionStatus::kDuplicate);
}

TEST(ClassifySplits, BadRatiosExponentFormAndFutureRowsAreNotUsed) {
  SplitRecord exponent = Split("e", "2021-03-01", 2e6, 1);
  exponent.exponent_form = true;
  const auto c = ClassifySplits({Split("zero", "2019-01-02", 0, 1), Split("neg", "2019-02-01", 1, -2),
                                 Split("nan", "2019-03-01", kNoFactor, 1), exponent,
                                 Split("later", "2026-03-02", 1, 2)},
                                {SplitOverride{"zero", true, "a user cannot make 0 usable"}}, kToday);
  EXPECT_EQ(ById(c, "zero").status, ActionStatus::kInvalid);
  EXPECT_EQ(ById(c, "neg").status, ActionStatus::kInvalid);
  EXPECT_EQ(ById(c, "nan").status, ActionStatus::kInvalid);
  EXPECT_EQ(ById(c, "e").status, ActionStatus::kExponent);
  EXPECT_EQ(ById(c, "later").status, ActionStatus::kPending);
  // Resolving the exponent-form row takes it in.
  const auto used = ClassifySplits({exponent}, {SplitOverride{"e", true, "verified"}}, kToday);
  EXPECT_EQ(used.front().status, ActionStatus::kActive);
}

TEST(ClassifyDividends, OwnFactorsAreRatiosOfTheVendorsCumulativeFactors) {
  const auto dividend = [](const char* id, const char* day, double cash, double factor) {
    DividendRecord d;
    d.id = id;
    d.ticker = "KO";
    d.ex_dividend_date = *CalendarDay::Parse(day);
    d.cash_amount = cash;
    d.vendor_factor = factor;
    return d;
  };
  const auto c = ClassifyDividends({dividend("q1", "2025-02-10", 0.5, 0.98), dividend("q2", "2025-05-12", 0.5, 0.99),
                                    dividend("q2b", "2025-05-12", 0.7, 0.99), dividend("bad", "2025-08-11", -1, 0.995),
                                    dividend("q4", "2025-11-10", 0.5, 0.995)},
                                   kToday);
  ASSERT_EQ(c.size(), 5u);
  EXPECT_EQ(c[0].status, ActionStatus::kActive);
  EXPECT_DOUBLE_EQ(c[0].own_factor, 0.98 / 0.99);
  EXPECT_EQ(c[1].status, ActionStatus::kConflict);
  EXPECT_EQ(c[2].status, ActionStatus::kConflict);
  EXPECT_EQ(c[3].status, ActionStatus::kInvalid);
  EXPECT_EQ(c[4].status, ActionStatus::kActive);
  EXPECT_DOUBLE_EQ(c[4].own_factor, 0.995);
  const std::vector<FactorRange> ranges = BuildFactorRanges({}, c);
  // Before q1 both usable dividends apply; the conflicting q2 does not.
  EXPECT_DOUBLE_EQ(FactorFor(ranges, D("2025-01-02"))->dividend, 0.98 / 0.99 * 0.995);
  EXPECT_DOUBLE_EQ(FactorFor(ranges, D("2025-06-02"))->dividend, 0.995);
  EXPECT_EQ(FactorFor(ranges, D("2025-06-02"))->split_price, 1);
}

}  // namespace
}  // namespace barfill
