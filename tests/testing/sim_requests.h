// What the simulator was asked for (its /__requests log), and the resume check built on it: a
// chunk the ledger had as done must never be requested again.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/bar_store.h"

namespace barfill::testing {

/// Data requests the simulator at `base_url` logged since its last reset: (path, query).
std::vector<std::pair<std::string, std::string>> SimRequests(const std::string& base_url);

/// The first of `requests` whose range starts inside one of `done` (a done chunk fetched again),
/// as "path?query"; nullopt when there is none.
std::optional<std::string> RequestIntoDoneChunk(const std::vector<std::pair<std::string, std::string>>& requests,
                                                const std::vector<LedgerEntry>& done);

}  // namespace barfill::testing
