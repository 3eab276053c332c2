// Shared helpers of the scanner tests: a temporary tree per test, a file-system seam
// that fails or misbehaves on demand (FaultySys), mounts undone in teardown, a child
// process running as `nobody` for real-permission tests, and a watchdog so a deadlock
// fails the run instead of hanging it.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "core/manifest.h"
#include "core/path.h"
#include "core/scan_document.h"
#include "scan/scanner.h"
#include "scan/sys.h"

namespace tb::scantest {

inline constexpr uid_t kNobody = 65534;

inline std::string errno_text(int err) { return ::strerrordesc_np(err) != nullptr ? ::strerrordesc_np(err) : "?"; }

// ---------------------------------------------------------------------------------------
// Removing a tree with descriptors only: works beyond PATH_MAX, never follows symlinks,
// restores permissions a test took away, and does not descend into mount points.

inline bool is_mount_root_at(int dirfd, const char* name) {
  struct statx stx {};
  if (::statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) != 0) return false;
  return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) != 0 && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

inline void remove_tree_at(int dirfd, const char* name) {
  struct stat st {};
  if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    if (is_mount_root_at(dirfd, name)) return;  // a mount left behind: leave it, never wipe its content
    ::fchmodat(dirfd, name, 0700, 0);
    const int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
      const int dup_fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
      std::vector<std::string> names;
      if (DIR* d = dup_fd >= 0 ? ::fdopendir(dup_fd) : nullptr; d != nullptr) {
        while (const dirent* e = ::readdir(d)) {
          const std::string n = e->d_name;
          if (n != "." && n != "..") names.push_back(n);
        }
        ::closedir(d);
      } else if (dup_fd >= 0) {
        ::close(dup_fd);
      }
      for (const std::string& n : names) remove_tree_at(fd, n.c_str());
      ::close(fd);
    }
    ::unlinkat(dirfd, name, AT_REMOVEDIR);
  } else {
    ::unlinkat(dirfd, name, 0);
  }
}

// ---------------------------------------------------------------------------------------
// A fresh directory under /tmp, removed with everything in it on destruction.

class TempTree {
 public:
  TempTree() {
    char tmpl[] = "/tmp/tbscan-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    if (made == nullptr) {
      ADD_FAILURE() << "mkdtemp: " << errno_text(errno);
      return;
    }
    char* real = ::realpath(made, nullptr);  // /tmp itself might be a symlink
    root_ = real != nullptr ? real : made;
    std::free(real);
    ::chmod(root_.c_str(), 0755);  // so that a child running as nobody can enter it
  }
  ~TempTree() {
    if (!root_.empty()) remove_tree_at(AT_FDCWD, root_.c_str());
  }
  TempTree(const TempTree&) = delete;
  TempTree& operator=(const TempTree&) = delete;

  const std::string& root() const { return root_; }
  std::string path(std::string_view rel) const {
    if (rel.empty()) return root_;
    return root_ + "/" + std::string(rel);
  }

  // Creates missing parent directories of `rel` (0755).
  void parents(std::string_view rel) const {
    for (std::size_t slash = rel.find('/'); slash != std::string_view::npos; slash = rel.find('/', slash + 1)) {
      const std::string dir = path(rel.substr(0, slash));
      if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) ADD_FAILURE() << "mkdir " << dir << ": " << errno_text(errno);
    }
  }
  std::string write(std::string_view rel, std::string_view content, mode_t mode = 0644) const {
    parents(rel);
    const std::string p = path(rel);
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
      ADD_FAILURE() << "open " << p << ": " << errno_text(errno);
      return p;
    }
    std::size_t done = 0;
    while (done < content.size()) {
      const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
      if (n <= 0) {
        ADD_FAILURE() << "write " << p << ": " << errno_text(errno);
        break;
      }
      done += static_cast<std::size_t>(n);
    }
    ::fchmod(fd, mode);
    ::close(fd);
    return p;
  }
  std::string mkdir(std::string_view rel, mode_t mode = 0755) const {
    parents(rel);
    const std::string p = path(rel);
    if (::mkdir(p.c_str(), 0700) != 0 && errno != EEXIST) ADD_FAILURE() << "mkdir " << p << ": " << errno_text(errno);
    ::chmod(p.c_str(), mode);
    return p;
  }
  std::string symlink(std::string_view rel, std::string_view target) const {
    parents(rel);
    const std::string p = path(rel);
    if (::symlink(std::string(target).c_str(), p.c_str()) != 0) ADD_FAILURE() << "symlink " << p << ": " << errno_text(errno);
    return p;
  }
  std::string fifo(std::string_view rel) const {
    parents(rel);
    const std::string p = path(rel);
    if (::mkfifo(p.c_str(), 0644) != 0) ADD_FAILURE() << "mkfifo " << p << ": " << errno_text(errno);
    return p;
  }

 private:
  std::string root_;
};

// Deterministic pseudo-random content.
inline std::string random_bytes(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; i += 4) {
    const std::uint32_t word = rng();
    for (std::size_t k = 0; k < 4 && i + k < n; ++k) s[i + k] = static_cast<char>((word >> (8 * k)) & 0xFF);
  }
  return s;
}

// ---------------------------------------------------------------------------------------
// FaultySys: the real system calls, except where a test installed a hook for an entry
// name (the name as passed to open_at/fstat_at; reads, fstats and listings are matched
// by the name their descriptor was opened with). Also logs the names it was asked for.

class FaultySys : public Sys {
 public:
  using OpenFn = std::function<int(int dirfd, const char* name, int flags)>;
  using ReadFn = std::function<ssize_t(int fd, void* buf, std::size_t len)>;
  using StatAtFn = std::function<int(int dirfd, const char* name, struct stat* st, int flags)>;
  using ListFn = std::function<int(int fd, std::vector<DirEntry>& out)>;

  void on_open(const std::string& name, OpenFn fn) { std::lock_guard l(mu_); open_hooks_[name] = std::move(fn); }
  void on_read(const std::string& name, ReadFn fn) { std::lock_guard l(mu_); read_hooks_[name] = std::move(fn); }
  void on_fstat_at(const std::string& name, StatAtFn fn) { std::lock_guard l(mu_); stat_hooks_[name] = std::move(fn); }
  void on_list_dir(const std::string& name, ListFn fn) { std::lock_guard l(mu_); list_hooks_[name] = std::move(fn); }
  // Every open_at of `name` fails with `neg_errno`.
  void fail_open(const std::string& name, int neg_errno) {
    on_open(name, [neg_errno](int, const char*, int) { return neg_errno; });
  }

  // The unhooked calls, for hooks to delegate to.
  int real_open_at(int dirfd, const char* name, int flags) { return Sys::open_at(dirfd, name, flags); }
  ssize_t real_read(int fd, void* buf, std::size_t len) { return Sys::read(fd, buf, len); }
  int real_fstat_at(int dirfd, const char* name, struct stat* st, int flags) {
    return Sys::fstat_at(dirfd, name, st, flags);
  }
  int real_list_dir(int fd, std::vector<DirEntry>& out) { return Sys::list_dir(fd, out); }

  int open_at(int dirfd, const char* name, int flags) override {
    OpenFn hook;
    {
      std::lock_guard l(mu_);
      opened_.emplace_back(name);
      if (auto it = open_hooks_.find(name); it != open_hooks_.end()) hook = it->second;
    }
    const int fd = hook ? hook(dirfd, name, flags) : Sys::open_at(dirfd, name, flags);
    if (fd >= 0) {
      std::lock_guard l(mu_);
      fd_names_[fd] = name;
    }
    return fd;
  }
  ssize_t read(int fd, void* buf, std::size_t len) override {
    ReadFn hook;
    {
      std::lock_guard l(mu_);
      if (auto it = fd_names_.find(fd); it != fd_names_.end())
        if (auto h = read_hooks_.find(it->second); h != read_hooks_.end()) hook = h->second;
    }
    return hook ? hook(fd, buf, len) : Sys::read(fd, buf, len);
  }
  int fstat_at(int dirfd, const char* name, struct stat* st, int flags) override {
    StatAtFn hook;
    {
      std::lock_guard l(mu_);
      statted_.emplace_back(name);
      if (auto it = stat_hooks_.find(name); it != stat_hooks_.end()) hook = it->second;
    }
    return hook ? hook(dirfd, name, st, flags) : Sys::fstat_at(dirfd, name, st, flags);
  }
  int list_dir(int fd, std::vector<DirEntry>& out) override {
    ListFn hook;
    {
      std::lock_guard l(mu_);
      if (auto it = fd_names_.find(fd); it != fd_names_.end()) {
        listed_.push_back(it->second);
        if (auto h = list_hooks_.find(it->second); h != list_hooks_.end()) hook = h->second;
      }
    }
    return hook ? hook(fd, out) : Sys::list_dir(fd, out);
  }
  int close(int fd) override {
    {
      std::lock_guard l(mu_);
      fd_names_.erase(fd);
    }
    return Sys::close(fd);
  }

  std::vector<std::string> opened() const { std::lock_guard l(mu_); return opened_; }
  std::vector<std::string> statted() const { std::lock_guard l(mu_); return statted_; }
  std::vector<std::string> listed() const { std::lock_guard l(mu_); return listed_; }
  std::size_t open_count(const std::string& name) const {
    std::lock_guard l(mu_);
    std::size_t n = 0;
    for (const std::string& o : opened_) n += o == name ? 1 : 0;
    return n;
  }
  std::size_t open_fds() const { std::lock_guard l(mu_); return fd_names_.size(); }

 private:
  mutable std::mutex mu_;
  std::map<std::string, OpenFn> open_hooks_;
  std::map<std::string, ReadFn> read_hooks_;
  std::map<std::string, StatAtFn> stat_hooks_;
  std::map<std::string, ListFn> list_hooks_;
  std::map<int, std::string> fd_names_;
  std::vector<std::string> opened_, statted_, listed_;
};

// ---------------------------------------------------------------------------------------
// Watchdog: aborts the test binary when a scan has not returned in time (a deadlock
// must fail loudly, not hang CI until its global timeout).

class Watchdog {
 public:
  Watchdog(std::chrono::seconds limit, std::string what) : what_(std::move(what)) {
    thread_ = std::thread([this, limit] {
      std::unique_lock l(mu_);
      if (!cv_.wait_for(l, limit, [this] { return done_; })) {
        std::fprintf(stderr, "\nWATCHDOG: '%s' did not finish within %lld s (deadlock?)\n", what_.c_str(),
                     static_cast<long long>(limit.count()));
        std::abort();
      }
    });
  }
  ~Watchdog() {
    {
      std::lock_guard l(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::string what_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// ---------------------------------------------------------------------------------------
// Running a function in a forked child with the privileges of `nobody` (root's
// CAP_DAC_OVERRIDE would make every permission test pass vacuously). The child's result
// comes back through a pipe as text. nullopt with `why` set when the child could not
// drop privileges.

inline std::optional<std::string> run_as_nobody(const std::function<std::string()>& fn, std::string* why) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    *why = "pipe: " + errno_text(errno);
    return std::nullopt;
  }
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    *why = "fork: " + errno_text(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return std::nullopt;
  }
  if (pid == 0) {
    ::close(fds[0]);
    if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) ::_exit(3);
    if (::geteuid() == 0) ::_exit(3);
    const std::string out = fn();
    std::size_t done = 0;
    while (done < out.size()) {
      const ssize_t n = ::write(fds[1], out.data() + done, out.size() - done);
      if (n <= 0) ::_exit(4);
      done += static_cast<std::size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
    *why = "the child could not switch to uid/gid 65534";
    return std::nullopt;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    *why = "the child failed (status " + std::to_string(status) + ")";
    ADD_FAILURE() << *why;
    return std::nullopt;
  }
  return out;
}

// A scan summarised as text lines, one per record ("R <type> <hash?> <path>") and one
// per error ("E <kind> <errno> <path>"), so a child process can report it.
inline std::string describe_scan(const Expected<CollectedScan>& s) {
  if (!s) return "FAIL " + s.error().message + "\n";
  std::string out;
  for (const FileRecord& r : s->manifest)
    out += "R " + std::string(to_string(r.type)) + (r.has(Attr::sha256) ? " hash " : " nohash ") + r.path + "\n";
  for (const ScanError& e : s->outcome.errors)
    out += "E " + std::string(to_string(e.kind)) + " " + std::to_string(e.sys_errno) + " " + e.path + "\n";
  return out;
}

// ---------------------------------------------------------------------------------------
// The fixture: a temporary tree, mounts undone at teardown, and small query helpers.

class ScanFixture : public ::testing::Test {
 protected:
  void TearDown() override {
    for (auto it = mounts_.rbegin(); it != mounts_.rend(); ++it) ::umount2(it->c_str(), MNT_DETACH);
    mounts_.clear();
  }

  ScanOptions options(std::vector<std::string> roots = {}) const {
    ScanOptions o;
    o.roots = roots.empty() ? std::vector<std::string>{tree.root()} : std::move(roots);
    o.jobs = 2;
    return o;
  }

  // mount(2), remembered for teardown. Returns false with `why` when not permitted.
  bool try_mount(const std::string& source, const std::string& target, const char* fstype, unsigned long flags,
                 std::string* why) {
    if (::mount(source.c_str(), target.c_str(), fstype, flags, nullptr) != 0) {
      *why = "mount(" + std::string(fstype != nullptr ? fstype : "bind") + ") on " + target + " not permitted here: " +
             errno_text(errno);
      return false;
    }
    mounts_.push_back(target);
    return true;
  }

  static const FileRecord* find(const CollectedScan& s, const std::string& path) { return s.manifest.find(path); }
  static std::vector<ScanError> errors_at(const CollectedScan& s, const std::string& path) {
    std::vector<ScanError> out;
    for (const ScanError& e : s.outcome.errors)
      if (e.path == path) out.push_back(e);
    return out;
  }
  static std::size_t count_under(const CollectedScan& s, const std::string& dir) {
    std::size_t n = 0;
    for (const FileRecord& r : s.manifest) n += path_is_under(r.path, dir) ? 1 : 0;
    return n;
  }

  TempTree tree;
  std::vector<std::string> mounts_;
};

}  // namespace tb::scantest
