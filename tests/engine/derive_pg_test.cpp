// `barfill backfill --derive` into PostgreSQL (the throwaway cluster of scripts/with-postgres.sh).
#include "engine/derive_e2e.h"
#include "store/store_env.h"

namespace barfill::engine {
namespace {

using testing::PostgresEnv;

TEST_F(DeriveEndToEnd, PostgresDerivedBarsEqualRestAndCostNoRequest) {
  BARFILL_REQUIRE_DATABASE(PostgresEnv);
  PostgresEnv derived;
  PostgresEnv rest;
  DeriveStory(derived.Url(), rest.Url());
}

TEST_F(DeriveEndToEnd, PostgresKill9InsideAFileLeavesEachBarAndMarkOnce) {
  BARFILL_REQUIRE_DATABASE(PostgresEnv);
  PostgresEnv db;
  Kill9Story(db.Url());
}

}  // namespace
}  // namespace barfill::engine
