#include "sim/market_data.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <numbers>
#include <string_view>

#include "calendar/exchange_calendar.h"
#include "core/bar_fold.h"
#include "sim/action_table.h"
#include "sim/hash.h"

// Every random quantity is a hash of (ticker key, minute), never a step of a sequential RNG, so
// any minute can be computed on its own and no page depends on where a walk started. Caches
// (octave lattices, the last path values) only skip recomputing the same arithmetic.

namespace barfill::sim {
namespace {

double LogUniform(double u, double lo, double hi) {
  return std::exp(std::log(lo) + u * (std::log(hi) - std::log(lo)));
}

int64_t CeilDiv(int64_t a, int64_t b) { return -FloorDiv(-a, b); }

/// Nearest multiple of 1/scale. Dividing the integer by the scale gives the double nearest to
/// the decimal, so shortest round-trip printing shows exactly those decimals.
double RoundTo(double x, double scale) { return std::nearbyint(x * scale) / scale; }

// ---------------------------------------------------------------------------------------------
// The model of one ticker: constants drawn from (seed, ticker) once per request.

constexpr int kOctaves = 6;
// Value-noise octaves of the log price: periods in minutes (not round, so they never align)
// and amplitudes in log units, from minute wiggles to half-year trends.
constexpr std::array<int64_t, kOctaves> kOctavePeriodMinutes = {17, 97, 1439, 7 * 1440 + 13,
                                                                29 * 1440 + 7, 181 * 1440 + 3};
constexpr std::array<double, kOctaves> kOctaveAmplitude = {0.0015, 0.004, 0.012, 0.035, 0.08, 0.22};

struct TickerModel {
  uint64_t key = 0;
  AssetClass asset = AssetClass::kStock;
  bool stock_session = true;  // the NYSE calendar's sessions (New York days); otherwise 24/7
  double base_price = 100;
  double volatility = 1;      // scales every price move
  double price_scale = 100;   // prices are multiples of 1/price_scale
  double vwap_scale = 1e4;
  double volume_scale = 0;    // 0: integer volumes; else fractional, multiples of 1/volume_scale
  double base_volume = 1000;  // per minute at volume factor 1
  double trade_size = 100;    // average volume of one trade
  uint32_t trade_threshold = 65536;  // a minute the session lets trade does so when 16 hash bits fall below this
};

TickerModel ModelOf(uint64_t seed, const Ticker& ticker, double activity) {
  TickerModel m;
  m.trade_threshold = static_cast<uint32_t>(std::clamp(activity, 0.0, 1.0) * 65536);
  m.key = SplitMix64(SplitMix64(seed) ^ HashText(ticker.symbol()));
  m.asset = ticker.asset_class();
  const uint64_t r = SplitMix64(m.key ^ 0x6D6F64656CULL);
  const double u_price = Unit16(r, 0);
  const double u_volume = Unit16(r, 16);
  const double u_trade = Unit16(r, 32);
  const double u_vol = Unit16(r, 48);
  switch (ticker.asset_class()) {
    case AssetClass::kStock:
    case AssetClass::kIndex:
    case AssetClass::kOption:
      m.stock_session = true;
      m.base_price = LogUniform(u_price, 5, 500);
      m.volatility = 0.8 + 0.6 * u_vol;
      m.price_scale = 100;
      m.vwap_scale = 1e4;
      m.volume_scale = 0;
      m.base_volume = LogUniform(u_volume, 2e3, 2e5);
      m.trade_size = 40 + 120 * u_trade;
      break;
    case AssetClass::kCrypto: {
      m.stock_session = false;
      m.base_price = LogUniform(u_price, 0.05, 80000);
      m.volatility = 1.4 + 0.8 * u_vol;
      m.price_scale = m.base_price >= 1000 ? 100 : m.base_price >= 1 ? 1e4 : 1e6;
      m.vwap_scale = m.price_scale * 100;
      // Fractional volumes in 1e-8 units, as long as that keeps them exact below 2^53.
      m.volume_scale = m.base_price >= 1 ? 1e8 : 1e4;
      const double notional_per_minute = LogUniform(u_volume, 2e4, 2e6);
      m.base_volume = notional_per_minute / m.base_price;
      m.trade_size = (200 + 2000 * u_trade) / m.base_price;
      break;
    }
    case AssetClass::kFx: {
      m.stock_session = false;
      m.base_price = LogUniform(u_price, 0.6, 1.6);
      m.volatility = 0.3 + 0.2 * u_vol;
      m.price_scale = 1e5;
      m.vwap_scale = 1e7;
      m.volume_scale = 1e4;
      m.base_volume = LogUniform(u_volume, 50, 500);
      m.trade_size = 1;
      break;
    }
  }
  return m;
}

// ---------------------------------------------------------------------------------------------
// Sessions: a volume factor and a quiet-minute probability per minute of the trading day.

constexpr int kStockSessionMinutes = 16 * 60;  // 04:00-20:00 New York
constexpr int kPreMarketMinutes = 5 * 60 + 30; // 04:00-09:30
constexpr int kRegularMinutes = 6 * 60 + 30;   // 09:30-16:00
constexpr int kMinutesPerDay = 24 * 60;
constexpr int64_t kSessionOpenMs = 4 * kMsPerHour;

struct MinuteSlot {
  double volume_factor = 1;
  uint32_t quiet_below = 0;  // the minute has no trades when 16 hash bits fall below this
};

struct SessionTables {
  std::array<MinuteSlot, kStockSessionMinutes> stock;
  std::array<MinuteSlot, kMinutesPerDay> around_clock;
};

constexpr uint32_t QuietProbability(double p) { return static_cast<uint32_t>(p * 65536); }

const SessionTables& Tables() {
  static const SessionTables tables = [] {
    SessionTables t;
    for (int k = 0; k < kStockSessionMinutes; ++k) {
      MinuteSlot& slot = t.stock[k];
      if (k < kPreMarketMinutes) {
        slot = {0.06, QuietProbability(0.15)};
      } else if (k < kPreMarketMinutes + kRegularMinutes) {
        // U-shaped: busy at the open and the close, quiet at lunch; the opening minute always trades.
        const double x = static_cast<double>(k - kPreMarketMinutes) / (kRegularMinutes - 1);
        const double u = 2 * x - 1;
        slot = {0.55 + 2.2 * u * u, k == kPreMarketMinutes ? 0 : QuietProbability(0.01)};
      } else {
        const bool closing_cross = k == kPreMarketMinutes + kRegularMinutes;
        slot = {closing_cross ? 1.2 : 0.05, closing_cross ? 0 : QuietProbability(0.18)};
      }
    }
    for (int k = 0; k < kMinutesPerDay; ++k) {
      const double phase = 2 * std::numbers::pi * (k - 8 * 60) / kMinutesPerDay;
      t.around_clock[k] = {1 + 0.35 * std::sin(phase), 0};
    }
    return t;
  }();
  return tables;
}

/// 04:00 New York on `day` in Unix ms. New York changes its offset on Sundays at 02:00 only, so
/// the offset at noon is the offset of the whole 04:00-20:00 session.
int64_t SessionOpenMs(const MarketZone& ny, CalendarDay day) {
  const int64_t local_midnight = day.DaysSinceEpoch() * kMsPerDay;
  const int64_t noon = ny.DayStartMs(day) + 12 * kMsPerHour;
  return local_midnight + kSessionOpenMs - ny.UtcOffsetMs(noon);
}

/// The minutes of one New York day that may trade, counted from 04:00 New York: [first, end),
/// with the regular session [regular_begin, regular_end). Empty on a closed day.
struct DayMinutes {
  int first = 0;
  int end = 0;
  int regular_begin = kPreMarketMinutes;
  int regular_end = kPreMarketMinutes + kRegularMinutes;

  /// The slot of minute k: the usual day's table, with a shortened regular session keeping its
  /// opening minute, U-shape start and closing cross, and the extended hours around it alike.
  int SlotIndex(int k) const {
    if (k < regular_begin) return std::min(k, kPreMarketMinutes - 1);
    if (k < regular_end) return std::min(kPreMarketMinutes + (k - regular_begin), kPreMarketMinutes + kRegularMinutes - 1);
    return std::min(kPreMarketMinutes + kRegularMinutes + (k - regular_end), kStockSessionMinutes - 1);
  }
};

/// What the exchange calendar says `asset` trades on New York day `day` (docs/calendar.md): no
/// minute on a holiday or special closing, 13:00 closes with extended hours to 17:00, delayed
/// openings; indices and options only in the regular session. Days outside the calendar's
/// years trade the usual weekday hours.
DayMinutes MinutesOf(AssetClass asset, CalendarDay day, int64_t open_ms) {
  DayMinutes minutes;
  const auto session = calendar::ExchangeCalendar::For(asset).SessionOn(day);
  if (!session) {
    const unsigned weekday = day.Weekday();
    if (weekday != 0 && weekday != 6) minutes.end = kStockSessionMinutes;
    return minutes;
  }
  if (!session->is_open()) return minutes;
  const auto minute_of = [open_ms](int64_t ms) { return static_cast<int>(FloorDiv(ms - open_ms, kMsPerMinute)); };
  minutes.first = minute_of(session->extended.from_ms);
  minutes.end = minute_of(session->extended.to_ms);
  minutes.regular_begin = minute_of(session->regular.from_ms);
  minutes.regular_end = minute_of(session->regular.to_ms);
  return minutes;
}

// ---------------------------------------------------------------------------------------------
// Data events (MarketEvents): holes, halts and revisions, drawn per (ticker, day).

constexpr double kRevisedShare = 0.05;  // of a revised day's traded minutes: more volume, one more trade
constexpr double kRemovedShare = 0.01;  // of its traded minutes: the bar vanishes
constexpr double kAddedShare = 0.03;    // of its quiet minutes: a late-reported bar
constexpr int kHaltFirstStartMinutes = 30;  // a halt starts 30..120 minutes after the open...
constexpr int kHaltStartSpreadMinutes = 91;
constexpr int kHaltShortestMinutes = 210;   // ...and lasts 210..330 minutes, clipped to the close
constexpr int kHaltLengthSpreadMinutes = 121;
constexpr int kRevisionLookbackDays = 40;   // how far back the recent sessions are looked for

constexpr uint64_t kHoleSalt = 0x686F6C65ULL;
constexpr uint64_t kHaltSalt = 0x68616C74ULL;
constexpr uint64_t kReviseSalt = 0x726576697365ULL;

/// What one day of one ticker holds beyond its usual minutes.
struct DayEvents {
  bool empty = false;    // a hole not filled yet: no bar at all
  TimeRange halt;        // no bar in these minutes
  bool revised = false;  // the vendor's corrected values
};

/// The events of one ticker (MarketEvents), day by day; without events it costs nothing.
class TickerEvents {
 public:
  TickerEvents(const MarketEvents* events, const Ticker& ticker, const ServingOf* serving = nullptr)
      : events_(events != nullptr && events->any() && Eligible(*events, ticker) ? events : nullptr),
        ticker_(ticker),
        serving_(serving),
        calendar_(calendar::ExchangeCalendar::For(ticker.asset_class())) {
    if (events_ != nullptr && events_->revise > 0) FindRecentSessions();
  }

  bool active() const { return events_ != nullptr; }

  /// The events of `day` as the data is served now (`serving`; without it: the final data).
  DayEvents On(CalendarDay day) const {
    DayEvents out;
    if (events_ == nullptr) return out;
    const auto session = calendar_.SessionOn(day);
    if (!session || !session->is_open()) return out;
    const bool hole = Hole(*session);
    const bool revision = Revision(*session);
    if (hole || revision) {
      const DayServing now = serving_ != nullptr && *serving_ ? (*serving_)(day) : DayServing{};
      out.empty = hole && now.hole_open;
      out.revised = revision && !now.original;
    }
    if (const auto halt = Halt(*session)) out.halt = *halt;
    return out;
  }

  /// Every event on the days from..to, in day order.
  std::vector<InjectedEvent> List(CalendarDay from, CalendarDay to) const {
    std::vector<InjectedEvent> out;
    if (events_ == nullptr) return out;
    auto sessions = calendar_.Sessions(std::max(from, calendar::ExchangeCalendar::kFirstDay),
                                       std::min(to, calendar::ExchangeCalendar::kLastDay));
    if (!sessions) return out;
    for (const calendar::Session& session : *sessions) {
      if (!session.is_open()) continue;
      if (Hole(session)) out.push_back({EventKind::kHole, ticker_, session.day, session.extended});
      if (const auto halt = Halt(session)) out.push_back({EventKind::kHalt, ticker_, session.day, *halt});
      if (Revision(session)) out.push_back({EventKind::kRevision, ticker_, session.day, session.extended});
    }
    return out;
  }

 private:
  static bool Eligible(const MarketEvents& events, const Ticker& ticker) {
    return events.tickers.empty() ||
           std::find(events.tickers.begin(), events.tickers.end(), ticker.symbol()) != events.tickers.end();
  }

  uint64_t Draw(CalendarDay day, uint64_t salt) const {
    return SplitMix64(SplitMix64(events_->seed ^ salt) ^ HashText(ticker_.symbol()) ^
                      (static_cast<uint64_t>(day.DaysSinceEpoch()) * 0x9E3779B97F4A7C15ULL));
  }

  bool Hole(const calendar::Session& session) const {
    return events_->hole > 0 && Unit53(Draw(session.day, kHoleSalt)) < events_->hole;
  }

  bool Revision(const calendar::Session& session) const {
    return events_->revise > 0 && std::find(recent_.begin(), recent_.end(), session.day) != recent_.end() &&
           Unit53(Draw(session.day, kReviseSalt)) < events_->revise;
  }

  std::optional<TimeRange> Halt(const calendar::Session& session) const {
    if (events_->halt <= 0 || session.kind != calendar::SessionKind::kRegular) return std::nullopt;
    const uint64_t h = Draw(session.day, kHaltSalt);
    if (Unit53(h) >= events_->halt) return std::nullopt;
    const int64_t start = session.regular.from_ms +
                          (kHaltFirstStartMinutes + static_cast<int64_t>(h % kHaltStartSpreadMinutes)) * kMsPerMinute;
    const int64_t length = kHaltShortestMinutes + static_cast<int64_t>((h >> 20) % kHaltLengthSpreadMinutes);
    const TimeRange halt{start, std::min(start + length * kMsPerMinute, session.regular.to_ms)};
    if (halt.empty()) return std::nullopt;
    return halt;
  }

  /// The last `revise_sessions` sessions that had ended by `as_of_ms`.
  void FindRecentSessions() {
    const MarketZone zone = calendar_.zone();
    CalendarDay day = zone.DayOf(events_->as_of_ms);
    for (int back = 0; back < kRevisionLookbackDays && static_cast<int>(recent_.size()) < events_->revise_sessions;
         ++back, day = day.AddDays(-1)) {
      const auto session = calendar_.SessionOn(day);
      if (session && session->is_open() && session->extended.to_ms <= events_->as_of_ms) recent_.push_back(day);
    }
  }

  const MarketEvents* events_;
  Ticker ticker_;
  const ServingOf* serving_;
  const calendar::ExchangeCalendar& calendar_;
  std::vector<CalendarDay> recent_;
};

// ---------------------------------------------------------------------------------------------
// Minute bars.

class MinuteGenerator {
 public:
  explicit MinuteGenerator(const TickerModel& model) : model_(model) {
    for (int k = 0; k < kOctaves; ++k) {
      octaves_[k].period = kOctavePeriodMinutes[k];
      octaves_[k].inverse_period = 1.0 / static_cast<double>(kOctavePeriodMinutes[k]);
      octaves_[k].amplitude = kOctaveAmplitude[k] * model.volatility;
      octaves_[k].salt = SplitMix64(model.key + 0x100 + k);
    }
  }

  /// The raw bar of minute `m` (t = m minutes since the epoch); false when it had no trades.
  /// `raw_basis` is the share basis of its day against today's (the product of to/from of the
  /// true splits after it): the path is in today's shares, raw prices and volumes in the day's.
  /// `revised`: the vendor's corrected data of the minute's day (see MarketEvents::revise).
  bool Make(int64_t m, const MinuteSlot& slot, double raw_basis, bool revised, Bar* out) {
    const uint64_t h0 = SplitMix64(model_.key ^ (static_cast<uint64_t>(m) * 0xD1B54A32D192ED03ULL));
    const uint64_t revision = revised ? SplitMix64(h0 ^ 0x7265766973696F6EULL) : 0;
    const bool quiet = (h0 & 0xFFFF) < slot.quiet_below;
    if (quiet && !(revised && Unit16(revision, 0) < kAddedShare)) return false;
    // A thin ticker trades in only a share of the minutes its session allows; 16 bits of
    // another hash decide, so a dense ticker's bars stay exactly what they were.
    if (model_.trade_threshold < 65536 &&
        (SplitMix64(h0 ^ 0x7468696E6E657373ULL) & 0xFFFF) >= model_.trade_threshold) {
      return false;
    }
    if (revised && !quiet && Unit16(revision, 0) < kRemovedShare) return false;
    const uint64_t h1 = SplitMix64(h0 ^ 0xA0761D6478BD642FULL);
    const uint64_t h2 = SplitMix64(h1 ^ 0xE7037ED1A0B428DBULL);

    const double jitter = 0.0004 * model_.volatility;
    const double wick = 0.0015 * model_.volatility;
    const double open_raw = Path(m) * raw_basis * (1 + jitter * (2 * Unit16(h0, 16) - 1));
    const double close_raw = Path(m + 1) * raw_basis * (1 + jitter * (2 * Unit16(h0, 32) - 1));
    const double high_raw = std::max(open_raw, close_raw) * (1 + wick * Unit16(h0, 48) * Unit16(h1, 0));
    const double low_raw = std::min(open_raw, close_raw) * (1 - wick * Unit16(h1, 16) * Unit16(h1, 32));

    // Rounding is monotone, so l <= o, c <= h survives it.
    const double tick = 1 / model_.price_scale;
    const auto price = [&](double x) { return std::max(tick, RoundTo(x, model_.price_scale)); };
    Bar bar;
    bar.t = m * kMsPerMinute;
    bar.open = price(open_raw);
    bar.close = price(close_raw);
    bar.high = price(high_raw);
    bar.low = price(low_raw);
    bar.vwap = std::clamp(RoundTo(bar.low + (bar.high - bar.low) * (0.3 + 0.4 * Unit16(h1, 48)),
                                  model_.vwap_scale),
                          bar.low, bar.high);

    // Roughly log-normal volume: the sum of four uniforms is close to a normal draw.
    const double z = (Unit16(h2, 0) + Unit16(h2, 16) + Unit16(h2, 32) + Unit16(h2, 48) - 2) * 1.7320508;
    const double volume_raw = model_.base_volume * slot.volume_factor * std::exp(0.6 * z);
    const double trade_share = 0.7 + 0.6 * Unit53(h1);
    // A revised bar reports one more trade and a little more volume: same t, other values.
    const bool corrected = revised && !quiet && Unit16(revision, 16) < kRevisedShare;
    if (model_.volume_scale == 0) {
      int64_t shares = std::max<int64_t>(1, std::llround(volume_raw / raw_basis));
      int64_t trades = std::clamp<int64_t>(std::llround(volume_raw / model_.trade_size * trade_share), 1, shares);
      if (corrected) {
        ++shares;
        ++trades;
      }
      bar.volume = static_cast<double>(shares);
      bar.trades = trades;
    } else {
      bar.volume = std::max(1 / model_.volume_scale, RoundTo(volume_raw, model_.volume_scale));
      bar.trades = std::max<int64_t>(1, std::llround(volume_raw / model_.trade_size * trade_share));
      if (corrected) {
        bar.volume = RoundTo(bar.volume * 1.01 + 1 / model_.volume_scale, model_.volume_scale);
        ++bar.trades;
      }
    }
    *out = bar;
    return true;
  }

 private:
  struct Octave {
    int64_t period = 1;
    double inverse_period = 1;
    double amplitude = 0;
    uint64_t salt = 0;
    int64_t cell = std::numeric_limits<int64_t>::min();
    int64_t offset = 0;  // m - cell * period for the last m
    double left = 0;
    double right = 0;
  };

  static double Lattice(uint64_t salt, int64_t cell) {
    return 2 * Unit53(SplitMix64(salt ^ (static_cast<uint64_t>(cell) * 0x9FB21C651E98DF25ULL))) - 1;
  }

  /// The smooth price path at the start of minute m: base price times the exp of a sum of
  /// smoothstep-interpolated value-noise octaves. Each octave's cell, offset and lattice values
  /// are kept from the last minute (sequential minutes reuse them) and the last two results are
  /// remembered (each bar reads m and m + 1); the arithmetic is the same either way, so the
  /// value depends on m alone.
  double Path(int64_t m) {
    if (m == memo_m_[0]) return memo_v_[0];
    if (m == memo_m_[1]) return memo_v_[1];
    // Walking minute by minute, each octave's position advances by one without a division.
    const bool next_minute = m == octave_m_ + 1;
    octave_m_ = m;
    double log_move = 0;
    for (Octave& o : octaves_) {
      int64_t cell = o.cell;
      if (next_minute) {
        if (++o.offset == o.period) {
          o.offset = 0;
          ++cell;
        }
      } else {
        cell = FloorDiv(m, o.period);
        o.offset = m - cell * o.period;
      }
      if (cell != o.cell) {
        o.cell = cell;
        o.left = Lattice(o.salt, cell);
        o.right = Lattice(o.salt, cell + 1);
      }
      const double f = static_cast<double>(o.offset) * o.inverse_period;
      const double s = f * f * (3 - 2 * f);
      log_move += o.amplitude * (o.left + (o.right - o.left) * s);
    }
    const double value = model_.base_price * std::exp(log_move);
    const int slot = memo_next_;
    memo_next_ ^= 1;
    memo_m_[slot] = m;
    memo_v_[slot] = value;
    return value;
  }

  const TickerModel& model_;
  std::array<Octave, kOctaves> octaves_;
  int64_t octave_m_ = std::numeric_limits<int64_t>::min();  // the minute the octaves are at
  std::array<int64_t, 2> memo_m_ = {std::numeric_limits<int64_t>::min(),
                                    std::numeric_limits<int64_t>::min()};
  std::array<double, 2> memo_v_ = {0, 0};
  int memo_next_ = 0;
};

/// Calls fn(bar) for every raw minute bar with t in [from, to), ascending, until fn returns false.
/// Returns false when fn stopped the walk. `true_splits` set the raw share basis of each day.
template <typename Fn>
bool ForEachMinute(const TickerModel& model, MinuteGenerator& gen, const TickerEvents& events,
                   const std::vector<FactorRange>& true_splits, int64_t from, int64_t to, Fn&& fn) {
  const SessionTables& tables = Tables();
  const MarketZone zone = model.stock_session ? MarketZone::NewYork() : MarketZone::Utc();
  Bar bar;
  for (CalendarDay day = zone.DayOf(from); zone.DayStartMs(day) < to; day = day.AddDays(1)) {
    const DayEvents today = events.On(day);
    if (today.empty) continue;
    const FactorRange* basis = FactorFor(true_splits, day);
    const double raw_basis = basis != nullptr ? basis->split_volume : 1;
    if (!model.stock_session) {
      const int64_t first_minute = day.DaysSinceEpoch() * kMinutesPerDay;
      for (int64_t m = std::max(first_minute, CeilDiv(from, kMsPerMinute)); m < first_minute + kMinutesPerDay; ++m) {
        if (m * kMsPerMinute >= to) return true;
        if (today.halt.Contains(m * kMsPerMinute)) continue;
        if (gen.Make(m, tables.around_clock[m - first_minute], raw_basis, today.revised, &bar) && !fn(bar)) return false;
      }
      continue;
    }
    const int64_t open = SessionOpenMs(zone, day);
    const DayMinutes minutes = MinutesOf(model.asset, day, open);
    for (int64_t k = std::max<int64_t>(minutes.first, CeilDiv(from - open, kMsPerMinute)); k < minutes.end; ++k) {
      const int64_t t = open + k * kMsPerMinute;
      if (t >= to) return true;
      if (today.halt.Contains(t)) continue;
      const MinuteSlot& slot = tables.stock[minutes.SlotIndex(static_cast<int>(k))];
      if (gen.Make(t / kMsPerMinute, slot, raw_basis, today.revised, &bar) && !fn(bar)) return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Aggregation.

/// Folds consecutive bars of one bucket into one bar (core/bar_fold.h, shared with `--derive`),
/// with the vendor's vwap: one bar keeps its own; a mean of many is rounded like the API's and
/// kept in [l, h].
class BarAccumulator {
 public:
  bool open() const { return fold_.open(); }
  int64_t start() const { return fold_.start(); }
  int64_t count() const { return fold_.count(); }
  void Add(const Bar& b, int64_t bucket) { fold_.Add(b, bucket); }

  /// The bucket's bar; the accumulator is empty afterwards.
  Bar Take(double vwap_scale) {
    const int64_t count = fold_.count();
    const double vwap_volume = fold_.vwap_volume();
    Bar out = fold_.Take();
    if (count > 1) out.vwap = std::clamp(RoundTo(vwap_volume / out.volume, vwap_scale), out.low, out.high);
    return out;
  }

 private:
  BarFold fold_;
};

/// Builds a page from base aggregates fed in order with the bucket each falls in, applying
/// Polygon's `limit` on base aggregates and dropping a bucket left partial at the cut.
class PageBuilder {
 public:
  PageBuilder(int64_t limit, double vwap_scale, Page* page)
      : limit_(limit), vwap_scale_(vwap_scale), page_(page) {}

  /// Feeds one base aggregate; false when the page is full.
  bool Add(const Bar& base, int64_t bucket) {
    const bool full = limit_ > 0 && read_ >= limit_;
    if (acc_.open() && bucket != acc_.start()) {
      Close();
      if (full) {
        page_->more = true;
        return false;
      }
    }
    if (full && !page_->bars.empty()) {
      // `base` belongs to the open bucket, which the limit cut short: leave it to the next page.
      acc_ = BarAccumulator();
      page_->more = true;
      return false;
    }
    acc_.Add(base, bucket);
    ++read_;
    return true;
  }

  /// Closes the last bucket once the range is exhausted.
  void Finish() {
    if (acc_.open()) Close();
  }

 private:
  void Close() {
    page_->query_count += acc_.count();
    page_->bars.push_back(acc_.Take(vwap_scale_));
  }

  int64_t limit_;
  double vwap_scale_;
  Page* page_;
  BarAccumulator acc_;
  int64_t read_ = 0;
};

/// Calls fn(day_bar) for each market day starting in [from, to) that has minute bars.
template <typename Fn>
void ForEachDay(const TickerModel& model, MinuteGenerator& gen, const TickerEvents& events,
                const std::vector<FactorRange>& true_splits, const MarketZone& zone, int64_t from, int64_t to,
                Fn&& fn) {
  CalendarDay day = zone.DayOf(from);
  int64_t start = zone.DayStartMs(day);
  while (start < to) {
    const CalendarDay next_day = day.AddDays(1);
    const int64_t next = zone.DayStartMs(next_day);
    // A closed day yields no minute; only the weekend skip is worth doing early.
    const unsigned weekday = day.Weekday();
    const bool trades = !model.stock_session || (weekday != 0 && weekday != 6);
    if (start >= from && trades) {
      BarAccumulator acc;
      ForEachMinute(model, gen, events, true_splits, start, next, [&](const Bar& b) {
        acc.Add(b, start);
        return true;
      });
      if (acc.open() && !fn(acc.Take(model.vwap_scale))) return;
    }
    day = next_day;
    start = next;
  }
}

}  // namespace

double BasePriceOf(uint64_t seed, const Ticker& ticker) { return ModelOf(seed, ticker, 1).base_price; }

namespace {

/// Builds the raw page of `query`; with `adjust_days`, from day bars adjusted by those factors
/// instead (how bars longer than a day are built across a split).
void BuildPage(const PageQuery& query, const TickerModel& model, const std::vector<FactorRange>* adjust_days,
               Page* page) {
  page->bars.clear();
  page->query_count = 0;
  page->more = false;
  // Room for the most bars the page can hold, once: later pages reuse it.
  constexpr int64_t kMaxReserve = int64_t{1} << 22;
  const int64_t most = query.range.DurationMs() / std::min(query.timeframe.NominalMs(), kMsPerDay) + 1;
  page->bars.reserve(static_cast<size_t>(std::min({most, query.limit > 0 ? query.limit : most, kMaxReserve})));

  MinuteGenerator gen(model);
  const TickerEvents events(query.events, query.ticker, &query.serving);
  PageBuilder builder(query.limit, model.vwap_scale, page);
  const Timeframe& tf = query.timeframe;
  if (tf.IsIntraday()) {
    const int64_t length = tf.NominalMs();
    ForEachMinute(model, gen, events, query.true_splits, query.range.from_ms, query.range.to_ms,
                  [&](const Bar& b) { return builder.Add(b, IntradayBucketStart(b.t, length)); });
  } else {
    const MarketZone zone = query.ticker.zone();
    const bool one_day = tf == Timeframe(1, Timespan::kDay);
    ForEachDay(model, gen, events, query.true_splits, zone, query.range.from_ms, query.range.to_ms,
               [&](const Bar& day_bar) {
                 Bar bar = day_bar;
                 if (adjust_days != nullptr) {
                   if (const FactorRange* f = FactorFor(*adjust_days, zone.DayOf(day_bar.t))) {
                     bar = AdjustBar(day_bar, *f, Adjustment::kSplits);
                   }
                 }
                 return builder.Add(bar, one_day ? bar.t : BucketStart(tf, zone, bar.t));
               });
  }
  builder.Finish();
}

}  // namespace

void ReadPage(const PageQuery& query, Page* page) {
  page->bars.clear();
  page->query_count = 0;
  page->more = false;
  if (query.range.empty() || query.timeframe.timespan() == Timespan::kSecond) return;
  const TickerModel model = ModelOf(query.seed, query.ticker, query.activity);
  BuildPage(query, model, nullptr, page);
  if (!query.adjusted || query.listed_splits.empty()) return;
  // The vendor adjusts at query time: a bar within one session day is its raw bar adjusted by that
  // day's factor (prices rounded to 4 decimals). A bar longer than a day is adjusted the same way
  // when every day in it has one factor; across a split it is built from adjusted day bars.
  const Timeframe& tf = query.timeframe;
  const MarketZone zone = query.ticker.zone();
  const bool within_a_day = tf.IsIntraday() || tf == Timeframe(1, Timespan::kDay);
  Page from_days;
  if (!within_a_day) BuildPage(query, model, &query.listed_splits, &from_days);
  BarBatch& bars = page->bars;
  for (size_t i = 0; i < bars.size(); ++i) {
    const FactorRange* first = FactorFor(query.listed_splits, zone.DayOf(bars.t[i]));
    if (!within_a_day && first != FactorFor(query.listed_splits, zone.DayOf(NextBucketStart(tf, zone, bars.t[i]) - 1))) {
      bars.Set(i, from_days.bars[i]);
    } else if (first != nullptr) {
      bars.Set(i, AdjustBar(bars[i], *first, Adjustment::kSplits));
    }
  }
}

std::string_view EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kHole: return "hole";
    case EventKind::kHalt: return "halt";
    case EventKind::kRevision: return "revision";
  }
  return "?";
}

std::vector<InjectedEvent> EventsOf(const Market& market, const Ticker& ticker, CalendarDay from, CalendarDay to) {
  return TickerEvents(&market.events, ticker).List(from, to);
}

double Market::ActivityOf(const Ticker& ticker) const {
  if (const auto named = activity.find(ticker.symbol()); named != activity.end()) return named->second;
  if (liquidity == Liquidity::kDense) return 1;
  const uint64_t h = SplitMix64(SplitMix64(seed ^ 0x6C6971756964ULL) ^ HashText(ticker.symbol()));
  const double tier = Unit16(h, 0);
  const double u = Unit16(h, 16);
  if (tier < 0.10) return 0.7 + 0.3 * u;
  if (tier < 0.35) return 0.1 + 0.6 * u;
  return LogUniform(u, 0.002, 0.1);
}

Result<std::map<std::string, double, std::less<>>> Market::ParseActivity(std::string_view text) {
  std::map<std::string, double, std::less<>> out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    std::string_view item = text.substr(start, comma - start);
    start = comma + 1;
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    const auto bad = [&] {
      return Fail(ErrorCode::kUsage, "thin ticker '" + std::string(item) +
                                         "' must look like TICKER=SHARE with 0 < SHARE <= 1 (e.g. XYZ=0.01)");
    };
    if (eq == std::string_view::npos || eq == 0) return bad();
    const std::string number(item.substr(eq + 1));
    char* end = nullptr;
    const double share = std::strtod(number.c_str(), &end);
    if (number.empty() || end != number.c_str() + number.size() || !(share > 0 && share <= 1)) return bad();
    out[std::string(item.substr(0, eq))] = share;
  }
  return out;
}

BarBatch GroundTruth(uint64_t seed, const Ticker& ticker, const Timeframe& timeframe, bool adjusted,
                     TimeRange range) {
  return GroundTruth(Market{seed}, ticker, timeframe, adjusted, range);
}

BarBatch GroundTruth(const Market& market, const Ticker& ticker, const Timeframe& timeframe, bool adjusted,
                     TimeRange range) {
  return GroundTruth(market, ticker, timeframe, adjusted, range, DataVersion::kFinal);
}

BarBatch GroundTruth(const Market& market, const Ticker& ticker, const Timeframe& timeframe, bool adjusted,
                     TimeRange range, DataVersion version) {
  if (range.empty() || timeframe.timespan() == Timespan::kSecond) return {};
  PageQuery query;
  query.events = &market.events;
  if (version == DataVersion::kFirstServed) query.serving = [](CalendarDay) { return DayServing{true, true}; };
  query.seed = market.seed;
  query.activity = market.ActivityOf(ticker);
  query.ticker = ticker;
  query.timeframe = timeframe;
  query.adjusted = adjusted;
  query.range = SnapToBuckets(timeframe, ticker.zone(), range);
  query.true_splits = TrueSplitFactors(market.seed, ticker);
  if (adjusted) query.listed_splits = ListedSplitFactors(market, ticker);
  Page page;
  ReadPage(query, &page);
  // Snapping moved `from` back to its bucket start; only the first bar can lie before `range`.
  if (!page.bars.empty() && page.bars.t.front() < range.from_ms) {
    BarBatch trimmed;
    trimmed.reserve(page.bars.size() - 1);
    for (size_t i = 1; i < page.bars.size(); ++i) trimmed.push_back(page.bars[i]);
    return trimmed;
  }
  return std::move(page.bars);
}

}  // namespace barfill::sim
