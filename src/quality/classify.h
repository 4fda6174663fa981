// The gap report's judgement of each session of a series, as a pure function of the calendar's
// sessions, the ledger and the bars stored per session: complete, non-trading, early close,
// suspicious, never fetched or failed. "Suspicious" is judged against the series' own history,
// so a thin ticker's quiet days are not holes (docs/data-quality.md).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quality/sessions.h"
#include "store/bar_store.h"

namespace barfill::quality {

/// How a session of a series stands.
enum class SessionClass {
  kComplete,      ///< fetched, final, and as full as the series' usual session
  kNonTrading,    ///< the market was closed (weekend, holiday, special closing): no bars expected
  kEarlyClose,    ///< fetched and final on a shortened session (fewer bars expected)
  kSuspicious,    ///< fetched and final on a trading day, but empty or far thinner than usual
  kNeverFetched,  ///< not (wholly) final in the ledger and no failure recorded
  kFailed,        ///< a failed ledger range covers it (with the last error)
};

/// "complete", "non_trading", "early_close", "suspicious", "never_fetched", "failed" (JSON).
std::string_view SessionClassName(SessionClass c);
/// The same for people: "non-trading", "early close", "never fetched", ...
std::string_view SessionClassLabel(SessionClass c);
/// Suspicious, never fetched and failed sessions are problems; the others are as they should be.
bool IsProblem(SessionClass c);

/// What the series' history says its usual session holds: figures over its full, regular,
/// final sessions (the report's and those before it).
struct UsualSession {
  int sessions = 0;    ///< sessions the figures come from
  double bars = 0;     ///< median bars per session
  double spread = 0;   ///< robust standard deviation: 1.4826 x the median absolute deviation
  int empty = 0;       ///< of those sessions, how many had no bar at all
};

/// Everything the judgement looks at for one series.
struct SeriesEvidence {
  Series series;
  std::vector<SessionWindow> sessions;  ///< in time order: history first, then the report's
  std::vector<WindowCount> counts;      ///< bars stored per session, same order
  std::vector<LedgerEntry> ledger;      ///< the series' ledger rows
  std::vector<RangeCheck> checks;       ///< its recorded verifications
  CalendarDay report_from;              ///< sessions before this day are history only
  int64_t now_ms = 0;                   ///< sessions not over by then are left out
  /// For day and longer bars: the usual session of the ticker's finest intraday series in the
  /// same store, if there is one (its minutes tell how busy a day is, which one bar cannot).
  std::optional<Series> sibling;
  UsualSession sibling_usual;
};

/// When an empty or thin session is suspicious. The defaults keep false alarms below about one
/// in a million sessions for series whose bars come like independent trades (Poisson).
struct SuspicionRules {
  int min_history = 5;  ///< fewer usual sessions than this: nothing can be judged
  /// An empty session is suspicious when the usual one holds at least this many bars: the
  /// chance of none by luck is then below e^-13.8, about 1e-6.
  double implausible_empty = 13.8;
  /// Series with about one bar a session (day and longer bars) cannot show how busy a session
  /// is. When the ticker has an intraday series, its usual session decides as above; otherwise
  /// an empty session is suspicious when at most `record_empty_share` of at least
  /// `record_sessions` usual sessions were empty (the series' own record of never missing one).
  double record_max_bars = 1.5;
  int record_sessions = 20;
  double record_empty_share = 0.02;
  /// A session with bars is suspicious when it holds fewer than `thin_share` of the expected
  /// bars and more than `thin_sigmas` spreads fewer (the spread at least the Poisson sqrt).
  double thin_sigmas = 5;
  double thin_share = 0.9;
};

/// The judgement of one session.
struct SessionVerdict {
  SessionWindow session;
  SessionClass cls = SessionClass::kComplete;
  int64_t bars = 0;
  double expected = -1;  ///< bars a usual session of its length holds; -1 when not judged
  std::string detail;    ///< why, for people ("empty; a usual session has 863 bars")
  std::string error;     ///< failed: the last error
  int attempts = 0;      ///< failed: attempts of the failed range
  std::optional<RangeCheck> check;  ///< the last verification of exactly this session's window
};

/// The report of one series.
struct SeriesGaps {
  Series series;
  UsualSession usual;
  std::vector<SessionVerdict> sessions;  ///< from report_from on, in time order
  int64_t not_over = 0;                  ///< sessions left out because they had not ended
};

/// The usual session of `evidence`'s series (pure).
UsualSession UsualSessionOf(const SeriesEvidence& evidence);

/// Judges every session from evidence.report_from on (pure).
SeriesGaps Classify(const SeriesEvidence& evidence, const SuspicionRules& rules = {});

/// Consecutive sessions of one class, as the report lists them. Weekends neither break a range
/// nor appear; holidays are ranges of their own; a suspicious session is always a range alone.
struct GapRange {
  SessionClass cls = SessionClass::kComplete;
  CalendarDay from;
  CalendarDay to;         ///< inclusive
  TimeRange window;       ///< from the first session's window start to the last one's end
  int sessions = 0;
  int64_t bars = 0;
  double expected = -1;   ///< summed over the sessions; -1 when not judged
  std::string detail;
  std::string error;
  int attempts = 0;
  std::string_view reason;  ///< non-trading: why the market was closed
  std::optional<RangeCheck> check;
};

std::vector<GapRange> ToRanges(const SeriesGaps& gaps);

/// Sessions per class over many series.
struct GapTotals {
  int64_t series = 0;
  int64_t series_with_problems = 0;
  int64_t complete = 0, non_trading = 0, early_close = 0, suspicious = 0, never_fetched = 0, failed = 0;
  int64_t holidays = 0;  ///< non-trading weekdays (holidays and special closings)

  void Add(const SeriesGaps& gaps);
  int64_t Problems() const { return suspicious + never_fetched + failed; }
};

}  // namespace barfill::quality
