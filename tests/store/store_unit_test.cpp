// The store's pure parts: COPY BINARY bytes, schema checks, write grouping, status assembly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/copy_binary.h"
#include "store/ledger.h"
#include "store/pg_connection.h"
#include "store/schema.h"

namespace barfill::store {
namespace {

Series MakeSeries(std::string_view ticker, std::string_view timeframe, bool adjusted = true) {
  return Series{*Ticker::Parse(ticker), *Timeframe::Parse(timeframe), adjusted};
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    out += kDigits[static_cast<unsigned char>(c) >> 4];
    out += kDigits[static_cast<unsigned char>(c) & 15];
  }
  return out;
}

TEST(CopyBinary, EncodesOneRowExactlyAsPostgresExpects) {
  std::string out;
  CopyBinaryEncoder encoder([&](std::string_view piece) {
    out.append(piece);
    return Ok();
  });
  BarBatch bars;
  // 2000-01-01T00:00:01Z is 1,000,000 µs after PostgreSQL's epoch.
  bars.push_back(Bar{kPgEpochUnixMs + 1000, 1.0, 2.0, 0.5, 1.5, 10.25, kNoVwap, kNoTrades});
  ASSERT_TRUE(encoder.Begin());
  ASSERT_TRUE(encoder.Append(MakeSeries("A", "1m"), bars, 0, 1));
  ASSERT_TRUE(encoder.Finish());
  EXPECT_EQ(Hex(out),
            "5047434f50590aff0d0a00" "00000000" "00000000"  // signature, flags, extension
            "000b"                                          // 11 fields
            "00000001" "41"                                 // ticker "A"
            "00000002" "316d"                               // timeframe "1m"
            "00000001" "01"                                 // adjusted true
            "00000008" "00000000000f4240"                   // ts = 1,000,000 µs
            "00000008" "3ff0000000000000"                   // open 1.0
            "00000008" "4000000000000000"                   // high 2.0
            "00000008" "3fe0000000000000"                   // low 0.5
            "00000008" "3ff8000000000000"                   // close 1.5
            "00000008" "4024800000000000"                   // volume 10.25
            "ffffffff"                                      // vwap NULL
            "ffffffff"                                      // trades NULL
            "ffff");                                        // trailer
}

TEST(CopyBinary, FlushesInPiecesOfAboutTheRequestedSize) {
  std::vector<size_t> pieces;
  CopyBinaryEncoder encoder(
      [&](std::string_view piece) {
        pieces.push_back(piece.size());
        return Ok();
      },
      4096);
  BarBatch bars;
  for (int i = 0; i < 1000; ++i) bars.push_back(Bar{i * 60000, 1, 1, 1, 1, 1, 1, 1});
  ASSERT_TRUE(encoder.Begin());
  ASSERT_TRUE(encoder.Append(MakeSeries("AAPL", "1m"), bars, 0, bars.size()));
  ASSERT_TRUE(encoder.Finish());
  ASSERT_GT(pieces.size(), 20u);
  for (size_t i = 0; i + 1 < pieces.size(); ++i) {
    EXPECT_GE(pieces[i], 4096u);
    EXPECT_LT(pieces[i], 4096u + 200);
  }
}

TEST(CopyBinary, DecodesRowsHeaderAndTrailer) {
  const auto be64 = [](uint64_t v) {
    std::string s(8, '\0');
    for (int i = 7; i >= 0; --i, v >>= 8) s[i] = static_cast<char>(v & 0xff);
    return s;
  };
  const auto field = [&](uint64_t v) { return std::string("\0\0\0\x08", 4) + be64(v); };
  const std::string null_field("\xff\xff\xff\xff", 4);
  std::string header("PGCOPY\n\xff\r\n\0", 11);
  header += std::string(8, '\0');
  std::string row("\0\x08", 2);
  row += field(1000000) + field(std::bit_cast<uint64_t>(1.0)) + field(std::bit_cast<uint64_t>(2.0)) +
         field(std::bit_cast<uint64_t>(0.5)) + field(std::bit_cast<uint64_t>(1.5)) +
         field(std::bit_cast<uint64_t>(0.001)) + null_field + field(7);
  CopyBinaryBarDecoder decoder;
  BarBatch out;
  ASSERT_TRUE(decoder.Decode(header + row, out));
  ASSERT_TRUE(decoder.Decode(row, out));
  EXPECT_FALSE(decoder.finished());
  ASSERT_TRUE(decoder.Decode(std::string("\xff\xff", 2), out));
  EXPECT_TRUE(decoder.finished());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], (Bar{kPgEpochUnixMs + 1000, 1.0, 2.0, 0.5, 1.5, 0.001, kNoVwap, 7}));

  CopyBinaryBarDecoder bad;
  EXPECT_FALSE(bad.Decode("not copy data at all", out));
}

TEST(CopyBinary, TimestampsRoundDownToMilliseconds) {
  EXPECT_EQ(UnixMsToPgMicros(kPgEpochUnixMs), 0);
  EXPECT_EQ(PgMicrosToUnixMs(-1), kPgEpochUnixMs - 1);
  EXPECT_EQ(PgMicrosToUnixMs(1999), kPgEpochUnixMs + 1);
  EXPECT_EQ(PgMicrosToUnixMs(UnixMsToPgMicros(-86400000)), -86400000);
}

TEST(Schema, VersionErrorsNameTheFix) {
  EXPECT_EQ(*CheckSchemaVersion("1", "db"), 1) << "older: upgraded by the caller";
  EXPECT_EQ(*CheckSchemaVersion("2", "db"), 2);
  EXPECT_EQ(*CheckSchemaVersion("3", "db"), 3);
  EXPECT_EQ(*CheckSchemaVersion(std::to_string(kSchemaVersion), "db"), kSchemaVersion);
  EXPECT_EQ(CheckSchemaVersion("77", "db").error().message,
            "db: schema version 77 found, but this barfill knows only " + std::to_string(kSchemaVersion) +
                "; upgrade barfill");
  EXPECT_THAT(CheckSchemaVersion("0", "db").error().message,
              ::testing::HasSubstr("unknown schema version '0'"));
  EXPECT_THAT(CheckSchemaVersion("1.5", "db").error().message,
              ::testing::HasSubstr("unknown schema version '1.5'"));
  EXPECT_THAT(CheckSchemaVersion(std::nullopt, "db").error().message,
              ::testing::HasSubstr("has no schema_version"));
}

std::vector<ColumnInfo> GoodPostgresColumns() {
  return {{"ticker", "text", 1},           {"timeframe", "text", 2},
          {"adjusted", "boolean", 3},      {"ts", "timestamp with time zone", 4},
          {"open", "double precision", 0}, {"high", "double precision", 0},
          {"low", "double precision", 0},  {"close", "double precision", 0},
          {"volume", "double precision", 0}, {"vwap", "double precision", 0},
          {"trades", "bigint", 0}};
}

TEST(Schema, BarsColumnsAreCheckedByNameTypeAndKey) {
  EXPECT_TRUE(CheckBarsColumns(GoodPostgresColumns(), Dialect::kPostgres, "db"));

  auto integer_volume = GoodPostgresColumns();
  integer_volume[8].type = "integer";
  EXPECT_EQ(CheckBarsColumns(integer_volume, Dialect::kPostgres, "db").error().message,
            "db: column bars.volume is integer, barfill needs double precision (crypto (and since "
            "2026 stock) volume is fractional); ALTER TABLE bars ALTER COLUMN volume TYPE double "
            "precision, or use another database");

  auto no_vwap = GoodPostgresColumns();
  no_vwap.erase(no_vwap.begin() + 9);
  EXPECT_THAT(CheckBarsColumns(no_vwap, Dialect::kPostgres, "db").error().message,
              ::testing::HasSubstr("table bars has no column vwap"));

  auto no_adjusted_in_key = GoodPostgresColumns();
  no_adjusted_in_key[2].pk_position = 0;
  no_adjusted_in_key[3].pk_position = 3;
  EXPECT_THAT(CheckBarsColumns(no_adjusted_in_key, Dialect::kPostgres, "db").error().message,
              ::testing::HasSubstr("must have PRIMARY KEY (ticker, timeframe, adjusted, ts)"));
}

TEST(Ledger, OverlappingChunksOfOneSeriesGoToLaterRounds) {
  const Series a = MakeSeries("AAPL", "1m");
  const Series b = MakeSeries("MSFT", "1m");
  const BarBatch none;
  const ChunkWrite writes[] = {
      {Chunk{a, TimeRange{0, 10}}, &none, 1}, {Chunk{b, TimeRange{0, 10}}, &none, 1},
      {Chunk{a, TimeRange{10, 20}}, &none, 1}, {Chunk{a, TimeRange{15, 30}}, &none, 1},
      {Chunk{b, TimeRange{5, 6}}, &none, 1}};
  const auto rounds = SplitIntoRounds(writes);
  ASSERT_EQ(rounds.size(), 2u);
  EXPECT_EQ(rounds[0].size(), 3u);
  EXPECT_EQ(rounds[1].size(), 2u);
}

TEST(Ledger, WritesMustBeSortedUniqueAndInsideTheirRange) {
  const Series a = MakeSeries("AAPL", "1m");
  BarBatch bars;
  bars.push_back(Bar{60000});
  bars.push_back(Bar{60000});
  const ChunkWrite duplicate{Chunk{a, TimeRange{0, 120000}}, &bars, 1};
  EXPECT_THAT(ValidateWrites({&duplicate, 1}).error().message,
              ::testing::HasSubstr("not sorted and unique at t=60000"));
  const ChunkWrite outside{Chunk{a, TimeRange{0, 60000}}, &bars, 1};
  EXPECT_THAT(ValidateWrites({&outside, 1}).error().message,
              ::testing::HasSubstr("outside the chunk's range"));
}

TEST(Ledger, StatusGroupsLedgerRowsAndExtentsBySeries) {
  const Series a = MakeSeries("AAPL", "1m");
  const Series z = MakeSeries("X:BTCUSD", "1m");
  std::vector<LedgerEntry> ledger = {
      {z, TimeRange{0, 1}, ChunkState::kDone, 5, 1, "", 0},
      {a, TimeRange{20, 30}, ChunkState::kFailed, 0, 3, "late", 0},
      {a, TimeRange{10, 20}, ChunkState::kFailed, 0, 1, "early", 0},
      {a, TimeRange{0, 10}, ChunkState::kEmpty, 0, 1, "", 0}};
  const auto status = AssembleStatus(ledger, {BarExtent{z, 5, 100, 200}});
  ASSERT_EQ(status.size(), 2u);
  EXPECT_EQ(status[0].series, a);
  EXPECT_EQ(status[0].ranges_failed, 2);
  EXPECT_EQ(status[0].ranges_empty, 1);
  EXPECT_EQ(status[0].rows, 0);
  ASSERT_EQ(status[0].failed.size(), 2u);
  EXPECT_EQ(status[0].failed[0].last_error, "early");
  EXPECT_EQ(status[1].series, z);
  EXPECT_EQ(status[1].ranges_done, 1);
  EXPECT_EQ(status[1].rows, 5);
  EXPECT_EQ(status[1].first_bar_ms, 100);
}

TEST(PgConnection, ErrorMessagesBecomeOneLine) {
  EXPECT_EQ(OneLine("connection to server on socket \"/tmp/.s.PGSQL.1\" failed: No such file\n"
                    "\tIs the server running locally?\n"),
            "connection to server on socket \"/tmp/.s.PGSQL.1\" failed: No such file; Is the "
            "server running locally?");
}

}  // namespace
}  // namespace barfill::store
