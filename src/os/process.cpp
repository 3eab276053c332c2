#include "os/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

extern char** environ;

namespace tb::os {
namespace {

struct Pipe {
  int read = -1, write = -1;
  static Expected<Pipe> make() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return fail(ErrorCode::io, std::string("pipe: ") + std::strerror(errno));
    return Pipe{fds[0], fds[1]};
  }
};

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Spawns argv with stdout (and stderr when given) on pipe write ends, stdin on /dev/null.
Expected<pid_t> spawn(const std::vector<std::string>& argv, int out_fd, int err_fd) {
  if (argv.empty()) return fail(ErrorCode::invalid_argument, "no program to run");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
  if (err_fd >= 0) posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    return fail(ErrorCode::io, "cannot run " + argv[0] + ": " + std::strerror(rc) + (rc == ENOENT ? " (is it installed?)" : ""));
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

Expected<ProcessResult> run_process(const std::vector<std::string>& argv, OutputLimits limits) {
  auto out = Pipe::make();
  if (!out) return tl::unexpected(out.error());
  auto err = Pipe::make();
  if (!err) {
    close_fd(out->read), close_fd(out->write);
    return tl::unexpected(err.error());
  }
  auto pid = spawn(argv, out->write, err->write);
  close_fd(out->write), close_fd(err->write);
  if (!pid) {
    close_fd(out->read), close_fd(err->read);
    return tl::unexpected(pid.error());
  }
  ProcessResult result;
  // Both streams at once: a child filling one pipe while we block on the other would hang.
  pollfd fds[2] = {{out->read, POLLIN, 0}, {err->read, POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  const std::size_t bounds[2] = {limits.out, limits.err};
  int open_streams = 2;
  char buf[65536];
  while (open_streams > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        const std::size_t room = bounds[i] - std::min(bounds[i], sinks[i]->size());
        sinks[i]->append(buf, std::min(room, static_cast<std::size_t>(n)));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_streams;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) ::close(f.fd);
  result.exit_code = wait_for(*pid);
  return result;
}

Expected<ChildProcess> ChildProcess::start(const std::vector<std::string>& argv, const std::string& stderr_path) {
  int err_fd = -1;
  if (!stderr_path.empty()) {
    err_fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (err_fd < 0) return fail(ErrorCode::io, stderr_path + ": " + std::strerror(errno));
  }
  auto out = Pipe::make();
  if (!out) {
    close_fd(err_fd);
    return tl::unexpected(out.error());
  }
  auto pid = spawn(argv, out->write, err_fd);
  close_fd(out->write);
  close_fd(err_fd);
  if (!pid) {
    close_fd(out->read);
    return tl::unexpected(pid.error());
  }
  return ChildProcess(*pid, out->read);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(other.pid_), out_fd_(other.out_fd_), buffer_(std::move(other.buffer_)) {
  other.pid_ = -1;
  other.out_fd_ = -1;
}

ChildProcess::~ChildProcess() { stop(); }

Expected<std::string> ChildProcess::read_line() {
  for (;;) {
    const auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    if (out_fd_ < 0) return fail(ErrorCode::io, "the child's output is closed");
    char buf[4096];
    const ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(ErrorCode::io, "the child exited before printing a line");
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

int ChildProcess::stop() {
  close_fd(out_fd_);
  if (pid_ < 0) return -1;
  ::kill(pid_, SIGTERM);
  const int rc = wait_for(pid_);
  pid_ = -1;
  return rc;
}

std::string executable_dir() {
  char path[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return ".";
  std::string p(path, static_cast<std::size_t>(n));
  const auto slash = p.rfind('/');
  return slash == std::string::npos ? "." : p.substr(0, slash == 0 ? 1 : slash);
}

}  // namespace tb::os
