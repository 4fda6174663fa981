#include "cli/actions_report.h"

#include "core/json.h"

namespace barfill::cli {
namespace {

std::string Range(const TimeRange& range) { return FormatIsoUtc(range.from_ms) + ".." + FormatIsoUtc(range.to_ms); }

}  // namespace

std::string FormatActions(const engine::RunReport& r) {
  std::string out;
  if (!r.actions_error.empty()) {
    out += "\n  Corporate actions: the sync failed (" + r.actions_error +
           "); the bars ran without it and the next run syncs again\n";
  }
  if (!r.actions_synced) return out;
  int64_t fresh = 0;
  int64_t changed = 0;
  int64_t removed = 0;
  int64_t flagged = 0;
  for (const TickerActionsReport& t : r.actions.tickers) {
    fresh += t.splits_new;
    changed += t.splits_changed;
    removed += t.splits_removed;
    flagged += static_cast<int64_t>(t.flagged.size()) + t.dividends_flagged;
  }
  out += "\n  Corporate actions: " + std::to_string(r.actions.tickers.size()) + " stock ticker(s) synced; splits " +
         std::to_string(fresh) + " new, " + std::to_string(changed) + " changed, " + std::to_string(removed) +
         " removed since the last sync; " + std::to_string(flagged) + " row(s) flagged and not used; " +
         std::to_string(r.actions_fetch_stats.requests) + " request(s)\n";
  for (const TickerActionsReport& t : r.actions.tickers) {
    for (const ClassifiedSplit& c : t.flagged) {
      out += "  - flagged " + std::string(ActionStatusName(c.status)) + ": " + c.split.ticker + " split " + c.split.id +
             ": " + c.reason + "\n";
    }
    if (t.dividends_flagged > 0) {
      out += "  - flagged: " + t.ticker + " has " + std::to_string(t.dividends_flagged) +
             " dividend row(s) not used (see the dividends table, status and status_reason)\n";
    }
    for (const std::string& d : t.decisions) out += "  - decided: " + d + "\n";
  }
  if (!r.actions.stale.empty()) {
    out += "  Stale adjusted ranges (a split changed; fetched again by this run or the next, raw bars untouched):\n";
    for (const StaleMark& m : r.actions.stale) out += "  - " + m.series.Describe() + " " + Range(m.range) + "\n";
  }
  for (const std::string& line : r.actions_v3_disagreements) out += "  - v1/v3 disagree: " + line + " (barfill uses v1)\n";
  return out;
}

std::string FlaggedSplitsJson(const std::vector<ClassifiedSplit>& splits) {
  std::string j = "[";
  for (size_t k = 0; k < splits.size(); ++k) {
    const ClassifiedSplit& c = splits[k];
    j += (k > 0 ? ",{" : "{");
    j += "\"id\":" + JsonQuote(c.split.id) + ",\"execution_date\":" + JsonQuote(c.split.execution_date.ToString()) +
         ",\"status\":" + JsonQuote(ActionStatusName(c.status)) + ",\"reason\":" + JsonQuote(c.reason) + "}";
  }
  return j + "]";
}

std::string ActionsToJson(const engine::RunReport& r) {
  std::string j = "{\"synced\":" + std::string(r.actions_synced ? "true" : "false") + ",\"tickers\":[";
  for (size_t i = 0; i < r.actions.tickers.size(); ++i) {
    const TickerActionsReport& t = r.actions.tickers[i];
    j += (i > 0 ? ",{" : "{");
    j += "\"ticker\":" + JsonQuote(t.ticker) + ",\"first_sync\":" + (t.first_sync ? "true" : "false") +
         ",\"splits\":" + std::to_string(t.splits) + ",\"dividends\":" + std::to_string(t.dividends) +
         ",\"splits_new\":" + std::to_string(t.splits_new) + ",\"splits_changed\":" + std::to_string(t.splits_changed) +
         ",\"splits_removed\":" + std::to_string(t.splits_removed) +
         ",\"dividends_flagged\":" + std::to_string(t.dividends_flagged) + ",\"flagged\":" +
         FlaggedSplitsJson(t.flagged) + ",\"decisions\":[";
    for (size_t k = 0; k < t.decisions.size(); ++k) j += (k > 0 ? "," : "") + JsonQuote(t.decisions[k]);
    j += "]}";
  }
  j += "],\"stale\":[";
  for (size_t i = 0; i < r.actions.stale.size(); ++i) {
    const StaleMark& m = r.actions.stale[i];
    j += (i > 0 ? ",{" : "{");
    j += "\"ticker\":" + JsonQuote(m.series.ticker.symbol()) + ",\"timeframe\":" + JsonQuote(m.series.timeframe.ToString()) +
         ",\"from\":" + JsonQuote(FormatIsoUtc(m.range.from_ms)) + ",\"to\":" + JsonQuote(FormatIsoUtc(m.range.to_ms)) +
         ",\"why\":" + JsonQuote(m.why) + "}";
  }
  j += "],\"v3_disagreements\":[";
  for (size_t i = 0; i < r.actions_v3_disagreements.size(); ++i) {
    j += (i > 0 ? "," : "") + JsonQuote(r.actions_v3_disagreements[i]);
  }
  j += "],\"requests\":" + std::to_string(r.actions_fetch_stats.requests);
  j += ",\"error\":" + JsonQuote(r.actions_error) + "}";
  return j;
}

}  // namespace barfill::cli
