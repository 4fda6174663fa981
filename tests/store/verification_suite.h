// What the gap report, repair and refresh need from a store, as one typed suite run on SQLite and
// PostgreSQL: bars counted per session window, verifications recorded, and the schema step that
// added them.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "store_suite.h"

namespace barfill::testing {

template <typename Env>
class VerificationSuite : public StoreSuite<Env> {};

TYPED_TEST_SUITE_P(VerificationSuite);

TYPED_TEST_P(VerificationSuite, CountsBarsPerWindowInOneQuery) {
  const Series series = MakeSeries("AAPL", "1m");
  const Series other = MakeSeries("AAPL", "5m");
  // 90 minutes from 14:00Z on Jan 2 and 30 from 14:00Z on Jan 3.
  BarBatch bars = MinuteBars(Ms("2025-01-02") + 14 * kMsPerHour, 90, 190);
  bars.Append(MinuteBars(Ms("2025-01-03") + 14 * kMsPerHour, 30, 191));
  this->Commit(Chunk{series, TimeRange{Ms("2025-01-02"), Ms("2025-01-04")}}, bars);
  this->Commit(Chunk{other, TimeRange{Ms("2025-01-02"), Ms("2025-01-04")}}, MinuteBars(Ms("2025-01-02"), 5, 1));

  const TimeRange windows[] = {
      {Ms("2025-01-02") + 14 * kMsPerHour, Ms("2025-01-02") + 15 * kMsPerHour},  // the first 60 bars
      {Ms("2025-01-02") + 15 * kMsPerHour, Ms("2025-01-03")},                    // the next 30
      {Ms("2025-01-01"), Ms("2025-01-02")},                                      // none
      {Ms("2025-01-03"), Ms("2025-01-04")},                                      // 30
      {Ms("2025-01-02") + 14 * kMsPerHour, Ms("2025-01-02") + 14 * kMsPerHour + kMsPerMinute},  // the very first bar
  };
  auto counts = this->store_->CountBarsIn(series, windows);
  ASSERT_TRUE(counts) << counts.error().message;
  ASSERT_EQ(counts->size(), std::size(windows));
  EXPECT_EQ((*counts)[0].bars, 60);
  EXPECT_EQ((*counts)[1].bars, 30);
  EXPECT_EQ((*counts)[2].bars, 0);
  EXPECT_EQ((*counts)[3].bars, 30);
  EXPECT_EQ((*counts)[4].bars, 1);

  // No windows, no query result; a series without bars counts zeros.
  auto none = this->store_->CountBarsIn(series, {});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto unknown = this->store_->CountBarsIn(MakeSeries("MSFT", "1m"), windows);
  ASSERT_TRUE(unknown);
  for (const WindowCount& c : *unknown) EXPECT_EQ(c.bars, 0);

  // A year of sessions in one call.
  std::vector<TimeRange> days;
  for (int d = 0; d < 365; ++d) days.push_back({Ms("2025-01-01") + d * kMsPerDay, Ms("2025-01-01") + (d + 1) * kMsPerDay});
  auto year = this->store_->CountBarsIn(series, days);
  ASSERT_TRUE(year);
  ASSERT_EQ(year->size(), 365u);
  EXPECT_EQ((*year)[1].bars, 90);
  EXPECT_EQ((*year)[2].bars, 30);
  int64_t total = 0;
  for (const WindowCount& c : *year) total += c.bars;
  EXPECT_EQ(total, 120);
}

TYPED_TEST_P(VerificationSuite, RecordsVerificationsPerExactRange) {
  const Series series = MakeSeries("NVDA", "1m");
  const RangeCheck first{series, {Ms("2025-03-04"), Ms("2025-03-05")}, Ms("2025-03-20"), 1, 0, Ms("2025-03-20") + kMsPerHour};
  const RangeCheck second{series, {Ms("2025-03-06"), Ms("2025-03-07")}, Ms("2025-03-20"), 1, 863, 0};
  const RangeCheck elsewhere{MakeSeries("NVDA", "1d"), {Ms("2025-03-04"), Ms("2025-03-05")}, Ms("2025-03-20"), 1, 1, 0};
  const RangeCheck checks[] = {second, first, elsewhere};
  ASSERT_TRUE(this->store_->RecordChecks(checks));
  auto read = this->store_->ReadChecks(series);
  ASSERT_TRUE(read) << read.error().message;
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].range, first.range) << "ordered by range start";
  EXPECT_EQ((*read)[0].retry_at_ms, first.retry_at_ms);
  EXPECT_EQ((*read)[0].bars, 0);
  EXPECT_EQ((*read)[1].retry_at_ms, 0) << "no retry is stored as none";
  EXPECT_EQ((*read)[1].bars, 863);

  // A later verification of the same range replaces it.
  RangeCheck again = first;
  again.verified_at_ms = Ms("2025-03-21");
  again.checks = 2;
  again.bars = 850;
  again.retry_at_ms = 0;
  ASSERT_TRUE(this->store_->RecordChecks({&again, 1}));
  read = this->store_->ReadChecks(series);
  ASSERT_TRUE(read);
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].verified_at_ms, Ms("2025-03-21"));
  EXPECT_EQ((*read)[0].checks, 2);
  EXPECT_EQ((*read)[0].bars, 850);
  EXPECT_EQ((*read)[0].retry_at_ms, 0);
}

// A database of schema 3 (no barfill_checks yet) is upgraded in place by
// a writer, which says so; a reader refuses it and names `barfill migrate`.
TYPED_TEST_P(VerificationSuite, UpgradesASchema3DatabaseWithTheChecksTable) {
  const Series series = MakeSeries("AAPL", "1m");
  this->Commit(Chunk{series, TimeRange{Ms("2025-01-02"), Ms("2025-01-03")}}, MinuteBars(Ms("2025-01-02"), 10, 1));
  this->store_.reset();
  // What schemas 4, 5 and 7 added goes: the database is as schema 3 left it (the work queue's
  // tables of schema 6 are created only if missing).
  for (const char* sql : {"DROP TABLE barfill_derived", "ALTER TABLE barfill_files DROP COLUMN timeframes",
                          "DROP VIEW bars_split_adjusted", "DROP VIEW bars_total_return", "DROP TABLE splits",
                          "DROP TABLE dividends", "DROP TABLE split_overrides", "DROP TABLE barfill_actions_sync",
                          "DROP TABLE barfill_adjustment_factors", "DROP TABLE barfill_checks"}) {
    this->env_->ExecSql(sql);
  }
  this->env_->ExecSql("UPDATE barfill_meta SET value = '3' WHERE key = 'schema_version'");
  auto reader = this->Open(StoreOptions::ForReading());
  ASSERT_TRUE(reader);
  const Status refused = reader->Migrate();
  ASSERT_FALSE(refused);
  EXPECT_THAT(refused.error().message, ::testing::HasSubstr("schema version 3 found, this barfill uses " + std::to_string(store::kSchemaVersion)));
  reader.reset();

  auto store = this->Open();
  ASSERT_TRUE(store);
  const Status migrated = store->Migrate();
  ASSERT_TRUE(migrated) << migrated.error().message;
  ASSERT_EQ(store->Notices().size(), size_t(store::kSchemaVersion - 3));
  EXPECT_THAT(store->Notices()[0], ::testing::HasSubstr("from schema version 3 to 4"));
  EXPECT_THAT(store->Notices()[0], ::testing::HasSubstr("barfill_checks"));
  EXPECT_EQ(this->ReadWith(*store, series).size(), 10u) << "nothing stored changes";
  const RangeCheck check{series, {Ms("2025-01-02"), Ms("2025-01-03")}, Ms("2025-01-10"), 1, 10, 0};
  ASSERT_TRUE(store->RecordChecks({&check, 1}));
  auto read = store->ReadChecks(series);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->size(), 1u);
}

REGISTER_TYPED_TEST_SUITE_P(VerificationSuite, CountsBarsPerWindowInOneQuery, RecordsVerificationsPerExactRange,
                            UpgradesASchema3DatabaseWithTheChecksTable);

}  // namespace barfill::testing
