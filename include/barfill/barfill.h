// barfill: backfill OHLCV bars from the Polygon.io / Massive aggregates API into PostgreSQL or
// SQLite, and read them back. Link with barfill::barfill (CMake: find_package(barfill)) or
// `pkg-config --libs barfill`.
#pragma once

#include "barfill/backfill.h"
#include "barfill/bar.h"
#include "barfill/result.h"
#include "barfill/run.h"
#include "barfill/store.h"

namespace barfill {

/// The library's version, "MAJOR.MINOR.PATCH".
BARFILL_API const char* Version();

}  // namespace barfill
