// The store suite on SQLite files, and what only SQLite has: paths.
#include <filesystem>

#include "store_env.h"
#include "store_suite.h"
#include "verification_suite.h"

namespace barfill::testing {
namespace {

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, StoreSuite, SqliteEnv);
INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, VerificationSuite, SqliteEnv);

TEST(SqlitePaths, AMissingDirectoryIsAClearError) {
  auto store = OpenStore("sqlite:/nonexistent-barfill-dir/sub/bars.db");
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::kDatabase);
  EXPECT_EQ(store.error().message,
            "SQLite database /nonexistent-barfill-dir/sub/bars.db: directory "
            "/nonexistent-barfill-dir/sub does not exist; create it first");
  EXPECT_FALSE(std::filesystem::exists("/nonexistent-barfill-dir"));
}

TEST(SqlitePaths, ADirectoryIsNotADatabase) {
  TempDir dir;
  auto store = OpenStore("sqlite:" + dir.path());
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::kDatabase);
  EXPECT_EQ(store.error().message,
            "SQLite database " + dir.path() + ": " + dir.path() + " is a directory, not a file");
}

TEST(SqlitePaths, AFileThatIsNotADatabaseIsRefusedAtOpen) {
  TempDir dir;
  const std::string path = dir.File("notes.txt");
  std::ofstream(path) << "these are not the bars you are looking for\n";
  auto store = OpenStore("sqlite:" + path);
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::kDatabase);
  EXPECT_THAT(store.error().message,
              ::testing::HasSubstr("file is not a database; this file is not a barfill SQLite database"));
}

TEST(SqlitePaths, AnUnwritableLocationIsAClearError) {
  // /proc refuses new files even to root, unlike a chmod'ed directory.
  auto store = OpenStore("sqlite:/proc/barfill-test.db");
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::kDatabase);
  EXPECT_THAT(store.error().message, ::testing::StartsWith("SQLite database /proc/barfill-test.db: "));
}

TEST(SqlitePaths, StatusAndExportNeverCreateTheFile) {
  TempDir dir;
  const std::string path = dir.File("missing.db");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {BarfillExe(), "status", "--db", "sqlite:" + path},
           {BarfillExe(), "export", "--ticker", "AAPL", "--timeframe", "1m", "--db", "sqlite:" + path}}) {
    const CommandResult result = RunCommand(args);
    EXPECT_EQ(result.exit_code, 4);
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(result.err, "error: SQLite database " + path +
                              " does not exist (nothing was backfilled into it yet); check the database URL\n");
    EXPECT_FALSE(std::filesystem::exists(path));
  }
  // The default comes from BARFILL_DB.
  ChildEnv env;
  env.set["BARFILL_DB"] = "sqlite:" + path;
  const CommandResult result = RunCommand({BarfillExe(), "status"}, env);
  EXPECT_EQ(result.exit_code, 4);
  EXPECT_THAT(result.err, ::testing::HasSubstr(path));
}

TEST(StoreUrls, UnsupportedSchemesAreRefusedWithoutShowingThePassword) {
  auto store = OpenStore("mysql://trader:s3cret@db.example/bars");
  ASSERT_FALSE(store);
  EXPECT_EQ(store.error().code, ErrorCode::kUsage) << "a wrong scheme is a usage error (exit 2)";
  EXPECT_EQ(store.error().message,
            "unsupported database URL 'mysql://…@db.example/bars': use sqlite:PATH, "
            "postgresql://[user@]host[:port]/database, or a libpq key=value conninfo");
}

}  // namespace
}  // namespace barfill::testing
