#include "quality/classify.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace barfill::quality {
namespace {

constexpr double kMadToSigma = 1.4826;  // the MAD of a normal distribution is 0.6745 sigma
constexpr double kFullShareLow = 0.95;   // sessions this close to the usual length are "full"
constexpr double kFullShareHigh = 1.05;

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  const double lower = *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lower + upper) / 2;
}

/// The union of final ledger ranges, and the failed ones, asked window by window.
class Coverage {
 public:
  explicit Coverage(const std::vector<LedgerEntry>& ledger) {
    std::vector<TimeRange> final_ranges;
    for (const LedgerEntry& e : ledger) {
      if (e.state == ChunkState::kDone || e.state == ChunkState::kEmpty) final_ranges.push_back(e.range);
      if (e.state == ChunkState::kFailed) failed_.push_back(&e);
    }
    std::sort(final_ranges.begin(), final_ranges.end(),
              [](const TimeRange& a, const TimeRange& b) { return a.from_ms < b.from_ms; });
    for (const TimeRange& r : final_ranges) {
      if (!merged_.empty() && r.from_ms <= merged_.back().to_ms) {
        merged_.back().to_ms = std::max(merged_.back().to_ms, r.to_ms);
      } else {
        merged_.push_back(r);
      }
    }
  }

  /// Whether final ledger ranges hold all of `w`.
  bool Final(TimeRange w) const {
    const auto after = std::upper_bound(merged_.begin(), merged_.end(), w.from_ms,
                                        [](int64_t t, const TimeRange& r) { return t < r.from_ms; });
    if (after == merged_.begin()) return false;
    const TimeRange& r = *std::prev(after);
    return r.from_ms <= w.from_ms && w.to_ms <= r.to_ms;
  }

  /// The most recent failed range overlapping `w`, if any.
  const LedgerEntry* Failed(TimeRange w) const {
    const LedgerEntry* found = nullptr;
    for (const LedgerEntry* e : failed_) {
      if (e->range.from_ms < w.to_ms && w.from_ms < e->range.to_ms &&
          (found == nullptr || e->updated_at_ms > found->updated_at_ms)) {
        found = e;
      }
    }
    return found;
  }

 private:
  std::vector<TimeRange> merged_;
  std::vector<const LedgerEntry*> failed_;
};

bool FullRegular(const SessionWindow& s) {
  return s.kind == calendar::SessionKind::kRegular && s.share >= kFullShareLow && s.share <= kFullShareHigh;
}

std::string Format(const char* format, double a, double b = 0) {
  char buf[160];
  std::snprintf(buf, sizeof buf, format, a, b);
  return buf;
}

/// Why an empty session is implausible for this series, or nothing when it is not.
std::optional<std::string> ImplausiblyEmpty(const SeriesEvidence& e, const UsualSession& usual, double share,
                                            const SuspicionRules& rules) {
  if (usual.bars * share >= rules.implausible_empty) return Format("empty; a usual session has %.0f bars", usual.bars);
  if (usual.bars > rules.record_max_bars) return std::nullopt;  // a few bars a session: an empty one happens
  if (e.sibling && e.sibling_usual.sessions >= rules.min_history) {
    if (e.sibling_usual.bars * share < rules.implausible_empty) return std::nullopt;
    return "empty; the ticker's " + e.sibling->timeframe.ToString() +
           Format(" bars number %.0f in a usual session", e.sibling_usual.bars);
  }
  if (usual.sessions >= rules.record_sessions &&
      static_cast<double>(usual.empty) <= rules.record_empty_share * usual.sessions) {
    return Format("empty; %.0f of %.0f usual sessions had bars", usual.sessions - usual.empty, usual.sessions);
  }
  return std::nullopt;
}

}  // namespace

std::string_view SessionClassName(SessionClass c) {
  switch (c) {
    case SessionClass::kComplete: return "complete";
    case SessionClass::kNonTrading: return "non_trading";
    case SessionClass::kEarlyClose: return "early_close";
    case SessionClass::kSuspicious: return "suspicious";
    case SessionClass::kNeverFetched: return "never_fetched";
    case SessionClass::kFailed: return "failed";
  }
  return "?";
}

std::string_view SessionClassLabel(SessionClass c) {
  switch (c) {
    case SessionClass::kComplete: return "complete";
    case SessionClass::kNonTrading: return "non-trading";
    case SessionClass::kEarlyClose: return "early close";
    case SessionClass::kSuspicious: return "suspicious";
    case SessionClass::kNeverFetched: return "never fetched";
    case SessionClass::kFailed: return "failed";
  }
  return "?";
}

bool IsProblem(SessionClass c) {
  return c == SessionClass::kSuspicious || c == SessionClass::kNeverFetched || c == SessionClass::kFailed;
}

UsualSession UsualSessionOf(const SeriesEvidence& evidence) {
  const Coverage coverage(evidence.ledger);
  std::vector<double> bars;
  UsualSession usual;
  for (size_t i = 0; i < evidence.sessions.size() && i < evidence.counts.size(); ++i) {
    const SessionWindow& s = evidence.sessions[i];
    if (!FullRegular(s) || s.window.to_ms > evidence.now_ms || !coverage.Final(s.window)) continue;
    const int64_t count = evidence.counts[i].bars;
    bars.push_back(static_cast<double>(count));
    usual.empty += count == 0 ? 1 : 0;
  }
  usual.sessions = static_cast<int>(bars.size());
  if (bars.empty()) return usual;
  usual.bars = Median(bars);
  std::vector<double> deviations;
  deviations.reserve(bars.size());
  for (const double b : bars) deviations.push_back(std::abs(b - usual.bars));
  usual.spread = kMadToSigma * Median(std::move(deviations));
  return usual;
}

SeriesGaps Classify(const SeriesEvidence& evidence, const SuspicionRules& rules) {
  SeriesGaps out;
  out.series = evidence.series;
  out.usual = UsualSessionOf(evidence);
  const UsualSession& usual = out.usual;
  const Coverage coverage(evidence.ledger);
  const bool judged = usual.sessions >= rules.min_history;
  for (size_t i = 0; i < evidence.sessions.size() && i < evidence.counts.size(); ++i) {
    const SessionWindow& s = evidence.sessions[i];
    if (s.day < evidence.report_from) continue;
    if (s.window.to_ms > evidence.now_ms) {
      ++out.not_over;
      continue;
    }
    SessionVerdict v;
    v.session = s;
    v.bars = evidence.counts[i].bars;
    for (const RangeCheck& c : evidence.checks) {
      if (c.range == s.window) v.check = c;
    }
    if (!s.is_open()) {
      v.cls = SessionClass::kNonTrading;
      v.detail = std::string(s.reason);
    } else if (!coverage.Final(s.window)) {
      if (const LedgerEntry* failed = coverage.Failed(s.window)) {
        v.cls = SessionClass::kFailed;
        v.error = failed->last_error;
        v.attempts = failed->attempts;
        v.detail = failed->last_error;
      } else {
        v.cls = SessionClass::kNeverFetched;
        v.detail = "not in the ledger as fetched";
      }
    } else {
      v.cls = s.is_short() ? SessionClass::kEarlyClose : SessionClass::kComplete;
      if (s.is_short()) v.detail = std::string(s.reason);
      if (judged) {
        const double expected = usual.bars * s.share;
        v.expected = expected;
        const double missing = expected - static_cast<double>(v.bars);
        const double spread = std::max(usual.spread * s.share, std::sqrt(expected));
        const auto empty_why = v.bars == 0 ? ImplausiblyEmpty(evidence, usual, s.share, rules) : std::nullopt;
        if (empty_why) {
          v.cls = SessionClass::kSuspicious;
          v.detail = *empty_why;
        } else if (v.bars > 0 && static_cast<double>(v.bars) < rules.thin_share * expected &&
                   missing > rules.thin_sigmas * spread) {
          v.cls = SessionClass::kSuspicious;
          v.detail = Format("%.0f bars fewer than the %.0f expected", missing, expected) +
                     Format(" (-%.0f%%)", 100 * missing / expected);
        }
      }
    }
    out.sessions.push_back(std::move(v));
  }
  return out;
}

std::vector<GapRange> ToRanges(const SeriesGaps& gaps) {
  std::vector<GapRange> ranges;
  for (const SessionVerdict& v : gaps.sessions) {
    const SessionWindow& s = v.session;
    // A weekend (or a bucket without a trading day) between two sessions of one class is no news.
    if (!s.is_open() && (s.reason == "weekend" || s.reason == "no trading day")) continue;
    const bool extends = !ranges.empty() && ranges.back().cls == v.cls && v.cls != SessionClass::kSuspicious &&
                         ranges.back().error == v.error && ranges.back().reason == (v.cls == SessionClass::kNonTrading ? s.reason : std::string_view());
    if (!extends) {
      GapRange& r = ranges.emplace_back();
      r.cls = v.cls;
      r.from = s.day;
      r.window.from_ms = s.window.from_ms;
      r.detail = v.detail;
      r.error = v.error;
      r.attempts = v.attempts;
      if (v.cls == SessionClass::kNonTrading) r.reason = s.reason;
      r.check = v.check;
    }
    GapRange& r = ranges.back();
    r.to = s.last_day;
    r.window.to_ms = s.window.to_ms;
    ++r.sessions;
    r.bars += v.bars;
    if (v.expected >= 0) r.expected = (r.expected < 0 ? 0 : r.expected) + v.expected;
    if (v.cls == SessionClass::kEarlyClose && r.detail != v.detail) r.detail = "shortened sessions";
  }
  return ranges;
}

void GapTotals::Add(const SeriesGaps& gaps) {
  ++series;
  bool problems = false;
  for (const SessionVerdict& v : gaps.sessions) {
    switch (v.cls) {
      case SessionClass::kComplete: ++complete; break;
      case SessionClass::kNonTrading:
        ++non_trading;
        holidays += v.session.reason != "weekend" && v.session.reason != "no trading day" ? 1 : 0;
        break;
      case SessionClass::kEarlyClose: ++early_close; break;
      case SessionClass::kSuspicious: ++suspicious; break;
      case SessionClass::kNeverFetched: ++never_fetched; break;
      case SessionClass::kFailed: ++failed; break;
    }
    problems = problems || IsProblem(v.cls);
  }
  series_with_problems += problems ? 1 : 0;
}

}  // namespace barfill::quality
