// Grouped daily end to end into PostgreSQL (the throwaway cluster of scripts/with-postgres.sh):
// one request per market day, and the same bars table as per-ticker ranges.
#include "engine/grouped_e2e.h"
#include "store/store_env.h"

namespace barfill::engine {
namespace {

using testing::PostgresEnv;

TEST_F(GroupedEndToEnd, PostgresManyStocksStoreWhatRangesStore) {
  BARFILL_REQUIRE_DATABASE(PostgresEnv);
  const std::vector<std::string> stocks = Stocks(200);
  StartSim(stocks);
  tickers_ = Join(stocks);
  PostgresEnv grouped;
  PostgresEnv ranges;
  ExpectGroupedStoresWhatRangesStore(grouped.Url(), ranges.Url(), 60);
  ResetLog();
  const testing::CommandResult again = Run(grouped.Url());
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(sim_->Stats().data_requests, 0) << "the re-run asks for nothing";
}

}  // namespace
}  // namespace barfill::engine
