#include "sim/sim_server.h"

#include <arpa/inet.h>
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
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "calendar/exchange_calendar.h"
#include "sim/action_table.h"
#include "sim/actions_api.h"
#include "sim/aggs_api.h"
#include "sim/hash.h"
#include "sim/http_wire.h"
#include "sim/market_data.h"
#include "sim/s3_day_file.h"

namespace barfill::sim {
namespace {

// Every SimStats field, once: the atomic counters, the snapshot, the reset and the JSON follow it.
#define BARFILL_SIM_STATS(X)                                                                 \
  X(requests) X(data_requests) X(bars_served) X(bytes_served) X(rate_limited) X(http429)     \
  X(http5xx) X(reset) X(truncate) X(badjson) X(slow) X(delayed) X(expvol) X(auth_failures)   \
  X(bad_requests) X(forbidden) X(connections) X(actions_requests)

struct AtomicStats {
#define BARFILL_DECLARE(name) std::atomic<int64_t> name{0};
  BARFILL_SIM_STATS(BARFILL_DECLARE)
#undef BARFILL_DECLARE

  SimStats Snapshot() const {
    SimStats s;
#define BARFILL_COPY(name) s.name = name.load(std::memory_order_relaxed);
    BARFILL_SIM_STATS(BARFILL_COPY)
#undef BARFILL_COPY
    return s;
  }
  void Zero() {
#define BARFILL_ZERO(name) name.store(0, std::memory_order_relaxed);
    BARFILL_SIM_STATS(BARFILL_ZERO)
#undef BARFILL_ZERO
  }
};

void Bump(std::atomic<int64_t>& counter, int64_t by = 1) { counter.fetch_add(by, std::memory_order_relaxed); }

enum class Fault { kNone, kHttp429, kHttp5xx, kReset, kTruncate, kBadJson, kSlow };

/// What the dice decided for one data request: a fault (mutually exclusive) and the two
/// independent body modes.
struct FaultDraw {
  Fault fault = Fault::kNone;
  bool retry_after = false;  // http429: half of them
  int status_5xx = 502;
  bool html_5xx = false;
  bool delayed = false;
  bool expvol = false;
};

FaultDraw DrawFaults(const FaultRates& rates, uint64_t fault_seed, uint64_t index) {
  FaultDraw draw;
  const uint64_t h = SplitMix64(SplitMix64(fault_seed ^ 0x6661756C74ULL) + index);
  const double u = Unit53(h);
  const std::pair<double, Fault> kinds[] = {
      {rates.http429, Fault::kHttp429}, {rates.http5xx, Fault::kHttp5xx},
      {rates.reset, Fault::kReset},     {rates.truncate, Fault::kTruncate},
      {rates.badjson, Fault::kBadJson}, {rates.slow, Fault::kSlow}};
  double edge = 0;
  for (const auto& [p, kind] : kinds) {
    edge += p;
    if (u < edge) {
      draw.fault = kind;
      break;
    }
  }
  const uint64_t detail = SplitMix64(h ^ 0x64657461696CULL);
  draw.retry_after = (detail & 1) != 0;
  draw.status_5xx = 502 + static_cast<int>((detail >> 1) % 3);
  draw.html_5xx = ((detail >> 8) & 1) != 0;
  draw.delayed = Unit53(SplitMix64(detail + 1)) < rates.delayed;
  draw.expvol = Unit53(SplitMix64(detail + 2)) < rates.expvol;
  return draw;
}

/// A sliding window (60 s unless tests shorten it) per API key over admitted requests.
class SlidingWindowLimiter {
 public:
  SlidingWindowLimiter(int per_minute, int window_ms)
      : window_(window_ms),
        per_window_(per_minute <= 0 ? 0 : std::max<int64_t>(1, int64_t{per_minute} * window_ms / 60000)) {}

  bool Admit(const std::string& key) {
    if (per_window_ <= 0) return true;
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> lock(mu_);
    std::deque<std::chrono::steady_clock::time_point>& window = windows_[key];
    while (!window.empty() && now - window.front() >= window_) window.pop_front();
    if (window.size() >= static_cast<size_t>(per_window_)) return false;
    window.push_back(now);
    return true;
  }

 private:
  const std::chrono::milliseconds window_;
  const int64_t per_window_;
  std::mutex mu_;
  std::unordered_map<std::string, std::deque<std::chrono::steady_clock::time_point>> windows_;
};

/// The targets of the last data requests, for tests that check what was (not) fetched.
class RequestLog {
 public:
  static constexpr size_t kCapacity = 100000;

  void Add(std::string target) {
    std::lock_guard<std::mutex> lock(mu_);
    if (targets_.size() == kCapacity) targets_.pop_front();
    targets_.push_back(std::move(target));
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mu_);
    targets_.clear();
  }
  void WriteJson(ByteBuffer* out) const {
    std::lock_guard<std::mutex> lock(mu_);
    out->Append('[');
    bool first = true;
    for (const std::string& target : targets_) {
      out->Append(first ? "\"" : ",\"");
      AppendJsonEscaped(out, target);
      out->Append('"');
      first = false;
    }
    out->Append(']');
  }

 private:
  mutable std::mutex mu_;
  std::deque<std::string> targets_;
};

/// How often each series has visited each day that has a hole or a revision (SimOptions::
/// hole_fill_visits), and so how the day is served to it now.
class VisitLog {
 public:
  explicit VisitLog(const SimOptions& options)
      : fill_visits_(options.hole_fill_visits),
        fill_after_(options.hole_fill_after_ms),
        started_(std::chrono::steady_clock::now()) {}

  /// How the request `call` sees each event day.
  ServingOf ServingFor(const AggsCall& call) {
    // One answer per day and request, however often the page reader asks.
    auto seen = std::make_shared<std::map<int64_t, DayServing>>();
    return [this, call, seen](CalendarDay day) {
      const int64_t key_day = day.DaysSinceEpoch();
      if (const auto it = seen->find(key_day); it != seen->end()) return it->second;
      const DayServing serving = Visit(call, day);
      seen->emplace(key_day, serving);
      return serving;
    };
  }

  /// Each series' visits to `ticker`'s `day`, as JSON objects.
  void WriteVisitsJson(const Ticker& ticker, CalendarDay day, ByteBuffer* out) const {
    std::lock_guard<std::mutex> lock(mu_);
    out->Append('[');
    bool first = true;
    for (const auto& [key, visits] : visits_) {
      if (std::get<0>(key) != ticker.symbol() || std::get<3>(key) != day.DaysSinceEpoch()) continue;
      out->Append(first ? "{\"timeframe\":\"" : ",{\"timeframe\":\"");
      AppendJsonEscaped(out, std::get<1>(key));
      out->Append("\",\"adjusted\":");
      out->Append(std::get<2>(key) ? "true" : "false");
      out->Append(",\"visits\":");
      out->Append(std::to_string(visits));
      out->Append('}');
      first = false;
    }
    out->Append(']');
  }

 private:
  using Key = std::tuple<std::string, std::string, bool, int64_t>;  // ticker, timeframe, adjusted, day

  DayServing Visit(const AggsCall& call, CalendarDay day) {
    // A request whose range begins at or before the day's session starts a visit (a first page,
    // or a next_url page whose predecessor ended before the day); one beginning inside the day
    // continues the visit a page before it started.
    const auto session = calendar::ExchangeCalendar::For(call.ticker->asset_class()).SessionOn(day);
    const MarketZone zone = call.ticker->zone();
    const int64_t day_begins =
        session && session->is_open() ? BucketStart(call.timeframe, zone, session->extended.from_ms) : zone.DayStartMs(day);
    const bool visit = call.range.from_ms <= day_begins;
    int visits = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      int& count = visits_[Key{call.ticker->symbol(), call.timeframe.ToString(), call.adjusted, day.DaysSinceEpoch()}];
      if (visit) ++count;
      visits = std::max(count, 1);  // a page inside a visit not yet logged belongs to the first
    }
    const bool filled_by_time =
        fill_after_ > 0 && std::chrono::steady_clock::now() - started_ >= std::chrono::milliseconds(fill_after_);
    DayServing serving;
    serving.hole_open = !filled_by_time && (fill_visits_ == 0 || visits <= fill_visits_);
    serving.original = visits <= 1;
    return serving;
  }

  const int fill_visits_;
  const int64_t fill_after_;
  const std::chrono::steady_clock::time_point started_;
  mutable std::mutex mu_;
  std::map<Key, int> visits_;
};

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kHtml = "text/html";
constexpr int kListenBacklog = 512;
constexpr int kWriteTimeoutMs = 60000;
constexpr int kSlowPieces = 20;           // the slow fault sends the body in 20 pieces...
constexpr int kSlowPauseMs = 50;          // ...50 ms apart: about a second in all
constexpr int kResetDrainWaitMs = 1000;   // how long a reset waits for its partial body to leave
constexpr size_t kReadChunk = 16 * 1024;

std::string HtmlFor5xx(int status) {
  const std::string line = std::to_string(status) + " " + std::string(ReasonPhrase(status));
  return "<html>\r\n<head><title>" + line + "</title></head>\r\n<body>\r\n<center><h1>" + line +
         "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
}

/// A Host header is used for next_url only when it looks like host[:port].
bool PlausibleHost(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' ||
           c == ']' || c == '_';
  });
}

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

/// What one connection reuses from request to request, so serving allocates nothing per bar.
struct Scratch {
  Page page;
  GroupedPage grouped;
  ByteBuffer body;
  ByteBuffer gzipped;
  GzipEncoder gzip;
  std::string head;
};

/// The answer to one request; its body is in Scratch::body.
struct Reply {
  int status = 200;
  std::string_view content_type = kJson;
  std::string request_id;
  std::string extra_headers;  // complete lines, e.g. "Retry-After: 1\r\n"
  Fault fault = Fault::kNone;
  int64_t bars = 0;
  bool admin = false;         // admin endpoints are not counted
  bool is_s3 = false;         // an S3 answer: its body and headers are in `s3`
  S3Reply s3;
};

struct Connection {
  UniqueFd fd;
  std::thread thread;
  std::atomic<bool> finished{false};
};

class Server final : public SimServer {
 public:
  explicit Server(SimOptions options)
      : options_(std::move(options)),
        market_(MarketOf(options_)),
        listed_(std::make_shared<const Market>(market_)),
        limiter_(options_.rate_limit_per_min, options_.rate_limit_window_ms),
        forbidden_(options_.forbidden_tickers.begin(), options_.forbidden_tickers.end()),
        id_salt_(SplitMix64(options_.seed ^ 0x726571756573ULL)),
        visits_(options_),
        s3_(options_.s3, market_, options_.fault_seed),
        universe_(options_.s3.universe.empty() ? DefaultUniverse() : options_.s3.universe),
        odd_symbols_(options_.s3.test_symbols ? std::vector<std::string>(std::begin(kTestSymbols), std::end(kTestSymbols))
                                              : std::vector<std::string>{}) {}
  ~Server() override { Stop(); }

  Status Listen();

  std::string BaseUrl() const override { return base_url_; }
  int Port() const override { return port_; }
  SimStats Stats() const override { return stats_.Snapshot(); }
  S3Stats FlatFileStats() const override { return s3_.Stats(); }
  const Market& TheMarket() const override { return market_; }
  Result<std::string> EditSplits(SplitEdit edit) override;
  Market CurrentMarket() const override { return *Listed(); }
  void Stop() override;

 private:
  enum class Wait { kReady, kTimeout, kStop };

  void AcceptLoop();
  void Reap();
  void ServeConnection(Connection* conn);
  void Handle(const HttpRequest& request, Scratch& scratch, Reply* reply);
  void HandleAdmin(const HttpRequest& request, Scratch& scratch, Reply* reply);
  void WriteInjected(const HttpRequest& request, Scratch& scratch, Reply* reply);
  void HandleAggs(const HttpRequest& request, const AggsPath& aggs_path, Scratch& scratch, Reply* reply);
  void HandleGrouped(const HttpRequest& request, const GroupedPath& grouped_path, Scratch& scratch, Reply* reply);
  /// The request's API key, or nullopt after answering 401.
  std::optional<std::string> Authorize(const HttpRequest& request, const QueryParams& query, Scratch& scratch,
                                       Reply* reply);
  /// A valid data request: the rate limit (429), the count and the log, then the fault dice. Nullopt
  /// when it was answered already (a 429 of either kind, a 5xx).
  /// `counter` counts it (bars' requests and corporate actions' apart).
  std::optional<FaultDraw> Admit(const HttpRequest& request, const std::string& key, std::atomic<int64_t>& counter,
                                 Scratch& scratch, Reply* reply);
  /// How the dice dress a 200 body (counted).
  BodyStyle StyleOf(const FaultDraw& draw);
  /// The dice's damage to a 200 body of `bars` bars, once written.
  void Spoil(const FaultDraw& draw, int64_t bars, Scratch& scratch, Reply* reply);
  void HandleActions(const HttpRequest& request, ActionsEndpoint endpoint, Scratch& scratch, Reply* reply);
  std::shared_ptr<const Market> Listed() const {
    std::lock_guard<std::mutex> lock(listed_mu_);
    return listed_;
  }
  void ErrorReply(int status, std::string_view body_status, std::string_view key, std::string_view text,
                  Scratch& scratch, Reply* reply);
  /// Writes the reply the way its fault says; returns whether the connection stays open.
  bool Send(int fd, const HttpRequest& request, const Reply& reply, Scratch& scratch);

  Wait WaitFor(int fd, short events, int timeout_ms) const;
  bool SendAll(int fd, std::string_view first, std::string_view second) const;
  std::string NewRequestId();
  std::string BaseFor(const HttpRequest& request) const;

  const SimOptions options_;
  const Market market_;
  mutable std::mutex listed_mu_;
  std::shared_ptr<const Market> listed_;  // market_ with the split edits made since the start
  SlidingWindowLimiter limiter_;
  const std::unordered_set<std::string> forbidden_;
  const uint64_t id_salt_;
  AtomicStats stats_;
  RequestLog log_;
  VisitLog visits_;
  std::atomic<uint64_t> request_counter_{0};
  std::atomic<uint64_t> data_counter_{0};  // the fault dice index; /__reset keeps it going
  S3Api s3_;
  // Grouped daily answers for the flat files' universe, test symbols included.
  const std::vector<Ticker> universe_;
  const std::vector<std::string> odd_symbols_;

  UniqueFd listen_fd_;
  UniqueFd wake_fd_;  // an eventfd that becomes readable, for every poller at once, on Stop
  int port_ = 0;
  std::string base_url_;
  std::thread acceptor_;

  std::mutex mu_;
  std::condition_variable slots_cv_;
  bool stopping_ = false;  // guarded by mu_; stopped_ is its lock-free mirror
  std::atomic<bool> stopped_{false};
  int active_ = 0;
  std::list<std::unique_ptr<Connection>> connections_;  // touched by the acceptor, then by Stop
};

Status Server::Listen() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port_text = std::to_string(options_.port);
  const int gai = getaddrinfo(options_.host.c_str(), port_text.c_str(), &hints, &found);
  if (gai != 0) {
    return Fail(ErrorCode::kUsage, "cannot resolve --host '" + options_.host + "': " + gai_strerror(gai));
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, &freeaddrinfo);
  std::string last_error = "no address";
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    UniqueFd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (!fd.valid()) {
      last_error = std::strerror(errno);
      continue;
    }
    const int one = 1;
    setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd.get(), a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd.get(), kListenBacklog) != 0) {
      last_error = std::strerror(errno);
      continue;
    }
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &length);
    port_ = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    listen_fd_ = std::move(fd);
    break;
  }
  if (!listen_fd_.valid()) {
    return Fail(ErrorCode::kUsage, "cannot listen on " + options_.host + ":" + port_text + ": " + last_error);
  }
  wake_fd_ = UniqueFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_fd_.valid()) return Fail(ErrorCode::kInternal, std::string("eventfd: ") + std::strerror(errno));
  const bool ipv6_literal = options_.host.find(':') != std::string::npos;
  base_url_ = "http://" + (ipv6_literal ? "[" + options_.host + "]" : options_.host) + ":" + std::to_string(port_);
  acceptor_ = std::thread([this] { AcceptLoop(); });
  return Ok();
}

void Server::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  stopped_.store(true);
  slots_cv_.notify_all();
  if (wake_fd_.valid()) {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t w = ::write(wake_fd_.get(), &one, sizeof one);
  }
  if (acceptor_.joinable()) acceptor_.join();
  for (auto& conn : connections_) {
    if (conn->thread.joinable()) conn->thread.join();
  }
  connections_.clear();
  listen_fd_.Reset();
}

void Server::AcceptLoop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      slots_cv_.wait(lock, [&] { return stopping_ || active_ < options_.max_connections; });
      if (stopping_) return;
    }
    pollfd fds[2] = {{listen_fd_.get(), POLLIN, 0}, {wake_fd_.get(), POLLIN, 0}};
    constexpr int kReapEveryMs = 1000;
    const int ready = ::poll(fds, 2, kReapEveryMs);
    if (stopped_.load()) return;
    Reap();
    if (ready <= 0 || (fds[0].revents & POLLIN) == 0) continue;
    const int fd = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));  // wait for descriptors to free up
      }
      continue;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    Bump(stats_.connections);
    auto conn = std::make_unique<Connection>();
    conn->fd = UniqueFd(fd);
    Connection* raw = conn.get();
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++active_;
    }
    connections_.push_back(std::move(conn));
    raw->thread = std::thread([this, raw] { ServeConnection(raw); });
  }
}

void Server::Reap() {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if ((*it)->finished.load()) {
      (*it)->thread.join();
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

Server::Wait Server::WaitFor(int fd, short events, int timeout_ms) const {
  // poll ignores a negative fd, so WaitFor(-1, ...) is an interruptible sleep.
  pollfd fds[2] = {{wake_fd_.get(), POLLIN, 0}, {fd, events, 0}};
  while (true) {
    const int ready = ::poll(fds, 2, timeout_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return Wait::kTimeout;
    if (stopped_.load() || (fds[0].revents & POLLIN) != 0) return Wait::kStop;
    return Wait::kReady;
  }
}

bool Server::SendAll(int fd, std::string_view first, std::string_view second) const {
  iovec iov[2] = {{const_cast<char*>(first.data()), first.size()},
                  {const_cast<char*>(second.data()), second.size()}};
  int index = 0;
  while (index < 2) {
    if (iov[index].iov_len == 0) {
      ++index;
      continue;
    }
    msghdr msg{};
    msg.msg_iov = iov + index;
    msg.msg_iovlen = static_cast<size_t>(2 - index);
    const ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (WaitFor(fd, POLLOUT, kWriteTimeoutMs) != Wait::kReady) return false;
        continue;
      }
      return false;
    }
    size_t left = static_cast<size_t>(n);
    while (left > 0 && index < 2) {
      const size_t take = std::min(left, iov[index].iov_len);
      iov[index].iov_base = static_cast<char*>(iov[index].iov_base) + take;
      iov[index].iov_len -= take;
      left -= take;
      if (iov[index].iov_len == 0) ++index;
    }
  }
  return true;
}

std::string Server::NewRequestId() {
  const uint64_t n = request_counter_.fetch_add(1, std::memory_order_relaxed);
  const uint64_t a = SplitMix64(id_salt_ + 2 * n);
  const uint64_t b = SplitMix64(id_salt_ + 2 * n + 1);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int i = 0; i < 16; ++i) {
    id[i] = kHex[(a >> (60 - 4 * i)) & 15];
    id[16 + i] = kHex[(b >> (60 - 4 * i)) & 15];
  }
  return id;
}

std::string Server::BaseFor(const HttpRequest& request) const {
  // The client's own view of the server, so a proxy in front of it keeps getting the next pages.
  if (PlausibleHost(request.host)) return "http://" + request.host;
  return base_url_;
}

void Server::ServeConnection(Connection* conn) {
  const int fd = conn->fd.get();
  Scratch scratch;
  std::string in;
  char chunk[kReadChunk];
  while (true) {
    HttpRequest request;
    size_t consumed = 0;
    HeadStatus head = ParseRequestHead(in, &request, &consumed);
    bool open = true;
    while (head == HeadStatus::kIncomplete && open) {
      if (WaitFor(fd, POLLIN, options_.idle_timeout_ms) != Wait::kReady) {
        open = false;
        break;
      }
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n == 0) {
        open = false;
      } else if (n < 0) {
        open = errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK;
      } else {
        in.append(chunk, static_cast<size_t>(n));
        head = ParseRequestHead(in, &request, &consumed);
      }
    }
    if (!open) break;
    if (head == HeadStatus::kInvalid) {
      Reply reply;
      reply.request_id = NewRequestId();
      Bump(stats_.requests);
      Bump(stats_.bad_requests);
      ErrorReply(400, "ERROR", "error", "Malformed HTTP request", scratch, &reply);
      request.keep_alive = false;
      Send(fd, request, reply, scratch);
      break;
    }
    in.erase(0, consumed);
    Reply reply;
    Handle(request, scratch, &reply);
    if (!Send(fd, request, reply, scratch)) break;
  }
  conn->fd.Reset();
  {
    std::lock_guard<std::mutex> lock(mu_);
    --active_;
  }
  conn->finished.store(true);
  slots_cv_.notify_all();
}

void Server::ErrorReply(int status, std::string_view body_status, std::string_view key, std::string_view text,
                        Scratch& scratch, Reply* reply) {
  reply->status = status;
  scratch.body.Clear();
  WriteErrorBody(body_status, reply->request_id, key, text, &scratch.body);
}

void Server::Handle(const HttpRequest& request, Scratch& scratch, Reply* reply) {
  scratch.body.Clear();
  reply->request_id = NewRequestId();
  const std::string_view path = request.path();
  if (path.substr(0, 3) == "/__") {
    HandleAdmin(request, scratch, reply);
    return;
  }
  Bump(stats_.requests);
  if (s3_.Owns(path)) {
    reply->is_s3 = true;
    s3_.Serve(request, reply->request_id, &reply->s3);
    reply->status = reply->s3.status;
    reply->content_type = reply->s3.content_type;
    reply->extra_headers = reply->s3.headers;
    if (reply->s3.reset_midway) reply->fault = Fault::kReset;
    return;
  }
  if (request.method != "GET") {
    Bump(stats_.bad_requests);
    ErrorReply(405, "ERROR", "error", "Method not allowed: use GET", scratch, reply);
    return;
  }
  if (const auto grouped_path = MatchGroupedPath(path)) {
    HandleGrouped(request, *grouped_path, scratch, reply);
    return;
  }
  if (const auto endpoint = MatchActionsPath(path)) {
    HandleActions(request, *endpoint, scratch, reply);
    return;
  }
  const auto aggs_path = MatchAggsPath(path);
  if (!aggs_path) {
    Bump(stats_.bad_requests);
    ErrorReply(404, "NOT_FOUND", "message", kTextNotFound, scratch, reply);
    return;
  }
  HandleAggs(request, *aggs_path, scratch, reply);
}

void Server::HandleAdmin(const HttpRequest& request, Scratch& scratch, Reply* reply) {
  reply->admin = true;
  const std::string_view path = request.path();
  if (path == "/__splits/insert" || path == "/__splits/remove") {
    SplitEdit edit;
    edit.remove = path == "/__splits/remove";
    for (const auto& [key, value] : ParseQuery(request.query())) {
      if (key == "ticker") edit.ticker = value;
      if (key == "id") edit.id = value;
      if (key == "split_from") edit.split_from = std::strtod(value.c_str(), nullptr);
      if (key == "split_to") edit.split_to = std::strtod(value.c_str(), nullptr);
      if (key == "execution_date") {
        if (auto day = CalendarDay::Parse(value)) edit.execution_date = *day;
      }
    }
    auto id = EditSplits(std::move(edit));
    if (!id) {
      ErrorReply(400, "ERROR", "error", id.error().message, scratch, reply);
    } else {
      scratch.body.Append("{\"status\":\"OK\",\"id\":\"" + *id + "\"}");
    }
    return;
  }
  if (path == "/__injected") {
    WriteInjected(request, scratch, reply);
  } else if (path == "/__stats") {
    scratch.body.Append(stats_.Snapshot().ToJson());
  } else if (path == "/__requests") {
    log_.WriteJson(&scratch.body);
  } else if (path == "/__s3stats") {
    scratch.body.Append(s3_.Stats().ToJson());
  } else if (path == "/__reset") {
    stats_.Zero();
    log_.Clear();
    scratch.body.Append("{\"status\":\"OK\"}");
  } else {
    ErrorReply(404, "NOT_FOUND", "message", kTextNotFound, scratch, reply);
  }
}

void Server::WriteInjected(const HttpRequest& request, Scratch& scratch, Reply* reply) {
  std::vector<std::string> tickers = options_.event_tickers;
  std::optional<CalendarDay> from;
  std::optional<CalendarDay> to;
  for (const auto& [name, value] : ParseQuery(request.query())) {
    if (name == "tickers") {
      tickers.clear();
      size_t start = 0;
      while (start <= value.size()) {
        const size_t comma = std::min(value.find(',', start), value.size());
        if (comma > start) tickers.push_back(value.substr(start, comma - start));
        start = comma + 1;
      }
    } else if (name == "from" || name == "to") {
      const auto day = CalendarDay::Parse(value);
      if (!day) {
        ErrorReply(400, "ERROR", "error", name + " must be a YYYY-MM-DD day", scratch, reply);
        return;
      }
      (name == "from" ? from : to) = *day;
    }
  }
  if (!from || !to || tickers.empty()) {
    ErrorReply(400, "ERROR", "error", "use /__injected?from=YYYY-MM-DD&to=YYYY-MM-DD&tickers=A,B", scratch, reply);
    return;
  }
  ByteBuffer& out = scratch.body;
  out.Append("{\"as_of\":\"");
  out.Append(FormatIsoUtc(market_.events.as_of_ms));
  out.Append("\",\"hole_fill_visits\":" + std::to_string(options_.hole_fill_visits) +
             ",\"hole_fill_after_ms\":" + std::to_string(options_.hole_fill_after_ms) +
             ",\"revise_sessions\":" + std::to_string(options_.revise_sessions) + ",\"events\":[");
  bool first = true;
  for (const std::string& symbol : tickers) {
    const auto ticker = Ticker::Parse(symbol);
    if (!ticker) continue;
    for (const InjectedEvent& e : EventsOf(market_, *ticker, *from, *to)) {
      out.Append(first ? "{\"kind\":\"" : ",{\"kind\":\"");
      first = false;
      out.Append(EventKindName(e.kind));
      out.Append("\",\"ticker\":\"");
      AppendJsonEscaped(&out, e.ticker.symbol());
      out.Append("\",\"day\":\"" + e.day.ToString() + "\",\"from\":\"" + FormatIsoUtc(e.window.from_ms) +
                 "\",\"to\":\"" + FormatIsoUtc(e.window.to_ms) + "\",\"from_ms\":" + std::to_string(e.window.from_ms) +
                 ",\"to_ms\":" + std::to_string(e.window.to_ms) + ",\"visits\":");
      visits_.WriteVisitsJson(e.ticker, e.day, &out);
      out.Append('}');
    }
  }
  out.Append("]}");
}


std::optional<std::string> Server::Authorize(const HttpRequest& request, const QueryParams& query, Scratch& scratch,
                                             Reply* reply) {
  std::string key;
  for (const auto& [name, value] : query) {
    if (name == "apiKey") key = value;
  }
  if (key.empty() && StartsWithIgnoreCase(request.authorization, "Bearer ")) {
    key = request.authorization.substr(7);
    while (!key.empty() && key.front() == ' ') key.erase(key.begin());
  }
  if (key.empty()) {
    Bump(stats_.auth_failures);
    ErrorReply(401, "ERROR", "error", kTextNoApiKey, scratch, reply);
    return std::nullopt;
  }
  if (!options_.api_key.empty() && key != options_.api_key) {
    Bump(stats_.auth_failures);
    ErrorReply(401, "ERROR", "error", kTextUnknownApiKey, scratch, reply);
    return std::nullopt;
  }
  return key;
}

std::optional<FaultDraw> Server::Admit(const HttpRequest& request, const std::string& key,
                                       std::atomic<int64_t>& counter, Scratch& scratch, Reply* reply) {
  if (!limiter_.Admit(key)) {
    Bump(stats_.rate_limited);
    ErrorReply(429, "ERROR", "error", kTextRateLimited, scratch, reply);
    return std::nullopt;
  }

  Bump(counter);
  const std::string_view raw_query = request.query();
  const std::string logged_query = RemoveQueryParam(raw_query, "apiKey");
  log_.Add(std::string(request.path()) + (logged_query.empty() ? "" : "?" + logged_query));

  const FaultDraw draw = DrawFaults(options_.faults, options_.fault_seed, data_counter_.fetch_add(1));
  switch (draw.fault) {
    case Fault::kHttp429:
      Bump(stats_.http429);
      ErrorReply(429, "ERROR", "error", kTextRateLimited, scratch, reply);
      if (draw.retry_after) reply->extra_headers = "Retry-After: " + std::to_string(options_.retry_after_s) + "\r\n";
      return std::nullopt;
    case Fault::kHttp5xx:
      Bump(stats_.http5xx);
      reply->status = draw.status_5xx;
      if (draw.html_5xx) {
        reply->content_type = kHtml;
        scratch.body.Append(HtmlFor5xx(draw.status_5xx));
      }
      return std::nullopt;
    default:
      return draw;
  }
}

void Server::HandleActions(const HttpRequest& request, ActionsEndpoint endpoint, Scratch& scratch, Reply* reply) {
  const QueryParams query = ParseQuery(request.query());
  const auto key = Authorize(request, query, scratch, reply);
  if (!key) return;
  const auto call = ResolveActionsCall(endpoint, query);
  if (!call) {
    Bump(stats_.bad_requests);
    ErrorReply(400, "ERROR", "error", call.error().message, scratch, reply);
    return;
  }
  const auto draw = Admit(request, *key, stats_.actions_requests, scratch, reply);
  if (!draw) return;
  WriteActionsBody(*call, *Listed(), options_.action_faults, BaseFor(request), reply->request_id, &scratch.body);
  Spoil(*draw, 0, scratch, reply);
}

Result<std::string> Server::EditSplits(SplitEdit edit) {
  auto ticker = Ticker::Parse(edit.ticker);
  if (!ticker || ticker->asset_class() != AssetClass::kStock) {
    return Fail(ErrorCode::kUsage, "splits are edited for stock tickers only, not '" + edit.ticker + "'");
  }
  std::lock_guard<std::mutex> lock(listed_mu_);
  auto next = std::make_shared<Market>(*listed_);
  if (edit.remove) {
    const std::vector<SplitRecord> splits = ListedSplits(*next, *ticker);
    const bool listed = std::any_of(splits.begin(), splits.end(), [&](const SplitRecord& s) { return s.id == edit.id; });
    if (!listed) return Fail(ErrorCode::kNotFound, edit.ticker + " has no split " + edit.id);
  } else {
    if (!(edit.split_from > 0 && edit.split_to > 0)) return Fail(ErrorCode::kUsage, "a split needs positive split_from and split_to");
    if (edit.id.empty()) edit.id = EventId(edit.ticker, "split", edit.execution_date, edit.split_from, edit.split_to);
  }
  const std::string id = edit.id;
  next->split_edits.push_back(std::move(edit));
  listed_ = std::move(next);
  return id;
}

BodyStyle Server::StyleOf(const FaultDraw& draw) {
  BodyStyle style;
  style.delayed = draw.delayed;
  style.exponent_volumes = draw.expvol;
  if (draw.delayed) Bump(stats_.delayed);
  if (draw.expvol) Bump(stats_.expvol);
  return style;
}

void Server::Spoil(const FaultDraw& draw, int64_t bars, Scratch& scratch, Reply* reply) {
  reply->bars = bars;
  reply->fault = draw.fault;
  switch (draw.fault) {
    case Fault::kBadJson:
      // A 200 whose JSON stops in the middle: valid length, invalid document.
      Bump(stats_.badjson);
      scratch.body.Truncate(scratch.body.size() / 2);
      break;
    case Fault::kReset: Bump(stats_.reset); break;
    case Fault::kTruncate: Bump(stats_.truncate); break;
    case Fault::kSlow: Bump(stats_.slow); break;
    default: break;
  }
}

void Server::HandleAggs(const HttpRequest& request, const AggsPath& aggs_path, Scratch& scratch, Reply* reply) {
  const QueryParams query = ParseQuery(request.query());
  const auto key = Authorize(request, query, scratch, reply);
  if (!key) return;
  const auto call = ResolveAggsCall(aggs_path, query);
  if (!call) {
    Bump(stats_.bad_requests);
    ErrorReply(400, "ERROR", "error", call.error().message, scratch, reply);
    return;
  }
  if (forbidden_.count(call->ticker_text) > 0) {
    Bump(stats_.forbidden);
    ErrorReply(403, "NOT_AUTHORIZED", "message", kTextNotAuthorized, scratch, reply);
    return;
  }
  const auto draw = Admit(request, *key, stats_.data_requests, scratch, reply);
  if (!draw) return;

  if (call->ticker) {
    PageQuery page_query;
    page_query.seed = options_.seed;
    page_query.ticker = *call->ticker;
    page_query.activity = market_.ActivityOf(page_query.ticker);
    page_query.timeframe = call->timeframe;
    page_query.adjusted = call->adjusted;
    page_query.range = call->range;
    page_query.limit = std::min(call->limit, options_.max_page_limit);
    page_query.true_splits = TrueSplitFactors(options_.seed, page_query.ticker);
    if (call->adjusted) page_query.listed_splits = ListedSplitFactors(*Listed(), page_query.ticker);
    if (market_.events.any()) {
      page_query.events = &market_.events;
      page_query.serving = visits_.ServingFor(*call);
    }
    ReadPage(page_query, &scratch.page);
  } else {
    scratch.page.bars.clear();
    scratch.page.query_count = 0;
    scratch.page.more = false;
  }
  const Page& page = scratch.page;
  std::string next_url;
  if (page.more) next_url = NextUrl(BaseFor(request), *call, NextBarStart(*call, page.bars.t.back()));
  WriteAggsBody(*call, page, reply->request_id, next_url, StyleOf(*draw), &scratch.body);
  Spoil(*draw, static_cast<int64_t>(page.bars.size()), scratch, reply);
}

void Server::HandleGrouped(const HttpRequest& request, const GroupedPath& grouped_path, Scratch& scratch,
                           Reply* reply) {
  const QueryParams query = ParseQuery(request.query());
  const auto key = Authorize(request, query, scratch, reply);
  if (!key) return;
  const auto call = ResolveGroupedCall(grouped_path, query);
  if (!call) {
    Bump(stats_.bad_requests);
    ErrorReply(400, "ERROR", "error", call.error().message, scratch, reply);
    return;
  }
  const auto draw = Admit(request, *key, stats_.data_requests, scratch, reply);
  if (!draw) return;
  ReadGroupedPage(*Listed(), *call, universe_, odd_symbols_, &scratch.grouped);
  WriteGroupedBody(*call, scratch.grouped, reply->request_id, StyleOf(*draw), &scratch.body);
  Spoil(*draw, static_cast<int64_t>(scratch.grouped.bars.size()), scratch, reply);
}

bool Server::Send(int fd, const HttpRequest& request, const Reply& reply, Scratch& scratch) {
  std::string_view body = reply.is_s3 ? reply.s3.Body() : scratch.body.view();
  bool gzip = false;
  // S3 objects go out as stored (the .csv.gz is the object; S3 adds no transfer coding).
  if (!reply.is_s3 && options_.gzip && request.accepts_gzip && !body.empty() &&
      scratch.gzip.Compress(body, &scratch.gzipped)) {
    body = scratch.gzipped.view();
    gzip = true;
  }
  const bool breaks = reply.fault == Fault::kReset || reply.fault == Fault::kTruncate;
  const bool keep_alive = request.keep_alive && !breaks;

  std::string& head = scratch.head;
  head.clear();
  head.append("HTTP/1.1 ").append(std::to_string(reply.status)).append(" ").append(ReasonPhrase(reply.status));
  head.append("\r\nServer: barfill-sim\r\n");
  if (!body.empty()) head.append("Content-Type: ").append(reply.content_type).append("\r\n");
  head.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  if (gzip) head.append("Content-Encoding: gzip\r\n");
  head.append("Vary: Accept-Encoding\r\nX-Request-Id: ").append(reply.request_id).append("\r\n");
  head.append(reply.extra_headers);
  head.append(keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n");
  if (reply.is_s3 && reply.s3.head) body = {};  // HEAD and 304: Content-Length told, no body

  // Count before writing: a client that reads /__stats right after its answer must see it.
  const bool partial = reply.fault == Fault::kReset || reply.fault == Fault::kTruncate;
  const std::string_view sent_body = partial ? body.substr(0, body.size() / 2) : body;
  if (!reply.admin) {
    Bump(stats_.bytes_served, static_cast<int64_t>(head.size() + sent_body.size()));
    const bool valid_body = reply.fault == Fault::kNone || reply.fault == Fault::kSlow;
    if (valid_body && reply.status == 200) Bump(stats_.bars_served, reply.bars);
  }

  bool ok = true;
  switch (reply.fault) {
    case Fault::kReset: {
      SendAll(fd, head, sent_body);
      // Let the partial body leave before the RST, which would otherwise discard it unsent.
      for (int waited = 0; waited < kResetDrainWaitMs; waited += 10) {
        int queued = 0;
        if (ioctl(fd, SIOCOUTQ, &queued) != 0 || queued == 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      const linger abort_on_close{1, 0};
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
      ok = false;
      break;
    }
    case Fault::kTruncate:
      SendAll(fd, head, sent_body);
      ::shutdown(fd, SHUT_WR);
      ok = false;
      break;
    case Fault::kSlow: {
      ok = SendAll(fd, head, {});
      const size_t piece = std::max<size_t>(1, (body.size() + kSlowPieces - 1) / kSlowPieces);
      for (size_t offset = 0; ok && offset < body.size(); offset += piece) {
        if (offset > 0 && WaitFor(-1, 0, kSlowPauseMs) != Wait::kTimeout) ok = false;
        if (ok) ok = SendAll(fd, body.substr(offset, piece), {});
      }
      break;
    }
    default:
      ok = SendAll(fd, head, body);
      break;
  }
  return ok && keep_alive;
}

}  // namespace

Result<FaultRates> FaultRates::Parse(std::string_view text) {
  FaultRates rates;
  const std::pair<std::string_view, double FaultRates::*> kNames[] = {
      {"http429", &FaultRates::http429}, {"http5xx", &FaultRates::http5xx},
      {"reset", &FaultRates::reset},     {"truncate", &FaultRates::truncate},
      {"badjson", &FaultRates::badjson}, {"slow", &FaultRates::slow},
      {"delayed", &FaultRates::delayed}, {"expvol", &FaultRates::expvol},
      {"hole", &FaultRates::hole},       {"halt", &FaultRates::halt},
      {"revise", &FaultRates::revise}};
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(pos, end - pos);
    pos = end + 1;
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      return Fail(ErrorCode::kUsage, "--faults: '" + std::string(item) + "' must look like name=probability");
    }
    const std::string_view name = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    double FaultRates::*field = nullptr;
    for (const auto& [known, member] : kNames) {
      if (name == known) field = member;
    }
    if (field == nullptr) {
      return Fail(ErrorCode::kUsage, "--faults: unknown fault '" + std::string(name) +
                                         "': use http429, http5xx, reset, truncate, badjson, slow, delayed, expvol, "
                                         "hole, halt or revise");
    }
    double p = -1;
    const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), p);
    if (ec != std::errc() || ptr != value.data() + value.size() || !(p >= 0 && p <= 1)) {
      return Fail(ErrorCode::kUsage, "--faults: " + std::string(name) + " needs a probability from 0 to 1, got '" +
                                         std::string(value) + "'");
    }
    rates.*field = p;
  }
  const double faults = rates.http429 + rates.http5xx + rates.reset + rates.truncate + rates.badjson + rates.slow;
  if (faults > 1 + 1e-9) {
    return Fail(ErrorCode::kUsage,
                "--faults: http429, http5xx, reset, truncate, badjson and slow exclude each other, so their "
                "probabilities must add up to at most 1");
  }
  return rates;
}

std::string SimStats::ToJson() const {
  std::string out = "{";
#define BARFILL_FIELD(name) out.append("\"" #name "\":").append(std::to_string(name)).append(",");
  BARFILL_SIM_STATS(BARFILL_FIELD)
#undef BARFILL_FIELD
  out.back() = '}';
  return out;
}

Result<std::unique_ptr<SimServer>> SimServer::Start(const SimOptions& options) {
  if (options.port < 0 || options.port > 65535) {
    return Fail(ErrorCode::kUsage, "port " + std::to_string(options.port) + " is not in 0..65535");
  }
  if (options.rate_limit_per_min < 0) return Fail(ErrorCode::kUsage, "the rate limit cannot be negative");
  if (options.rate_limit_window_ms < 1) return Fail(ErrorCode::kUsage, "the rate limit window must be at least 1 ms");
  if (options.retry_after_s < 0) return Fail(ErrorCode::kUsage, "Retry-After cannot be negative");
  if (options.max_page_limit < 1) return Fail(ErrorCode::kUsage, "max_page_limit must be at least 1");
  if (options.max_connections < 1) return Fail(ErrorCode::kUsage, "max_connections must be at least 1");
  if (options.hole_fill_visits < 0) return Fail(ErrorCode::kUsage, "hole_fill_visits cannot be negative");
  if (options.hole_fill_after_ms < 0) return Fail(ErrorCode::kUsage, "hole_fill_after_ms cannot be negative");
  if (options.revise_sessions < 0) return Fail(ErrorCode::kUsage, "revise_sessions cannot be negative");
  SimOptions resolved = options;
  if (resolved.as_of_ms == 0) {
    resolved.as_of_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  }
  auto server = std::make_unique<Server>(std::move(resolved));
  BARFILL_TRY(server->Listen());
  return std::unique_ptr<SimServer>(std::move(server));
}

Market MarketOf(const SimOptions& options) {
  Market market;
  market.seed = options.seed;
  market.liquidity = options.liquidity;
  market.activity = options.activity;
  market.events.seed = options.fault_seed;
  market.events.hole = options.faults.hole;
  market.events.halt = options.faults.halt;
  market.events.revise = options.faults.revise;
  market.events.revise_sessions = options.revise_sessions;
  market.events.as_of_ms = options.as_of_ms;
  market.events.tickers = options.event_tickers;
  market.split_edits = options.split_edits;
  return market;
}

}  // namespace barfill::sim
