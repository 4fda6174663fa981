// Running the barfill executable from tests, as a user would: arguments, environment, exit code,
// captured output, and a way to kill it mid-run.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace barfill::testing {

struct CommandResult {
  int exit_code = -1;    ///< exit status, or 128 + signal number when killed by a signal
  std::string out;       ///< stdout
  std::string err;       ///< stderr
  bool timed_out = false;  ///< still running at the deadline: killed (SIGKILL), exit_code -1
};

/// Environment changes for a child: `set` adds or replaces variables, `unset` removes them.
struct ChildEnv {
  std::map<std::string, std::string> set;
  std::vector<std::string> unset;
};

/// Runs `args` (args[0] is the program) to completion and captures its output. With a
/// `timeout` (zero: none), a child still running then is killed and the result says timed_out.
CommandResult RunCommand(const std::vector<std::string>& args, const ChildEnv& env = {},
                         std::chrono::milliseconds timeout = std::chrono::milliseconds::zero());

/// A child running in the background; its output goes to files read back at Wait().
class BackgroundCommand {
 public:
  BackgroundCommand(const std::vector<std::string>& args, const ChildEnv& env = {});
  ~BackgroundCommand();
  pid_t pid() const { return pid_; }
  void Kill(int signal);
  /// Waits for the exit; returns the result with captured output.
  CommandResult Wait();
  /// Waits at most `timeout`; a child still running then (stopped or not) is killed with SIGKILL
  /// and the result says timed_out, with the output it wrote so far.
  CommandResult Wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  std::string out_path_;
  std::string err_path_;
  bool waited_ = false;
};

/// The whole content of a file ("" when it cannot be read).
std::string ReadFileBytes(const std::string& path);

/// The built barfill executable (BARFILL_EXE), for tests compiled with it.
std::string BarfillExe();

/// A fresh empty directory under /tmp, removed when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace barfill::testing
