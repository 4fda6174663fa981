// Backfills two series with the barfill library, then reads them back and prints what it read.
//   backfill_and_read BASE_URL DB_URL       (the API key comes from POLYGON_API_KEY)
// Against the built-in simulator: `barfill sim --api-key demo` prints the BASE_URL to use.
#include <barfill/barfill.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

// Prints each progress line the run reports (the library itself never prints).
class PrintProgress final : public barfill::RunObserver {
 public:
  void OnProgress(const barfill::RunProgress& p) override {
    std::fprintf(stderr, "  %s: %lld/%lld series, %lld bars, %lld requests%s\n", p.phase.c_str(),
                 static_cast<long long>(p.series_finished), static_cast<long long>(p.series_total),
                 static_cast<long long>(p.rows), static_cast<long long>(p.requests), p.final ? " (final)" : "");
  }
  void OnWarning(const std::string& line) override { std::fprintf(stderr, "  %s\n", line.c_str()); }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s BASE_URL DB_URL   (API key in POLYGON_API_KEY)\n", argv[0]);
    return 2;
  }
  const char* key = std::getenv("POLYGON_API_KEY");
  std::printf("barfill %s\n", barfill::Version());

  barfill::PlanSpec plan;
  plan.tickers = {"AAPL", "X:BTCUSD"};
  plan.timeframes = {"1h"};
  plan.from = "2025-03-01";
  plan.to = "2025-03-31";

  PrintProgress progress;
  barfill::BackfillOptions options;
  options.db = argv[2];
  options.base_url = argv[1];
  options.api_key = key != nullptr ? key : "";
  options.observer = &progress;

  const auto summary = barfill::Backfill(plan, options);
  if (!summary) {
    std::fprintf(stderr, "error: %s\n", summary.error().ToString().c_str());
    return 1;
  }
  std::printf("backfill: %s, %lld bars written, %lld requests\n", barfill::RunOutcomeName(summary->outcome),
              static_cast<long long>(summary->bars_written), static_cast<long long>(summary->requests));
  if (summary->outcome != barfill::RunOutcome::kDone) return 1;

  auto reader = barfill::BarReader::Open(options.db);
  if (!reader) {
    std::fprintf(stderr, "error: %s\n", reader.error().ToString().c_str());
    return 1;
  }
  int64_t total = 0;
  for (const std::string& ticker : plan.tickers) {
    const barfill::SeriesKey series{ticker, "1h", true};
    int64_t bars = 0;
    int64_t first = 0;
    int64_t last = 0;
    const barfill::Status read = (*reader)->ReadBars(series, plan.from, plan.to, [&](const barfill::BarBatch& batch) {
      if (bars == 0) first = batch.t.front();
      last = batch.t.back();
      bars += static_cast<int64_t>(batch.size());
      return barfill::Ok();
    });
    if (!read) {
      std::fprintf(stderr, "error: %s\n", read.error().ToString().c_str());
      return 1;
    }
    std::printf("read %s %s: %lld bars, first %lld, last %lld\n", series.ticker.c_str(), series.timeframe.c_str(),
                static_cast<long long>(bars), static_cast<long long>(first), static_cast<long long>(last));
    total += bars;
  }
  // Everything written is read back (a first run into an empty database).
  std::printf("read %lld bars in all\n", static_cast<long long>(total));
  return 0;
}
