// OHLCV bars; the definitions are public (include/barfill/bar.h) because the installed library
// reads them back to its users.
#pragma once

#include "barfill/bar.h"
