// Running other programs: one-shot commands with their output captured (bounded when
// asked: gpgv for the signed imports, dpkg-deb and the trustbase programs for the demo),
// and a long-running child (the demo's server) stopped when its handle goes.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"

namespace tb::os {

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal
  std::string out;
  std::string err;
};

// How much of each stream run_process keeps; the rest is read and dropped, so a chatty
// or hostile child never blocks on a full pipe nor fills our memory.
struct OutputLimits {
  std::size_t out = SIZE_MAX;
  std::size_t err = SIZE_MAX;
};

// Runs argv[0] (looked up in PATH when it has no '/') to completion with stdin on
// /dev/null, capturing both output streams. Fails only when the program cannot be started.
Expected<ProcessResult> run_process(const std::vector<std::string>& argv, OutputLimits limits = {});

// A child whose stdout can be read line by line; SIGTERM then wait on destruction.
class ChildProcess {
 public:
  // stderr goes to `stderr_path` (created or appended) when given, else is inherited.
  static Expected<ChildProcess> start(const std::vector<std::string>& argv, const std::string& stderr_path = {});
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  // The next line of the child's stdout (without '\n'); fails at end of output.
  Expected<std::string> read_line();
  // SIGTERM, then waits; returns the exit code (-1 after a signal).
  int stop();

 private:
  ChildProcess(pid_t pid, int out_fd) : pid_(pid), out_fd_(out_fd) {}
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
};

// The directory of the running executable ("/usr/bin", "build/dev/src"...), where the
// sibling program trustbase-scan is looked for first.
std::string executable_dir();

}  // namespace tb::os
