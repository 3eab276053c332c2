// The file-system seam of the scanner. Production uses real_sys(); tests derive from
// Sys to make chosen calls fail (EACCES, EIO, a file that changes mid-read) on demand.
// Every call returns >= 0 on success or -errno on failure (no reliance on errno, which
// a test double would have to emulate per thread).
//
// Thread-safety: implementations must be safe to call from all scanner threads at once.
#pragma once

#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

namespace tb {

struct DirEntry {
  std::string name;           // never "." or ".."
  unsigned char d_type = 0;   // DT_REG, DT_DIR, ... or DT_UNKNOWN
};

class Sys {
 public:
  virtual ~Sys() = default;
  virtual int open_at(int dirfd, const char* name, int flags);
  virtual int fstat(int fd, struct stat* st);
  virtual int fstat_at(int dirfd, const char* name, struct stat* st, int flags);
  virtual ssize_t read(int fd, void* buf, std::size_t len);
  virtual ssize_t readlink_at(int dirfd, const char* name, char* buf, std::size_t len);
  virtual int close(int fd);
  virtual int fstatfs(int fd, struct statfs* st);
  // Reads every entry of an open directory (the fd stays open and owned by the caller).
  virtual int list_dir(int fd, std::vector<DirEntry>& out);
  // Advisory: the file will be read sequentially once.
  virtual void advise_sequential(int fd);
};

// The process-wide real implementation (stateless, so sharing it is safe).
Sys& real_sys();

}  // namespace tb
