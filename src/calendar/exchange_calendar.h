// Exchange calendars: which calendar days a market trades, and its session hours in UTC ms.
// NYSE for US stocks, indices and options (holidays from QuantLib, early closes from barfill's
// own rules), 24/7 for crypto, Sunday 17:00 to Friday 17:00 New York for forex. The rules and
// their sources are in docs/calendar.md.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "core/market_time.h"
#include "core/result.h"
#include "core/ticker.h"

namespace barfill::calendar {

/// What kind of day a market has. The session's time ranges are the truth; the kind says why
/// they differ from the market's usual hours.
enum class SessionKind {
  kClosed,      ///< no session: weekend, holiday or special closing
  kRegular,     ///< the market's usual hours
  kEarlyClose,  ///< the regular session ends early (13:00 New York before some holidays)
  kLateOpen,    ///< the regular session starts late (a delayed opening), ends as usual
};

/// "closed", "regular", "early_close", "late_open".
std::string_view SessionKindName(SessionKind kind);

/// One calendar day of one market.
struct Session {
  CalendarDay day;  ///< in the market's zone: New York for NYSE, UTC for crypto and forex
  SessionKind kind = SessionKind::kClosed;
  /// The regular session in UTC ms (NYSE 09:30-16:00 New York); empty when closed.
  TimeRange regular;
  /// Regular plus pre- and post-market (NYSE stocks 04:00-20:00 New York); empty when closed.
  TimeRange extended;
  /// Why the day is not a plain trading day: "weekend", "Good Friday", "Christmas Eve", ...;
  /// empty on a usual trading day. Points to static storage.
  std::string_view reason;

  bool is_open() const { return kind != SessionKind::kClosed; }
};

/// The sessions of one market. Thread-safe; a day's session is built once per year on first use
/// and then costs a table lookup.
class ExchangeCalendar {
 public:
  /// NYSE with extended hours for stocks; NYSE regular hours only for indices and options;
  /// every day for crypto; Sunday 17:00 to Friday 17:00 New York for forex.
  static const ExchangeCalendar& For(AssetClass asset);

  /// Every calendar covers these days, both inclusive; other days are errors.
  static constexpr CalendarDay kFirstDay{1990, 1, 1};
  static constexpr CalendarDay kLastDay{2099, 12, 31};

  ~ExchangeCalendar();
  ExchangeCalendar(const ExchangeCalendar&) = delete;
  ExchangeCalendar& operator=(const ExchangeCalendar&) = delete;

  /// "NYSE", "NYSE regular hours", "crypto 24/7", "forex 24x5".
  std::string_view name() const;
  /// The zone whose calendar days this calendar counts (New York for NYSE, else UTC).
  MarketZone zone() const;

  /// The session on `day`. Fails (kUsage) for an invalid date or a day outside
  /// [kFirstDay, kLastDay].
  Result<Session> SessionOn(CalendarDay day) const;
  /// Every day's session from `from` to `to`, both inclusive, closed days included.
  Result<std::vector<Session>> Sessions(CalendarDay from, CalendarDay to) const;
  /// The first day after `day` with a session; fails when the calendar ends first.
  Result<CalendarDay> NextTradingDay(CalendarDay day) const;
  /// The last day before `day` with a session; fails when the calendar starts later.
  Result<CalendarDay> PreviousTradingDay(CalendarDay day) const;

 private:
  enum class Market { kNyse, kNyseRegularHours, kCrypto, kForex };
  struct YearTables;

  explicit ExchangeCalendar(Market market);
  Status CheckCovered(CalendarDay day) const;
  /// The sessions of one covered year, built on first use.
  const std::vector<Session>& YearOf(int year) const;
  const Session& Lookup(CalendarDay day) const;
  Session Build(CalendarDay day) const;
  Result<CalendarDay> StepToTradingDay(CalendarDay day, int step) const;

  Market market_;
  std::unique_ptr<YearTables> years_;
};

}  // namespace barfill::calendar
