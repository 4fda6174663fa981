#include "flatfiles/day_file_reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <fstream>
#include <map>
#include <random>

#include "flatfiles/gzip_text.h"

namespace barfill::flatfiles {
namespace {

using barfill::testing::Gzip;

constexpr std::string_view kHeader = "ticker,volume,open,close,high,low,window_start,transactions\n";

DayFileKey Key(std::string_view key) {
  auto parsed = ParseKey(key);
  EXPECT_TRUE(parsed) << parsed.error().message;
  return *parsed;
}

/// 2024-01-02 09:30 New York (EST) + `minutes`, in ns, as the files write it.
int64_t Ns930(int minutes = 0) {
  const int64_t open_ms = MarketZone::NewYork().DayStartMs(CalendarDay{2024, 1, 2}) + 9 * kMsPerHour + 30 * kMsPerMinute;
  return (open_ms + minutes * kMsPerMinute) * 1'000'000;
}

std::string Row(std::string_view ticker, double v, double o, double c, double h, double l, int64_t ws, int64_t n) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "%.*s,%.17g,%.17g,%.17g,%.17g,%.17g,%lld,%lld\n", static_cast<int>(ticker.size()),
                ticker.data(), v, o, c, h, l, static_cast<long long>(ws), static_cast<long long>(n));
  return buf;
}

/// Everything a reader handed over, and how the reading ended.
struct Collected {
  std::vector<std::pair<std::string, BarBatch>> blocks;  // in order
  std::map<std::string, BarBatch> by_ticker;             // blocks of a ticker joined
  Result<DayFileSummary> summary = Fail(ErrorCode::kInternal, "not finished");
  Status feed_status;
};

/// Reads `bytes` in pieces of `piece` bytes (0 = all at once).
Collected Read(const DayFileKey& key, std::string_view bytes, size_t piece = 0, DayFileReaderOptions options = {}) {
  Collected out;
  DayFileReader reader(
      key,
      [&](const Ticker& ticker, const BarBatch& bars) {
        out.blocks.emplace_back(ticker.symbol(), bars);
        out.by_ticker[ticker.symbol()].Append(bars);
        return Ok();
      },
      options);
  if (piece == 0) piece = bytes.size() + 1;
  for (size_t at = 0; at < bytes.size() && out.feed_status; at += piece) {
    out.feed_status = reader.Feed(bytes.substr(at, piece));
  }
  out.summary = out.feed_status ? reader.Finish() : Result<DayFileSummary>(Unexpected{out.feed_status.error()});
  return out;
}

const DayFileKey kStockMinute = Key("us_stocks_sip/minute_aggs_v1/2024/01/2024-01-02.csv.gz");

TEST(DayFileReaderTest, ReadsPerTickerBlocksWithMillisecondsAndNoVwap) {
  std::string csv(kHeader);
  csv += Row("MSFT", 1200, 370.5, 370.75, 371, 370.25, Ns930(0), 40);
  csv += Row("MSFT", 800, 370.75, 370.5, 370.9, 370.4, Ns930(1), 31);
  csv += Row("AAPL", 5000, 185.1, 185.2, 185.3, 185.0, Ns930(0), 100);
  const Collected got = Read(kStockMinute, Gzip(csv));
  ASSERT_TRUE(got.summary) << got.summary.error().message;
  ASSERT_EQ(got.blocks.size(), 2u);
  EXPECT_EQ(got.blocks[0].first, "MSFT");  // the file's order, not alphabetical
  EXPECT_EQ(got.blocks[1].first, "AAPL");
  const BarBatch& msft = got.blocks[0].second;
  ASSERT_EQ(msft.size(), 2u);
  // The files have no vwap: kNoVwap, stored as NULL like a REST bar without vw.
  EXPECT_EQ(msft[0], (Bar{Ns930(0) / 1'000'000, 370.5, 371, 370.25, 370.75, 1200, kNoVwap, 40}));
  EXPECT_EQ(msft[1], (Bar{Ns930(1) / 1'000'000, 370.75, 370.9, 370.4, 370.5, 800, kNoVwap, 31}));
  EXPECT_FALSE(msft[0].HasVwap());
  EXPECT_EQ(got.summary->rows, 3);
  EXPECT_EQ(got.summary->bars, 3);
  EXPECT_EQ(got.summary->tickers, 2);
  EXPECT_EQ(got.summary->bad_rows, 0);
  EXPECT_EQ(got.summary->csv_bytes, static_cast<int64_t>(csv.size()));
}

TEST(DayFileReaderTest, IndexFilesHaveSixColumnsNoVolumeNoTransactions) {
  const DayFileKey key = Key("us_indices/minute_aggs_v1/2024/01/2024-01-02.csv.gz");
  // Mixed decimal precision, as the vendor's index sample has it.
  const std::string csv = "ticker,open,close,high,low,window_start\nI:SPX,4742.83000000000000,4745.1,4746.2,4741.5," +
                          std::to_string(Ns930()) + "\n";
  const Collected got = Read(key, Gzip(csv));
  ASSERT_TRUE(got.summary) << got.summary.error().message;
  const BarBatch& spx = got.by_ticker.at("I:SPX");
  ASSERT_EQ(spx.size(), 1u);
  EXPECT_EQ(spx.open[0], 4742.83);
  EXPECT_EQ(spx.volume[0], 0);
  EXPECT_FALSE(spx[0].HasTrades());
  EXPECT_FALSE(spx[0].HasVwap());
}

TEST(DayFileReaderTest, HeaderVariants) {
  // Reordered columns, an unknown extra column, a byte-order mark and CRLF line ends.
  std::string csv = "\xEF\xBB\xBFwindow_start,ticker,otc,open,high,low,close,volume,transactions\r\n" +
                    std::to_string(Ns930()) + ",AAPL,false,10,11,9,10.5,100,7\r\n";
  Collected got = Read(kStockMinute, Gzip(csv));
  ASSERT_TRUE(got.summary) << got.summary.error().message;
  const BarBatch& aapl = got.by_ticker.at("AAPL");
  ASSERT_EQ(aapl.size(), 1u);
  EXPECT_EQ(aapl.close[0], 10.5);
  EXPECT_EQ(aapl.high[0], 11);
  EXPECT_EQ(aapl.trades[0], 7);
  EXPECT_EQ(got.summary->ignored_columns, std::vector<std::string>{"otc"});

  // A missing column is named, with the header barfill expects.
  got = Read(kStockMinute, Gzip("ticker,volume,open,close,high,low,transactions\nAAPL,1,1,1,1,1,1\n"));
  ASSERT_FALSE(got.summary);
  EXPECT_EQ(got.summary.error().code, ErrorCode::kInvalidData);
  EXPECT_NE(got.summary.error().message.find("lacks column 'window_start'"), std::string::npos)
      << got.summary.error().message;
  EXPECT_NE(got.summary.error().message.find("ticker,volume,open,close,high,low,window_start,transactions"),
            std::string::npos);
  EXPECT_NE(got.summary.error().message.find(kStockMinute.key), std::string::npos);

  // A stock file with the index header lacks volume.
  got = Read(kStockMinute, Gzip("ticker,open,close,high,low,window_start\n"));
  ASSERT_FALSE(got.summary);
  EXPECT_NE(got.summary.error().message.find("lacks column 'volume'"), std::string::npos);

  got = Read(kStockMinute, Gzip("ticker,ticker,volume,open,close,high,low,window_start,transactions\n"));
  ASSERT_FALSE(got.summary);
  EXPECT_NE(got.summary.error().message.find("twice"), std::string::npos);

  // An empty file has no header.
  got = Read(kStockMinute, Gzip(""));
  ASSERT_FALSE(got.summary);
  EXPECT_NE(got.summary.error().message.find("no header"), std::string::npos);
}

TEST(DayFileReaderTest, BadRowsAreCountedWithTheirLineAndNeverHandedOver) {
  std::string csv(kHeader);                                               // line 1
  csv += Row("AAPL", 100, 10, 10, 11, 9, Ns930(0), 5);                    // 2 good
  csv += "AAPL,100,abc,10,11,9," + std::to_string(Ns930(1)) + ",5\n";     // 3 open not a number
  csv += Row("AAPL", 100, 10, 10, 9, 11, Ns930(2), 5);                    // 4 high below low
  csv += "AAPL,100,10,10,11,9," + std::to_string(Ns930(3)) + "\n";        // 5 a field missing
  csv += Row("AAPL", 100, 10, 10, 11, 9, Ns930(4) + 1'000'000'000, 5);   // 6 not on a minute
  csv += Row("AAPL", 100, 10, 10, 11, 9, -68'400'000'000'000, 5);        // 7 the vendor's negative stamp
  csv += Row("AAPL", 100, 10, 10, 11, 9, Ns930(0), 5);                    // 8 repeats line 2's minute
  csv += Row("AAPL", -5, 10, 10, 11, 9, Ns930(6), 5);                     // 9 negative volume
  csv += "AAPL,100,10,10,11,9," + std::to_string(Ns930(7)) + ",2.5\n";    // 10 fractional transactions
  csv += "AAPL,100,nan,10,11,9," + std::to_string(Ns930(8)) + ",5\n";     // 11 not finite
  csv += ",100,10,10,11,9," + std::to_string(Ns930(9)) + ",5\n";          // 12 no ticker
  csv += Row("AAPL", 100, 10, 10, 11, 9, Ns930(10), 5);                   // 13 good
  csv += "AAPL,100,10,10,11,9," + std::to_string(Ns930(11)) + ",5.0\n";   // 14 good: 5.0 is whole
  const Collected got = Read(kStockMinute, Gzip(csv));
  ASSERT_TRUE(got.summary) << got.summary.error().message;
  const DayFileSummary& s = *got.summary;
  EXPECT_EQ(s.rows, 13);
  EXPECT_EQ(s.bars, 3);
  EXPECT_EQ(s.bad_rows, 10);
  ASSERT_EQ(s.first_bad_rows.size(), 10u);
  const std::vector<std::pair<int64_t, std::string>> expected = {
      {3, "open 'abc' is not a number"},      {4, "high below open, close or low"},
      {5, "has 7 fields, the header has 8"},  {6, "not on a minute boundary"},
      {7, "not within a day of the session date 2024-01-02"},
      {8, "repeats the previous bar of AAPL"}, {9, "negative volume"},
      {10, "transactions '2.5' is not a whole number"}, {11, "non-finite"},
      {12, "has no ticker"}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(s.first_bad_rows[i].line, expected[i].first) << s.first_bad_rows[i].reason;
    EXPECT_NE(s.first_bad_rows[i].reason.find(expected[i].second), std::string::npos) << s.first_bad_rows[i].reason;
  }
  EXPECT_NE(s.first_bad_rows[4].reason.find("1969-12-31T05:00:00Z"), std::string::npos);
  const BarBatch& aapl = got.by_ticker.at("AAPL");
  EXPECT_EQ(aapl.t, (std::vector<int64_t>{Ns930(0) / 1'000'000, Ns930(10) / 1'000'000, Ns930(11) / 1'000'000}));
  EXPECT_NE(s.Describe().find("10 bad rows (first: line 3: open 'abc'"), std::string::npos) << s.Describe();
}

TEST(DayFileReaderTest, AnyChunkingGivesTheSameBars) {
  std::string csv(kHeader);
  std::mt19937_64 rng(7);
  const std::vector<std::string> tickers = {"ZZZ", "AAPL", "BRK.B", "MSFT", "A"};
  for (const std::string& ticker : tickers) {
    for (int m = 0; m < 2000; ++m) {
      const double o = 100 + static_cast<double>(rng() % 1000) / 100;
      csv += Row(ticker, static_cast<double>(rng() % 100000), o, o + 0.01, o + 0.05, o - 0.05, Ns930(m - 300), 1 + static_cast<int64_t>(rng() % 50));
    }
  }
  const std::string gz = Gzip(csv);
  const Collected whole = Read(kStockMinute, gz);
  ASSERT_TRUE(whole.summary) << whole.summary.error().message;
  EXPECT_EQ(whole.summary->bars, 10000);
  for (const size_t piece : {size_t{1}, size_t{7}, size_t{100}, size_t{4093}, size_t{65536}}) {
    const Collected pieces = Read(kStockMinute, gz, piece);
    ASSERT_TRUE(pieces.summary) << piece << ": " << pieces.summary.error().message;
    EXPECT_EQ(pieces.by_ticker, whole.by_ticker) << "piece " << piece;
    EXPECT_EQ(pieces.summary->rows, whole.summary->rows);
  }
}

TEST(DayFileReaderTest, LongRunsOfOneTickerArriveInBoundedBlocks) {
  std::string csv(kHeader);
  for (int m = 0; m < 1000; ++m) csv += Row("AAPL", 1, 10, 10, 10, 10, Ns930(m - 330), 1);
  DayFileReaderOptions options;
  options.max_rows_per_block = 300;
  const Collected got = Read(kStockMinute, Gzip(csv), 0, options);
  ASSERT_TRUE(got.summary) << got.summary.error().message;
  ASSERT_EQ(got.blocks.size(), 4u);
  EXPECT_EQ(got.blocks[0].second.size(), 300u);
  EXPECT_EQ(got.blocks[3].second.size(), 100u);
  EXPECT_EQ(got.by_ticker.at("AAPL").size(), 1000u);
  EXPECT_EQ(got.summary->tickers, 1);
  EXPECT_EQ(got.summary->reopened_tickers, 0);
}

TEST(DayFileReaderTest, CutShortOrCorruptGzipIsAnErrorNothingIsComplete) {
  std::string csv(kHeader);
  for (int m = 0; m < 5000; ++m) csv += Row("AAPL", 1, 10, 10, 10, 10, Ns930(m % 900 - 330) + (m / 900) * 0, 1);
  const std::string gz = Gzip(csv);
  for (const double share : {0.0, 0.1, 0.5, 0.99}) {
    const std::string cut = gz.substr(0, static_cast<size_t>(static_cast<double>(gz.size()) * share));
    const Collected got = Read(kStockMinute, cut);
    ASSERT_TRUE(got.feed_status) << got.feed_status.error().message;
    ASSERT_FALSE(got.summary) << share;
    EXPECT_EQ(got.summary.error().code, ErrorCode::kBadResponse);
    EXPECT_TRUE(IsRetryable(got.summary.error()));
    EXPECT_NE(got.summary.error().message.find(share == 0 ? "empty" : "cut short"), std::string::npos)
        << got.summary.error().message;
  }
  // The last 8 bytes are the CRC and length: damage one and inflate notices.
  std::string damaged = gz;
  damaged[damaged.size() - 6] ^= 0x55;
  Collected got = Read(kStockMinute, damaged);
  ASSERT_FALSE(got.feed_status);
  EXPECT_EQ(got.feed_status.error().code, ErrorCode::kBadResponse);
  EXPECT_NE(got.feed_status.error().message.find("corrupt gzip"), std::string::npos);
  // Not gzip at all.
  got = Read(kStockMinute, csv);
  ASSERT_FALSE(got.feed_status);
  EXPECT_NE(got.feed_status.error().message.find("corrupt gzip"), std::string::npos);
}

TEST(DayFileReaderTest, ConcatenatedGzipMembersAreOneFile) {
  const std::string first = std::string(kHeader) + Row("AAPL", 1, 10, 10, 10, 10, Ns930(0), 1);
  const std::string second = Row("AAPL", 1, 10, 10, 10, 10, Ns930(1), 1);
  const Collected got = Read(kStockMinute, Gzip(first) + Gzip(second), 5);
  ASSERT_TRUE(got.summary) << got.summary.error().message;
  EXPECT_EQ(got.summary->bars, 2);
}

TEST(DayFileReaderTest, PairsAreSpelledAsRestAndTheFilterAppliesToThatSpelling) {
  const DayFileKey key = Key("global_crypto/minute_aggs_v1/2024/01/2024-01-02.csv.gz");
  const int64_t midnight = MarketZone::Utc().DayStartMs(CalendarDay{2024, 1, 2}) * 1'000'000;
  std::string csv(kHeader);
  for (const char* pair : {"X:BTC-USD", "X:ETH-USD", "X:DOGE-USD", "X:BTC-EUR"}) {
    csv += Row(pair, 0.12345678, 42000.5, 42001, 42002, 41999, midnight, 3);
  }
  Collected got = Read(key, Gzip(csv));
  ASSERT_TRUE(got.summary) << got.summary.error().message;
  EXPECT_EQ(got.by_ticker.size(), 4u);
  ASSERT_TRUE(got.by_ticker.count("X:BTCUSD"));
  EXPECT_EQ(got.by_ticker.at("X:BTCUSD").volume[0], 0.12345678);

  DayFileReaderOptions options;
  options.filter.prefixes = {"X:BTC", "X:ETH"};
  options.filter.exclude = {"X:BTCEUR"};
  got = Read(key, Gzip(csv), 0, options);
  ASSERT_TRUE(got.summary) << got.summary.error().message;
  EXPECT_EQ(got.by_ticker.size(), 2u);
  EXPECT_TRUE(got.by_ticker.count("X:BTCUSD"));
  EXPECT_TRUE(got.by_ticker.count("X:ETHUSD"));
  EXPECT_EQ(got.summary->filtered_rows, 2);

  options = {};
  options.filter.only = {"X:DOGEUSD"};
  got = Read(key, Gzip(csv), 0, options);
  ASSERT_TRUE(got.summary);
  EXPECT_EQ(got.by_ticker.size(), 1u);
  EXPECT_TRUE(got.by_ticker.count("X:DOGEUSD"));
}

TEST(DayFileReaderTest, SymbolsBarfillCannotHoldAreSkippedAndNamed) {
  std::string csv(kHeader);
  csv += Row("ADSw", 1, 10, 10, 10, 10, Ns930(0), 1);      // when-issued: lower case
  csv += Row("MTBpC.CL", 1, 10, 10, 10, 10, Ns930(0), 1);
  csv += Row("BRK.B", 1, 10, 10, 10, 10, Ns930(0), 1);     // dots are fine
  const Collected got = Read(kStockMinute, Gzip(csv));
  ASSERT_TRUE(got.summary) << got.summary.error().message;
  EXPECT_EQ(got.summary->unsupported_rows, 2);
  EXPECT_EQ(got.summary->unsupported_symbols, (std::vector<std::string>{"ADSw", "MTBpC.CL"}));
  EXPECT_EQ(got.by_ticker.size(), 1u);
  EXPECT_TRUE(got.by_ticker.count("BRK.B"));
}

TEST(DayFileReaderTest, DayRowsAreStampedWithTheSessionDateOfTheKey) {
  // The vendor's own samples: 2019-08-12 stamped 00:00 New York (04:00Z)...
  const DayFileKey key = Key("us_stocks_sip/day_aggs_v1/2019/08/2019-08-12.csv.gz");
  std::string csv(kHeader);
  csv += "AAPL,1000,200,201,202,199,1565582400000000000,10\n";
  // ...and the defective file that stamped every row with the next day.
  csv += "MSFT,1000,130,131,132,129,1565668800000000000,10\n";
  Collected got = Read(key, Gzip(csv));
  ASSERT_TRUE(got.summary) << got.summary.error().message;
  EXPECT_EQ(got.by_ticker.at("AAPL").t[0], 1565582400000);
  EXPECT_EQ(got.by_ticker.at("MSFT").t[0], 1565582400000);
  EXPECT_EQ(got.summary->restamped_rows, 1);

  // The docs' sample stamps 16:00 New York (2023-03-28T20:00Z); the bar is the session's.
  got = Read(Key("us_stocks_sip/day_aggs_v1/2023/03/2023-03-28.csv.gz"),
             Gzip(std::string(kHeader) + "BCC,248274,61.68,61.99,62.565,61.41,1680033600000000000,4073\n"));
  ASSERT_TRUE(got.summary) << got.summary.error().message;
  // t = 2023-03-28T04:00Z = 00:00 EDT.
  EXPECT_EQ(got.by_ticker.at("BCC")[0], (Bar{1679976000000, 61.68, 62.565, 61.41, 61.99, 248274, kNoVwap, 4073}));

  // Crypto day bars start at 00:00 UTC, as REST's do; two rows of one day are one too many.
  got = Read(Key("global_crypto/day_aggs_v1/2024/01/2024-01-02.csv.gz"),
             Gzip(std::string(kHeader) + "X:BTC-USD,1.5,42000,42100,42200,41900,1704153600000000000,10\n" +
                  "X:BTC-USD,1.5,42000,42100,42200,41900,1704153600000000000,10\n"));
  ASSERT_TRUE(got.summary);
  EXPECT_EQ(got.by_ticker.at("X:BTCUSD").t, std::vector<int64_t>{1704153600000});
  EXPECT_EQ(got.summary->bad_rows, 1);
}

TEST(DayFileReaderTest, ATickerComingBackCannotRepeatItsBars) {
  std::string csv(kHeader);
  csv += Row("AAPL", 1, 10, 10, 10, 10, Ns930(0), 1);
  csv += Row("MSFT", 1, 10, 10, 10, 10, Ns930(0), 1);
  csv += Row("AAPL", 1, 10, 10, 10, 10, Ns930(1), 1);  // later: fine, a second block
  csv += Row("MSFT", 1, 10, 10, 10, 10, Ns930(0), 1);  // the same minute again: refused
  const Collected got = Read(kStockMinute, Gzip(csv));
  ASSERT_TRUE(got.summary);
  EXPECT_EQ(got.summary->reopened_tickers, 2);
  EXPECT_EQ(got.summary->bad_rows, 1);
  EXPECT_EQ(got.by_ticker.at("AAPL").size(), 2u);
  EXPECT_EQ(got.by_ticker.at("MSFT").size(), 1u);
  EXPECT_EQ(got.summary->tickers, 2);
}

TEST(DayFileReaderTest, ASinkErrorStopsTheReading) {
  std::string csv(kHeader);
  csv += Row("AAPL", 1, 10, 10, 10, 10, Ns930(0), 1);
  csv += Row("MSFT", 1, 10, 10, 10, 10, Ns930(0), 1);
  int calls = 0;
  DayFileReader reader(kStockMinute, [&](const Ticker&, const BarBatch&) -> Status {
    ++calls;
    return Fail(ErrorCode::kDatabase, "queue closed");
  });
  const Status fed = reader.Feed(Gzip(csv));
  ASSERT_FALSE(fed);
  EXPECT_EQ(fed.error().message, "queue closed");
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(reader.Finish());
}

TEST(DayFileReaderTest, AnOverlongLineMeansNotAnAggregatesFile) {
  const std::string csv = std::string(kHeader) + std::string(10000, 'x') + "\n";
  const Collected got = Read(kStockMinute, Gzip(csv));
  ASSERT_FALSE(got.summary);
  const Error& error = got.summary.error();
  EXPECT_EQ(error.code, ErrorCode::kInvalidData);
  EXPECT_NE(error.message.find("line 2 is longer than 4096 bytes"), std::string::npos) << error.message;
}

TEST(DayFileReaderTest, GarbageNeverCrashesIt) {
  std::mt19937_64 rng(99);
  constexpr std::string_view kAlphabet = ",,,,0123456789.-eEXI:abc\n\n\r ";
  for (int round = 0; round < 300; ++round) {
    std::string csv = round % 3 == 0 ? std::string(kHeader) : "";
    const size_t length = rng() % 3000;
    for (size_t i = 0; i < length; ++i) csv += kAlphabet[rng() % kAlphabet.size()];
    std::string bytes = Gzip(csv);
    if (round % 5 == 0) bytes[rng() % bytes.size()] ^= static_cast<char>(1 + rng() % 255);  // damage
    if (round % 7 == 0) bytes = csv;                                                          // not gzip
    const Collected got = Read(kStockMinute, bytes, 1 + rng() % 50);
    if (got.summary) {
      EXPECT_EQ(got.summary->bars + got.summary->bad_rows + got.summary->unsupported_rows, got.summary->rows);
    } else {
      EXPECT_FALSE(got.summary.error().message.empty());
    }
  }
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kUnderAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kUnderAddressSanitizer = true;
#else
constexpr bool kUnderAddressSanitizer = false;
#endif
#else
constexpr bool kUnderAddressSanitizer = false;
#endif

int64_t PeakResidentKiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

TEST(DayFileReaderTest, MemoryStaysFlatOnALargeFile) {
  // 3.2 M rows (about 190 MB of CSV, a busy stocks minute file) made and compressed on the fly,
  // so neither the test nor the reader ever holds the file.
  constexpr int kTickers = 4000;
  constexpr int kMinutes = 800;
  z_stream z{};
  ASSERT_EQ(deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  int64_t bars = 0;
  size_t most_buffered = 0;
  DayFileReaderOptions options;
  options.max_rows_per_block = 4096;
  DayFileReader reader(kStockMinute, [&](const Ticker&, const BarBatch& b) {
    bars += static_cast<int64_t>(b.size());
    return Ok();
  }, options);
  std::string compressed(1 << 20, '\0');
  const auto pump = [&](const std::string& text, int flush) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    do {
      z.next_out = reinterpret_cast<Bytef*>(compressed.data());
      z.avail_out = static_cast<uInt>(compressed.size());
      deflate(&z, flush);
      const Status fed = reader.Feed(std::string_view(compressed.data(), compressed.size() - z.avail_out));
      ASSERT_TRUE(fed) << fed.error().message;
      most_buffered = std::max(most_buffered, reader.BufferedBytes());
    } while (z.avail_out == 0);
  };
  const int64_t peak_before = PeakResidentKiB();
  int64_t csv_bytes = 0;
  pump(std::string(kHeader), Z_NO_FLUSH);
  std::string rows;
  for (int t = 0; t < kTickers; ++t) {
    rows.clear();
    const std::string ticker = "T" + std::to_string(t);
    for (int m = 0; m < kMinutes; ++m) {
      rows += ticker + "," + std::to_string(100 + m) + ",10.5,10.25,10.75,10," + std::to_string(Ns930(m - 330)) + ",3\n";
    }
    csv_bytes += static_cast<int64_t>(rows.size());
    pump(rows, Z_NO_FLUSH);
  }
  pump(std::string(), Z_FINISH);
  deflateEnd(&z);
  const auto summary = reader.Finish();
  ASSERT_TRUE(summary) << summary.error().message;
  EXPECT_EQ(bars, int64_t{kTickers} * kMinutes);
  EXPECT_GT(csv_bytes, 150'000'000);
  // The reader's own buffers: one inflate window plus one block, whatever the file size.
  EXPECT_LT(most_buffered, size_t{1} << 20);
  const int64_t growth_kib = PeakResidentKiB() - peak_before;
  if (kUnderAddressSanitizer) {
    // ASan keeps freed blocks in quarantine (256 MiB by default), so its RSS says nothing about
    // what the reader holds; the buffered-bytes bound above still applies.
    return;
  }
  EXPECT_LT(growth_kib, 64 * 1024) << "peak RSS grew by " << growth_kib << " KiB reading " << csv_bytes << " bytes";
}

}  // namespace
}  // namespace barfill::flatfiles
