// SigV4 end to end: libcurl's signer (what the client sends) against the simulator's verifier,
// and every refusal turned into one clear line that names the cause and the fix, never the
// secret.
#include <gtest/gtest.h>

#include "flatfiles/s3_sim_env.h"
#include "http/http_client.h"

namespace barfill::flatfiles {
namespace {

using testing::kTestAccessKey;
using testing::kTestSecret;
using testing::S3SimEnv;

Ticker T(std::string_view symbol) { return *Ticker::Parse(symbol); }

sim::S3SimOptions SmallBucket() {
  sim::S3SimOptions s3;
  s3.universe = {T("AAPL")};
  s3.first_day = {2025, 3, 3};
  s3.last_day = {2025, 3, 7};
  return s3;
}

int64_t Later() { return MarketZone::NewYork().DayStartMs({2025, 4, 1}); }

void ExpectOneClearLine(const Error& error, std::initializer_list<const char*> mentions) {
  EXPECT_EQ(error.message.find('\n'), std::string::npos) << error.message;
  for (const char* text : mentions) EXPECT_NE(error.message.find(text), std::string::npos) << error.message;
  EXPECT_EQ(error.message.find(kTestSecret), std::string::npos) << "the secret leaked: " << error.message;
  EXPECT_EQ(error.request.find(kTestSecret), std::string::npos);
}

/// The error a listing with `options` gets: it must be refused for good (not retried) with
/// `code`.
Error ListingRefusal(const S3SimEnv& env, const S3Options& options, ErrorCode code = ErrorCode::kAuth) {
  auto client = env.Client(options);
  if (!client) return Error(ErrorCode::kInternal, "no client");
  auto listing = client->ListAll("");
  EXPECT_FALSE(listing);
  if (listing) return Error(ErrorCode::kInternal, "the listing was not refused");
  EXPECT_EQ(listing.error().code, code);
  EXPECT_FALSE(IsRetryable(listing.error()));
  return listing.error();
}

TEST(S3AuthTest, TheRightCredentialsPassTheVerifier) {
  S3SimEnv env(SmallBucket(), Later());
  auto client = env.Client();
  ASSERT_TRUE(client);
  auto listing = client->ListAll("us_stocks_sip/");
  ASSERT_TRUE(listing) << listing.error().message;
  EXPECT_EQ(listing->objects.size(), 10u);
  // A continuation token holds '+', '/' and '='; the client encodes it so the signature holds.
  ListRequest request;
  request.max_keys = 3;
  auto page = client->List(request);
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_TRUE(page->truncated);
  request.continuation_token = page->next_continuation_token;
  EXPECT_NE(request.continuation_token.find_first_of("+/="), std::string::npos) << request.continuation_token;
  page = client->List(request);
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(env.server().FlatFileStats().auth_refused, 0);
}

TEST(S3AuthTest, AWrongSecretIsSignatureDoesNotMatch) {
  S3SimEnv env(SmallBucket(), Later());
  S3Options options = env.ClientOptions();
  options.secret_access_key = "an-old-secret-that-was-rotated";
  const Error refused = ListingRefusal(env, options);
  EXPECT_EQ(refused.http_status, 403);
  ExpectOneClearLine(refused, {"SignatureDoesNotMatch", "secret key", "MASSIVE_S3_SECRET_ACCESS_KEY",
                               "not the REST API key"});
  EXPECT_EQ(refused.message.find("an-old-secret"), std::string::npos) << refused.message;
  // A GET says the same, not "absent".
  auto client = env.Client(options);
  auto got = client->Get(KeyFor({AssetClass::kStock, FileTimeframe::kDay}, {2025, 3, 4}), {},
                         [](std::string_view) { return Ok(); });
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kAuth);
}

TEST(S3AuthTest, AnUnknownKeyIdIsInvalidAccessKeyId) {
  S3SimEnv env(SmallBucket(), Later());
  S3Options options = env.ClientOptions();
  options.access_key_id = "AKIDSOMEONEELSE";
  const Error refused = ListingRefusal(env, options);
  EXPECT_EQ(refused.http_status, 403);
  ExpectOneClearLine(refused, {"InvalidAccessKeyId", "AKIDSOMEONEELSE", "MASSIVE_S3_ACCESS_KEY_ID"});
}

TEST(S3AuthTest, AClockSkewIsRequestTimeTooSkewed) {
  S3SimEnv env(SmallBucket(), Later());
  env.SetRequestSkew(20 * kMsPerMinute);
  ExpectOneClearLine(ListingRefusal(env, env.ClientOptions()), {"RequestTimeTooSkewed", "clock", "15 minutes", "NTP"});
  env.SetRequestSkew(5 * kMsPerMinute);  // within the tolerance
  EXPECT_TRUE(env.Client()->ListAll(""));
}

TEST(S3AuthTest, UnsignedAndHalfSignedRequestsAreRefused) {
  S3SimEnv env(SmallBucket(), Later());
  const std::string url = env.server().BaseUrl() + "/flatfiles?list-type=2";
  http::HttpClient plain(http::HttpOptions{});
  // Unsigned: 403 AccessDenied.
  http::StreamRequest unsigned_request;
  unsigned_request.url = url;
  auto answer = plain.Stream(unsigned_request);
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->status, 403);
  EXPECT_NE(answer->error_body.find("<Code>AccessDenied</Code>"), std::string::npos) << answer->error_body;
  // Signed as libcurl 7.88 signs when nobody adds x-amz-content-sha256: refused too.
  http::SigV4Credentials credentials{kTestAccessKey, kTestSecret};
  http::StreamRequest half_signed;
  half_signed.url = url;
  half_signed.sigv4 = &credentials;
  answer = plain.Stream(half_signed);
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->status, 400);
  EXPECT_NE(answer->error_body.find("x-amz-content-sha256"), std::string::npos) << answer->error_body;
  // Unsorted query parameters: libcurl 7.88 signs the query as given, the server sorts it.
  http::StreamRequest unsorted = half_signed;
  unsorted.url = env.server().BaseUrl() + "/flatfiles?max-keys=5&list-type=2";
  unsorted.headers = {"x-amz-content-sha256: UNSIGNED-PAYLOAD"};
  answer = plain.Stream(unsorted);
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->status, 403);
  EXPECT_NE(answer->error_body.find("SignatureDoesNotMatch"), std::string::npos);
  // The same parameters sorted pass.
  unsorted.url = env.server().BaseUrl() + "/flatfiles?list-type=2&max-keys=5";
  answer = plain.Stream(unsorted);
  ASSERT_TRUE(answer) << answer.error().message;
  EXPECT_EQ(answer->status, 200) << answer->error_body;
}

TEST(S3AuthTest, AWrongRegionIsAConfigurationError) {
  S3SimEnv env(SmallBucket(), Later());
  S3Options options = env.ClientOptions();
  options.region = "eu-west-1";
  ExpectOneClearLine(ListingRefusal(env, options, ErrorCode::kConfig),
                     {"AuthorizationHeaderMalformed", "region", "us-east-1"});
}

TEST(S3AuthTest, BadOptionsAreRefusedBeforeAnyRequest) {
  const auto refused = [](S3Options options, const char* mention) {
    auto client = S3Client::Create(std::move(options));
    ASSERT_FALSE(client) << mention;
    EXPECT_EQ(client.error().code, ErrorCode::kUsage);
    EXPECT_NE(client.error().message.find(mention), std::string::npos) << client.error().message;
    EXPECT_EQ(client.error().message.find(kTestSecret), std::string::npos);
  };
  S3Options good;
  good.access_key_id = kTestAccessKey;
  good.secret_access_key = kTestSecret;
  EXPECT_TRUE(S3Client::Create(good));
  S3Options o = good;
  o.access_key_id.clear();
  refused(o, "MASSIVE_S3_ACCESS_KEY_ID");
  o = good;
  o.secret_access_key.clear();
  refused(o, "no S3 secret key");
  o = good;
  o.secret_access_key = std::string(kTestSecret) + "\n";
  refused(o, "line break");
  o = good;
  o.endpoint = "files.massive.com";
  refused(o, "must start with https://");
  o = good;
  o.endpoint = "https://files.massive.com/flatfiles";
  refused(o, "the bucket is a separate setting");
  o = good;
  o.bucket = "Flat Files";
  refused(o, "not a bucket name");
}

}  // namespace
}  // namespace barfill::flatfiles
