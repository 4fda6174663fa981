#include "quality/classify.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>

namespace barfill::quality {
namespace {

Series S(const char* ticker, const char* tf) { return Series{*Ticker::Parse(ticker), *Timeframe::Parse(tf), true}; }
CalendarDay Day(const char* text) { return *CalendarDay::Parse(text); }

constexpr int64_t kLater = int64_t{4} << 40;  // "now": long after every session here

/// Evidence for `series` over from..to (history from `history_from`), everything fetched and
/// final, with bars per session from `bars_on`.
SeriesEvidence Evidence(const Series& series, const char* history_from, const char* report_from, const char* to,
                        const std::function<int64_t(const SessionWindow&)>& bars_on) {
  SeriesEvidence e;
  e.series = series;
  e.sessions = *SessionWindows(series, Day(history_from), Day(to));
  e.report_from = Day(report_from);
  e.now_ms = kLater;
  for (const SessionWindow& s : e.sessions) {
    e.counts.push_back(WindowCount{s.is_open() ? bars_on(s) : 0});
  }
  LedgerEntry all;
  all.series = series;
  all.range = {e.sessions.front().window.from_ms, e.sessions.back().window.to_ms};
  all.state = ChunkState::kDone;
  e.ledger.push_back(all);
  return e;
}

/// A dense minute series: about 863 bars a session, a few more or less, scaled on short days.
std::function<int64_t(const SessionWindow&)> Dense(uint32_t seed = 1) {
  auto rng = std::make_shared<std::mt19937>(seed);
  return [rng](const SessionWindow& s) {
    std::normal_distribution<double> noise(0, 9);
    return static_cast<int64_t>(std::llround(863 * s.share * (s.is_short() ? 0.97 : 1) + noise(*rng)));
  };
}

/// Bars of a thin series: Poisson with `mean` a full session.
std::function<int64_t(const SessionWindow&)> Thin(double mean, uint32_t seed = 2) {
  auto rng = std::make_shared<std::mt19937>(seed);
  return [rng, mean](const SessionWindow& s) {
    std::poisson_distribution<int64_t> draw(mean * s.share);
    return draw(*rng);
  };
}

const SessionVerdict* On(const SeriesGaps& gaps, const char* day) {
  for (const SessionVerdict& v : gaps.sessions) {
    if (v.session.day == Day(day)) return &v;
  }
  ADD_FAILURE() << "no session on " << day;
  return nullptr;
}

std::vector<std::string> DaysOf(const SeriesGaps& gaps, SessionClass cls) {
  std::vector<std::string> days;
  for (const SessionVerdict& v : gaps.sessions) {
    if (v.cls == cls) days.push_back(v.session.day.ToString());
  }
  return days;
}

TEST(Classify, HolesAndHaltsOfADenseSeriesAreSuspiciousHolidaysAndHalfDaysAreNot) {
  const auto dense = Dense();
  SeriesEvidence e = Evidence(S("AAPL", "1m"), "2024-10-01", "2024-12-02", "2025-01-10", [&](const SessionWindow& s) -> int64_t {
    if (s.day == Day("2024-12-18")) return 0;    // a vendor hole
    if (s.day == Day("2024-12-19")) return 650;  // a three-and-a-half-hour halt
    if (s.day == Day("2024-12-20")) return 835;  // a quiet day: 3 spreads under
    return dense(s);
  });
  const SeriesGaps gaps = Classify(e);
  EXPECT_GT(gaps.usual.sessions, 60);
  EXPECT_NEAR(gaps.usual.bars, 863, 3);
  EXPECT_NEAR(gaps.usual.spread, 9, 3);
  EXPECT_EQ(DaysOf(gaps, SessionClass::kSuspicious), (std::vector<std::string>{"2024-12-18", "2024-12-19"}));
  EXPECT_EQ(On(gaps, "2024-12-18")->detail, "empty; a usual session has " + std::to_string(std::lround(gaps.usual.bars)) + " bars");
  EXPECT_NEAR(On(gaps, "2024-12-19")->expected, 863, 3);
  EXPECT_NE(On(gaps, "2024-12-19")->detail.find("bars fewer than the"), std::string::npos) << On(gaps, "2024-12-19")->detail;
  EXPECT_EQ(DaysOf(gaps, SessionClass::kEarlyClose), (std::vector<std::string>{"2024-12-24"}));
  EXPECT_NEAR(On(gaps, "2024-12-24")->expected, 863 * 13.0 / 16, 3) << "a half day expects fewer bars";
  EXPECT_EQ(On(gaps, "2024-12-25")->cls, SessionClass::kNonTrading);
  EXPECT_EQ(On(gaps, "2025-01-01")->cls, SessionClass::kNonTrading);
  EXPECT_EQ(On(gaps, "2025-01-09")->cls, SessionClass::kNonTrading);
  EXPECT_EQ(On(gaps, "2025-01-09")->detail, "National Day of Mourning (Carter)");
  EXPECT_EQ(On(gaps, "2024-12-02")->cls, SessionClass::kComplete);
  EXPECT_EQ(gaps.sessions.front().session.day, Day("2024-12-02")) << "history sessions are not reported";
}

TEST(Classify, ThinSeriesAreJudgedByTheirOwnHistory) {
  // A ticker trading in 2% of minutes: about 17 bars a session, Poisson. Its quiet days are no
  // holes, but a whole empty session is: by luck it happens once in 24 million sessions.
  SeriesEvidence e = Evidence(S("THIN", "1m"), "2024-01-01", "2024-04-01", "2024-12-31", Thin(17));
  SeriesGaps gaps = Classify(e);
  EXPECT_NEAR(gaps.usual.bars, 17, 2);
  EXPECT_TRUE(DaysOf(gaps, SessionClass::kSuspicious).empty());
  for (size_t i = 0; i < e.sessions.size(); ++i) {
    if (e.sessions[i].day == Day("2024-12-27")) e.counts[i] = WindowCount{0};
  }
  gaps = Classify(e);
  EXPECT_EQ(DaysOf(gaps, SessionClass::kSuspicious), (std::vector<std::string>{"2024-12-27"}));

  // Thinner: about 2 bars a session, many sessions empty. Nothing is suspicious, ever.
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    const SeriesGaps very_thin = Classify(Evidence(S("DUST", "1m"), "2024-01-01", "2024-04-01", "2024-12-31", Thin(2, seed)));
    EXPECT_GT(very_thin.usual.empty, 0);
    EXPECT_TRUE(DaysOf(very_thin, SessionClass::kSuspicious).empty()) << "seed " << seed;
  }
  // Middling (80 a session): Poisson dips are never mistaken for halts.
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    const SeriesGaps middling = Classify(Evidence(S("MID", "1m"), "2024-01-01", "2024-04-01", "2024-12-31", Thin(80, seed)));
    EXPECT_TRUE(DaysOf(middling, SessionClass::kSuspicious).empty()) << "seed " << seed;
  }
}

TEST(Classify, AnEmptyDayBarIsSuspiciousWhenTheSeriesHardlyEverMissesADay) {
  // One bar a session cannot say how busy a day was; the series' own record can.
  const auto daily = [](std::vector<const char*> missing) {
    return [missing](const SessionWindow& s) -> int64_t {
      for (const char* day : missing) {
        if (s.day == Day(day)) return 0;
      }
      return 1;
    };
  };
  EXPECT_EQ(DaysOf(Classify(Evidence(S("AAPL", "1d"), "2024-10-01", "2024-12-01", "2024-12-31", daily({"2024-12-18"}))),
                   SessionClass::kSuspicious),
            (std::vector<std::string>{"2024-12-18"}));
  const SeriesGaps index = Classify(Evidence(S("I:SPX", "1d"), "2024-10-01", "2024-12-01", "2024-12-31", daily({"2024-12-18"})));
  EXPECT_EQ(DaysOf(index, SessionClass::kSuspicious), (std::vector<std::string>{"2024-12-18"}));
  EXPECT_NE(On(index, "2024-12-18")->detail.find("usual sessions had bars"), std::string::npos) << On(index, "2024-12-18")->detail;
  // A ticker that skips a day now and then: none of its empty days is news.
  const SeriesGaps skipping = Classify(Evidence(S("THIN", "1d"), "2024-10-01", "2024-12-01", "2024-12-31",
                                                daily({"2024-10-15", "2024-11-04", "2024-11-20", "2024-12-18"})));
  EXPECT_TRUE(DaysOf(skipping, SessionClass::kSuspicious).empty());
  // Too short a record judges nothing.
  const SeriesGaps young = Classify(Evidence(S("AAPL", "1d"), "2024-12-02", "2024-12-02", "2024-12-31", daily({"2024-12-18"})));
  EXPECT_TRUE(DaysOf(young, SessionClass::kSuspicious).empty());
  // With an intraday series of the ticker in the store, its minutes decide: a day empty of a
  // ticker whose usual session has 863 minute bars is a hole even in a short record; one whose
  // usual session has 6 is not, however long the record.
  SeriesEvidence with_minutes = Evidence(S("AAPL", "1d"), "2024-12-02", "2024-12-02", "2024-12-31", daily({"2024-12-18"}));
  with_minutes.sibling = S("AAPL", "1m");
  with_minutes.sibling_usual = UsualSession{40, 863, 9, 0};
  EXPECT_EQ(DaysOf(Classify(with_minutes), SessionClass::kSuspicious), (std::vector<std::string>{"2024-12-18"}));
  EXPECT_EQ(On(Classify(with_minutes), "2024-12-18")->detail, "empty; the ticker's 1m bars number 863 in a usual session");
  SeriesEvidence thin_minutes = Evidence(S("THIN", "1d"), "2024-10-01", "2024-12-01", "2024-12-31", daily({"2024-12-18"}));
  thin_minutes.sibling = S("THIN", "1m");
  thin_minutes.sibling_usual = UsualSession{60, 6, 2.4, 0};
  EXPECT_TRUE(DaysOf(Classify(thin_minutes), SessionClass::kSuspicious).empty());
  // Weeks are judged alike, bucket by bucket.
  const SeriesGaps weeks = Classify(Evidence(S("AAPL", "1w"), "2024-01-01", "2024-06-01", "2024-12-31", [](const SessionWindow& s) -> int64_t {
    return s.day == Day("2024-09-08") ? 0 : 1;
  }));
  EXPECT_EQ(DaysOf(weeks, SessionClass::kSuspicious), (std::vector<std::string>{"2024-09-08"}));
}

TEST(Classify, TheLedgerSaysNeverFetchedAndFailedWithTheLastError) {
  SeriesEvidence e = Evidence(S("MSFT", "1h"), "2025-01-06", "2025-01-06", "2025-01-31", [](const SessionWindow&) { return 16; });
  const MarketZone ny = MarketZone::NewYork();
  // Final until the 17th; the week of the 20th failed; the 27th on never fetched.
  e.ledger[0].range.to_ms = ny.DayStartMs(Day("2025-01-18"));
  LedgerEntry failed;
  failed.series = e.series;
  failed.range = ny.DaysToRange(Day("2025-01-20"), Day("2025-01-24"));
  failed.state = ChunkState::kFailed;
  failed.last_error = "network gave up: HTTP 503";
  failed.attempts = 6;
  e.ledger.push_back(failed);
  const SeriesGaps gaps = Classify(e);
  EXPECT_EQ(On(gaps, "2025-01-17")->cls, SessionClass::kComplete);
  EXPECT_EQ(On(gaps, "2025-01-21")->cls, SessionClass::kFailed);
  EXPECT_EQ(On(gaps, "2025-01-21")->error, "network gave up: HTTP 503");
  EXPECT_EQ(On(gaps, "2025-01-21")->attempts, 6);
  EXPECT_EQ(On(gaps, "2025-01-20")->cls, SessionClass::kNonTrading) << "Martin Luther King Jr. Day";
  EXPECT_EQ(On(gaps, "2025-01-27")->cls, SessionClass::kNeverFetched);
  EXPECT_EQ(On(gaps, "2025-01-25")->cls, SessionClass::kNonTrading) << "a weekend is never a problem";

  const std::vector<GapRange> ranges = ToRanges(gaps);
  std::vector<std::string> lines;
  for (const GapRange& r : ranges) {
    lines.push_back(std::string(SessionClassName(r.cls)) + " " + r.from.ToString() + ".." + r.to.ToString() + " " +
                    std::to_string(r.sessions));
  }
  // Weekends vanish inside a range; the 2025-01-09 closing and Martin Luther King Jr. Day stand alone.
  EXPECT_EQ(lines, (std::vector<std::string>{"complete 2025-01-06..2025-01-08 3", "non_trading 2025-01-09..2025-01-09 1",
                                             "complete 2025-01-10..2025-01-17 6", "non_trading 2025-01-20..2025-01-20 1",
                                             "failed 2025-01-21..2025-01-24 4", "never_fetched 2025-01-27..2025-01-31 5"}));
  EXPECT_EQ(ranges[4].error, "network gave up: HTTP 503");
  EXPECT_EQ(ranges[4].attempts, 6);
  EXPECT_EQ(ranges[1].reason, "National Day of Mourning (Carter)");
  EXPECT_EQ(ranges[3].reason, "Martin Luther King Jr. Day");

  GapTotals totals;
  totals.Add(gaps);
  EXPECT_EQ(totals.complete, 9);
  EXPECT_EQ(totals.failed, 4);
  EXPECT_EQ(totals.never_fetched, 5);
  EXPECT_EQ(totals.holidays, 2);
  EXPECT_EQ(totals.non_trading, 8) << "three weekends and the two closings";
  EXPECT_EQ(totals.series_with_problems, 1);
}

TEST(Classify, SuspiciousSessionsStandAloneCarryTheirCheckAndSessionsNotOverAreLeftOut) {
  const auto dense = Dense(3);
  SeriesEvidence e = Evidence(S("NVDA", "1m"), "2025-01-02", "2025-02-03", "2025-02-14", [&](const SessionWindow& s) -> int64_t {
    return s.day == Day("2025-02-05") || s.day == Day("2025-02-06") ? 0 : dense(s);
  });
  const MarketZone ny = MarketZone::NewYork();
  RangeCheck check;
  check.series = e.series;
  check.range = (*SessionWindows(e.series, Day("2025-02-05"), Day("2025-02-05")))[0].window;
  check.checks = 2;
  check.retry_at_ms = ny.DayStartMs(Day("2025-02-20"));
  e.checks.push_back(check);
  e.now_ms = ny.DayStartMs(Day("2025-02-14")) + 12 * kMsPerHour;  // Friday noon: its session is not over
  const SeriesGaps gaps = Classify(e);
  EXPECT_EQ(gaps.not_over, 1);
  EXPECT_EQ(gaps.sessions.back().session.day, Day("2025-02-13"));
  const std::vector<GapRange> ranges = ToRanges(gaps);
  ASSERT_EQ(ranges.size(), 4u);
  EXPECT_EQ(ranges[1].cls, SessionClass::kSuspicious);
  EXPECT_EQ(ranges[2].cls, SessionClass::kSuspicious) << "two suspicious days are two lines";
  ASSERT_TRUE(ranges[1].check.has_value());
  EXPECT_EQ(ranges[1].check->checks, 2);
  EXPECT_FALSE(ranges[2].check.has_value());
  EXPECT_EQ(ranges[3].cls, SessionClass::kComplete);
  EXPECT_EQ(ranges[0].to.ToString(), "2025-02-04");

  // Too short a history judges nothing: four sessions, two of them empty.
  const SeriesGaps unjudged = Classify(Evidence(S("NVDA", "1m"), "2025-02-03", "2025-02-03", "2025-02-06",
                                                [&](const SessionWindow& s) -> int64_t {
                                                  return s.day >= Day("2025-02-05") ? 0 : dense(s);
                                                }));
  EXPECT_EQ(unjudged.usual.sessions, 4);
  EXPECT_TRUE(DaysOf(unjudged, SessionClass::kSuspicious).empty());
  EXPECT_EQ(unjudged.sessions[2].expected, -1) << "not judged";
}

}  // namespace
}  // namespace barfill::quality
