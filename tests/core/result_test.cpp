#include "core/result.h"

#include <gtest/gtest.h>

namespace barfill {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Fail(ErrorCode::kUsage, "odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  const auto h = Half(x);
  if (!h) return Fail(h.error());
  return Half(*h);
}

Status Check(int x) {
  BARFILL_TRY(Half(x));
  return Ok();
}

TEST(Result, ValuesAndErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_FALSE(Quarter(6));
  EXPECT_EQ(Quarter(6).error().message, "odd");
  EXPECT_TRUE(Check(4));
  EXPECT_EQ(Check(3).error().code, ErrorCode::kUsage);
  EXPECT_EQ(Half(3).value_or(-1), -1);
}

TEST(Result, RetryableClassification) {
  EXPECT_TRUE(IsRetryable(Error(ErrorCode::kRateLimited, "")));
  EXPECT_TRUE(IsRetryable(Error(ErrorCode::kTransport, "")));
  EXPECT_TRUE(IsRetryable(Error(ErrorCode::kBadResponse, "")));
  EXPECT_FALSE(IsRetryable(Error(ErrorCode::kAuth, "")));
  EXPECT_FALSE(IsRetryable(Error(ErrorCode::kBadRequest, "")));
  EXPECT_FALSE(IsRetryable(Error(ErrorCode::kInvalidData, "")));
  Error e(ErrorCode::kServerError, "bad gateway");
  e.http_status = 502;
  EXPECT_EQ(e.ToString(), "bad gateway (HTTP 502)");
}

}  // namespace
}  // namespace barfill
