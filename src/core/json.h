// The one JSON string writer the reports, status and export share.
#pragma once

#include <string>
#include <string_view>

namespace barfill {

/// `text` as a JSON string literal, quotes included, with control characters escaped.
std::string JsonQuote(std::string_view text);

}  // namespace barfill
