// The one JSON string escaper: reports, status, export and the simulator's bodies share it.
#pragma once

#include <string>
#include <string_view>

namespace barfill {

/// Hands `emit` the JSON-escaped form of `text` (without quotes) in pieces: runs of plain
/// characters as they are, and escapes for quotes, backslashes and control characters.
template <typename Emit>
void EscapeJson(std::string_view text, Emit&& emit) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  size_t plain = 0;  // start of the current run of characters that need no escape
  for (size_t i = 0; i < text.size(); ++i) {
    const auto u = static_cast<unsigned char>(text[i]);
    if (u >= 0x20 && text[i] != '"' && text[i] != '\\') continue;
    if (i > plain) emit(text.substr(plain, i - plain));
    plain = i + 1;
    switch (text[i]) {
      case '"': emit(std::string_view("\\\"")); break;
      case '\\': emit(std::string_view("\\\\")); break;
      case '\n': emit(std::string_view("\\n")); break;
      case '\r': emit(std::string_view("\\r")); break;
      case '\t': emit(std::string_view("\\t")); break;
      default: {
        const char escape[6] = {'\\', 'u', '0', '0', kHex[u >> 4], kHex[u & 15]};
        emit(std::string_view(escape, sizeof escape));
      }
    }
  }
  if (plain < text.size()) emit(text.substr(plain));
}

/// `text` as a JSON string literal, quotes included.
std::string JsonQuote(std::string_view text);

}  // namespace barfill
