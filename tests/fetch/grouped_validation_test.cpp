// ValidateGroupedDay: a market day checked per ticker as ranges are checked. The simulator never
// sends bad bars, so the days here are handmade.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "fetch/grouped_fetcher.h"

namespace barfill::fetch {
namespace {

polygon::GroupedDay HandmadeDay(const std::vector<std::pair<const char*, Bar>>& rows) {
  polygon::GroupedDay day;
  for (const auto& [symbol, bar] : rows) {
    day.tickers.push_back(*Ticker::Parse(symbol));
    day.bars.push_back(bar);
  }
  return day;
}

TEST(ValidateGroupedDayTest, RejectsBadTickersOnlyAndDropsIdenticalDuplicates) {
  const polygon::GroupedDailyRequest request{.date = {2025, 3, 10}};
  const int64_t t = request.Day().from_ms;
  const Bar good{t, 10, 11, 9, 10.5, 1000, 10.2, 7};
  Bar other = good;
  other.close = 10.4;
  Bar broken = good;
  broken.high = 8;  // below the low
  Bar nan = good;
  nan.open = std::nan("");
  Bar outside = good;
  outside.t = request.Day().to_ms;  // the next day: never restamped, never accepted
  polygon::GroupedDay day = HandmadeDay({{"MSFT", good},
                                                  {"AAPL", good},
                                                  {"MSFT", good},  // identical: dropped
                                                  {"TSLA", good},
                                                  {"TSLA", other},  // conflicting: TSLA rejected
                                                  {"BAD", broken},
                                                  {"NAN", nan},
                                                  {"NEXT", outside},
                                                  {"BRK.B", other}});
  const GroupedValidation found = ValidateGroupedDay(request, day);
  std::vector<std::string> kept;
  for (const Ticker& ticker : day.tickers) kept.push_back(ticker.symbol());
  EXPECT_EQ(kept, (std::vector<std::string>{"AAPL", "BRK.B", "MSFT"}));
  ASSERT_EQ(day.bars.size(), 3u);
  EXPECT_EQ(day.bars[0], good);
  EXPECT_EQ(day.bars[1], other);
  EXPECT_EQ(day.bars[2], good);
  EXPECT_EQ(found.duplicates_dropped, 1);
  std::map<std::string, std::string> rejected;
  for (const RejectedTicker& r : found.rejected) {
    EXPECT_EQ(r.error.code, ErrorCode::kInvalidData) << r.ticker.symbol();
    rejected[r.ticker.symbol()] = r.error.message;
  }
  ASSERT_EQ(rejected.size(), 4u);
  EXPECT_NE(rejected["BAD"].find("high below"), std::string::npos) << rejected["BAD"];
  EXPECT_NE(rejected["NAN"].find("non-finite"), std::string::npos) << rejected["NAN"];
  EXPECT_NE(rejected["NEXT"].find("outside the requested range"), std::string::npos) << rejected["NEXT"];
  EXPECT_NE(rejected["TSLA"].find("two different bars for TSLA"), std::string::npos) << rejected["TSLA"];
}

TEST(ValidateGroupedDayTest, AStampThatWasNotMovedIsMisaligned) {
  // A reader that forgot to restamp would leave 16:00 New York: the 1d alignment check catches it.
  const polygon::GroupedDailyRequest request{.date = {2025, 3, 10}};
  polygon::GroupedDay day = HandmadeDay({{"AAPL", Bar{request.Day().from_ms + 16 * kMsPerHour, 10, 11, 9, 10, 1, 10, 1}}});
  const GroupedValidation found = ValidateGroupedDay(request, day);
  ASSERT_EQ(found.rejected.size(), 1u);
  EXPECT_NE(found.rejected[0].error.message.find("not aligned to 1d bars in America/New_York"), std::string::npos)
      << found.rejected[0].error.message;
  EXPECT_TRUE(day.bars.empty());
}

}  // namespace
}  // namespace barfill::fetch
