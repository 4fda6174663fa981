// Errors as values; the definitions are public (include/barfill/result.h) because every
// function of the installed library returns them.
#pragma once

#include "barfill/result.h"
