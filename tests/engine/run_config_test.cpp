#include "engine/run_config.h"

#include <gtest/gtest.h>

namespace barfill::engine {
namespace {

Plan SomePlan() {
  return *ParsePlan(PlanText{"", {"AAPL"}, {"1d"}, "2025-01-01", "2025-01-31"}, *CalendarDay::Parse("2026-01-01"));
}

RunSettings Valid() {
  RunSettings s;
  s.db_url = "sqlite:x.db";
  s.api_key = "k";
  return s;
}

TEST(RunConfig, DefaultsAreAppliedAndPlanFileSettingsYieldToExplicitOnes) {
  auto config = ResolveRunConfig(SomePlan(), Valid());
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->concurrency, kDefaultConcurrency);
  EXPECT_EQ(config->rate.text, "100/s");
  EXPECT_EQ(config->fetch_config.base_url, kDefaultBaseUrl);
  EXPECT_TRUE(config->fetch_config.http.compressed) << "gzip for a remote API";
  EXPECT_EQ(config->store_kind, StoreKind::kSqlite);
  EXPECT_EQ(config->writers, 1);

  Plan plan = SomePlan();
  plan.rate = "5/min";
  plan.concurrency = 3;
  plan.base_url = "http://127.0.0.1:9";
  RunSettings settings = Valid();
  settings.db_url = "postgresql://me@db/market";
  auto from_plan = ResolveRunConfig(plan, settings);
  ASSERT_TRUE(from_plan) << from_plan.error().message;
  EXPECT_EQ(from_plan->rate.text, "5/min");
  EXPECT_EQ(from_plan->concurrency, 3);
  EXPECT_FALSE(from_plan->fetch_config.http.compressed) << "no gzip on loopback";
  EXPECT_EQ(from_plan->writers, kDefaultPostgresWriters);
  settings.rate = "10/s";
  settings.concurrency = 5;
  auto explicit_wins = ResolveRunConfig(plan, settings);
  ASSERT_TRUE(explicit_wins);
  EXPECT_EQ(explicit_wins->rate.text, "10/s");
  EXPECT_EQ(explicit_wins->concurrency, 5);
}

TEST(RunConfig, EveryBadSettingIsAUsageErrorNamingIt) {
  struct Case {
    void (*edit)(RunSettings&);
    const char* message;
  };
  const Case cases[] = {
      {[](RunSettings& s) { s.concurrency = 0; }, "concurrency must be 1..256 (got 0)"},
      {[](RunSettings& s) { s.rate = "fast"; }, "rate 'fast' is not a rate (e.g. 150/min, 100/s, free, paid)"},
      {[](RunSettings& s) { s.base_url = "ftp://x"; }, "base URL 'ftp://x' must start with https:// (or http:// for a local simulator)"},
      {[](RunSettings& s) { s.compression = "maybe"; }, "compression must be auto, on or off (got 'maybe')"},
      {[](RunSettings& s) { s.stall_timeout_s = -1; }, "stall timeout must be 0 (the default) to 3600 seconds"},
      {[](RunSettings& s) { s.api_key.clear(); }, "no API key given: a run needs the Polygon/Massive API key"},
      {[](RunSettings& s) { s.writers = 2; }, "writers must be 1 for SQLite (it takes one writer at a time)"},
      {[](RunSettings& s) { s.files_per_transaction = 0; },
       "files per transaction must be 1..64 (more files per transaction: faster loads, more scratch disk, more to redo after a kill)"},
      {[](RunSettings& s) { s.db_url = "mysql://x/y"; },
       "unsupported database URL 'mysql://x/y': use sqlite:PATH, postgresql://[user@]host[:port]/database, or a libpq key=value conninfo"},
      {[](RunSettings& s) { s.db_url = "sqlite:"; }, "empty SQLite path: use sqlite:PATH"},
  };
  for (const Case& c : cases) {
    RunSettings settings = Valid();
    c.edit(settings);
    const auto config = ResolveRunConfig(SomePlan(), settings);
    ASSERT_FALSE(config) << c.message;
    EXPECT_EQ(config.error().code, ErrorCode::kUsage) << c.message;
    EXPECT_EQ(config.error().message, c.message);
  }
  RunSettings dry = Valid();
  dry.api_key.clear();
  dry.dry_run = true;
  EXPECT_TRUE(ResolveRunConfig(SomePlan(), dry)) << "a dry run needs no key";
}

TEST(RunConfig, SourcesAndTheFlatFilesKeys) {
  const auto with_keys = [](RunSettings s) {
    s.files_access_key = "AKID";
    s.files_secret_key = "secret";
    return s;
  };
  // Auto without S3 keys: REST only. With them: the files too, and the defaults of their endpoint.
  auto rest_only = ResolveRunConfig(SomePlan(), Valid());
  ASSERT_TRUE(rest_only);
  EXPECT_FALSE(rest_only->files.has_value());
  auto both = ResolveRunConfig(SomePlan(), with_keys(Valid()));
  ASSERT_TRUE(both) << both.error().message;
  ASSERT_TRUE(both->files.has_value());
  EXPECT_EQ(both->files->endpoint, "https://files.massive.com");
  EXPECT_TRUE(both->UsesRest());
  // Files only: no REST key needed; an all-tickers plan never asks REST.
  RunSettings files = with_keys(Valid());
  files.source = "files";
  files.api_key.clear();
  Plan unadjusted = SomePlan();
  unadjusted.adjusted = false;
  auto files_only = ResolveRunConfig(unadjusted, files);
  ASSERT_TRUE(files_only) << files_only.error().message;
  EXPECT_FALSE(files_only->UsesRest());
  Plan all = unadjusted;
  all.tickers.clear();
  all.all_tickers = AssetClass::kCrypto;
  RunSettings auto_no_key = with_keys(Valid());
  auto_no_key.api_key.clear();
  auto all_auto = ResolveRunConfig(all, auto_no_key);
  ASSERT_TRUE(all_auto) << all_auto.error().message;
  EXPECT_FALSE(all_auto->UsesRest());

  struct Case {
    Plan plan;
    RunSettings settings;
    const char* message;
  };
  RunSettings bad_source = Valid();
  bad_source.source = "ftp";
  RunSettings files_no_keys = Valid();
  files_no_keys.source = "files";
  RunSettings rest = with_keys(Valid());
  rest.source = "rest";
  Plan five_minutes = unadjusted;
  five_minutes.timeframes = {Timeframe(5, Timespan::kMinute)};
  RunSettings bad_url = with_keys(Valid());
  bad_url.files_url = "s3://bucket";
  const Case cases[] = {
      {SomePlan(), bad_source, "source must be auto, rest or files (got 'ftp')"},
      {SomePlan(), files_no_keys,
       "source files needs the flat files' S3 keys: set MASSIVE_S3_ACCESS_KEY_ID and MASSIVE_S3_SECRET_ACCESS_KEY (or "
       "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"},
      {all, rest,
       "tickers all means every ticker of the flat files: give the S3 keys (MASSIVE_S3_ACCESS_KEY_ID, "
       "MASSIVE_S3_SECRET_ACCESS_KEY) and use source auto or files"},
      {five_minutes, files, "source files gives unadjusted 1m and 1d bars only (asked: 5m): use auto to fetch the rest from REST"},
      {SomePlan(), files,
       "source files gives unadjusted 1m and 1d bars only (asked: 1d, adjusted): use auto to fetch the rest from REST, and "
       "adjusted false for the files' bars"},
      {unadjusted, bad_url, "files URL 's3://bucket' must start with https:// (or http:// for a local simulator)"},
  };
  for (const Case& c : cases) {
    const auto config = ResolveRunConfig(c.plan, c.settings);
    ASSERT_FALSE(config) << c.message;
    EXPECT_EQ(config.error().code, ErrorCode::kUsage);
    EXPECT_EQ(config.error().message, c.message);
  }
}

TEST(RunConfig, PasswordsInDatabaseUrlsAreNotShown) {
  RunSettings settings = Valid();
  settings.db_url = "mysql://me:secret@host/db";
  const auto config = ResolveRunConfig(SomePlan(), settings);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().message.find("secret"), std::string::npos) << config.error().message;
}

}  // namespace
}  // namespace barfill::engine
