// The PostgreSQL store: COPY BINARY writes, replace-range idempotence, retried transactions.
#pragma once

#include <memory>
#include <string>

#include "store/bar_store.h"

namespace barfill::store {

/// Connects (libpq URI, conninfo, or "" for the PG* environment) and checks that the server is
/// reachable and, unless !options.create, writable.
Result<std::unique_ptr<BarStore>> OpenPostgresStore(const std::string& conninfo,
                                                    const StoreOptions& options);

}  // namespace barfill::store
