#include "flatfiles/day_file_merge.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include <unistd.h>

#include "core/market_time.h"
#include "flatfiles/gzip_text.h"

namespace barfill::flatfiles {
namespace {

constexpr std::string_view kHeader = "ticker,volume,open,close,high,low,window_start,transactions\n";

/// 09:30 New York of `day` + `minutes`, in ns, as the files write it.
int64_t Ns930(CalendarDay day, int minutes) {
  const int64_t open_ms = MarketZone::NewYork().DayStartMs(day) + 9 * kMsPerHour + 30 * kMsPerMinute;
  return (open_ms + minutes * kMsPerMinute) * 1'000'000;
}

/// A minute file of `day` listing `tickers` in that order, `bars` bars each.
std::string DayCsv(CalendarDay day, const std::vector<std::string>& tickers, int bars) {
  std::string csv(kHeader);
  for (const std::string& t : tickers) {
    for (int m = 0; m < bars; ++m) {
      char row[160];
      std::snprintf(row, sizeof row, "%s,100,10,10.5,11,9.5,%lld,3\n", t.c_str(),
                    static_cast<long long>(Ns930(day, m)));
      csv += row;
    }
  }
  return csv;
}

class DayFileMergeTest : public ::testing::Test {
 protected:
  DayFileMergeTest() : dir_(std::filesystem::temp_directory_path() / ("barfill-merge-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir_);
  }
  ~DayFileMergeTest() override { std::filesystem::remove_all(dir_); }

  DayFileInput Write(CalendarDay day, const std::string& bytes) {
    const Dataset dataset{AssetClass::kStock, FileTimeframe::kMinute};
    DayFileInput input{*ParseKey(KeyFor(dataset, day)), (dir_ / std::to_string(day.day)).string()};
    std::ofstream(input.path, std::ios::binary) << bytes;
    return input;
  }

  struct Seen {
    size_t file;
    std::string ticker;
    size_t bars;
  };

  std::vector<Seen> Merge(std::vector<DayFileInput> inputs, Status* status = nullptr, size_t* failed = nullptr) {
    std::vector<Seen> seen;
    const size_t merge_inputs = inputs.size();
    DayFileMerge merge(std::move(inputs), {}, [&](size_t file, const Ticker& ticker, const BarBatch& bars) {
      seen.push_back({file, ticker.symbol(), bars.size()});
      return Ok();
    });
    const Status run = merge.Run();
    if (status != nullptr) *status = run;
    else EXPECT_TRUE(run) << run.error().message;
    if (failed != nullptr) *failed = merge.failed_file();
    if (run) EXPECT_EQ(merge.summaries().size(), merge_inputs);
    return seen;
  }

  std::filesystem::path dir_;
};

const CalendarDay kMon{2025, 3, 3};
const CalendarDay kTue{2025, 3, 4};
const CalendarDay kWed{2025, 3, 5};

TEST_F(DayFileMergeTest, FilesInOneOrderComeOutTickerByTicker) {
  const std::vector<std::string> order = {"MSFT", "AAPL", "ZZZ"};  // not alphabetical: the files' own order
  std::vector<DayFileInput> inputs = {Write(kMon, testing::Gzip(DayCsv(kMon, order, 5))),
                                      Write(kTue, testing::Gzip(DayCsv(kTue, order, 7))),
                                      Write(kWed, testing::Gzip(DayCsv(kWed, order, 3)))};
  const std::vector<Seen> seen = Merge(inputs);
  ASSERT_EQ(seen.size(), 9u);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].ticker, order[i / 3]) << i;
    EXPECT_EQ(seen[i].file, i % 3) << i;
    EXPECT_EQ(seen[i].bars, (std::vector<size_t>{5, 7, 3})[i % 3]);
  }
}

TEST_F(DayFileMergeTest, FilesInOtherOrdersStillHandOverEveryBlockOnceInTheirOwnOrder) {
  std::vector<DayFileInput> inputs = {Write(kMon, testing::Gzip(DayCsv(kMon, {"AAPL", "MSFT", "ZZZ"}, 2))),
                                      Write(kTue, testing::Gzip(DayCsv(kTue, {"ZZZ", "MSFT", "AAPL", "IBM"}, 2))),
                                      Write(kWed, testing::Gzip(DayCsv(kWed, {}, 0)))};
  const std::vector<Seen> seen = Merge(inputs);
  std::map<size_t, std::vector<std::string>> by_file;
  for (const Seen& s : seen) by_file[s.file].push_back(s.ticker);
  EXPECT_EQ(by_file[0], (std::vector<std::string>{"AAPL", "MSFT", "ZZZ"}));
  EXPECT_EQ(by_file[1], (std::vector<std::string>{"ZZZ", "MSFT", "AAPL", "IBM"}));
  EXPECT_EQ(by_file.count(2), 0u) << "a file without rows hands over nothing";
}

TEST_F(DayFileMergeTest, ADamagedFileIsNamed) {
  const std::string whole = testing::Gzip(DayCsv(kTue, {"AAPL", "MSFT"}, 50));
  std::vector<DayFileInput> inputs = {Write(kMon, testing::Gzip(DayCsv(kMon, {"AAPL", "MSFT"}, 50))),
                                      Write(kTue, whole.substr(0, whole.size() / 2))};
  Status status;
  size_t failed = DayFileMerge::npos;
  Merge(inputs, &status, &failed);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kBadResponse) << status.error().message;
  EXPECT_EQ(failed, 1u);
}

TEST_F(DayFileMergeTest, ASinkErrorBlamesNoFile) {
  std::vector<DayFileInput> inputs = {Write(kMon, testing::Gzip(DayCsv(kMon, {"AAPL"}, 2)))};
  DayFileMerge merge(inputs, {}, [](size_t, const Ticker&, const BarBatch&) { return Fail(ErrorCode::kDatabase, "no"); });
  ASSERT_FALSE(merge.Run());
  EXPECT_EQ(merge.failed_file(), DayFileMerge::npos);
}

}  // namespace
}  // namespace barfill::flatfiles
