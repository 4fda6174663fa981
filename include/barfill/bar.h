// OHLCV bars, one at a time (Bar) and columnar (BarBatch), the form every stage passes along.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace barfill {

/// `trades` value when the API sent no `n`.
inline constexpr int64_t kNoTrades = -1;
/// `vwap` value when the API sent no `vw` (a quiet NaN; test with HasVwap).
inline constexpr double kNoVwap = std::numeric_limits<double>::quiet_NaN();

/// One bar. `t` is the start of the bar window in Unix ms (UTC).
struct Bar {
  int64_t t = 0;
  double open = 0;
  double high = 0;
  double low = 0;
  double close = 0;
  double volume = 0;
  double vwap = kNoVwap;
  int64_t trades = kNoTrades;

  bool HasVwap() const { return !std::isnan(vwap); }
  bool HasTrades() const { return trades != kNoTrades; }

  /// Field-by-field equality, with two missing vwaps equal.
  friend bool operator==(const Bar& a, const Bar& b) {
    return a.t == b.t && a.open == b.open && a.high == b.high && a.low == b.low &&
           a.close == b.close && a.volume == b.volume && a.trades == b.trades &&
           (a.vwap == b.vwap || (std::isnan(a.vwap) && std::isnan(b.vwap)));
  }
};

/// Bars of one series as parallel columns, so that parsing and COPY encoding touch contiguous
/// memory and never allocate per bar.
class BarBatch {
 public:
  std::vector<int64_t> t;
  std::vector<double> open;
  std::vector<double> high;
  std::vector<double> low;
  std::vector<double> close;
  std::vector<double> volume;
  std::vector<double> vwap;
  std::vector<int64_t> trades;

  size_t size() const { return t.size(); }
  bool empty() const { return t.empty(); }

  void reserve(size_t n) {
    t.reserve(n); open.reserve(n); high.reserve(n); low.reserve(n);
    close.reserve(n); volume.reserve(n); vwap.reserve(n); trades.reserve(n);
  }
  void clear() {
    t.clear(); open.clear(); high.clear(); low.clear();
    close.clear(); volume.clear(); vwap.clear(); trades.clear();
  }
  void push_back(const Bar& b) {
    t.push_back(b.t); open.push_back(b.open); high.push_back(b.high); low.push_back(b.low);
    close.push_back(b.close); volume.push_back(b.volume); vwap.push_back(b.vwap);
    trades.push_back(b.trades);
  }
  Bar operator[](size_t i) const {
    return Bar{t[i], open[i], high[i], low[i], close[i], volume[i], vwap[i], trades[i]};
  }
  void Set(size_t i, const Bar& b) {
    t[i] = b.t; open[i] = b.open; high[i] = b.high; low[i] = b.low;
    close[i] = b.close; volume[i] = b.volume; vwap[i] = b.vwap; trades[i] = b.trades;
  }
  void resize(size_t n) {
    t.resize(n); open.resize(n); high.resize(n); low.resize(n);
    close.resize(n); volume.resize(n); vwap.resize(n); trades.resize(n);
  }
  void Append(const BarBatch& other) {
    const auto cat = [](auto& dst, const auto& src) { dst.insert(dst.end(), src.begin(), src.end()); };
    cat(t, other.t); cat(open, other.open); cat(high, other.high); cat(low, other.low);
    cat(close, other.close); cat(volume, other.volume); cat(vwap, other.vwap); cat(trades, other.trades);
  }
  /// Bytes held by the columns (for memory accounting of queues).
  size_t CapacityBytes() const { return t.capacity() * (sizeof(int64_t) * 2 + sizeof(double) * 6); }

  friend bool operator==(const BarBatch& a, const BarBatch& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!(a[i] == b[i])) return false;
    }
    return true;
  }
};

}  // namespace barfill
