// The fault proxy itself, in front of the simulator: each toxic does what it says, seen from a
// raw socket so that a reset (ECONNRESET) and a close (EOF) can be told apart.
#include "chaos/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "sim/sim_server.h"

namespace barfill::testing {
namespace {

using namespace std::chrono_literals;

/// How a read of one answer ended.
enum class End { kComplete, kEof, kReset, kTimeout };

struct Answer {
  std::string bytes;
  End end = End::kTimeout;
};

/// One client connection speaking just enough HTTP/1.1 to send GETs and read answers whose
/// length is in Content-Length.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    connect_errno_ = connected_ ? 0 : errno;
  }
  ~RawClient() { ::close(fd_); }
  bool connected() const { return connected_; }
  int connect_errno() const { return connect_errno_; }

  /// Sends a GET and reads its answer until Content-Length is complete, EOF, a reset or `wait`.
  Answer Get(const std::string& target, std::chrono::milliseconds wait = 3000ms) {
    const std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer k\r\n\r\n";
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
      return {"", End::kReset};
    }
    Answer answer;
    const auto deadline = std::chrono::steady_clock::now() + wait;
    char buffer[65536];
    while (true) {
      const size_t head_end = answer.bytes.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        const size_t length_at = answer.bytes.find("Content-Length: ");
        const size_t length = std::stoul(answer.bytes.substr(length_at + 16));
        if (answer.bytes.size() >= head_end + 4 + length) {
          answer.end = End::kComplete;
          return answer;
        }
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) == 0) {
        answer.end = End::kTimeout;
        return answer;
      }
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n == 0) {
        answer.end = End::kEof;
        return answer;
      }
      if (n < 0) {
        answer.end = errno == ECONNRESET ? End::kReset : End::kEof;
        return answer;
      }
      answer.bytes.append(buffer, static_cast<size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  int connect_errno_ = 0;
};

constexpr const char* kPage = "/v2/aggs/ticker/AAPL/range/1/hour/2025-01-02/2025-01-10";

class FaultProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sim::SimOptions options;
    auto sim = sim::SimServer::Start(options);
    ASSERT_TRUE(sim) << sim.error().message;
    sim_ = std::move(*sim);
    auto proxy = FaultProxy::Start("127.0.0.1", sim_->Port(), 3);
    ASSERT_TRUE(proxy) << proxy.error().message;
    proxy_ = std::move(*proxy);
  }

  std::unique_ptr<sim::SimServer> sim_;
  std::unique_ptr<FaultProxy> proxy_;
};

TEST_F(FaultProxyTest, ForwardsUntouchedWithoutToxics) {
  RawClient direct(sim_->Port());
  RawClient proxied(proxy_->Port());
  const Answer a = direct.Get(kPage);
  const Answer b = proxied.Get(kPage);
  ASSERT_EQ(a.end, End::kComplete);
  ASSERT_EQ(b.end, End::kComplete);
  EXPECT_EQ(a.bytes.size(), b.bytes.size()) << "only the request id, of fixed length, differs";
  EXPECT_EQ(proxied.Get(kPage).end, End::kComplete) << "keep-alive works through the proxy";
  EXPECT_EQ(proxy_->Stats().exchanges, 2);
  EXPECT_EQ(proxy_->Stats().connections, 1);
}

TEST_F(FaultProxyTest, ResetPeerAfterBytesIsAReset) {
  Toxics toxics;
  toxics.downstream.reset_after_bytes = 500;
  toxics.downstream.reset_probability = 1;
  proxy_->SetToxics(toxics);
  RawClient client(proxy_->Port());
  const Answer answer = client.Get(kPage);
  EXPECT_EQ(answer.end, End::kReset);
  EXPECT_EQ(answer.bytes.size(), 500u) << "exactly the bytes before the reset arrive";
  EXPECT_EQ(proxy_->Stats().resets, 1);
}

TEST_F(FaultProxyTest, LimitDataClosesAfterBytes) {
  Toxics toxics;
  toxics.downstream.limit_bytes = 300;
  toxics.downstream.limit_probability = 1;
  proxy_->SetToxics(toxics);
  RawClient client(proxy_->Port());
  const Answer answer = client.Get(kPage);
  EXPECT_EQ(answer.end, End::kEof);
  EXPECT_EQ(answer.bytes.size(), 300u);
  EXPECT_EQ(proxy_->Stats().limits, 1);
}

TEST_F(FaultProxyTest, BlackHoleNeverAnswersNorCloses) {
  Toxics toxics;
  toxics.downstream.black_hole_probability = 1;
  proxy_->SetToxics(toxics);
  RawClient client(proxy_->Port());
  const Answer answer = client.Get(kPage, 400ms);
  EXPECT_EQ(answer.end, End::kTimeout);
  EXPECT_TRUE(answer.bytes.empty());
  EXPECT_EQ(proxy_->Stats().black_holes, 1);
  // Lifted: the next exchange on a new connection goes through.
  proxy_->SetToxics(Toxics{});
  RawClient again(proxy_->Port());
  EXPECT_EQ(again.Get(kPage).end, End::kComplete);
}

TEST_F(FaultProxyTest, DownRefusesThenUpServesOnTheSamePort) {
  RawClient before(proxy_->Port());
  ASSERT_EQ(before.Get(kPage).end, End::kComplete);
  ASSERT_TRUE(proxy_->SetDown(true));
  EXPECT_NE(before.Get(kPage, 1000ms).end, End::kComplete) << "open connections are closed";
  RawClient refused(proxy_->Port());
  EXPECT_FALSE(refused.connected());
  EXPECT_EQ(refused.connect_errno(), ECONNREFUSED);
  ASSERT_TRUE(proxy_->SetDown(false));
  RawClient after(proxy_->Port());
  EXPECT_EQ(after.Get(kPage).end, End::kComplete);
}

TEST_F(FaultProxyTest, SlicerBandwidthAndLatencyDeliverEveryByteLater) {
  RawClient direct(sim_->Port());
  const size_t size = direct.Get(kPage).bytes.size();
  Toxics toxics;
  toxics.downstream.latency = 100ms;
  toxics.downstream.jitter = 20ms;
  toxics.downstream.slice_bytes = 64;
  toxics.downstream.slice_variation = 32;
  toxics.downstream.slice_delay = 100us;
  toxics.downstream.bandwidth_bytes_per_s = 100'000;
  toxics.upstream.slice_bytes = 7;
  proxy_->SetToxics(toxics);
  RawClient client(proxy_->Port());
  const auto start = std::chrono::steady_clock::now();
  const Answer answer = client.Get(kPage, 10s);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(answer.end, End::kComplete);
  EXPECT_EQ(answer.bytes.size(), size);
  const auto floor = 80ms + std::chrono::milliseconds(size * 1000 / 100'000);
  EXPECT_GE(took, floor) << size << " bytes at 100 kB/s after 100 +- 20 ms";
}

TEST_F(FaultProxyTest, StaleAfterIdleResetsTheNextRequest) {
  Toxics toxics;
  toxics.stale_after_idle = 200ms;
  proxy_->SetToxics(toxics);
  RawClient client(proxy_->Port());
  ASSERT_EQ(client.Get(kPage).end, End::kComplete);
  ASSERT_EQ(client.Get(kPage).end, End::kComplete) << "a busy connection is not stale";
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(client.Get(kPage).end, End::kReset);
  EXPECT_EQ(proxy_->Stats().stale_resets, 1);
}

TEST_F(FaultProxyTest, CloseAfterIdleSendsEof) {
  Toxics toxics;
  toxics.close_after_idle = 150ms;
  proxy_->SetToxics(toxics);
  RawClient client(proxy_->Port());
  ASSERT_EQ(client.Get(kPage).end, End::kComplete);
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(proxy_->Stats().idle_closes, 1);
  EXPECT_NE(client.Get(kPage).end, End::kComplete);
}

TEST_F(FaultProxyTest, ConditionalToxicsHitOnlyMatchingRequests) {
  Toxics toxics;
  toxics.downstream.reset_after_bytes = 0;
  toxics.downstream.reset_probability = 1;
  toxics.downstream.only_if_request_contains = "cursor=";
  proxy_->SetToxics(toxics);
  RawClient client(proxy_->Port());
  EXPECT_EQ(client.Get(kPage).end, End::kComplete);
  EXPECT_EQ(client.Get(std::string(kPage) + "?limit=5").end, End::kComplete);
  EXPECT_EQ(client.Get(std::string(kPage) + "?cursor=bGltaXQ9NSZzb3J0PWFzYw").end, End::kReset);
  EXPECT_EQ(proxy_->Stats().conditional_hits, 1);
}

TEST_F(FaultProxyTest, CorruptChangesTheDigitAfterTheMarker) {
  Toxics toxics;
  toxics.downstream.corrupt_marker = "\"resultsCount\":";
  toxics.downstream.corrupt_probability = 1;
  proxy_->SetToxics(toxics);
  RawClient direct(sim_->Port());
  RawClient client(proxy_->Port());
  const Answer clean = direct.Get(kPage);
  const Answer corrupted = client.Get(kPage);
  ASSERT_EQ(corrupted.end, End::kComplete);
  const auto count_of = [](const std::string& text) {
    const size_t at = text.find("\"resultsCount\":");
    return std::stol(text.substr(at + 15));
  };
  EXPECT_EQ(clean.bytes.size(), corrupted.bytes.size());
  EXPECT_NE(count_of(clean.bytes), count_of(corrupted.bytes));
  EXPECT_EQ(proxy_->Stats().corruptions, 1);
}

// The simulator options the chaos scenarios rely on (small additions to src/sim for them).
TEST(ChaosServerOptions, DelayHeaderValueIsConfigurable) {
  sim::SimOptions options;
  options.faults.http429 = 1;
  options.retry_after_s = 86400;
  auto sim = sim::SimServer::Start(options);
  ASSERT_TRUE(sim);
  RawClient client((*sim)->Port());
  bool seen = false;
  for (int i = 0; i < 20 && !seen; ++i) {
    const Answer answer = client.Get(kPage);
    ASSERT_EQ(answer.end, End::kComplete);
    ASSERT_EQ(answer.bytes.rfind("HTTP/1.1 429", 0), 0u);
    seen = answer.bytes.find("Retry-After: 86400\r\n") != std::string::npos;
  }
  EXPECT_TRUE(seen) << "about half of the injected 429s carry Retry-After";
}

TEST(ChaosServerOptions, MaxPageLimitSplitsAChunkIntoPages) {
  sim::SimOptions options;
  options.max_page_limit = 2000;
  auto sim = sim::SimServer::Start(options);
  ASSERT_TRUE(sim);
  RawClient client((*sim)->Port());
  const Answer answer = client.Get("/v2/aggs/ticker/X:BTCUSD/range/1/hour/2025-03-01/2025-03-31?limit=50000");
  ASSERT_EQ(answer.end, End::kComplete);
  EXPECT_NE(answer.bytes.find("\"resultsCount\":33,"), std::string::npos) << "2000 minutes hold 33 whole hours";
  EXPECT_NE(answer.bytes.find("\"next_url\":\"http://127.0.0.1"), std::string::npos);
}

TEST(ChaosServerOptions, RateLimitWindowCanBeShort) {
  sim::SimOptions options;
  options.rate_limit_per_min = 600;
  options.rate_limit_window_ms = 1000;  // 10 requests per second
  auto sim = sim::SimServer::Start(options);
  ASSERT_TRUE(sim);
  RawClient client((*sim)->Port());
  int refused = 0;
  for (int i = 0; i < 12; ++i) refused += client.Get(kPage).bytes.rfind("HTTP/1.1 429", 0) == 0 ? 1 : 0;
  EXPECT_EQ(refused, 2);
  std::this_thread::sleep_for(1100ms);
  EXPECT_EQ(client.Get(kPage).bytes.rfind("HTTP/1.1 200", 0), 0u) << "the window slid";
  EXPECT_EQ((*sim)->Stats().rate_limited, 2);
}

}  // namespace
}  // namespace barfill::testing
