// The simulator's SigV4 verifier against AWS's published worked examples (S3 "GET Object" and
// "GET Bucket (List Objects)", signed with the documentation's example keys), so that the
// verifier is known right independently of the client's signer.
#include "sim/s3_sigv4.h"

#include <gtest/gtest.h>

namespace barfill::sim {
namespace {

constexpr const char* kAccessKey = "AKIAIOSFODNN7EXAMPLE";
constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
constexpr const char* kEmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr int64_t kExampleTimeMs = 1369353600000;  // 2013-05-24T00:00:00Z

using Headers = std::vector<std::pair<std::string, std::string>>;

SigV4Policy ExamplePolicy() {
  SigV4Policy policy;
  policy.access_key_id = kAccessKey;
  policy.secret_access_key = kSecret;
  return policy;
}

std::string Authorization(const std::string& signed_headers, const std::string& signature,
                          const std::string& key = kAccessKey, const std::string& scope = "20130524/us-east-1/s3") {
  return "AWS4-HMAC-SHA256 Credential=" + key + "/" + scope + "/aws4_request,SignedHeaders=" + signed_headers +
         ",Signature=" + signature;
}

// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html, "Example: GET Object".
Headers GetObjectExample() {
  return {{"host", "examplebucket.s3.amazonaws.com"},
          {"range", "bytes=0-9"},
          {"x-amz-content-sha256", kEmptyHash},
          {"x-amz-date", "20130524T000000Z"},
          {"authorization", Authorization("host;range;x-amz-content-sha256;x-amz-date",
                                          "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")}};
}

TEST(SigV4Test, ReproducesTheAwsGetObjectExample) {
  const Headers headers = GetObjectExample();
  const SignedRequest request{"GET", "/test.txt", "", &headers};
  const std::string canonical = CanonicalRequest(request, "host;range;x-amz-content-sha256;x-amz-date", kEmptyHash);
  EXPECT_EQ(canonical,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const std::string to_sign = StringToSign("20130524T000000Z", "20130524/us-east-1/s3/aws4_request", canonical);
  EXPECT_EQ(to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(SigV4Signature(kSecret, "20130524", "us-east-1", "s3", to_sign),
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_FALSE(VerifySigV4(request, ExamplePolicy(), kExampleTimeMs));
}

TEST(SigV4Test, ReproducesTheAwsListObjectsExampleWhateverTheQueryOrder) {
  const Headers headers = {{"host", "examplebucket.s3.amazonaws.com"},
                           {"x-amz-content-sha256", kEmptyHash},
                           {"x-amz-date", "20130524T000000Z"},
                           {"authorization", Authorization("host;x-amz-content-sha256;x-amz-date",
                                                           "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")}};
  // The server canonicalizes: a client that signed the sorted form may send any order.
  for (const char* query : {"max-keys=2&prefix=J", "prefix=J&max-keys=2", "prefix=%4A&max-keys=2"}) {
    const SignedRequest request{"GET", "/", query, &headers};
    EXPECT_FALSE(VerifySigV4(request, ExamplePolicy(), kExampleTimeMs)) << query;
  }
}

TEST(SigV4Test, EachRefusalHasTheCodeS3Gives) {
  const auto check = [](Headers headers, SigV4Policy policy, int64_t now = kExampleTimeMs) {
    const SignedRequest request{"GET", "/test.txt", "", &headers};
    return VerifySigV4(request, policy, now);
  };
  const auto with = [](std::string name, std::string value) {
    Headers h = GetObjectExample();
    for (auto& [n, v] : h) {
      if (n == name) v = value;
    }
    return h;
  };
  // A wrong secret: SignatureDoesNotMatch, with what the server signed.
  SigV4Policy other_secret = ExamplePolicy();
  other_secret.secret_access_key = "not-the-secret";
  auto refusal = check(GetObjectExample(), other_secret);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->status, 403);
  EXPECT_EQ(refusal->code, "SignatureDoesNotMatch");
  EXPECT_NE(refusal->canonical_request.find("range:bytes=0-9"), std::string::npos);
  // A signed header changed on the way: the signature no longer matches.
  refusal = check(with("range", "bytes=0-99"), ExamplePolicy());
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->code, "SignatureDoesNotMatch");
  // An unknown key id.
  refusal = check(with("authorization", Authorization("host;range;x-amz-content-sha256;x-amz-date", "00",
                                                      "AKIDUNKNOWN")),
                  ExamplePolicy());
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->code, "InvalidAccessKeyId");
  EXPECT_EQ(refusal->status, 403);
  // A clock 16 minutes off.
  refusal = check(GetObjectExample(), ExamplePolicy(), kExampleTimeMs + 16 * 60 * 1000);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->code, "RequestTimeTooSkewed");
  EXPECT_FALSE(check(GetObjectExample(), ExamplePolicy(), kExampleTimeMs + 14 * 60 * 1000));
  // No signature at all.
  refusal = check({{"host", "examplebucket.s3.amazonaws.com"}}, ExamplePolicy());
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->code, "AccessDenied");
  // Signature version 2.
  refusal = check(with("authorization", "AWS AKIAIOSFODNN7EXAMPLE:abc="), ExamplePolicy());
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->status, 400);
  EXPECT_EQ(refusal->code, "InvalidRequest");
  // The scope libcurl 7.88 guesses from files.massive.com when none is given.
  refusal = check(with("authorization", Authorization("host;range;x-amz-content-sha256;x-amz-date", "00",
                                                      kAccessKey, "20130524/massive/files")),
                  ExamplePolicy());
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->code, "AuthorizationHeaderMalformed");
  EXPECT_NE(refusal->message.find("the region 'massive' is wrong; expecting 'us-east-1'"), std::string::npos);
  // Without x-amz-content-sha256 (what libcurl 7.88 sends unless told).
  Headers no_hash;
  for (const auto& h : GetObjectExample()) {
    if (h.first != "x-amz-content-sha256") no_hash.push_back(h);
  }
  refusal = check(no_hash, ExamplePolicy());
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->status, 400);
  EXPECT_EQ(refusal->code, "InvalidRequest");
  EXPECT_NE(refusal->message.find("x-amz-content-sha256"), std::string::npos);
  // Garbage in the header never crashes.
  for (const char* garbage : {"AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 Credential=", "AWS4-HMAC-SHA256 ,,,===",
                              "AWS4-HMAC-SHA256 Credential=a/b/c/d/e,SignedHeaders=,Signature=", "Bearer x"}) {
    refusal = check(with("authorization", garbage), ExamplePolicy());
    ASSERT_TRUE(refusal) << garbage;
    EXPECT_EQ(refusal->status, 400) << garbage;
  }
}

TEST(SigV4Test, DigestsAndDates) {
  EXPECT_EQ(Sha256Hex(""), kEmptyHash);
  EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(ParseAmzDate("20130524T000000Z"), kExampleTimeMs);
  EXPECT_FALSE(ParseAmzDate("20130230T000000Z"));
  EXPECT_FALSE(ParseAmzDate("2013-05-24T00:00:00Z"));
}

}  // namespace
}  // namespace barfill::sim
