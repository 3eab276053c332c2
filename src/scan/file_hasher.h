// Capturing one directory entry as a FileRecord: metadata from the descriptor that was
// hashed (or from lstat for non-files), and a hash only for bytes proven stable.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/file_record.h"
#include "core/scan_document.h"
#include "core/sha256.h"
#include "scan/sys.h"
#include "scan/throttle.h"

namespace tb {

struct Captured {
  FileRecord record;
  std::optional<ScanError> error;
  bool has_record = true;      // false when the entry vanished before it could be seen
  std::uint64_t bytes_hashed = 0;
};

// The record of `st` at `path`, with the attributes that type carries (directories have
// no size: it differs between file systems holding identical trees).
FileRecord record_from_stat(std::string path, const struct stat& st);

// A ScanError for a failed system call; `neg_errno` as returned by Sys.
ScanError make_scan_error(std::string path, ScanErrorKind kind, int neg_errno);

// Per-thread hashing state (read buffer, digest context), reused from file to file so
// that hashing a small file costs no allocation. Not thread-safe: one per thread.
class FileHasher {
 public:
  // `cancel`, when set, makes a capture in progress stop at its next chunk.
  FileHasher(Sys& sys, RateLimiter& limiter, std::size_t buffer_bytes, const std::atomic<bool>* cancel = nullptr);

  // Opens `name` relative to `dirfd` (O_NOFOLLOW, O_NOATIME when permitted, O_NONBLOCK so
  // a FIFO swapped in cannot block), hashes it with SHA-256 and re-checks the descriptor
  // after reading. If the entry is no longer a regular file it is captured as what it now is.
  Captured capture(int dirfd, const std::string& name, std::string path);

 private:
  Sys& sys_;
  RateLimiter& limiter_;
  const std::atomic<bool>* cancel_;
  std::vector<std::byte> buffer_;
  Sha256 hasher_;
  bool hasher_dirty_ = false;  // holds input of a capture that did not finish
};

// Captures a non-regular entry with fstatat (and readlinkat for symlinks).
Captured capture_other(Sys& sys, int dirfd, const std::string& name, std::string path);

}  // namespace tb
