#include "testing/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace barfill::testing {
namespace {

// In the child: apply the environment, redirect output, exec. Never returns.
[[noreturn]] void ExecChild(const std::vector<std::string>& args, const ChildEnv& env, int out_fd, int err_fd) {
  for (const auto& [k, v] : env.set) setenv(k.c_str(), v.c_str(), 1);
  for (const auto& k : env.unset) unsetenv(k.c_str());
  dup2(out_fd, STDOUT_FILENO);
  dup2(err_fd, STDERR_FILENO);
  const int devnull = open("/dev/null", O_RDONLY);
  dup2(devnull, STDIN_FILENO);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  _exit(127);
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string BarfillExe() {
#ifdef BARFILL_EXE
  return BARFILL_EXE;
#else
  return "barfill";
#endif
}

TempDir::TempDir() {
  char pattern[] = "/tmp/barfill-test.XXXXXX";
  const char* dir = mkdtemp(pattern);
  if (dir == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = dir;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

BackgroundCommand::BackgroundCommand(const std::vector<std::string>& args, const ChildEnv& env) {
  char out_pattern[] = "/tmp/barfill-out.XXXXXX";
  char err_pattern[] = "/tmp/barfill-err.XXXXXX";
  const int out_fd = mkstemp(out_pattern);
  const int err_fd = mkstemp(err_pattern);
  out_path_ = out_pattern;
  err_path_ = err_pattern;
  pid_ = fork();
  if (pid_ == 0) ExecChild(args, env, out_fd, err_fd);
  close(out_fd);
  close(err_fd);
}

BackgroundCommand::~BackgroundCommand() {
  if (!waited_ && pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  unlink(out_path_.c_str());
  unlink(err_path_.c_str());
}

void BackgroundCommand::Kill(int signal) {
  if (!waited_ && pid_ > 0) kill(pid_, signal);
}

CommandResult BackgroundCommand::Wait() {
  CommandResult result;
  int status = 0;
  if (!waited_) {
    waitpid(pid_, &status, 0);
    waited_ = true;
    result.exit_code = DecodeStatus(status);
  }
  result.out = ReadFileBytes(out_path_);
  result.err = ReadFileBytes(err_path_);
  return result;
}

CommandResult BackgroundCommand::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!waited_ && std::chrono::steady_clock::now() < deadline) {
    // Has it exited? (WNOWAIT: Wait() below reaps it.)
    siginfo_t info{};
    if (waitid(P_PID, pid_, &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid != 0) return Wait();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (waited_) return Wait();
  kill(pid_, SIGKILL);  // a stopped child dies too
  CommandResult result = Wait();
  result.exit_code = -1;
  result.timed_out = true;
  return result;
}

CommandResult RunCommand(const std::vector<std::string>& args, const ChildEnv& env,
                         std::chrono::milliseconds timeout) {
  BackgroundCommand command(args, env);
  return timeout > std::chrono::milliseconds::zero() ? command.Wait(timeout) : command.Wait();
}

}  // namespace barfill::testing
