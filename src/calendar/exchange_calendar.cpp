#include "calendar/exchange_calendar.h"

#include <array>
#include <mutex>

#include "calendar/nyse.h"
#include "calendar/quantlib_nyse.h"
#include "core/timeframe.h"

namespace barfill::calendar {
namespace {

constexpr int kCoveredYears = ExchangeCalendar::kLastDay.year - ExchangeCalendar::kFirstDay.year + 1;

// Forex trades from Sunday 17:00 to Friday 17:00 New York.
constexpr int kForexWeekBoundary = 17 * 60;

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

// Days before the first of each month in a common year.
constexpr std::array<unsigned, 13> kDaysBeforeMonth = {0,   31,  59,  90,  120, 151, 181,
                                                       212, 243, 273, 304, 334, 365};

bool IsValidDate(CalendarDay day) {
  if (day.month < 1 || day.month > 12 || day.day < 1) return false;
  const bool leap_february = day.month == 2 && IsLeapYear(day.year);
  const unsigned days_in_month =
      kDaysBeforeMonth[day.month] - kDaysBeforeMonth[day.month - 1] + (leap_february ? 1 : 0);
  return day.day <= days_in_month;
}

// 0 for January 1st. Plain arithmetic: this is on every lookup's path.
size_t DayOfYear(CalendarDay day) {
  const bool after_leap_day = day.month > 2 && IsLeapYear(day.year);
  return kDaysBeforeMonth[day.month - 1] + day.day - 1 + (after_leap_day ? 1 : 0);
}

// The instant of `minute` minutes after midnight on `day` in New York. Adding the minutes to the
// day's start is off by an hour when a DST switch lies between them (the 02:00 switch on a
// forex Sunday), so the offset at the result corrects it. Every minute used here is past 03:00.
int64_t NewYorkTimeMs(CalendarDay day, int minute) {
  const MarketZone new_york = MarketZone::NewYork();
  const int64_t day_start = new_york.DayStartMs(day);
  const int64_t naive = day_start + minute * kMsPerMinute;
  return naive + new_york.UtcOffsetMs(day_start) - new_york.UtcOffsetMs(naive);
}

TimeRange NewYorkRange(CalendarDay day, int from_minute, int to_minute) {
  return TimeRange{NewYorkTimeMs(day, from_minute), NewYorkTimeMs(day, to_minute)};
}

Session ClosedSession(CalendarDay day, std::string_view reason) {
  return Session{.day = day, .kind = SessionKind::kClosed, .regular = {}, .extended = {}, .reason = reason};
}

Session OpenSession(CalendarDay day, SessionKind kind, TimeRange hours, std::string_view reason) {
  return Session{.day = day, .kind = kind, .regular = hours, .extended = hours, .reason = reason};
}

}  // namespace

std::string_view SessionKindName(SessionKind kind) {
  switch (kind) {
    case SessionKind::kClosed: return "closed";
    case SessionKind::kRegular: return "regular";
    case SessionKind::kEarlyClose: return "early_close";
    case SessionKind::kLateOpen: return "late_open";
  }
  return "unknown";
}

// One table of sessions per covered year, each built the first time a day of it is asked for:
// a QuantLib query costs ~450 ns, a table lookup a few.
struct ExchangeCalendar::YearTables {
  std::array<std::once_flag, kCoveredYears> built;
  std::array<std::vector<Session>, kCoveredYears> sessions;
};

ExchangeCalendar::ExchangeCalendar(Market market)
    : market_(market), years_(std::make_unique<YearTables>()) {}

ExchangeCalendar::~ExchangeCalendar() = default;

const ExchangeCalendar& ExchangeCalendar::For(AssetClass asset) {
  static const ExchangeCalendar nyse(Market::kNyse);
  static const ExchangeCalendar nyse_regular_hours(Market::kNyseRegularHours);
  static const ExchangeCalendar crypto(Market::kCrypto);
  static const ExchangeCalendar forex(Market::kForex);
  switch (asset) {
    case AssetClass::kStock: return nyse;
    case AssetClass::kIndex:
    case AssetClass::kOption: return nyse_regular_hours;
    case AssetClass::kCrypto: return crypto;
    case AssetClass::kFx: return forex;
  }
  return nyse;
}

std::string_view ExchangeCalendar::name() const {
  switch (market_) {
    case Market::kNyse: return "NYSE";
    case Market::kNyseRegularHours: return "NYSE regular hours";
    case Market::kCrypto: return "crypto 24/7";
    case Market::kForex: return "forex 24x5";
  }
  return "unknown";
}

MarketZone ExchangeCalendar::zone() const {
  const bool nyse = market_ == Market::kNyse || market_ == Market::kNyseRegularHours;
  return nyse ? MarketZone::NewYork() : MarketZone::Utc();
}

Status ExchangeCalendar::CheckCovered(CalendarDay day) const {
  if (!IsValidDate(day)) {
    return Fail(ErrorCode::kUsage, day.ToString() + " is not a valid date");
  }
  if (day < kFirstDay || day > kLastDay) {
    return Fail(ErrorCode::kUsage, day.ToString() + " is outside the " + std::string(name()) +
                                       " calendar (" + kFirstDay.ToString() + " to " +
                                       kLastDay.ToString() + ")");
  }
  return Ok();
}

const std::vector<Session>& ExchangeCalendar::YearOf(int year) const {
  const int index = year - kFirstDay.year;
  std::call_once(years_->built[index], [&] {
    std::vector<Session>& sessions = years_->sessions[index];
    for (CalendarDay day{year, 1, 1}; day.year == year; day = day.AddDays(1)) {
      sessions.push_back(Build(day));
    }
  });
  return years_->sessions[index];
}

const Session& ExchangeCalendar::Lookup(CalendarDay day) const {
  return YearOf(day.year)[DayOfYear(day)];
}

Session ExchangeCalendar::Build(CalendarDay day) const {
  switch (market_) {
    case Market::kNyse: {
      const nyse::NyseDay nyse_day = nyse::DescribeDay(day, quantlib::NyseClosed(day));
      if (nyse_day.kind == SessionKind::kClosed) return ClosedSession(day, nyse_day.reason);
      Session session = OpenSession(
          day, nyse_day.kind, NewYorkRange(day, nyse_day.regular_open, nyse_day.regular_close),
          nyse_day.reason);
      session.extended = NewYorkRange(day, nyse_day.extended_open, nyse_day.extended_close);
      return session;
    }
    case Market::kNyseRegularHours: {
      // The stock calendar's day without pre- and post-market: index values and listed options
      // stop with the regular session. Reusing its table asks QuantLib once per day, not twice.
      Session session = For(AssetClass::kStock).Lookup(day);
      session.extended = session.regular;
      return session;
    }
    case Market::kCrypto:
      return OpenSession(day, SessionKind::kRegular, MarketZone::Utc().DaysToRange(day, day), {});
    case Market::kForex: {
      const TimeRange utc_day = MarketZone::Utc().DaysToRange(day, day);
      switch (day.Weekday()) {
        case nyse::kSaturday:
          return ClosedSession(day, "weekend");
        case nyse::kSunday:
          return OpenSession(day, SessionKind::kRegular,
                             TimeRange{NewYorkTimeMs(day, kForexWeekBoundary), utc_day.to_ms},
                             "week opens 17:00 New York");
        case nyse::kFriday:
          return OpenSession(day, SessionKind::kRegular,
                             TimeRange{utc_day.from_ms, NewYorkTimeMs(day, kForexWeekBoundary)},
                             "week closes 17:00 New York");
        default:
          return OpenSession(day, SessionKind::kRegular, utc_day, {});
      }
    }
  }
  return ClosedSession(day, "unknown market");
}

Result<Session> ExchangeCalendar::SessionOn(CalendarDay day) const {
  BARFILL_TRY(CheckCovered(day));
  return Lookup(day);
}

Result<std::vector<Session>> ExchangeCalendar::Sessions(CalendarDay from, CalendarDay to) const {
  BARFILL_TRY(CheckCovered(from));
  BARFILL_TRY(CheckCovered(to));
  if (from > to) {
    return Fail(ErrorCode::kUsage,
                "calendar range " + from.ToString() + " to " + to.ToString() + " ends before it starts");
  }
  std::vector<Session> sessions;
  sessions.reserve(static_cast<size_t>(to.DaysSinceEpoch() - from.DaysSinceEpoch() + 1));
  for (int year = from.year; year <= to.year; ++year) {
    const std::vector<Session>& of_year = YearOf(year);
    const size_t first = year == from.year ? DayOfYear(from) : 0;
    const size_t last = year == to.year ? DayOfYear(to) : of_year.size() - 1;
    sessions.insert(sessions.end(), of_year.begin() + first, of_year.begin() + last + 1);
  }
  return sessions;
}

Result<CalendarDay> ExchangeCalendar::StepToTradingDay(CalendarDay day, int step) const {
  BARFILL_TRY(CheckCovered(day));
  for (CalendarDay next = day.AddDays(step); next >= kFirstDay && next <= kLastDay;
       next = next.AddDays(step)) {
    if (Lookup(next).is_open()) return next;
  }
  return Fail(ErrorCode::kUsage, "no " + std::string(name()) + " trading day " +
                                     (step > 0 ? "after " : "before ") + day.ToString() +
                                     " within the calendar (" + kFirstDay.ToString() + " to " +
                                     kLastDay.ToString() + ")");
}

Result<CalendarDay> ExchangeCalendar::NextTradingDay(CalendarDay day) const {
  return StepToTradingDay(day, 1);
}

Result<CalendarDay> ExchangeCalendar::PreviousTradingDay(CalendarDay day) const {
  return StepToTradingDay(day, -1);
}

}  // namespace barfill::calendar
