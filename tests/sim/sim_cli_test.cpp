// `barfill sim` as a user runs it: a subprocess that prints its URL, serves, and stops on a signal.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <regex>
#include <thread>

#include "sim/sim_test_client.h"

extern char** environ;

namespace barfill::sim {
namespace {

/// A running `barfill` with its stdout and stderr on pipes; killed if the test forgets it.
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    int out[2];
    int err[2];
    EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(err, O_CLOEXEC), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    std::vector<std::string> all = {BARFILL_EXE};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, BARFILL_EXE, &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    close(err[1]);
    out_ = out[0];
    err_ = err[0];
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(out_);
    close(err_);
  }

  /// One line of stdout, without its newline; "" after `timeout_ms`.
  std::string ReadLine(int timeout_ms) {
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      char c = 0;
      if (read(out_, &c, 1) != 1) break;
      if (c == '\n') return line;
      line.push_back(c);
    }
    return line;
  }

  std::string ReadAllStderr() {
    std::string text;
    char buf[4096];
    ssize_t n = 0;
    while ((n = read(err_, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    return text;
  }

  /// The exit code, or -1 if it has not exited within `timeout_ms` (or died of a signal).
  int WaitExit(int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

  void Signal(int sig) { kill(pid_, sig); }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  int err_ = -1;
};

TEST(SimCommand, PrintsItsUrlServesAndStopsOnSignals) {
  for (const int sig : {SIGTERM, SIGINT}) {
    Child child({"sim", "--port", "0", "--seed", "3", "--api-key", "k", "--rate-limit", "100/min", "--faults",
                 "delayed=1", "--forbid", "X:DOGEUSD,AMC"});
    const std::string line = child.ReadLine(10000);
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, std::regex(R"(listening on (http://127\.0\.0\.1:(\d+)))"))) << line;
    EXPECT_NE(m[2].str(), "0");
    const std::string base = m[1].str();
    testing::TestClient client;
    EXPECT_EQ(client.Get(base + "/__stats").status, 200);
    const testing::HttpAnswer data = client.Get(base + "/v2/aggs/ticker/AAPL/range/1/day/2025-01-02/2025-01-03?apiKey=k");
    EXPECT_EQ(data.status, 200);
    EXPECT_NE(data.body.find("\"status\":\"DELAYED\""), std::string::npos);
    EXPECT_EQ(client.Get(base + "/v2/aggs/ticker/AMC/range/1/day/2025-01-02/2025-01-03?apiKey=k").status, 403);
    EXPECT_EQ(client.Get(base + "/v2/aggs/ticker/AAPL/range/1/day/2025-01-02/2025-01-03?apiKey=x").status, 401);
    child.Signal(sig);
    EXPECT_EQ(child.WaitExit(10000), 0) << "signal " << sig;
  }
}

TEST(SimCommand, DataEventFlagsInjectHolesForTheNamedTickers) {
  Child child({"sim", "--port", "0", "--faults", "hole=1", "--event-tickers", "AAPL,NVDA", "--hole-fill-visits", "2"});
  const std::string line = child.ReadLine(10000);
  std::smatch m;
  ASSERT_TRUE(std::regex_match(line, m, std::regex(R"(listening on (http://127\.0\.0\.1:\d+))"))) << line;
  const std::string base = m[1].str();
  testing::TestClient client;
  const std::string aapl = base + "/v2/aggs/ticker/AAPL/range/1/day/2025-01-02/2025-01-03?apiKey=k";
  for (int visit = 1; visit <= 3; ++visit) {
    const testing::HttpAnswer a = client.Get(aapl);
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body.find("\"results\"") != std::string::npos, visit == 3) << "visit " << visit << ": " << a.body;
  }
  EXPECT_NE(client.Get(base + "/v2/aggs/ticker/MSFT/range/1/day/2025-01-02/2025-01-03?apiKey=k").body.find("\"results\""),
            std::string::npos);
  const testing::HttpAnswer injected = client.Get(base + "/__injected?from=2025-01-02&to=2025-01-03");
  EXPECT_NE(injected.body.find("\"ticker\":\"NVDA\""), std::string::npos) << injected.body;
  EXPECT_NE(injected.body.find("\"hole_fill_visits\":2"), std::string::npos) << injected.body;
  child.Signal(SIGTERM);
  EXPECT_EQ(child.WaitExit(10000), 0);
}

TEST(SimCommand, BadFlagsAreOneErrorLineAndExit2) {
  const std::vector<std::vector<std::string>> cases = {
      {"sim", "--faults", "nope=0.1"},    {"sim", "--faults", "reset=1.5"}, {"sim", "--rate-limit", "fast"},
      {"sim", "--port", "70000"},         {"sim", "--bogus"},               {"sim", "--host", "no-such-host.invalid"},
      {"sim", "--faults", "hole=2"},      {"sim", "--hole-fill-visits", "-1"}};
  for (const auto& args : cases) {
    Child child(args);
    EXPECT_EQ(child.WaitExit(10000), 2) << args.back();
    const std::string err = child.ReadAllStderr();
    EXPECT_EQ(err.rfind("error: ", 0), 0u) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  }
}

}  // namespace
}  // namespace barfill::sim
