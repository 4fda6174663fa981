// The corporate-actions suite on a throwaway PostgreSQL (scripts/with-postgres.sh).
#include "engine/actions_suite.h"

namespace barfill::testing {

INSTANTIATE_TYPED_TEST_SUITE_P(Postgres, ActionsSuite, PostgresEnv);

}  // namespace barfill::testing
