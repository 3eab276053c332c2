#include "scan/sys.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tb {

namespace {
inline int neg_errno() { return -errno; }
}  // namespace

int Sys::open_at(int dirfd, const char* name, int flags) {
  int fd;
  do fd = ::openat(dirfd, name, flags | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  return fd < 0 ? neg_errno() : fd;
}

int Sys::fstat(int fd, struct stat* st) { return ::fstat(fd, st) < 0 ? neg_errno() : 0; }

int Sys::fstat_at(int dirfd, const char* name, struct stat* st, int flags) {
  return ::fstatat(dirfd, name, st, flags) < 0 ? neg_errno() : 0;
}

ssize_t Sys::read(int fd, void* buf, std::size_t len) {
  ssize_t n;
  do n = ::read(fd, buf, len);
  while (n < 0 && errno == EINTR);
  return n < 0 ? neg_errno() : n;
}

ssize_t Sys::readlink_at(int dirfd, const char* name, char* buf, std::size_t len) {
  const ssize_t n = ::readlinkat(dirfd, name, buf, len);
  return n < 0 ? neg_errno() : n;
}

int Sys::close(int fd) { return ::close(fd) < 0 ? neg_errno() : 0; }

int Sys::fstatfs(int fd, struct statfs* st) { return ::fstatfs(fd, st) < 0 ? neg_errno() : 0; }

int Sys::list_dir(int fd, std::vector<DirEntry>& out) {
  // fdopendir() takes ownership of its descriptor, so give it a duplicate and keep ours
  // for openat() of the children.
  const int dup_fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return neg_errno();
  DIR* dir = ::fdopendir(dup_fd);
  if (dir == nullptr) {
    const int err = errno;
    ::close(dup_fd);
    return -err;
  }
  ::rewinddir(dir);
  int result = 0;
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(dir);
    if (e == nullptr) {
      if (errno != 0) result = -errno;
      break;
    }
    const char* n = e->d_name;
    if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'))) continue;
    out.push_back(DirEntry{n, e->d_type});
  }
  ::closedir(dir);
  return result;
}

void Sys::advise_sequential(int fd) { ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL); }

Sys& real_sys() {
  static Sys sys;  // stateless
  return sys;
}

}  // namespace tb
