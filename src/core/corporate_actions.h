// Splits and cash dividends as barfill keeps them, which of them adjust prices, and the arithmetic
// of adjusting a raw bar: one definition that the simulator, the stores' SQL views and `barfill
// export` all follow, so that they agree bar for bar (docs/corporate-actions.md).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bar.h"
#include "core/market_time.h"
#include "core/result.h"

namespace barfill {

inline constexpr double kNoFactor = std::numeric_limits<double>::quiet_NaN();

/// One split as the vendor lists it (GET /stocks/v1/splits; the deprecated /v3/reference/splits
/// has the same id, day and ratio, without the type and factor).
struct SplitRecord {
  std::string id;  ///< the vendor's id, the same in v1 and v3
  std::string ticker;
  CalendarDay execution_date;   ///< the first session that trades on the new basis
  double split_from = 1;        ///< old shares
  double split_to = 1;          ///< new shares
  std::string adjustment_type;  ///< forward_split, reverse_split or stock_dividend; empty when not sent
  double vendor_factor = kNoFactor;  ///< historical_adjustment_factor; NaN when not sent
  bool exponent_form = false;        ///< a ratio was written in exponent form (2e+06)

  /// The same day and ratio (ids aside): one split listed twice.
  bool SameEvent(const SplitRecord& other) const {
    return execution_date == other.execution_date && split_from * other.split_to == split_to * other.split_from;
  }
};

/// One cash dividend as the vendor lists it (GET /stocks/v1/dividends).
struct DividendRecord {
  std::string id;
  std::string ticker;
  double cash_amount = kNoFactor;  ///< per share, on the share basis of its ex-dividend date
  std::string currency;
  std::optional<CalendarDay> declaration_date;  ///< optional in the vendor's data
  CalendarDay ex_dividend_date;
  std::optional<CalendarDay> record_date;
  std::optional<CalendarDay> pay_date;
  int frequency = 0;               ///< payments a year; 0 = not recurring
  std::string distribution_type;   ///< recurring, special, supplemental, irregular, unknown
  double split_adjusted_cash_amount = kNoFactor;
  double vendor_factor = kNoFactor;  ///< historical_adjustment_factor (cumulative, dividends only)
  bool exponent_form = false;
};

/// Whether an action adjusts prices, and if not why not. Only kActive rows do.
enum class ActionStatus {
  kActive,     ///< used for adjusting
  kDuplicate,  ///< the same day and amount as an active row: used once, not twice
  kConflict,   ///< another row of the same day says something else: unused until resolved
  kInvalid,    ///< a ratio or amount that is zero, negative or not a number
  kExponent,   ///< a number written in exponent form: unused until resolved
  kPending,    ///< dated after today: used from its day on
  kIgnored,    ///< an override (or a --prefer rule) set it aside
  kRemoved,    ///< the vendor no longer lists it
};

/// "active", "duplicate", "conflict", "invalid", "exponent", "pending", "ignored", "removed".
std::string_view ActionStatusName(ActionStatus status);
Result<ActionStatus> ParseActionStatus(std::string_view text);

/// A decision on one split, by a user (`barfill actions resolve`) or a --prefer rule.
struct SplitOverride {
  std::string split_id;
  bool use = true;   ///< true: use it (even if flagged); false: ignore it
  std::string note;  ///< who decided and why
};

/// A split with its verdict.
struct ClassifiedSplit {
  SplitRecord split;
  ActionStatus status = ActionStatus::kActive;
  std::string reason;  ///< empty for active rows
};

/// Decides which of a ticker's splits adjust prices: rows with a ratio that is not a positive
/// number are invalid; rows in exponent form are flagged; rows of one day with different ratios
/// conflict and are all unused, unless overrides choose; the same split listed twice is used
/// once; rows after `today` are pending. An override can take in a flagged row or set any row
/// aside, but never makes an invalid ratio usable. Output is ordered by day, then id.
std::vector<ClassifiedSplit> ClassifySplits(std::vector<SplitRecord> splits,
                                            const std::vector<SplitOverride>& overrides, CalendarDay today);

/// A dividend with its verdict, and its own factor once usable.
struct ClassifiedDividend {
  DividendRecord dividend;
  ActionStatus status = ActionStatus::kActive;
  std::string reason;
  /// This dividend's own factor (1 - D/C as the vendor computed it): its cumulative factor over
  /// the next dividend's. NaN unless active.
  double own_factor = kNoFactor;
};

/// The same for dividends: an amount or vendor factor that is not positive, exponent form, two
/// different amounts on one day, and future rows are set aside; the same dividend twice counts once.
std::vector<ClassifiedDividend> ClassifyDividends(std::vector<DividendRecord> dividends, CalendarDay today);

/// The factors a raw bar of the session days [from_day, to_day) is adjusted by.
struct FactorRange {
  CalendarDay from_day;
  CalendarDay to_day;          ///< exclusive
  double split_price = 1;      ///< prices x this: the product of from/to of the splits after these days
  double split_volume = 1;     ///< volumes x this: the product of to/from
  double dividend = 1;         ///< total return: x the product of the dividends' own factors after these days
};

/// The first day a factor range starts on: every bar before the first action is covered.
inline constexpr CalendarDay kFirstAdjustedDay{1900, 1, 1};

/// Factor ranges from the active splits and dividends of one ticker, in day order. Days from the
/// last action on have no range (factor 1). Products run from the latest action back, one
/// multiplication per action, so every caller gets the same doubles.
std::vector<FactorRange> BuildFactorRanges(const std::vector<SplitRecord>& active_splits,
                                           const std::vector<ClassifiedDividend>& dividends);

/// The range holding session day `day`, or nullptr (factor 1).
const FactorRange* FactorFor(const std::vector<FactorRange>& ranges, CalendarDay day);

/// Decimal places of the vendor's split-adjusted prices (its 2005 AAPL day bars: raw 40.89 / 28
/// is sent as 1.4604).
inline constexpr double kAdjustedPriceScale = 1e4;

/// A split-adjusted price: raw x factor, rounded half up to 4 decimals, computed exactly as
/// trunc(raw * factor * 10000 + 0.5) / 10000 in doubles (the SQL views do the same operations).
inline double SplitAdjustedPrice(double raw, double factor) {
  return std::trunc(raw * factor * kAdjustedPriceScale + 0.5) / kAdjustedPriceScale;
}

/// How to read a raw bar.
enum class Adjustment { kNone, kSplits, kTotalReturn };

/// "none", "splits", "total-return".
std::string_view AdjustmentName(Adjustment adjustment);
Result<Adjustment> ParseAdjustment(std::string_view text);

/// Adjusts raw bars of a stock in place: session day of each bar start in New York, its range's
/// factors; splits round prices as SplitAdjustedPrice, total return multiplies by the split and
/// dividend factors without rounding; volume x split_volume; trades unchanged.
void AdjustBars(BarBatch& bars, const std::vector<FactorRange>& ranges, Adjustment adjustment);

/// The same for one bar.
Bar AdjustBar(const Bar& raw, const FactorRange& range, Adjustment adjustment);

}  // namespace barfill
