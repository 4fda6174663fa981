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
    BarBatch bars;
  };

  std::vector<Seen> Merge(std::vector<DayFileInput> inputs, Status* status = nullptr, size_t* failed = nullptr,
                          size_t max_sorted_blocks = 250'000, size_t read_threads = 1) {
    std::vector<Seen> seen;
    const size_t merge_inputs = inputs.size();
    DayFileMerge merge(std::move(inputs), dir_.string(), {});
    merge.set_max_sorted_blocks(max_sorted_blocks);
    merge.set_read_threads(read_threads);
    const Status run = merge.Run([&](size_t file, const Ticker& ticker, const BarBatch& bars) {
      seen.push_back({file, ticker.symbol(), bars});
      return Ok();
    });
    if (status != nullptr) {
      *status = run;
    } else {
      EXPECT_TRUE(run) << run.error().message;
    }
    if (failed != nullptr) *failed = merge.failed_file();
    if (run) {
      EXPECT_EQ(merge.summaries().size(), merge_inputs);
    }
    return seen;
  }

  std::filesystem::path dir_;
};

const CalendarDay kMon{2025, 3, 3};
const CalendarDay kTue{2025, 3, 4};
const CalendarDay kWed{2025, 3, 5};

TEST_F(DayFileMergeTest, BlocksComeOutInTickerOrderEachTickersDaysInFileOrder) {
  const std::vector<std::string> order = {"MSFT", "AAPL", "ZZZ"};  // the files' own order is not the key's
  std::vector<DayFileInput> inputs = {Write(kMon, testing::Gzip(DayCsv(kMon, order, 5))),
                                      Write(kTue, testing::Gzip(DayCsv(kTue, order, 7))),
                                      Write(kWed, testing::Gzip(DayCsv(kWed, order, 3)))};
  const std::vector<Seen> seen = Merge(inputs);
  ASSERT_EQ(seen.size(), 9u);
  const std::vector<std::string> sorted = {"AAPL", "MSFT", "ZZZ"};
  const std::vector<CalendarDay> days = {kMon, kTue, kWed};
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].ticker, sorted[i / 3]) << i;
    EXPECT_EQ(seen[i].file, i % 3) << i;
    ASSERT_EQ(seen[i].bars.size(), (std::vector<size_t>{5, 7, 3})[i % 3]);
    // The bars come back from the scratch file exactly.
    EXPECT_EQ(seen[i].bars.t.back() * 1'000'000, Ns930(days[i % 3], static_cast<int>(seen[i].bars.size()) - 1));
    EXPECT_EQ(seen[i].bars.open.front(), 10);
    EXPECT_EQ(seen[i].bars.high.front(), 11);
    EXPECT_EQ(seen[i].bars.low.front(), 9.5);
    EXPECT_EQ(seen[i].bars.close.front(), 10.5);
    EXPECT_EQ(seen[i].bars.volume.front(), 100);
    EXPECT_EQ(seen[i].bars.trades.front(), 3);
  }
}

TEST_F(DayFileMergeTest, FilesOfOtherTickersAndATickerInTwoBlocksKeepEveryBlockOnceInOrder) {
  std::string split(kHeader);  // AAPL's rows in two runs around MSFT's
  for (const auto& [t, m] : std::vector<std::pair<std::string, int>>{{"AAPL", 0}, {"AAPL", 1}, {"MSFT", 0}, {"AAPL", 2}}) {
    split += t + ",100,10,10.5,11,9.5," + std::to_string(Ns930(kTue, m)) + ",3\n";
  }
  std::vector<DayFileInput> inputs = {Write(kMon, testing::Gzip(DayCsv(kMon, {"ZZZ", "AAPL", "IBM"}, 2))),
                                      Write(kTue, testing::Gzip(split)),
                                      Write(kWed, testing::Gzip(DayCsv(kWed, {}, 0)))};
  const std::vector<Seen> seen = Merge(inputs);
  std::vector<std::pair<std::string, size_t>> order;
  for (const Seen& s : seen) order.emplace_back(s.ticker + "@" + std::to_string(s.file), s.bars.size());
  EXPECT_EQ(order, (std::vector<std::pair<std::string, size_t>>{
                       {"AAPL@0", 2}, {"AAPL@1", 2}, {"AAPL@1", 1}, {"IBM@0", 2}, {"MSFT@1", 1}, {"ZZZ@0", 2}}));
  EXPECT_EQ(seen[2].bars.t.front() * 1'000'000, Ns930(kTue, 2)) << "the later run comes second";
}

TEST_F(DayFileMergeTest, PastTheLimitOfBlocksTheyComeInTheFilesOwnOrder) {
  const std::vector<std::string> order = {"MSFT", "AAPL", "ZZZ"};
  std::vector<DayFileInput> inputs = {Write(kMon, testing::Gzip(DayCsv(kMon, order, 5))),
                                      Write(kTue, testing::Gzip(DayCsv(kTue, order, 7)))};
  const std::vector<Seen> seen = Merge(inputs, nullptr, nullptr, /*max_sorted_blocks=*/2);
  ASSERT_EQ(seen.size(), 6u);
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].ticker, order[i % 3]) << i;
    EXPECT_EQ(seen[i].file, i / 3) << i;
    ASSERT_EQ(seen[i].bars.size(), i < 3 ? 5u : 7u);
    EXPECT_EQ(seen[i].bars.t.back() * 1'000'000, Ns930(i < 3 ? kMon : kTue, static_cast<int>(seen[i].bars.size()) - 1));
    EXPECT_EQ(seen[i].bars.close.front(), 10.5);
    EXPECT_EQ(seen[i].bars.trades.back(), 3);
  }
}

TEST_F(DayFileMergeTest, ADamagedFileIsNamedBeforeAnyBlockIsHandedOver) {
  const std::string whole = testing::Gzip(DayCsv(kTue, {"AAPL", "MSFT"}, 50));
  std::vector<DayFileInput> inputs = {Write(kMon, testing::Gzip(DayCsv(kMon, {"AAPL", "MSFT"}, 50))),
                                      Write(kTue, whole.substr(0, whole.size() / 2))};
  Status status;
  size_t failed = DayFileMerge::npos;
  const std::vector<Seen> seen = Merge(inputs, &status, &failed);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::kBadResponse) << status.error().message;
  EXPECT_EQ(failed, 1u);
  EXPECT_TRUE(seen.empty());
}

TEST_F(DayFileMergeTest, ASinkErrorBlamesNoFileAndNoScratchFileStays) {
  std::vector<DayFileInput> inputs = {Write(kMon, testing::Gzip(DayCsv(kMon, {"AAPL"}, 2)))};
  DayFileMerge merge(inputs, dir_.string(), {});
  ASSERT_FALSE(merge.Run([](size_t, const Ticker&, const BarBatch&) { return Fail(ErrorCode::kDatabase, "no"); }));
  EXPECT_EQ(merge.failed_file(), DayFileMerge::npos);
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 1u) << "only the input";
}

TEST_F(DayFileMergeTest, ThreeReadThreadsHandOverWhatOneDoesAndNameTheDamagedFile) {
  std::vector<DayFileInput> inputs;
  for (unsigned d = 3; d <= 7; ++d) {
    const CalendarDay day{2025, 3, d};
    inputs.push_back(Write(day, testing::Gzip(DayCsv(day, {"MSFT", "AAPL", "IBM"}, 40 + static_cast<int>(d)))));
  }
  const std::vector<Seen> one = Merge(inputs);
  const std::vector<Seen> three = Merge(inputs, nullptr, nullptr, 250'000, 3);
  ASSERT_EQ(three.size(), one.size());
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_EQ(three[i].ticker, one[i].ticker);
    EXPECT_EQ(three[i].file, one[i].file);
    EXPECT_EQ(three[i].bars.t, one[i].bars.t);
    EXPECT_EQ(three[i].bars.volume, one[i].bars.volume);
  }
  // Past the limit: every block once, each file's blocks in their order.
  const std::vector<Seen> unsorted = Merge(inputs, nullptr, nullptr, 4, 3);
  ASSERT_EQ(unsorted.size(), one.size());
  std::map<size_t, std::vector<std::string>> by_file;
  for (const Seen& s : unsorted) by_file[s.file].push_back(s.ticker);
  for (const auto& [file, tickers] : by_file) EXPECT_EQ(tickers, (std::vector<std::string>{"MSFT", "AAPL", "IBM"})) << file;
  // A damaged file among them is named, and nothing is handed over.
  const std::string whole = testing::Gzip(DayCsv(CalendarDay{2025, 3, 10}, {"AAPL"}, 50));
  inputs.push_back(Write(CalendarDay{2025, 3, 10}, whole.substr(0, whole.size() / 2)));
  Status status;
  size_t failed = DayFileMerge::npos;
  EXPECT_TRUE(Merge(inputs, &status, &failed, 250'000, 3).empty());
  ASSERT_FALSE(status);
  EXPECT_EQ(failed, 5u);
}

TEST_F(DayFileMergeTest, PartsAreStretchesOfTickersOfAboutEqualRowsEachInOrderAndRepeatable) {
  // AAPL has half the rows (36 of 71): it is part 0 alone.
  const std::vector<std::string> small = {"AMD", "IBM", "INTC", "MSFT", "NVDA", "ORCL", "TSLA"};
  const std::vector<DayFileInput> inputs = {Write(kTue, testing::Gzip(DayCsv(kTue, small, 3) + DayCsv(kTue, {"AAPL"}, 22).substr(kHeader.size()))),
                                            Write(kMon, testing::Gzip(DayCsv(kMon, small, 2) + DayCsv(kMon, {"AAPL"}, 14).substr(kHeader.size()))),
                                            Write(kWed, testing::Gzip(DayCsv(kWed, {"ZZZ"}, 1)))};
  const std::vector<Seen> whole = Merge(inputs);
  DayFileMerge merge(inputs, dir_.string(), {});
  ASSERT_TRUE(merge.Read());
  const std::vector<Ticker> starts = merge.PartStarts(2);
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(starts[0].symbol(), "AMD");
  EXPECT_EQ(DayFileMerge::PartOf(starts, *Ticker::Parse("AAPL")), 0u);
  EXPECT_EQ(DayFileMerge::PartOf(starts, *Ticker::Parse("AMD")), 1u);
  EXPECT_EQ(DayFileMerge::PartOf(starts, *Ticker::Parse("ZZZ")), 1u);
  std::vector<std::vector<Seen>> parts(2);
  for (int round = 0; round < 2; ++round) {  // a part handed over again (a transaction redone) is the same
    for (size_t part = 0; part < parts.size(); ++part) {
      std::vector<Seen> seen;
      ASSERT_TRUE(merge.Emit(starts, part, [&](size_t file, const Ticker& ticker, const BarBatch& bars) {
        EXPECT_EQ(DayFileMerge::PartOf(starts, ticker), part);
        seen.push_back({file, ticker.symbol(), bars});
        return Ok();
      }));
      if (round == 1) {
        ASSERT_EQ(seen.size(), parts[part].size());
        for (size_t i = 0; i < seen.size(); ++i) {
          EXPECT_EQ(seen[i].ticker, parts[part][i].ticker);
          EXPECT_EQ(seen[i].file, parts[part][i].file);
          EXPECT_EQ(seen[i].bars.t, parts[part][i].bars.t);
        }
      }
      parts[part] = std::move(seen);
    }
  }
  // Together the parts are the whole merge, in its order: part 0's blocks, then part 1's.
  std::vector<Seen> joined = parts[0];
  joined.insert(joined.end(), parts[1].begin(), parts[1].end());
  ASSERT_EQ(joined.size(), whole.size());
  EXPECT_EQ(parts[0].size(), 2u) << "AAPL's two days";
  for (size_t i = 0; i < whole.size(); ++i) {
    EXPECT_EQ(joined[i].ticker, whole[i].ticker);
    EXPECT_EQ(joined[i].file, whole[i].file);
    EXPECT_EQ(joined[i].bars.t, whole[i].bars.t);
  }
  // More writers than stretches: the last ones get nothing.
  const std::vector<Ticker> one = merge.PartStarts(1);
  EXPECT_TRUE(one.empty());
  size_t blocks = 0;
  ASSERT_TRUE(merge.Emit(one, 1, [&](size_t, const Ticker&, const BarBatch&) { ++blocks; return Ok(); }));
  EXPECT_EQ(blocks, 0u);
}

}  // namespace
}  // namespace barfill::flatfiles
