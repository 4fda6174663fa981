// The simulator's S3 answers over loopback, as any S3 client sees them: the curl command-line
// tool signing with its own --aws-sigv4, and libcurl through src/http for the finer points
// (XML shape, Range, conditional requests, HEAD, V1 listings, argument errors).
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>

#include "http/http_client.h"
#include "sim/sim_server.h"

namespace barfill::sim {
namespace {

constexpr const char* kAccess = "AKIDSIMAPITEST";
constexpr const char* kSecret = "sim/api+secret=";
const std::string kKey = "us_stocks_sip/day_aggs_v1/2025/03/2025-03-04.csv.gz";

std::unique_ptr<SimServer> StartBucket(S3SimOptions s3 = {}) {
  SimOptions options;
  s3.universe = {*Ticker::Parse("AAPL"), *Ticker::Parse("MSFT")};
  s3.first_day = {2025, 3, 3};
  s3.last_day = {2025, 3, 7};
  s3.signing.access_key_id = kAccess;
  s3.signing.secret_access_key = kSecret;
  s3.now_ms = [] { return MarketZone::NewYork().DayStartMs({2025, 4, 1}); };
  options.s3 = std::move(s3);
  auto server = SimServer::Start(options);
  EXPECT_TRUE(server) << (server ? "" : server.error().message);
  return server ? std::move(*server) : nullptr;
}

/// Runs the curl command-line tool; its stdout (headers first with -i).
std::string RunCurl(const std::string& args) {
  const std::string command = "curl -s -i --aws-sigv4 aws:amz:us-east-1:s3 --user " + std::string(kAccess) + ":" +
                              kSecret + " -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' " + args + " 2>&1";
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  size_t n = 0;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  pclose(pipe);
  return out;
}

/// One signed request through libcurl; the body whatever the status.
struct Answer {
  int status = 0;
  http::StreamResponse response;
  std::string body;
};

Answer Send(const SimServer& server, const std::string& target, std::vector<std::string> headers = {},
            bool head = false) {
  http::HttpClient client(http::HttpOptions{});
  const http::SigV4Credentials credentials{kAccess, kSecret};
  http::StreamRequest request;
  request.url = server.BaseUrl() + target;
  request.headers = std::move(headers);
  request.headers.push_back("x-amz-content-sha256: UNSIGNED-PAYLOAD");
  request.sigv4 = &credentials;
  request.head_only = head;
  Answer answer;
  request.on_body = [&](std::string_view bytes) {
    answer.body.append(bytes);
    return true;
  };
  auto got = client.Stream(request);
  EXPECT_TRUE(got) << (got ? "" : got.error().message);
  if (!got) return answer;
  answer.status = got->status;
  answer.response = *got;
  if (answer.status >= 300) answer.body = got->error_body;
  return answer;
}

TEST(S3ApiTest, TheCurlToolsOwnSignerIsAccepted) {
  auto server = StartBucket();
  ASSERT_TRUE(server);
  std::string out = RunCurl("'" + server->BaseUrl() + "/flatfiles?list-type=2&max-keys=2'");
  EXPECT_NE(out.find("HTTP/1.1 200"), std::string::npos) << out;
  // The listing as S3 (Ceph RGW) writes it.
  EXPECT_NE(out.find("<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>flatfiles</Name>"
                     "<Prefix></Prefix>"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>"), std::string::npos);
  EXPECT_TRUE(std::regex_search(out, std::regex("<NextContinuationToken>[A-Za-z0-9+/=]+</NextContinuationToken>")));
  EXPECT_TRUE(std::regex_search(
      out, std::regex("<Contents><Key>us_stocks_sip/day_aggs_v1/2025/03/2025-03-03.csv.gz</Key>"
                      "<LastModified>2025-03-04T03:00:00.000Z</LastModified><ETag>&quot;[0-9a-f]{32}&quot;</ETag>"
                      "<Size>[0-9]+</Size><StorageClass>STANDARD</StorageClass><Type>Normal</Type></Contents>")))
      << out;
  // A byte range of an object, with curl's own -r (not a signed header).
  out = RunCurl("-r 0-9 '" + server->BaseUrl() + "/flatfiles/" + kKey + "'");
  EXPECT_NE(out.find("HTTP/1.1 206"), std::string::npos) << out;
  EXPECT_NE(out.find("Content-Range: bytes 0-9/"), std::string::npos);
  EXPECT_NE(out.find("\r\n\r\n\x1f\x8b"), std::string::npos) << "a gzip file starts 1f 8b";
  // And a wrong secret, through the same tool.
  const std::string wrong = "curl -s --aws-sigv4 aws:amz:us-east-1:s3 --user " + std::string(kAccess) +
                            ":wrong -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' '" + server->BaseUrl() +
                            "/flatfiles?list-type=2'";
  FILE* pipe = popen(wrong.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char buffer[8192];
  const size_t n = fread(buffer, 1, sizeof buffer, pipe);
  pclose(pipe);
  EXPECT_NE(std::string(buffer, n).find("<Code>SignatureDoesNotMatch</Code>"), std::string::npos);
}

TEST(S3ApiTest, RangesAndConditionalRequests) {
  auto server = StartBucket();
  ASSERT_TRUE(server);
  const std::string target = "/flatfiles/" + kKey;
  const Answer whole = Send(*server, target);
  ASSERT_EQ(whole.status, 200);
  const std::string etag(whole.response.Header("etag"));
  ASSERT_EQ(etag.size(), 34u);
  EXPECT_EQ(whole.response.Header("accept-ranges"), "bytes");
  EXPECT_FALSE(whole.response.Header("last-modified").empty());
  const size_t size = whole.body.size();

  Answer part = Send(*server, target, {"Range: bytes=10-"});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, whole.body.substr(10));
  EXPECT_EQ(part.response.Header("content-range"), "bytes 10-" + std::to_string(size - 1) + "/" + std::to_string(size));
  part = Send(*server, target, {"Range: bytes=-20"});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, whole.body.substr(size - 20));
  part = Send(*server, target, {"Range: bytes=5-9"});
  EXPECT_EQ(part.body, whole.body.substr(5, 5));
  part = Send(*server, target, {"Range: bytes=" + std::to_string(size) + "-"});
  EXPECT_EQ(part.status, 416);
  EXPECT_EQ(part.response.Header("content-range"), "bytes */" + std::to_string(size));
  EXPECT_NE(part.body.find("<Code>InvalidRange</Code>"), std::string::npos);
  part = Send(*server, target, {"Range: bytes=0-1,5-6"});  // several ranges: ignored, as HTTP allows
  EXPECT_EQ(part.status, 200);
  EXPECT_EQ(part.body, whole.body);

  Answer conditional = Send(*server, target, {"If-None-Match: " + etag});
  EXPECT_EQ(conditional.status, 304);
  EXPECT_TRUE(conditional.body.empty());
  conditional = Send(*server, target, {"If-Match: \"0123456789abcdef0123456789abcdef\""});
  EXPECT_EQ(conditional.status, 412);
  EXPECT_NE(conditional.body.find("<Code>PreconditionFailed</Code>"), std::string::npos);
  conditional = Send(*server, target, {"If-Match: " + etag, "Range: bytes=100-"});
  EXPECT_EQ(conditional.status, 206);
  EXPECT_EQ(conditional.body, whole.body.substr(100));
}

TEST(S3ApiTest, HeadAnswersCarryNoBody) {
  S3SimOptions s3;
  s3.missing_key_status = 403;
  auto server = StartBucket(s3);
  ASSERT_TRUE(server);
  const Answer whole = Send(*server, "/flatfiles/" + kKey);
  Answer head = Send(*server, "/flatfiles/" + kKey, {}, true);
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(head.response.Header("content-length"), std::to_string(whole.body.size()));
  EXPECT_EQ(head.response.Header("etag"), whole.response.Header("etag"));
  // A key that is not there: 403 in this mode (a caller without ListBucket), with no body.
  head = Send(*server, "/flatfiles/us_stocks_sip/day_aggs_v1/2025/03/2025-03-08.csv.gz", {}, true);
  EXPECT_EQ(head.status, 403);
  EXPECT_TRUE(head.body.empty());
  const Answer get = Send(*server, "/flatfiles/us_stocks_sip/day_aggs_v1/2025/03/2025-03-08.csv.gz");
  EXPECT_EQ(get.status, 403);
  EXPECT_NE(get.body.find("<Code>AccessDenied</Code>"), std::string::npos);
}

TEST(S3ApiTest, ListingArgumentsAndTheV1Listing) {
  auto server = StartBucket();
  ASSERT_TRUE(server);
  Answer answer = Send(*server, "/flatfiles?list-type=2&max-keys=abc");
  EXPECT_EQ(answer.status, 400);
  EXPECT_NE(answer.body.find("<Code>InvalidArgument</Code>"), std::string::npos);
  answer = Send(*server, "/flatfiles?continuation-token=bm9wZQ%3D%3D&list-type=2");
  EXPECT_EQ(answer.status, 400);
  EXPECT_NE(answer.body.find("continuation token"), std::string::npos);
  answer = Send(*server, "/flatfiles?list-type=2&max-keys=5000");  // capped at 1000
  EXPECT_EQ(answer.status, 200);
  EXPECT_NE(answer.body.find("<MaxKeys>1000</MaxKeys>"), std::string::npos);
  EXPECT_NE(answer.body.find("<KeyCount>10</KeyCount>"), std::string::npos) << answer.body;
  // V1: marker and, with a delimiter, NextMarker.
  answer = Send(*server, "/flatfiles?delimiter=%2F&marker=us_stocks_sip%2Fday_aggs_v1%2F&max-keys=1&prefix=us_stocks_sip%2F");
  EXPECT_EQ(answer.status, 200);
  EXPECT_NE(answer.body.find("<Marker>us_stocks_sip/day_aggs_v1/</Marker>"), std::string::npos) << answer.body;
  EXPECT_NE(answer.body.find("<CommonPrefixes><Prefix>us_stocks_sip/minute_aggs_v1/</Prefix></CommonPrefixes>"),
            std::string::npos)
      << answer.body;
  EXPECT_EQ(answer.body.find("<KeyCount>"), std::string::npos);
  // A method the bucket does not allow.
  const std::string deleted = RunCurl("-X DELETE '" + server->BaseUrl() + "/flatfiles/" + kKey + "'");
  EXPECT_NE(deleted.find("HTTP/1.1 405"), std::string::npos) << deleted;
  EXPECT_NE(deleted.find("<Code>MethodNotAllowed</Code>"), std::string::npos);
  const Answer other_bucket = Send(*server, "/other-bucket/x");
  EXPECT_EQ(other_bucket.status, 404);  // not the bucket: the aggregates API's 404
  const auto stats = server->FlatFileStats();
  EXPECT_EQ(stats.lists, 2);
  EXPECT_EQ(stats.auth_refused, 0);
}

}  // namespace
}  // namespace barfill::sim
