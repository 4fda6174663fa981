#include "http/http_client.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <csignal>

#include "http/loopback_server.h"

namespace barfill::http {
namespace {

using barfill::testing::LoopbackServer;
using std::chrono::milliseconds;

std::string Response(int status, const std::string& body, const std::string& extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n" +
         extra_headers + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Answers every request on the connection with `response` (keep-alive).
LoopbackServer::Handler Serve(std::string response) {
  return [response](int fd) {
    while (LoopbackServer::ReadRequest(fd)) LoopbackServer::Send(fd, response);
  };
}

HttpOptions FastOptions() {
  HttpOptions o;
  o.connect_timeout_ms = 2000;
  o.request_timeout_ms = 10000;
  o.low_speed_time_ms = 1000;
  o.low_speed_bytes_per_s = 100;
  return o;
}

TEST(HttpClientTest, IgnoresSigpipeOnceInitialized) {
  InitializeHttp();
  struct sigaction current {};
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &current), 0);
  EXPECT_EQ(current.sa_handler, SIG_IGN);
}

TEST(HttpClientTest, GetsBodyStatusAndHeadersOverOneConnection) {
  LoopbackServer server(Serve(Response(200, R"({"status":"OK"})", "X-Request-Id: abc123\r\n")));
  HttpClient client(FastOptions());
  for (int i = 0; i < 5; ++i) {
    auto r = client.Get(server.Url("/v2/x"), {"Accept: application/json"});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ((*r)->status, 200);
    EXPECT_EQ((*r)->body.view(), R"({"status":"OK"})");
    EXPECT_EQ((*r)->request_id, "abc123");
    EXPECT_GE((*r)->body.capacity(), (*r)->body.size());
  }
  EXPECT_EQ(server.connections(), 1);  // keep-alive
  EXPECT_EQ(client.connections_opened(), 1);
}

TEST(HttpClientTest, SendsAcceptEncodingAndInflatesGzip) {
  const std::string json = std::string(R"({"status":"OK","pad":")") + std::string(5000, 'a') + "\"}";
  std::string gz(compressBound(json.size()) + 64, '\0');
  z_stream zs{};
  ASSERT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(json.data()));
  zs.avail_in = static_cast<uInt>(json.size());
  zs.next_out = reinterpret_cast<Bytef*>(gz.data());
  zs.avail_out = static_cast<uInt>(gz.size());
  ASSERT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  gz.resize(zs.total_out);
  deflateEnd(&zs);

  std::string seen_head;
  std::mutex mutex;
  LoopbackServer server([&](int fd) {
    std::string head;
    if (!LoopbackServer::ReadRequest(fd, &head)) return;
    {
      std::lock_guard lock(mutex);
      seen_head = head;
    }
    LoopbackServer::Send(fd, Response(200, gz, "Content-Encoding: gzip\r\n"));
  });
  HttpClient client(FastOptions());
  auto r = client.Get(server.Url(), {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ((*r)->body.view(), json);
  EXPECT_LT((*r)->wire_bytes, static_cast<int64_t>(json.size()));
  std::lock_guard lock(mutex);
  EXPECT_NE(seen_head.find("Accept-Encoding:"), std::string::npos) << seen_head;
  EXPECT_NE(seen_head.find("gzip"), std::string::npos) << seen_head;
}

TEST(HttpClientTest, CapturesRetryAfter) {
  LoopbackServer server(Serve(Response(429, R"({"status":"ERROR"})", "Retry-After: 7\r\n")));
  HttpClient client(FastOptions());
  auto r = client.Get(server.Url(), {});
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)->status, 429);
  ASSERT_TRUE((*r)->retry_after);
  EXPECT_EQ(*(*r)->retry_after, milliseconds(7000));
}

TEST(HttpClientTest, BlackHoleTimesOutInsteadOfHanging) {
  std::atomic<bool> done{false};
  LoopbackServer server([&](int fd) {
    LoopbackServer::ReadRequest(fd);
    while (!done) std::this_thread::sleep_for(milliseconds(20));
  });
  HttpClient client(FastOptions());
  const auto start = std::chrono::steady_clock::now();
  auto r = client.Get(server.Url(), {});
  done = true;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTransport);
  EXPECT_NE(r.error().message.find("curl 28"), std::string::npos) << r.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(HttpClientTest, ResetMidBodyIsARetryableTransportError) {
  LoopbackServer server([](int fd) {
    LoopbackServer::ReadRequest(fd);
    LoopbackServer::Send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n{\"status\":\"OK\",\"results\":[");
    LoopbackServer::Reset(fd);
  });
  HttpClient client(FastOptions());
  for (int i = 0; i < 3; ++i) {  // and the process is still alive afterwards
    auto r = client.Get(server.Url(), {});
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kTransport) << r.error().message;
    EXPECT_TRUE(IsRetryable(r.error()));
  }
}

TEST(HttpClientTest, ShortBodyThenCloseIsPartialFile) {
  LoopbackServer server([](int fd) {
    LoopbackServer::ReadRequest(fd);
    LoopbackServer::Send(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"status\":");
  });
  HttpClient client(FastOptions());
  auto r = client.Get(server.Url(), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTransport);
  EXPECT_NE(r.error().message.find("curl 18"), std::string::npos) << r.error().message;
}

TEST(HttpClientTest, EmptyReplyIsRetryable) {
  LoopbackServer server([](int fd) { LoopbackServer::ReadRequest(fd); });
  HttpClient client(FastOptions());
  auto r = client.Get(server.Url(), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTransport);
  EXPECT_NE(r.error().message.find("curl 52"), std::string::npos) << r.error().message;
}

TEST(HttpClientTest, ConnectionRefusedIsRetryable) {
  int port = 0;
  {
    LoopbackServer server([](int) {});
    port = std::stoi(server.Url().substr(17));
  }
  HttpClient client(FastOptions());
  auto r = client.Get("http://127.0.0.1:" + std::to_string(port) + "/", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTransport);
  EXPECT_NE(r.error().message.find("curl 7"), std::string::npos) << r.error().message;
}

TEST(HttpClientTest, MalformedUrlIsFatal) {
  HttpClient client(FastOptions());
  auto r = client.Get("http://[::1/x", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kTransportFatal) << r.error().message;
  EXPECT_FALSE(IsRetryable(r.error()));
}

TEST(HttpClientTest, BodyOverTheCapFailsTheRequestClearly) {
  LoopbackServer server(Serve(Response(200, std::string(100000, 'x'))));
  HttpOptions options = FastOptions();
  options.max_body_bytes = 1000;
  HttpClient client(options);
  auto r = client.Get(server.Url(), {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidData);
  EXPECT_NE(r.error().message.find("larger than 1000 bytes"), std::string::npos);
}

TEST(HttpClientTest, ErrorsNeverCarryTheSecret) {
  HttpOptions options = FastOptions();
  options.secrets = {"SeCrEtKeY123"};
  HttpClient client(options);
  auto r = client.Get("http://127.0.0.1:1/v2/aggs?apiKey=SeCrEtKeY123", {"Authorization: Bearer SeCrEtKeY123"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.find("SeCrEtKeY123"), std::string::npos);
  EXPECT_EQ(r.error().request.find("SeCrEtKeY123"), std::string::npos);
  EXPECT_NE(r.error().request.find("apiKey=***"), std::string::npos) << r.error().request;
}

TEST(TransportClassificationTest, MatchesReliabilityTable) {
  const struct {
    int code;
    ErrorCode expected;
  } table[] = {
      {6, ErrorCode::kTransport},        {7, ErrorCode::kTransport},       {16, ErrorCode::kTransport},
      {18, ErrorCode::kTransport},       {28, ErrorCode::kTransport},      {35, ErrorCode::kTransport},
      {52, ErrorCode::kTransport},       {55, ErrorCode::kTransport},      {56, ErrorCode::kTransport},
      {92, ErrorCode::kTransport},       {3, ErrorCode::kTransportFatal},  {60, ErrorCode::kTransportFatal},
      {43, ErrorCode::kTransportFatal},  {48, ErrorCode::kTransportFatal}, {77, ErrorCode::kTransportFatal},
      {23, ErrorCode::kInvalidData},
  };
  for (const auto& row : table) {
    const Error e = ClassifyTransportError(row.code, "");
    EXPECT_EQ(e.code, row.expected) << row.code;
    EXPECT_NE(e.message.find("curl " + std::to_string(row.code)), std::string::npos) << e.message;
  }
}

TEST(RetryAfterTest, ParsesSecondsAndDates) {
  const auto now = std::chrono::system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(ParseRetryAfter("120", now), milliseconds(120000));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), milliseconds(0));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:47 GMT", now), milliseconds(10000));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:00:00 GMT", now), milliseconds(0));
  EXPECT_FALSE(ParseRetryAfter("", now));
  EXPECT_FALSE(ParseRetryAfter("-5", now));
  EXPECT_FALSE(ParseRetryAfter("soon", now));
  EXPECT_EQ(ParseRetryAfter("99999999999999999999999", now), std::chrono::hours(24 * 365));
}

TEST(RedactTest, RemovesSecretsAndApiKeyValues) {
  EXPECT_EQ(Redact("GET /x?apiKey=abc&y=1 failed for abc", {"abc"}), "GET /x?apiKey=***&y=1 failed for ***");
  EXPECT_EQ(Redact("apiKey=zzz", {}), "apiKey=***");
  EXPECT_EQ(Redact("nothing here", {""}), "nothing here");
}

TEST(PaddedBufferTest, KeepsPaddingZeroedAndRespectsTheLimit) {
  PaddedBuffer b;
  ASSERT_TRUE(b.Append("abc", 3, 10));
  EXPECT_EQ(b.view(), "abc");
  for (size_t i = 0; i < kBodyPadding; ++i) EXPECT_EQ(b.data()[3 + i], '\0');
  EXPECT_FALSE(b.Append("12345678", 8, 10));
  EXPECT_EQ(b.view(), "abc");
  b.Assign(std::string(200000, 'q'));
  EXPECT_EQ(b.size(), 200000u);
  EXPECT_EQ(b.data()[200000], '\0');
}

}  // namespace
}  // namespace barfill::http
