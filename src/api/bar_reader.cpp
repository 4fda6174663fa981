// The public reader over a BarStore opened for reading (never creating anything).
#include "barfill/store.h"

#include "core/series.h"
#include "store/bar_store.h"

namespace barfill {
namespace {

Result<Series> ParseKey(const SeriesKey& key) {
  auto ticker = Ticker::Parse(key.ticker);
  if (!ticker) return Fail(ErrorCode::kUsage, "ticker: " + ticker.error().message);
  auto timeframe = Timeframe::Parse(key.timeframe);
  if (!timeframe) return Fail(ErrorCode::kUsage, "timeframe: " + timeframe.error().message);
  return Series{*ticker, *timeframe, key.adjusted};
}

Result<std::optional<CalendarDay>> ParseOptionalDay(std::string_view name, const std::string& text) {
  if (text.empty()) return std::optional<CalendarDay>();
  auto day = CalendarDay::Parse(text);
  if (!day) return Fail(ErrorCode::kUsage, std::string(name) + " " + day.error().message);
  return std::optional<CalendarDay>(*day);
}

class StoreReader final : public BarReader {
 public:
  explicit StoreReader(std::unique_ptr<BarStore> store) : store_(std::move(store)) {}

  Status ReadBars(const SeriesKey& key, const std::string& from, const std::string& to,
                  const std::function<Status(const BarBatch&)>& sink, size_t batch_bars) override {
    auto series = ParseKey(key);
    if (!series) return Fail(series.error());
    auto first = ParseOptionalDay("from", from);
    if (!first) return Fail(first.error());
    auto last = ParseOptionalDay("to", to);
    if (!last) return Fail(last.error());
    if (*first && *last && **first > **last) return Fail(ErrorCode::kUsage, "from must not be after to");
    const TimeRange range = series->ticker.zone().DaysToRange(*first, *last);
    return store_->ReadBars(*series, range, sink, batch_bars == 0 ? 8192 : batch_bars);
  }

  Result<std::vector<SeriesSummary>> ListSeries() override {
    auto status = store_->ReadStatus();
    if (!status) return Fail(status.error());
    std::vector<SeriesSummary> out;
    out.reserve(status->size());
    for (const SeriesStatus& s : *status) {
      out.push_back(SeriesSummary{SeriesKey{s.series.ticker.symbol(), s.series.timeframe.ToString(), s.series.adjusted},
                                  s.rows, s.first_bar_ms, s.last_bar_ms, s.ranges_done, s.ranges_empty,
                                  s.ranges_failed});
    }
    return out;
  }

 private:
  std::unique_ptr<BarStore> store_;
};

}  // namespace

Result<std::unique_ptr<BarReader>> BarReader::Open(const std::string& db_url) {
  auto store = OpenStore(db_url, StoreOptions::ForReading());
  if (!store) return Fail(store.error());
  BARFILL_TRY((*store)->Migrate());
  return std::unique_ptr<BarReader>(std::make_unique<StoreReader>(std::move(*store)));
}

}  // namespace barfill
