// The corporate-actions suite on SQLite files.
#include "engine/actions_suite.h"

namespace barfill::testing {

INSTANTIATE_TYPED_TEST_SUITE_P(Sqlite, ActionsSuite, SqliteEnv);

}  // namespace barfill::testing
