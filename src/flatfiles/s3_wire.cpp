#include "flatfiles/s3_wire.h"

#include <pugixml.hpp>

#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "core/market_time.h"

namespace barfill::flatfiles {
namespace {

constexpr size_t kMaxShownError = 160;

Unexpected BadListing(const std::string& why) {
  return Fail(ErrorCode::kBadResponse, "the S3 listing answer is unreadable: " + why);
}

/// Digits at text[pos, pos + n) as a number, or -1.
int Digits(std::string_view text, size_t pos, size_t n) {
  if (pos + n > text.size()) return -1;
  int value = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

std::optional<int64_t> ToUnixMs(int year, int month, int day, int hour, int minute, int second, int ms) {
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 60 || ms < 0) {
    return std::nullopt;
  }
  char text[48];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d", year, month, day);
  const auto date = CalendarDay::Parse(text);
  if (!date) return std::nullopt;
  return date->DaysSinceEpoch() * kMsPerDay + hour * kMsPerHour + minute * kMsPerMinute +
         second * kMsPerSecond + ms;
}

std::optional<int64_t> ParseInt64(std::string_view text) {
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

Result<ListPage> ParseListing(std::string_view xml) {
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size());
  if (!parsed) {
    return BadListing(std::string(parsed.description()) + " at byte " + std::to_string(parsed.offset));
  }
  const pugi::xml_node root = doc.child("ListBucketResult");
  if (!root) {
    const pugi::xml_node first = doc.first_child();
    return BadListing("the document is <" + std::string(first ? first.name() : "") +
                      ">, not <ListBucketResult>");
  }
  ListPage page;
  page.truncated = std::strcmp(root.child_value("IsTruncated"), "true") == 0;
  page.next_continuation_token = root.child_value("NextContinuationToken");
  for (const pugi::xml_node contents : root.children("Contents")) {
    ObjectInfo info;
    info.key = contents.child_value("Key");
    if (info.key.empty()) return BadListing("an entry has no <Key>");
    info.etag = UnquoteEtag(contents.child_value("ETag"));
    const auto size = ParseInt64(contents.child_value("Size"));
    if (!size || *size < 0) {
      return BadListing("entry " + info.key + " has <Size>" + contents.child_value("Size") + "</Size>");
    }
    info.size = *size;
    const auto modified = ParseIsoTimeMs(contents.child_value("LastModified"));
    if (!modified) {
      return BadListing("entry " + info.key + " has <LastModified>" + contents.child_value("LastModified") +
                        "</LastModified>");
    }
    info.last_modified_ms = *modified;
    page.objects.push_back(std::move(info));
  }
  for (const pugi::xml_node common : root.children("CommonPrefixes")) {
    page.common_prefixes.emplace_back(common.child_value("Prefix"));
  }
  if (page.truncated && page.next_continuation_token.empty()) {
    return BadListing("IsTruncated is true but there is no NextContinuationToken");
  }
  return page;
}

S3ErrorBody ParseErrorBody(std::string_view xml) {
  S3ErrorBody out;
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size())) return out;
  const pugi::xml_node error = doc.child("Error");
  out.code = error.child_value("Code");
  out.message = error.child_value("Message");
  // One line, and short: the message ends up inside ours.
  for (char& c : out.message) {
    if (c == '\r' || c == '\n' || c == '\t') c = ' ';
  }
  if (out.message.size() > kMaxShownError) out.message = out.message.substr(0, kMaxShownError) + "...";
  return out;
}

std::optional<int64_t> ParseIsoTimeMs(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.fff]Z
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text.back() != 'Z') {
    return std::nullopt;
  }
  int ms = 0;
  const std::string_view fraction = text.substr(19, text.size() - 20);
  if (!fraction.empty()) {
    if (fraction[0] != '.' || fraction.size() < 2) return std::nullopt;
    int scale = 100;
    for (size_t i = 1; i < fraction.size(); ++i) {
      if (fraction[i] < '0' || fraction[i] > '9') return std::nullopt;
      ms += (fraction[i] - '0') * scale;
      scale /= 10;
    }
  }
  return ToUnixMs(Digits(text, 0, 4), Digits(text, 5, 2), Digits(text, 8, 2), Digits(text, 11, 2),
                  Digits(text, 14, 2), Digits(text, 17, 2), ms);
}

std::optional<int64_t> ParseHttpDateMs(std::string_view text) {
  // "Sat, 02 Sep 2023 17:44:38 GMT" (RFC 1123, the form every S3 server sends)
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (text.size() != 29 || text[3] != ',' || text.substr(26) != "GMT") return std::nullopt;
  int month = 0;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (text.substr(8, 3) == kMonths[i]) month = static_cast<int>(i) + 1;
  }
  if (month == 0 || text[19] != ':' || text[22] != ':') return std::nullopt;
  return ToUnixMs(Digits(text, 12, 4), month, Digits(text, 5, 2), Digits(text, 17, 2), Digits(text, 20, 2),
                  Digits(text, 23, 2), 0);
}

std::string UnquoteEtag(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') etag = etag.substr(1, etag.size() - 2);
  return std::string(etag);
}

}  // namespace barfill::flatfiles
