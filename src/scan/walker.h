// Depth-first walk of one root, in path order (names sorted bytewise), producing walk
// items: complete records for directories, symlinks and other non-files, and "hash
// this" jobs for regular files. Runs on one thread; hashing happens elsewhere.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/scan_document.h"
#include "scan/exclude.h"
#include "scan/scanner.h"
#include "scan/sys.h"

namespace tb {

// An open directory shared by the walk items read from it: it is closed when the last
// of them has been hashed. Owns its descriptor.
class DirHandle {
 public:
  DirHandle(Sys& sys, int fd, std::string path) : sys_(sys), fd_(fd), path_(std::move(path)) {}
  ~DirHandle() {
    if (fd_ >= 0) sys_.close(fd_);
  }
  DirHandle(const DirHandle&) = delete;
  DirHandle& operator=(const DirHandle&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  Sys& sys_;
  int fd_;
  std::string path_;
};

struct WalkItem {
  // Either a finished capture, or a regular file to hash: `dir` + `name`, path in record.
  bool needs_hash = false;
  bool has_record = true;
  FileRecord record;
  std::optional<ScanError> error;
  std::shared_ptr<const DirHandle> dir;
  std::string name;
  std::uint64_t bytes_hashed = 0;
};

class Walker {
 public:
  // `emit` receives items in path order; it returns false to stop the walk.
  using Emit = std::function<bool(WalkItem&&)>;

  Walker(const ScanOptions& options, Sys& sys, const ExcludeSet& excludes, Emit emit);

  // Walks one canonical root. Returns false when the walk was stopped (emit or cancel).
  bool walk_root(const std::string& root);

 private:
  bool walk_dir(const std::shared_ptr<const DirHandle>& dir, const struct stat& st, std::size_t depth);
  bool visit_entry(const std::shared_ptr<const DirHandle>& dir, const struct stat& dir_st, const DirEntry& entry,
                   std::size_t depth);
  bool visit_subdir(const std::shared_ptr<const DirHandle>& dir, const struct stat& dir_st, const std::string& name,
                    std::string path, std::size_t depth);
  bool emit_error(std::string path, ScanErrorKind kind, int neg_errno);
  // A directory (root or not) that could not be opened: recorded from lstat with an
  // `open` error, or a `vanished` error, or captured as what it has become.
  bool emit_unopened_dir(int dirfd, const std::string& name, std::string path, int open_rc);
  bool stopped() const;
  bool is_pseudo_fs(int fd) const;

  const ScanOptions& options_;
  Sys& sys_;
  const ExcludeSet& excludes_;
  Emit emit_;
  dev_t root_dev_ = 0;
  std::vector<std::pair<dev_t, ino_t>> ancestors_;  // directories on the current path
  bool stop_ = false;
};

}  // namespace tb
