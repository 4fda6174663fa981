// A plain GET for tests (e.g. the simulator's /__stats and /__requests).
#pragma once

#include <string>

namespace barfill::testing {

/// GETs `url` and returns the body; an empty string on any failure.
std::string HttpGetText(const std::string& url);

}  // namespace barfill::testing
