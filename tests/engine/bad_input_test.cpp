// Bad inputs (docs/fault-model.md §8): each gets one clear "error:" line naming the problem
// and the fix, a distinct exit code, and the database is left exactly as it was.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "sim/sim_server.h"
#include "testing/subprocess.h"

namespace barfill::engine {
namespace {

using testing::CommandResult;

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = sim::SimServer::Start(sim::SimOptions{});
    ASSERT_TRUE(server) << server.error().message;
    sim_ = std::move(*server);
    // A database that already holds a finished small run: bad inputs must not change it.
    const CommandResult seeded = Run({"--tickers", "AAPL", "--timeframes", "1d", "--from", "2025-01-02", "--to", "2025-01-31"});
    ASSERT_EQ(seeded.exit_code, 0) << seeded.err;
    db_bytes_ = testing::ReadFileBytes(db_path_);
    ASSERT_FALSE(db_bytes_.empty());
  }

  // Runs `barfill backfill` with a valid baseline of flags, overridden or extended by `args`.
  CommandResult Run(std::vector<std::string> args, testing::ChildEnv env = {}) {
    std::vector<std::string> full = {testing::BarfillExe(), "backfill"};
    const auto has = [&](const std::string& flag) { return std::find(args.begin(), args.end(), flag) != args.end(); };
    const std::vector<std::pair<std::string, std::string>> defaults = {
        {"--db", "sqlite:" + db_path_}, {"--base-url", sim_->BaseUrl()}, {"--rate", "1000/s"}};
    for (const auto& [flag, value] : defaults) {
      if (!has(flag)) {
        full.push_back(flag);
        full.push_back(value);
      }
    }
    full.push_back("--no-progress");
    full.insert(full.end(), args.begin(), args.end());
    if (env.set.count("POLYGON_API_KEY") == 0 && std::find(env.unset.begin(), env.unset.end(), "POLYGON_API_KEY") == env.unset.end()) {
      env.set["POLYGON_API_KEY"] = "k";
    }
    env.unset.push_back("BARFILL_DB");
    env.unset.push_back("MASSIVE_API_KEY");
    return testing::RunCommand(full, env);
  }

  void ExpectOneLineError(const CommandResult& r, int exit_code, const std::string& message) {
    EXPECT_EQ(r.exit_code, exit_code) << r.err;
    EXPECT_EQ(r.err, "error: " + message + "\n");
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(testing::ReadFileBytes(db_path_), db_bytes_) << "the database must be left as it was";
  }

  testing::TempDir dir_;
  std::string db_path_ = dir_.File("bars.db");
  std::string db_bytes_;
  std::unique_ptr<sim::SimServer> sim_;
};

const std::vector<std::string> kGood = {"--tickers", "AAPL", "--timeframes", "1d", "--from", "2025-01-02", "--to", "2025-01-31"};

std::vector<std::string> With(std::vector<std::string> args, const std::string& flag, const std::string& value) {
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == flag) {
      args[i + 1] = value;
      return args;
    }
  }
  args.push_back(flag);
  args.push_back(value);
  return args;
}

TEST_F(BadInput, UsageErrorsExit2) {
  struct Case { std::vector<std::string> args; std::string message; };
  const std::vector<Case> cases = {
      {With(kGood, "--timeframes", "minutes"),
       "--timeframes: unknown timeframe 'minutes': use N followed by s, m, h, d, w, mo, q or y (e.g. 1m, 5m, 15m, 1h, 1d, 1mo)"},
      {With(kGood, "--timeframes", "0m"), "--timeframes: timeframe '0m': the multiplier must be an integer from 1 to 10000"},
      {With(kGood, "--from", "2024-13-01"), "--from '2024-13-01' is not a valid YYYY-MM-DD date"},
      {With(kGood, "--to", "2025-02-30"), "--to '2025-02-30' is not a valid YYYY-MM-DD date"},
      {With(kGood, "--from", "2025-03-01"), "--from 2025-03-01 must not be after --to 2025-01-31"},
      {With(kGood, "--tickers", ","), "--tickers is required (e.g. AAPL,X:BTCUSD), or give a plan file with --plan"},
      {With(kGood, "--tickers", "BTCUSD"), "--tickers: crypto tickers look like X:BTCUSD (got BTCUSD)"},
      {With(kGood, "--concurrency", "0"), "--concurrency must be 1..256 (got 0)"},
      {With(kGood, "--concurrency", "100000"), "--concurrency must be 1..256 (got 100000)"},
      {With(kGood, "--adjusted", "maybe"), "--adjusted must be true, false or both (got 'maybe')"},
      {With(kGood, "--base-url", "ftp://x"), "--base-url 'ftp://x' must start with https:// (or http:// for a local simulator)"},
      {With(kGood, "--plan", "/nonexistent/plan.toml"), "cannot read plan file /nonexistent/plan.toml"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    ExpectOneLineError(Run(c.args), 2, c.message);
  }
}

TEST_F(BadInput, BadRateExit2) {
  for (const char* rate : {"0/s", "-5/min", "fast", "10/hour"}) {
    const CommandResult r = Run(With(kGood, "--rate", rate));
    EXPECT_EQ(r.exit_code, 2) << rate;
    EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find("--rate"), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(testing::ReadFileBytes(db_path_), db_bytes_);
  }
}

TEST_F(BadInput, MissingApiKeyExit2) {
  testing::ChildEnv env;
  env.unset.push_back("POLYGON_API_KEY");
  ExpectOneLineError(Run(kGood, env), 2,
                     "Polygon API key missing: set POLYGON_API_KEY (or MASSIVE_API_KEY) or pass --api-key (flat files alone: --source files)");
}

TEST_F(BadInput, PlanFileErrorsNameFileAndLine) {
  const std::string plan = dir_.File("plan.toml");
  std::ofstream(plan) << "tickers = [\"AAPL\"]\ntimeframes = [\"1d\"]\nfrom = \"2025-01-02\"\nto = \"2025-01-31\"\nratelimit = \"5/min\"\n";
  ExpectOneLineError(Run({"--plan", plan}), 2, plan + ":5:13: unknown plan key 'ratelimit' (did you mean 'rate'?)");
  std::ofstream(plan) << "tickers = [\"AAPL\"\n";
  const CommandResult syntax = Run({"--plan", plan});
  EXPECT_EQ(syntax.exit_code, 2);
  EXPECT_EQ(syntax.err.rfind("error: " + plan + ":", 0), 0u) << syntax.err;
}

TEST_F(BadInput, UnreachableDatabaseExit4BeforeAnyDownload) {
  const CommandResult refused = Run(With(kGood, "--db", "postgresql://barfill@127.0.0.1:1/nothing?connect_timeout=3"));
  EXPECT_EQ(refused.exit_code, 4) << refused.err;
  EXPECT_EQ(refused.err.rfind("error: ", 0), 0u) << refused.err;
  EXPECT_NE(refused.err.find("127.0.0.1"), std::string::npos) << refused.err;
  const CommandResult no_dir = Run(With(kGood, "--db", "sqlite:/nonexistent-dir/x.db"));
  EXPECT_EQ(no_dir.exit_code, 4) << no_dir.err;
  EXPECT_NE(no_dir.err.find("/nonexistent-dir/x.db"), std::string::npos) << no_dir.err;
  EXPECT_EQ(sim_->Stats().requests, 3) << "only the seeding run's requests reached the API (AAPL's bars, splits, dividends)";
  EXPECT_EQ(testing::ReadFileBytes(db_path_), db_bytes_);
}

TEST_F(BadInput, UnknownFlagExit2) {
  std::vector<std::string> args = kGood;
  args.push_back("--tikkers");
  args.push_back("AAPL");
  const CommandResult r = Run(args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
}

}  // namespace
}  // namespace barfill::engine
