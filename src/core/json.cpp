#include "core/json.h"

namespace barfill {

std::string JsonQuote(std::string_view text) {
  std::string out = "\"";
  EscapeJson(text, [&](std::string_view piece) { out += piece; });
  return out + "\"";
}

}  // namespace barfill
