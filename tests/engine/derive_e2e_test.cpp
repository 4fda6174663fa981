// `barfill backfill --derive` into a real SQLite file (derive_e2e.h), and the flags it refuses.
#include "engine/derive_e2e.h"

namespace barfill::engine {
namespace {

TEST_F(DeriveEndToEnd, SqliteDerivedBarsEqualRestAndCostNoRequest) {
  DeriveStory("sqlite:" + dir_.File("derive.db"), "sqlite:" + dir_.File("rest.db"));
}

TEST_F(DeriveEndToEnd, SqliteKill9InsideAFileLeavesEachBarAndMarkOnce) { Kill9Story("sqlite:" + dir_.File("kill.db")); }

TEST_F(DeriveEndToEnd, DeriveWithRestOrAnAdjustedPlanIsAOneLineUsageError) {
  StartSim();
  const std::string db = "sqlite:" + dir_.File("bad.db");
  testing::CommandResult rest = Run(db, "rest", "1m,5m", true);
  EXPECT_EQ(rest.exit_code, 2) << rest.err;
  EXPECT_NE(rest.err.find("derive builds bars from the minute flat files: use source auto or files"), std::string::npos)
      << rest.err;
  EXPECT_EQ(std::count(rest.err.begin(), rest.err.end(), '\n'), 1) << rest.err;
  std::vector<std::string> args = Args(db, "auto", "1m,5m", true);
  *(std::find(args.begin(), args.end(), "--adjusted") + 1) = "true";
  const testing::CommandResult adjusted = testing::RunCommand(args, Env());
  EXPECT_EQ(adjusted.exit_code, 2) << adjusted.err;
  EXPECT_NE(adjusted.err.find("use adjusted false"), std::string::npos) << adjusted.err;
  EXPECT_EQ(std::count(adjusted.err.begin(), adjusted.err.end(), '\n'), 1) << adjusted.err;
  EXPECT_EQ(AggRequests(), 0);
}

}  // namespace
}  // namespace barfill::engine
