// The SQLite store: one file, WAL, prepared statements reused inside large transactions.
#pragma once

#include <memory>
#include <string>

#include "store/bar_store.h"

namespace barfill::store {

/// Opens (and, when options.create, creates) the SQLite file at `path`. A missing directory, a
/// path that is a directory, an unwritable or foreign file are kDatabase errors naming the path.
Result<std::unique_ptr<BarStore>> OpenSqliteStore(const std::string& path,
                                                  const StoreOptions& options);

}  // namespace barfill::store
