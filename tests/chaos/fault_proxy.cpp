#include "chaos/fault_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <list>
#include <mutex>
#include <random>
#include <thread>

namespace barfill::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr size_t kReadBytes = 16 * 1024;
constexpr size_t kRequestKept = 4096;        // the start of each request, for only_if_request_contains
constexpr int kTickMs = 20;                  // how often an idle pump looks at the idle toxics
constexpr int kAcceptTickMs = 100;           // how often the acceptor reaps finished connections
constexpr int kResetDrainWaitMs = 1000;      // how long a reset waits for forwarded bytes to leave
constexpr int kListenBacklog = 128;

/// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) Reset(std::exchange(other.fd_, -1));
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

/// Makes an eventfd readable for every poller at once (it is never drained).
void Signal(const Fd& event) {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t w = ::write(event.get(), &one, sizeof one);
}

enum Dir { kUp = 0, kDown = 1 };
enum class Ending { kNone, kClose, kReset };

/// What the dice decided for one direction of one exchange.
struct Decision {
  bool decided = false;
  bool limit = false;
  bool reset = false;
  bool black_hole = false;
  bool corrupt = false;
  bool conditional = false;  // decided by only_if_request_contains
  size_t marker_matched = 0;
  bool digit_pending = false;
};

struct Exchange {
  int64_t index = 0;
  int64_t bytes[2] = {0, 0};
  std::string request;
  Decision decision[2];
};

struct Connection {
  Fd client;
  Fd server;
  Fd wake;  // readable once the connection is ending
  std::thread pumps[2];
  std::mutex mu;
  Ending ending = Ending::kNone;  // guarded by mu
  int pumps_left = 2;             // guarded by mu
  Exchange exchange;              // guarded by mu
  SteadyClock::time_point last_activity = SteadyClock::now();
  bool used = false;  // an answer went through: the connection is a keep-alive candidate
  std::atomic<bool> finished{false};
};

struct AtomicStats {
  std::atomic<int64_t> connections{0}, exchanges{0}, bytes_upstream{0}, bytes_downstream{0}, resets{0},
      limits{0}, black_holes{0}, corruptions{0}, idle_closes{0}, stale_resets{0}, conditional_hits{0};
};

void Bump(std::atomic<int64_t>& counter, int64_t by = 1) { counter.fetch_add(by, std::memory_order_relaxed); }

class Proxy final : public FaultProxy {
 public:
  Proxy(sockaddr_in upstream, uint64_t seed) : upstream_(upstream), rng_(seed) {}
  ~Proxy() override { Stop(); }

  Status Listen(int port);
  void StartAcceptor() { acceptor_ = std::thread([this] { AcceptLoop(); }); }

  std::string BaseUrl() const override { return "http://127.0.0.1:" + std::to_string(port_); }
  int Port() const override { return port_; }
  void SetToxics(const Toxics& toxics) override {
    std::lock_guard<std::mutex> lock(mu_);
    toxics_ = toxics;
  }
  Status SetDown(bool down) override;
  ProxyStats Stats() const override;
  void Stop() override;

 private:
  void AcceptLoop();
  void ApplyDownState();  // acceptor thread, mu_ held
  void Accept();
  void Reap();
  void Pump(Connection* conn, Dir dir);
  /// Applies the toxics to `n` bytes read in direction `dir` and forwards them; false when the
  /// connection is ending.
  bool Forward(Connection* conn, Dir dir, char* data, size_t n);
  bool SendAll(Connection* conn, int fd, const char* data, size_t n);
  /// An interruptible sleep: false when the connection or the proxy is ending meanwhile.
  bool SleepFor(Connection* conn, std::chrono::microseconds duration);
  void End(Connection* conn, Ending ending);
  void Decide(Decision& d, const DirectionToxics& t, Dir dir, const std::string& request);
  /// The dice; dice_mu_ is a leaf lock, so they can be rolled under any other lock.
  double Roll() {
    std::lock_guard<std::mutex> lock(dice_mu_);
    return std::uniform_real_distribution<double>(0, 1)(rng_);
  }
  int64_t RollBetween(int64_t low, int64_t high) {
    std::lock_guard<std::mutex> lock(dice_mu_);
    return std::uniform_int_distribution<int64_t>(low, high)(rng_);
  }
  Toxics CurrentToxics() const {
    std::lock_guard<std::mutex> lock(mu_);
    return toxics_;
  }

  const sockaddr_in upstream_;
  int port_ = 0;
  Fd listen_fd_;
  Fd stop_fd_{eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
  Fd control_fd_{eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};  // wakes the acceptor for SetDown
  std::thread acceptor_;
  AtomicStats stats_;

  std::mutex dice_mu_;
  std::mt19937_64 rng_;         // guarded by dice_mu_

  // Lock order: mu_, then a Connection's mu, then dice_mu_.
  mutable std::mutex mu_;
  std::condition_variable down_applied_;
  Toxics toxics_;               // guarded by mu_
  bool want_down_ = false;      // guarded by mu_
  bool is_down_ = false;        // guarded by mu_
  Status down_status_ = Ok();   // guarded by mu_
  bool stopped_ = false;        // guarded by mu_
  std::list<std::unique_ptr<Connection>> connections_;  // guarded by mu_
};

Status Proxy::Listen(int port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return Fail(ErrorCode::kInternal, std::string("socket: ") + std::strerror(errno));
  const int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd.get(), kListenBacklog) != 0) {
    return Fail(ErrorCode::kInternal, "cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno));
  }
  socklen_t length = sizeof address;
  getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length);
  port_ = ntohs(address.sin_port);
  listen_fd_ = std::move(fd);
  return Ok();
}

Status Proxy::SetDown(bool down) {
  std::unique_lock<std::mutex> lock(mu_);
  if (stopped_) return Fail(ErrorCode::kInternal, "the proxy is stopped");
  want_down_ = down;
  Signal(control_fd_);
  down_applied_.wait(lock, [&] { return is_down_ == want_down_ || stopped_; });
  return down_status_;
}

void Proxy::ApplyDownState() {
  if (want_down_ == is_down_) return;
  if (want_down_) {
    listen_fd_.Reset();
    for (auto& conn : connections_) End(conn.get(), Ending::kClose);
    down_status_ = Ok();
  } else {
    down_status_ = Listen(port_);
  }
  is_down_ = want_down_;
  down_applied_.notify_all();
}

ProxyStats Proxy::Stats() const {
  ProxyStats s;
  s.connections = stats_.connections.load();
  s.exchanges = stats_.exchanges.load();
  s.bytes_upstream = stats_.bytes_upstream.load();
  s.bytes_downstream = stats_.bytes_downstream.load();
  s.resets = stats_.resets.load();
  s.limits = stats_.limits.load();
  s.black_holes = stats_.black_holes.load();
  s.corruptions = stats_.corruptions.load();
  s.idle_closes = stats_.idle_closes.load();
  s.stale_resets = stats_.stale_resets.load();
  s.conditional_hits = stats_.conditional_hits.load();
  return s;
}

void Proxy::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    down_applied_.notify_all();
  }
  Signal(stop_fd_);
  if (acceptor_.joinable()) acceptor_.join();
  std::list<std::unique_ptr<Connection>> connections;
  {
    std::lock_guard<std::mutex> lock(mu_);
    connections.swap(connections_);
  }
  for (auto& conn : connections) {
    for (std::thread& pump : conn->pumps) {
      if (pump.joinable()) pump.join();
    }
  }
  listen_fd_.Reset();
}

void Proxy::AcceptLoop() {
  while (true) {
    int listen_fd = -1;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
      ApplyDownState();
      listen_fd = listen_fd_.get();
    }
    Reap();
    pollfd fds[3] = {{stop_fd_.get(), POLLIN, 0}, {control_fd_.get(), POLLIN, 0}, {listen_fd, POLLIN, 0}};
    const int ready = ::poll(fds, 3, kAcceptTickMs);
    if (ready < 0 && errno != EINTR) return;
    if ((fds[0].revents & POLLIN) != 0) return;
    if ((fds[1].revents & POLLIN) != 0) {
      uint64_t drained = 0;
      [[maybe_unused]] const ssize_t r = ::read(control_fd_.get(), &drained, sizeof drained);
      continue;
    }
    if ((fds[2].revents & POLLIN) != 0) Accept();
  }
}

void Proxy::Accept() {
  Fd client(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!client.valid()) return;
  Fd server(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!server.valid() ||
      ::connect(server.get(), reinterpret_cast<const sockaddr*>(&upstream_), sizeof upstream_) != 0) {
    const linger abort_on_close{1, 0};  // the upstream is away: the client sees a reset
    setsockopt(client.get(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    return;
  }
  const int one = 1;
  for (const Fd* fd : {&client, &server}) {
    setsockopt(fd->get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(fd->get(), F_SETFL, ::fcntl(fd->get(), F_GETFL) | O_NONBLOCK);
  }
  auto conn = std::make_unique<Connection>();
  conn->client = std::move(client);
  conn->server = std::move(server);
  conn->wake = Fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  Connection* raw = conn.get();
  Bump(stats_.connections);
  std::lock_guard<std::mutex> lock(mu_);
  connections_.push_back(std::move(conn));
  raw->pumps[kUp] = std::thread([this, raw] { Pump(raw, kUp); });
  raw->pumps[kDown] = std::thread([this, raw] { Pump(raw, kDown); });
}

void Proxy::Reap() {
  std::list<std::unique_ptr<Connection>> finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      if ((*it)->finished.load()) {
        finished.push_back(std::move(*it));
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& conn : finished) {
    for (std::thread& pump : conn->pumps) pump.join();
  }
}

void Proxy::End(Connection* conn, Ending ending) {
  std::lock_guard<std::mutex> lock(conn->mu);
  if (conn->ending != Ending::kNone) return;
  conn->ending = ending;
  if (ending == Ending::kReset) {
    const linger abort_on_close{1, 0};
    setsockopt(conn->client.get(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  }
  Signal(conn->wake);
}

bool Proxy::SleepFor(Connection* conn, std::chrono::microseconds duration) {
  if (duration.count() <= 0) return true;
  pollfd fds[2] = {{conn->wake.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
  const auto deadline = SteadyClock::now() + duration;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) return true;
    const timespec timeout{static_cast<time_t>(left.count() / 1'000'000'000), static_cast<long>(left.count() % 1'000'000'000)};
    const int ready = ::ppoll(fds, 2, &timeout, nullptr);
    if (ready > 0) return false;
    if (ready < 0 && errno != EINTR) return false;
  }
}

bool Proxy::SendAll(Connection* conn, int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t sent = ::send(fd, data, n, MSG_NOSIGNAL);
    if (sent > 0) {
      data += sent;
      n -= static_cast<size_t>(sent);
      continue;
    }
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd fds[3] = {{fd, POLLOUT, 0}, {conn->wake.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
      if (::poll(fds, 3, -1) < 0 && errno != EINTR) return false;
      if ((fds[1].revents | fds[2].revents) & POLLIN) return false;
      continue;
    }
    return false;
  }
  return true;
}

void Proxy::Decide(Decision& d, const DirectionToxics& t, Dir dir, const std::string& request) {
  d = Decision{};
  d.decided = true;
  const std::string& condition = t.only_if_request_contains;
  const bool applies = dir == kUp || condition.empty() || request.find(condition) != std::string::npos;
  if (!applies) return;
  d.conditional = dir == kDown && !condition.empty();
  d.limit = t.limit_probability > 0 && Roll() < t.limit_probability;
  d.reset = t.reset_probability > 0 && Roll() < t.reset_probability;
  d.black_hole = t.black_hole_probability > 0 && Roll() < t.black_hole_probability;
  d.corrupt = !t.corrupt_marker.empty() && t.corrupt_probability > 0 && Roll() < t.corrupt_probability;
}

bool Proxy::Forward(Connection* conn, Dir dir, char* data, size_t n) {
  const Toxics toxics = CurrentToxics();
  const DirectionToxics& t = dir == kUp ? toxics.upstream : toxics.downstream;
  Decision d;
  int64_t before = 0;
  int64_t exchange_index = 0;
  bool first_bytes = false;
  if (dir == kUp && toxics.stale_after_idle.count() > 0) {
    bool stale = false;
    {
      std::lock_guard<std::mutex> lock(conn->mu);
      stale = conn->used && SteadyClock::now() - conn->last_activity >= toxics.stale_after_idle;
    }
    if (stale) {
      Bump(stats_.stale_resets);
      End(conn, Ending::kReset);
      return false;
    }
  }
  {
    std::lock_guard<std::mutex> lock(conn->mu);
    Exchange& ex = conn->exchange;
    if (dir == kUp) {
      // The client speaks after the server did (or for the first time): a new exchange.
      if (ex.index == 0 || ex.bytes[kDown] > 0) {
        const int64_t next = ex.index + 1;
        ex = Exchange{};
        ex.index = next;
        Bump(stats_.exchanges);
      }
      if (ex.request.size() < kRequestKept) ex.request.append(data, std::min(n, kRequestKept - ex.request.size()));
    } else {
      if (ex.index == 0) {  // a server that speaks first
        ex.index = 1;
        Bump(stats_.exchanges);
      }
      conn->used = true;
    }
    conn->last_activity = SteadyClock::now();
    Decision& shared = ex.decision[dir];
    first_bytes = !shared.decided;
    if (!shared.decided) {
      Decide(shared, t, dir, ex.request);
      if (shared.black_hole) Bump(stats_.black_holes);
    }
    d = shared;
    before = ex.bytes[dir];
    exchange_index = ex.index;
  }

  // Black hole: swallow the bytes for as long as the toxic is in place.
  if (d.black_hole && t.black_hole_probability > 0) return true;

  if (d.corrupt) {
    for (size_t i = 0; i < n; ++i) {
      const char c = data[i];
      if (d.digit_pending) {
        if (c >= '0' && c <= '9') {
          data[i] = static_cast<char>(c == '9' ? '1' : c + 1);
          d.digit_pending = false;
          Bump(stats_.corruptions);
          if (d.conditional) Bump(stats_.conditional_hits);
        }
        continue;
      }
      const std::string& marker = t.corrupt_marker;
      d.marker_matched = c == marker[d.marker_matched] ? d.marker_matched + 1 : (c == marker[0] ? 1 : 0);
      if (d.marker_matched == marker.size()) {
        d.marker_matched = 0;
        d.digit_pending = true;
      }
    }
  }

  // limit_data and reset_peer: how much of this read may still go through.
  int64_t allowed = static_cast<int64_t>(n);
  Ending ending = Ending::kNone;
  if (d.limit && before + allowed >= t.limit_bytes) {
    allowed = std::max<int64_t>(0, t.limit_bytes - before);
    ending = Ending::kClose;
  }
  if (d.reset && before + allowed >= t.reset_after_bytes) {
    allowed = std::max<int64_t>(0, std::min(allowed, t.reset_after_bytes - before));
    ending = Ending::kReset;
  }
  {
    std::lock_guard<std::mutex> lock(conn->mu);
    Exchange& ex = conn->exchange;
    if (ex.index == exchange_index) {
      // Counted before sending: the client may answer as soon as it has the bytes.
      ex.bytes[dir] += allowed;
      ex.decision[dir].marker_matched = d.marker_matched;
      ex.decision[dir].digit_pending = d.digit_pending;
    }
  }

  if (first_bytes && (t.latency.count() > 0 || t.jitter.count() > 0)) {
    int64_t jitter_us = 0;
    if (t.jitter.count() > 0) {
      const int64_t range = std::chrono::duration_cast<std::chrono::microseconds>(t.jitter).count();
      jitter_us = RollBetween(-range, range);
    }
    const auto delay = std::chrono::duration_cast<std::chrono::microseconds>(t.latency) + std::chrono::microseconds(jitter_us);
    if (!SleepFor(conn, delay)) return false;
  }

  const int dst = dir == kUp ? conn->server.get() : conn->client.get();
  size_t offset = 0;
  while (offset < static_cast<size_t>(allowed)) {
    size_t piece = static_cast<size_t>(allowed) - offset;
    if (t.slice_bytes > 0) {
      size_t size = t.slice_bytes;
      if (t.slice_variation > 0) {
        const auto low = static_cast<int64_t>(t.slice_bytes) - static_cast<int64_t>(t.slice_variation);
        size = static_cast<size_t>(std::max<int64_t>(1, RollBetween(low, static_cast<int64_t>(t.slice_bytes + t.slice_variation))));
      }
      piece = std::min(piece, size);
    }
    if (!SendAll(conn, dst, data + offset, piece)) return false;
    Bump(dir == kUp ? stats_.bytes_upstream : stats_.bytes_downstream, static_cast<int64_t>(piece));
    offset += piece;
    if (t.bandwidth_bytes_per_s > 0) {
      const auto pause = std::chrono::microseconds(static_cast<int64_t>(piece) * 1'000'000 / t.bandwidth_bytes_per_s);
      if (!SleepFor(conn, pause)) return false;
    }
    if (t.slice_bytes > 0 && offset < static_cast<size_t>(allowed) && !SleepFor(conn, t.slice_delay)) return false;
  }
  {
    std::lock_guard<std::mutex> lock(conn->mu);
    conn->last_activity = SteadyClock::now();
  }

  if (ending == Ending::kClose) {
    Bump(stats_.limits);
    if (d.conditional) Bump(stats_.conditional_hits);
    End(conn, Ending::kClose);
    return false;
  }
  if (ending == Ending::kReset) {
    // Let the forwarded bytes leave first: a reset discards whatever is still queued.
    for (int waited = 0; waited < kResetDrainWaitMs; waited += 5) {
      int queued = 0;
      if (ioctl(dst, SIOCOUTQ, &queued) != 0 || queued == 0) break;
      if (!SleepFor(conn, std::chrono::milliseconds(5))) break;
    }
    Bump(stats_.resets);
    if (d.conditional) Bump(stats_.conditional_hits);
    End(conn, Ending::kReset);
    return false;
  }
  return true;
}

void Proxy::Pump(Connection* conn, Dir dir) {
  const int src = dir == kUp ? conn->client.get() : conn->server.get();
  const int dst = dir == kUp ? conn->server.get() : conn->client.get();
  char buffer[kReadBytes];
  bool reading = true;  // false after EOF in a black hole: wait for the end without forwarding it
  while (true) {
    pollfd fds[3] = {{conn->wake.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}, {reading ? src : -1, POLLIN, 0}};
    const int ready = ::poll(fds, 3, kTickMs);
    if (ready < 0 && errno != EINTR) break;
    if ((fds[0].revents | fds[1].revents) & POLLIN) break;
    if (ready <= 0) {
      if (dir == kUp) {
        const auto idle_limit = CurrentToxics().close_after_idle;
        bool expired = false;
        {
          std::lock_guard<std::mutex> lock(conn->mu);
          expired = idle_limit.count() > 0 && SteadyClock::now() - conn->last_activity >= idle_limit;
        }
        if (expired) {
          Bump(stats_.idle_closes);
          End(conn, Ending::kClose);
          break;
        }
      }
      continue;
    }
    if (fds[2].revents == 0) continue;
    const ssize_t n = ::recv(src, buffer, sizeof buffer, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    if (n < 0) {
      End(conn, Ending::kReset);  // the peer reset: pass it on
      break;
    }
    if (n == 0) {
      bool swallowed = false;
      {
        std::lock_guard<std::mutex> lock(conn->mu);
        swallowed = conn->exchange.decision[dir].black_hole && dir == kDown;
      }
      if (swallowed && CurrentToxics().downstream.black_hole_probability > 0) {
        reading = false;  // "never close": the client keeps waiting
        continue;
      }
      if (dir == kUp) {
        End(conn, Ending::kClose);  // the client is gone
        break;
      }
      ::shutdown(dst, SHUT_WR);  // the server finished: pass the FIN on
      break;
    }
    if (!Forward(conn, dir, buffer, static_cast<size_t>(n))) break;
  }
  std::lock_guard<std::mutex> lock(conn->mu);
  if (--conn->pumps_left == 0) {
    conn->client.Reset();
    conn->server.Reset();
    conn->finished.store(true);
  }
}

}  // namespace

Result<std::unique_ptr<FaultProxy>> FaultProxy::Start(const std::string& upstream_host, int upstream_port, uint64_t seed) {
  sockaddr_in upstream{};
  upstream.sin_family = AF_INET;
  upstream.sin_port = htons(static_cast<uint16_t>(upstream_port));
  if (::inet_pton(AF_INET, upstream_host.c_str(), &upstream.sin_addr) != 1) {
    return Fail(ErrorCode::kUsage, "the fault proxy needs a numeric IPv4 upstream, got '" + upstream_host + "'");
  }
  auto proxy = std::make_unique<Proxy>(upstream, seed);
  BARFILL_TRY(proxy->Listen(0));
  proxy->StartAcceptor();
  return std::unique_ptr<FaultProxy>(std::move(proxy));
}

}  // namespace barfill::testing
