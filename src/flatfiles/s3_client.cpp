#include "flatfiles/s3_client.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>

#include "flatfiles/s3_wire.h"

namespace barfill::flatfiles {
namespace {

// libcurl 7.88 hashes an empty payload but never sends the header; S3 servers insist on it.
constexpr std::string_view kUnsignedPayload = "x-amz-content-sha256: UNSIGNED-PAYLOAD";
constexpr size_t kMaxListingBytes = 32 << 20;  // a 1000-key page is about 300 kB
constexpr int kMaxListingPages = 1'000'000;
constexpr std::string_view kCredentialsHint =
    "the S3 Access Key and Secret Key from the Massive dashboard (MASSIVE_S3_ACCESS_KEY_ID and "
    "MASSIVE_S3_SECRET_ACCESS_KEY, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); they are not "
    "the REST API key";

bool HasSpaceOrControl(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    return std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c));
  });
}

Status CheckOptions(S3Options& options) {
  std::string& endpoint = options.endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  const size_t scheme_end = endpoint.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : endpoint.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    return Fail(ErrorCode::kUsage, "S3 endpoint '" + endpoint +
                                       "' must start with https:// (e.g. https://files.massive.com)");
  }
  const std::string host = endpoint.substr(scheme_end + 3);
  if (host.empty() || host.find_first_of("/?#@ ") != std::string::npos) {
    return Fail(ErrorCode::kUsage, "S3 endpoint '" + endpoint +
                                       "' must be scheme://host[:port] only; the bucket is a separate "
                                       "setting (e.g. https://files.massive.com and bucket flatfiles)");
  }
  const bool bucket_ok = !options.bucket.empty() && options.bucket.size() <= 63 &&
                         std::all_of(options.bucket.begin(), options.bucket.end(), [](char c) {
                           return std::islower(static_cast<unsigned char>(c)) ||
                                  std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.';
                         });
  if (!bucket_ok) {
    return Fail(ErrorCode::kUsage, "S3 bucket '" + options.bucket +
                                       "' is not a bucket name (lower-case letters, digits, '-' and '.'); "
                                       "the flat files are in bucket flatfiles");
  }
  const bool region_ok = !options.region.empty() &&
                         std::all_of(options.region.begin(), options.region.end(), [](char c) {
                           return std::islower(static_cast<unsigned char>(c)) ||
                                  std::isdigit(static_cast<unsigned char>(c)) || c == '-';
                         });
  if (!region_ok) {
    return Fail(ErrorCode::kUsage, "S3 region '" + options.region + "' is not a region name; use us-east-1");
  }
  if (options.access_key_id.empty() || options.secret_access_key.empty()) {
    return Fail(ErrorCode::kUsage, std::string(options.access_key_id.empty() ? "no S3 access key id" : "no S3 secret key") +
                                       ": set " + std::string(kCredentialsHint));
  }
  if (HasSpaceOrControl(options.access_key_id)) {
    return Fail(ErrorCode::kUsage, "the S3 access key id contains a space or line break: copy it again");
  }
  if (HasSpaceOrControl(options.secret_access_key)) {
    return Fail(ErrorCode::kUsage, "the S3 secret key contains a space or line break: copy it again");
  }
  return Ok();
}

/// Removes the secret key from text shown to people.
std::string Scrub(std::string_view text, const S3Options& options) {
  return http::Redact(text, {options.secret_access_key});
}

/// The error an S3 error answer stands for, chosen by what the caller should do about it.
Error S3Failure(int status, const http::StreamResponse& answer, bool listing, std::string_view subject,
                const S3Options& options) {
  const S3ErrorBody body = ParseErrorBody(answer.error_body);
  const std::string& code = body.code;
  const std::string what = listing ? "listing '" + std::string(subject) + "'" : std::string(subject);
  const std::string said = code.empty() ? "" : " (" + code + (body.message.empty() ? "" : ": " + body.message) + ")";
  ErrorCode kind = ErrorCode::kBadRequest;
  std::string message;
  if (code == "InvalidAccessKeyId") {
    kind = ErrorCode::kAuth;
    message = "S3 does not know the access key id '" + options.access_key_id + "'" + said + "; use " +
              std::string(kCredentialsHint);
  } else if (code == "SignatureDoesNotMatch") {
    kind = ErrorCode::kAuth;
    message = "S3 refused the request signature" + said + ": the secret key does not belong to access key id '" +
              options.access_key_id + "'; use " + std::string(kCredentialsHint);
  } else if (code == "RequestTimeTooSkewed") {
    kind = ErrorCode::kAuth;
    message = "S3 refused the request time" + said +
              ": this machine's clock is more than 15 minutes off; synchronize it (NTP) and retry";
  } else if (code == "AuthorizationHeaderMalformed" || status == 301) {
    kind = ErrorCode::kConfig;
    message = "S3 refused the signature's scope" + said + ": set the S3 region the server expects (region '" +
              options.region + "' was used; the flat files answer to us-east-1)";
  } else if (code == "NoSuchBucket") {
    kind = ErrorCode::kConfig;
    message = "S3 has no bucket '" + options.bucket + "'" + said + " at " + options.endpoint +
              "; the flat files are in bucket flatfiles";
  } else if (code == "PreconditionFailed" || status == 412) {
    kind = ErrorCode::kBadResponse;
    message = what + " was replaced during the download (its ETag changed; HTTP 412): start it over from byte 0";
  } else if (code == "SlowDown" || status == 503) {
    kind = ErrorCode::kServerError;
    message = "S3 asked to slow down on " + what + said + ": retry after a pause, with fewer parallel downloads";
  } else if (status == 429) {
    kind = ErrorCode::kRateLimited;
    message = "S3 rate-limited " + what + said + ": retry after a pause, with fewer parallel downloads";
  } else if (status >= 500 || status == 408) {
    kind = ErrorCode::kServerError;
    message = "S3 server error on " + what + said + ": retry later";
  } else if (code == "NoSuchKey" || status == 404) {
    kind = ErrorCode::kNotFound;
    message = what + " does not exist" + said +
              ": not published (yet) for that date, or no session that day; check the listing";
  } else if (status == 403 && listing) {
    kind = ErrorCode::kAuth;
    message = "S3 denied " + what + said +
              ": the account has no flat-files access (the Basic plan has none) or its agreements are "
              "unsigned; check the Massive dashboard";
  } else if (status == 403) {
    kind = ErrorCode::kNotFound;
    message = what + ": access denied" + (said.empty() ? " (HEAD answers carry no reason)" : said) +
              ": absent or not entitled: outside the plan's history or asset classes, not published yet, "
              "or agreements unsigned" + (said.empty() ? " (or the credentials are refused: a listing tells)" : "");
  } else if (status == 416) {
    message = what + ": the requested range starts past the end of the object" + said;
  } else {
    message = "S3 answered HTTP " + std::to_string(status) + " to " + what + said;
  }
  Error error(kind, Scrub(message, options));
  error.http_status = status;
  error.retry_after = answer.retry_after;
  return error;
}

/// bytes a-b/size of a Content-Range header: {a, size}, or nullopt.
std::optional<std::pair<int64_t, int64_t>> ParseContentRange(std::string_view value) {
  constexpr std::string_view kUnit = "bytes ";
  if (value.substr(0, kUnit.size()) != kUnit) return std::nullopt;
  value.remove_prefix(kUnit.size());
  const size_t dash = value.find('-');
  const size_t slash = value.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) return std::nullopt;
  int64_t first = 0;
  int64_t size = 0;
  const std::string_view a = value.substr(0, dash);
  const std::string_view total = value.substr(slash + 1);
  if (std::from_chars(a.data(), a.data() + a.size(), first).ec != std::errc() ||
      std::from_chars(total.data(), total.data() + total.size(), size).ec != std::errc()) {
    return std::nullopt;
  }
  return std::make_pair(first, size);
}

int64_t ContentLength(const http::StreamResponse& answer) {
  const std::string_view text = answer.Header("content-length");
  int64_t n = -1;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

ObjectInfo InfoFromHeaders(std::string_view key, const http::StreamResponse& answer) {
  ObjectInfo info;
  info.key = std::string(key);
  info.etag = UnquoteEtag(answer.Header("etag"));
  info.size = ContentLength(answer);
  if (const auto range = ParseContentRange(answer.Header("content-range"))) info.size = range->second;
  info.last_modified_ms = ParseHttpDateMs(answer.Header("last-modified")).value_or(0);
  return info;
}

}  // namespace

std::string UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

std::string CanonicalQuery(std::vector<std::pair<std::string, std::string>> params) {
  for (auto& [name, value] : params) {
    name = UriEncode(name, false);
    value = UriEncode(value, false);
  }
  std::sort(params.begin(), params.end());
  std::string query;
  for (const auto& [name, value] : params) {
    if (!query.empty()) query += '&';
    query += name + "=" + value;
  }
  return query;
}

// ---- S3Client -------------------------------------------------------------------------------

S3Client::S3Client(S3Options options) : options_(std::move(options)) {
  credentials_.access_key_id = options_.access_key_id;
  credentials_.secret_access_key = options_.secret_access_key;
  credentials_.region = options_.region;
  credentials_.service = "s3";
  http::HttpOptions http_options;
  http_options.connect_timeout_ms = options_.connect_timeout_ms;
  http_options.low_speed_bytes_per_s = options_.low_speed_bytes_per_s;
  http_options.low_speed_time_ms = options_.low_speed_time_ms;
  http_options.request_timeout_ms = options_.get_timeout_ms;
  http_options.ca_file = options_.ca_file;
  http_options.user_agent = options_.user_agent;
  http_options.compressed = false;  // the objects are gzip already; listings are small
  http_options.secrets = {options_.secret_access_key};
  http_ = std::make_unique<http::HttpClient>(std::move(http_options));
}

S3Client::~S3Client() = default;

Result<std::unique_ptr<S3Client>> S3Client::Create(S3Options options) {
  BARFILL_TRY(CheckOptions(options));
  return std::unique_ptr<S3Client>(new S3Client(std::move(options)));
}

int64_t S3Client::connections_opened() const { return http_->connections_opened(); }

std::string S3Client::ObjectUrl(std::string_view key) const {
  return options_.endpoint + "/" + options_.bucket + "/" + UriEncode(key, true);
}

Result<http::StreamResponse> S3Client::Send(http::StreamRequest request, bool listing, std::string_view subject) {
  request.headers.emplace_back(kUnsignedPayload);
  request.sigv4 = &credentials_;
  auto answer = http_->Stream(request);
  if (!answer) {
    Error error = std::move(answer).error();
    error.message = Scrub(error.message, options_);
    return Fail(std::move(error));
  }
  if (answer->status < 200 || answer->status >= 300) {
    Error error = S3Failure(answer->status, *answer, listing, subject, options_);
    error.request = Scrub(request.url, options_);
    return Fail(std::move(error));
  }
  return answer;
}

Result<ListPage> S3Client::List(const ListRequest& request) {
  std::vector<std::pair<std::string, std::string>> params = {{"list-type", "2"}};
  if (!request.prefix.empty()) params.emplace_back("prefix", request.prefix);
  if (!request.delimiter.empty()) params.emplace_back("delimiter", request.delimiter);
  if (request.max_keys > 0) params.emplace_back("max-keys", std::to_string(request.max_keys));
  if (!request.continuation_token.empty()) params.emplace_back("continuation-token", request.continuation_token);
  if (!request.start_after.empty()) params.emplace_back("start-after", request.start_after);

  std::string body;
  bool too_big = false;
  http::StreamRequest call;
  call.url = options_.endpoint + "/" + options_.bucket + "?" + CanonicalQuery(std::move(params));
  call.timeouts.request_timeout_ms = options_.list_timeout_ms;
  call.on_body = [&](std::string_view bytes) {
    if (body.size() + bytes.size() > kMaxListingBytes) {
      too_big = true;
      return false;
    }
    body.append(bytes);
    return true;
  };
  auto answer = Send(std::move(call), true, request.prefix);
  if (too_big) {
    return Fail(ErrorCode::kBadResponse, "the S3 listing page of '" + request.prefix + "' is larger than " +
                                             std::to_string(kMaxListingBytes >> 20) + " MiB; refusing it");
  }
  if (!answer) return Fail(std::move(answer).error());
  return ParseListing(body);
}

Result<Listing> S3Client::ListAll(std::string_view prefix, std::string_view delimiter) {
  Listing listing;
  ListRequest request;
  request.prefix = std::string(prefix);
  request.delimiter = std::string(delimiter);
  std::set<std::string> tokens_seen;
  while (true) {
    auto page = List(request);
    if (!page) return Fail(std::move(page).error());
    ++listing.pages;
    for (ObjectInfo& info : page->objects) listing.objects.push_back(std::move(info));
    for (std::string& common : page->common_prefixes) listing.common_prefixes.push_back(std::move(common));
    if (!page->truncated) return listing;
    // A server that hands back a token it gave before would make this loop forever.
    if (!tokens_seen.insert(page->next_continuation_token).second || listing.pages >= kMaxListingPages) {
      return Fail(ErrorCode::kBadResponse, "the S3 listing of '" + std::string(prefix) +
                                               "' repeats a continuation token; stopping after " +
                                               std::to_string(listing.pages) + " pages");
    }
    request.continuation_token = page->next_continuation_token;
  }
}

Result<ObjectInfo> S3Client::Head(std::string_view key) {
  http::StreamRequest call;
  call.url = ObjectUrl(key);
  call.head_only = true;
  call.timeouts.request_timeout_ms = options_.head_timeout_ms;
  auto answer = Send(std::move(call), false, key);
  if (!answer) return Fail(std::move(answer).error());
  return InfoFromHeaders(key, *answer);
}

Result<GetResult> S3Client::Get(std::string_view key, const GetOptions& options, const ByteSink& sink) {
  GetResult result;
  result.offset = options.offset;
  http::StreamRequest call;
  call.url = ObjectUrl(key);
  if (options.offset > 0) call.headers.push_back("Range: bytes=" + std::to_string(options.offset) + "-");
  if (!options.if_match.empty()) call.headers.push_back("If-Match: \"" + options.if_match + "\"");
  call.timeouts.request_timeout_ms = options_.get_timeout_ms;

  Status sink_status;
  std::string start_problem;
  int64_t skip = 0;  // a server that ignores Range sends the whole object: skip what we have
  call.on_headers = [&](const http::StreamResponse& answer) {
    result.info = InfoFromHeaders(key, answer);
    if (answer.status == 206) {
      const auto range = ParseContentRange(answer.Header("content-range"));
      if (!range || range->first != options.offset) {
        start_problem = "asked for bytes from " + std::to_string(options.offset) + " and got Content-Range '" +
                        std::string(answer.Header("content-range")) + "'";
        return false;
      }
    } else {
      skip = options.offset;
    }
    if (options.on_start) options.on_start(result.info);
    return true;
  };
  call.on_body = [&](std::string_view bytes) {
    if (skip > 0) {
      const int64_t dropped = std::min<int64_t>(skip, static_cast<int64_t>(bytes.size()));
      bytes.remove_prefix(static_cast<size_t>(dropped));
      skip -= dropped;
      if (bytes.empty()) return true;
    }
    sink_status = sink(bytes);
    if (!sink_status) return false;
    result.bytes += static_cast<int64_t>(bytes.size());
    return true;
  };
  auto answer = Send(std::move(call), false, key);
  if (!sink_status) return Fail(std::move(sink_status).error());
  if (!start_problem.empty()) {
    return Fail(ErrorCode::kBadResponse, std::string(key) + ": the answer does not start where asked: " + start_problem);
  }
  if (!answer) return Fail(std::move(answer).error());
  if (skip > 0) {
    return Fail(ErrorCode::kBadResponse, std::string(key) + ": the object is shorter than the " +
                                             std::to_string(options.offset) + " bytes already received");
  }
  return result;
}

// ---- ObjectDownload -------------------------------------------------------------------------

ObjectDownload::ObjectDownload(S3Client* client, std::string key) : client_(client), key_(std::move(key)) {}

Status ObjectDownload::Continue(const ByteSink& sink) {
  replaced_ = false;
  if (complete_) return Ok();
  if (size_ >= 0 && received_ >= size_) {
    complete_ = true;  // every byte arrived before the last failure
    return Ok();
  }
  GetOptions options;
  options.offset = received_;
  options.if_match = etag_;
  options.on_start = [&](const ObjectInfo& info) {
    if (etag_.empty()) {
      etag_ = info.etag;
      size_ = info.size;
      last_modified_ms_ = info.last_modified_ms;
    }
  };
  ++attempts_;
  if (received_ > 0) ++resumes_;
  const ByteSink counting = [&](std::string_view bytes) -> Status {
    BARFILL_TRY(sink(bytes));
    received_ += static_cast<int64_t>(bytes.size());
    return Ok();
  };
  auto got = client_->Get(key_, options, counting);
  if (!got) {
    if (got.error().http_status == 412) {
      replaced_ = true;
      received_ = 0;
      size_ = -1;
      etag_.clear();
    }
    return Fail(std::move(got).error());
  }
  if (size_ >= 0 && received_ != size_) {
    return Fail(ErrorCode::kTransport, key_ + ": the answer ended at byte " + std::to_string(received_) + " of " +
                                           std::to_string(size_) + "; resume it");
  }
  complete_ = true;
  return Ok();
}

}  // namespace barfill::flatfiles
