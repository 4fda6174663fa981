#include "cli/coverage_page.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <vector>

#include "quality/heatmap.h"
#include "quality/inspect.h"

namespace barfill::cli {
namespace {

constexpr int kWeekCellWidth = 18;   // px, gap included: two digits of the week's Monday fit
constexpr int kMonthCellWidth = 12;  // one letter of the month fits; ten years stay on a screen
constexpr int kCellHeight = 14;
constexpr int kAxisHeight = 24;      // the header's month (or year) and day (or month) lines
constexpr std::string_view kMonthNames[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

int CellWidth(quality::Period period) { return period == quality::Period::kWeek ? kWeekCellWidth : kMonthCellWidth; }

constexpr const quality::CellClass kCellClasses[] = {quality::CellClass::kComplete, quality::CellClass::kNonTrading,
                                                     quality::CellClass::kSuspicious, quality::CellClass::kMissing,
                                                     quality::CellClass::kFailed};

constexpr std::string_view kStyle = R"(
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d2330;background:#fff}
h1{font-size:20px;margin:0 0 4px} .sub{color:#5b6475;margin:0 0 16px}
#totals{border-collapse:collapse;margin:0 0 12px} #totals td,#totals th{padding:2px 10px 2px 0;text-align:left}
#totals td.n{text-align:right;font-variant-numeric:tabular-nums}
#legend{display:flex;gap:16px;flex-wrap:wrap;margin:0 0 12px} #legend span{display:inline-flex;align-items:center;gap:6px}
#filter{margin:0 0 12px;padding:4px 8px;width:240px}
#heatmap{border-collapse:collapse} #heatmap th{text-align:left;font-weight:normal;padding:0 8px 0 0;white-space:nowrap}
#heatmap tr.ticker th{font-weight:600;padding-top:8px} #heatmap td{padding:0}
svg text{font-size:10px;fill:#5b6475}
.cell{stroke:#fff;stroke-width:1} .cell:hover{stroke:#1d2330}
.complete{fill:#2e7d32;background:#2e7d32} .non-trading{fill:#d5d9e0;background:#d5d9e0}
.suspicious{fill:#f2a900;background:#f2a900} .missing{fill:#8ab4f8;background:#8ab4f8} .failed{fill:#c62828;background:#c62828}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px}
details{margin-top:16px} details p{max-width:100ch;color:#5b6475}
)";

// Marks a script error before anything else runs, so a test (or a person) can see it.
constexpr std::string_view kErrorTrap =
    "window.addEventListener('error',function(e){document.documentElement.setAttribute('data-script-error',String(e.message));});";

// The filter box: rows of tickers that do not match are hidden; a link ending in #filter=TEXT
// opens the page filtered. Marks the page ready at the end.
constexpr std::string_view kScript = R"(
(function(){
  var box=document.getElementById('filter');
  var rows=document.querySelectorAll('#heatmap tbody tr');
  function apply(){
    var q=box.value.trim().toUpperCase();
    for(var i=0;i<rows.length;i++){rows[i].hidden=q!==''&&rows[i].getAttribute('data-ticker').indexOf(q)<0;}
  }
  box.addEventListener('input',apply);
  if(location.hash.indexOf('#filter=')===0){box.value=decodeURIComponent(location.hash.slice(8));apply();}
  document.documentElement.setAttribute('data-ready','1');
})();
)";

/// The page is written through a buffer to a FILE*; the first failed write is remembered.
class PageOut {
 public:
  explicit PageOut(std::FILE* file) : file_(file) {}
  PageOut& operator<<(std::string_view text) {
    buffer_.append(text);
    if (buffer_.size() > (1 << 16)) Flush();
    return *this;
  }
  PageOut& operator<<(int64_t n) { return *this << std::string_view(std::to_string(n)); }
  /// Text with &, <, > and quotes escaped.
  PageOut& Escaped(std::string_view text) {
    for (const char c : text) {
      switch (c) {
        case '&': *this << "&amp;"; break;
        case '<': *this << "&lt;"; break;
        case '>': *this << "&gt;"; break;
        case '"': *this << "&quot;"; break;
        case '\'': *this << "&#39;"; break;
        default: buffer_.push_back(c);
      }
    }
    return *this;
  }
  bool Flush() {
    ok_ = ok_ && std::fwrite(buffer_.data(), 1, buffer_.size(), file_) == buffer_.size();
    buffer_.clear();
    return ok_;
  }

 private:
  std::FILE* file_;
  std::string buffer_;
  bool ok_ = true;
};

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

/// The days the page spans: the flags', or from the earliest ledger day to the latest.
Result<std::pair<CalendarDay, CalendarDay>> Span(BarStore& store, const std::vector<Series>& series,
                                                 const GapSelection& selection, CalendarDay today) {
  std::optional<CalendarDay> first = selection.from;
  std::optional<CalendarDay> last = selection.to;
  if (!first || !last) {
    std::optional<CalendarDay> lo;
    std::optional<CalendarDay> hi;
    for (const Series& s : series) {
      auto ledger = store.ReadLedger(s);
      if (!ledger) return Fail(ledger.error());
      const MarketZone zone = s.ticker.zone();
      for (const LedgerEntry& e : *ledger) {
        const CalendarDay from = zone.DayOf(e.range.from_ms);
        const CalendarDay to = zone.DayOf(e.range.to_ms - 1);
        lo = lo ? std::min(*lo, from) : from;
        hi = hi ? std::max(*hi, to) : to;
      }
    }
    if (!first) first = lo.value_or(today);
    if (!last) last = hi.value_or(today);
  }
  return std::pair{*first, std::min(*last, today)};
}

std::string CellTitle(const Series& series, quality::Period period, const quality::HeatCell& cell) {
  std::string title = series.Describe() + ", " + quality::PeriodLabel(period, cell.start) + ": ";
  const std::pair<int, const char*> parts[] = {{cell.complete, "complete"},      {cell.suspicious, "suspicious"},
                                               {cell.never_fetched, "missing"},  {cell.failed, "failed"},
                                               {cell.non_trading, "non-trading"}};
  bool first = true;
  for (const auto& [n, what] : parts) {
    if (n == 0) continue;
    title += (first ? "" : ", ") + std::to_string(n) + " " + what;
    first = false;
  }
  title += "; " + std::to_string(cell.bars) + " bars";
  if (!cell.first_problem.empty()) title += " — " + cell.first_problem;
  return title;
}

/// The header: weeks show the month (with its year at the first label and in January) over each
/// Monday's day; months show the year over each month's initial. A label too close to the next
/// one (a period that starts a few cells before a new month or year) is left out.
void WriteAxis(PageOut& out, quality::Period period, const std::vector<CalendarDay>& starts) {
  constexpr size_t kLabelCells = 3;
  const bool week = period == quality::Period::kWeek;
  const int64_t width = CellWidth(period);
  std::vector<size_t> labels;
  for (size_t i = 0; i < starts.size(); ++i) {
    if (i > 0 && (week ? starts[i - 1].month == starts[i].month : starts[i - 1].year == starts[i].year)) continue;
    if (!labels.empty() && i - labels.back() < kLabelCells) labels.pop_back();
    labels.push_back(i);
  }
  out << "<svg class=\"axis\" width=\"" << static_cast<int64_t>(starts.size()) * width << "\" height=\""
      << static_cast<int64_t>(kAxisHeight) << "\">";
  for (size_t k = 0; k < labels.size(); ++k) {
    const CalendarDay d = starts[labels[k]];
    const std::string month(kMonthNames[d.month - 1]);
    const std::string label = !week ? std::to_string(d.year) : k == 0 || d.month == 1 ? month + " " + std::to_string(d.year) : month;
    out << "<text x=\"" << static_cast<int64_t>(labels[k]) * width << "\" y=\"10\">" << label << "</text>";
  }
  for (size_t i = 0; i < starts.size(); ++i) {
    const CalendarDay d = starts[i];
    out << "<text x=\"" << static_cast<int64_t>(i) * width << "\" y=\"22\">"
        << (week ? std::to_string(d.day) : std::string(kMonthNames[d.month - 1].substr(0, 1))) << "</text>";
  }
  out << "</svg>";
}

void WriteRow(PageOut& out, const quality::HeatRow& row, quality::Period period, const std::vector<CalendarDay>& starts) {
  out << "<tr class=\"series\" data-ticker=\"";
  out.Escaped(row.series.ticker.symbol());
  out << "\"><th>";
  out.Escaped(row.series.timeframe.ToString() + (row.series.adjusted ? "" : " unadjusted"));
  const int64_t width = CellWidth(period);
  out << "</th><td><svg class=\"row\" width=\"" << static_cast<int64_t>(starts.size()) * width << "\" height=\""
      << static_cast<int64_t>(kCellHeight) << "\">";
  size_t column = 0;
  for (const quality::HeatCell& cell : row.cells) {
    while (column < starts.size() && starts[column] < cell.start) ++column;
    if (column == starts.size()) break;
    out << "<rect class=\"cell " << quality::CellClassName(cell.Class()) << "\" data-period=\"" << cell.start.ToString()
        << "\" x=\"" << static_cast<int64_t>(column) * width << "\" y=\"1\" width=\"" << width - 2 << "\" height=\"" << static_cast<int64_t>(kCellHeight - 2) << "\"><title>";
    out.Escaped(CellTitle(row.series, period, cell));
    out << "</title></rect>";
  }
  out << "</svg></td></tr>\n";
}

}  // namespace

Status CheckPagePath(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (path.empty()) return Fail(ErrorCode::kUsage, "--html needs a file name, e.g. --html coverage.html");
  if (fs::is_directory(path, ec)) {
    return Fail(ErrorCode::kUsage, "cannot write the page to " + path + ": it is a directory; name a file, e.g. " +
                                       (fs::path(path) / "coverage.html").string());
  }
  const fs::path dir = fs::path(path).has_parent_path() ? fs::path(path).parent_path() : fs::path(".");
  if (!fs::is_directory(dir, ec)) {
    return Fail(ErrorCode::kUsage, "cannot write the page to " + path + ": directory " + dir.string() + " does not exist");
  }
  return Ok();
}

Status WriteCoveragePage(BarStore& store, const SelectedSeries& series, const GapSelection& selection, int64_t now_ms,
                         const std::string& path) {
  const CalendarDay today = MarketZone::Utc().DayOf(now_ms);
  auto span = Span(store, series.selected, selection, today);
  if (!span) return Fail(span.error());
  const auto [first, last] = *span;
  const quality::Period period = quality::PeriodFor(first, last);
  std::vector<CalendarDay> starts;
  for (CalendarDay d = quality::PeriodStart(period, first); d <= last; d = quality::NextPeriodStart(period, d)) {
    starts.push_back(d);
  }

  // Series one at a time: only the rows with problems are kept, complete ones by name.
  quality::InspectOptions inspect = InspectOptionsFor(selection, series, now_ms);
  inspect.from = first;
  inspect.to = last;
  quality::GapTotals totals;
  std::vector<quality::HeatRow> rows;
  int64_t rows_left_out = 0;
  std::map<std::string, std::vector<std::string>> complete;  // ticker -> timeframes
  int64_t complete_series = 0;
  std::array<int64_t, std::size(kCellClasses)> cells_by_class{};
  for (const Series& s : series.selected) {
    auto gaps = quality::InspectSeries(store, s, inspect);
    if (!gaps) return Fail(gaps.error());
    totals.Add(*gaps);
    quality::HeatRow row = quality::RowOf(*gaps, period);
    for (const quality::HeatCell& cell : row.cells) {
      for (size_t k = 0; k < std::size(kCellClasses); ++k) cells_by_class[k] += cell.Class() == kCellClasses[k] ? 1 : 0;
    }
    if (!row.problems) {
      complete[s.ticker.symbol()].push_back(s.timeframe.ToString() + (s.adjusted ? "" : " unadjusted"));
      ++complete_series;
    } else if (rows.size() < kMostHeatmapRows) {
      rows.push_back(std::move(row));
    } else {
      ++rows_left_out;
    }
  }

  const std::string temporary = path + ".tmp";
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(temporary.c_str(), "wb"));
  if (!file) return Fail(ErrorCode::kUsage, "cannot write the page to " + path + ": " + std::strerror(errno));
  PageOut out(file.get());
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>barfill coverage</title><style>" << kStyle
      << "</style><script>" << kErrorTrap << "</script></head>\n<body>\n<h1>Coverage of ";
  out.Escaped(store.Describe());
  out << "</h1>\n<p class=\"sub\">" << first.ToString() << " to " << last.ToString() << ", one cell per "
      << (period == quality::Period::kWeek ? "week" : "month") << "; " << static_cast<int64_t>(totals.series)
      << " series; made " << FormatIsoUtc(now_ms) << " by barfill status --html</p>\n";

  out << "<table id=\"totals\"><tr><th>sessions</th><td class=\"n\" data-total=\"complete\">" << totals.complete
      << "</td><td>complete</td><td class=\"n\" data-total=\"early_close\">" << totals.early_close
      << "</td><td>early close</td><td class=\"n\" data-total=\"suspicious\">" << totals.suspicious
      << "</td><td>suspicious</td><td class=\"n\" data-total=\"never_fetched\">" << totals.never_fetched
      << "</td><td>missing</td><td class=\"n\" data-total=\"failed\">" << totals.failed
      << "</td><td>failed</td><td class=\"n\" data-total=\"non_trading\">" << totals.non_trading
      << "</td><td>non-trading</td></tr><tr><th>series</th><td class=\"n\" data-total=\"series\">" << totals.series
      << "</td><td>in all</td><td class=\"n\" data-total=\"series_with_problems\">" << totals.series_with_problems
      << "</td><td>with problems</td></tr></table>\n";

  out << "<div id=\"legend\">";
  for (size_t k = 0; k < std::size(kCellClasses); ++k) {
    const std::string_view name = quality::CellClassName(kCellClasses[k]);
    out << "<span data-class=\"" << name << "\"><span class=\"swatch " << name << "\"></span>" << name << " ("
        << cells_by_class[k] << " cells)</span>";
  }
  out << "</div>\n<input id=\"filter\" type=\"search\" placeholder=\"filter tickers\" aria-label=\"filter tickers\">\n";

  out << "<table id=\"heatmap\"><thead><tr><th>series</th><td>";
  WriteAxis(out, period, starts);
  out << "</td></tr></thead><tbody>\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string& ticker = rows[i].series.ticker.symbol();
    if (i == 0 || rows[i - 1].series.ticker.symbol() != ticker) {
      out << "<tr class=\"ticker\" data-ticker=\"";
      out.Escaped(ticker);
      out << "\"><th colspan=\"2\">";
      out.Escaped(ticker);
      out << "</th></tr>\n";
    }
    WriteRow(out, rows[i], period, starts);
  }
  out << "</tbody></table>\n";
  if (rows.empty()) out << "<p id=\"no-problems\">No problems: every trading session of every series is complete.</p>\n";
  if (rows_left_out > 0) {
    out << "<p id=\"left-out\">" << rows_left_out << " more series with problems are not drawn; barfill gaps lists them.</p>\n";
  }
  out << "<details id=\"complete\"><summary>" << complete_series << " series complete in every session ("
      << static_cast<int64_t>(complete.size()) << " tickers)</summary><p>";
  bool first_ticker = true;
  for (const auto& [ticker, timeframes] : complete) {
    out << (first_ticker ? "" : "; ");
    out.Escaped(ticker);
    out << " (";
    for (size_t i = 0; i < timeframes.size(); ++i) out << (i > 0 ? ", " : "") << timeframes[i];
    out << ")";
    first_ticker = false;
  }
  out << "</p></details>\n<script>" << kScript << "</script>\n</body></html>\n";
  if (!out.Flush() || std::fflush(file.get()) != 0) {
    std::remove(temporary.c_str());
    return Fail(ErrorCode::kUsage, "cannot write the page to " + path + ": " + std::strerror(errno));
  }
  file.reset();
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) return Fail(ErrorCode::kUsage, "cannot write the page to " + path + ": " + ec.message());
  return Ok();
}

}  // namespace barfill::cli
