// Request bodies spooled to disk: an unlinked temporary file (O_TMPFILE) in the spool
// directory, so an upload of hundreds of megabytes costs the server disk, not memory, and
// vanishes with the request (or with the process, whatever kills it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/sha256.h"

namespace tb::server {

class SpoolFile {
 public:
  // Creates the file in `dir` (mode 0600). File systems without O_TMPFILE get a named
  // file that is unlinked at once. ErrorCode::io when the directory is unusable.
  static Expected<SpoolFile> create(const std::string& dir);

  SpoolFile(SpoolFile&& other) noexcept : fd_(other.fd_), size_(other.size_) { other.fd_ = -1; }
  SpoolFile& operator=(SpoolFile&&) = delete;
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;
  ~SpoolFile();

  // Appends `bytes` (retrying short writes); ErrorCode::io when the disk refuses.
  Expected<void> append(std::string_view bytes);

  // SHA-256 of everything appended (read back from the file; a signed scan's body hash).
  Expected<Sha256Digest> sha256() const;

  int fd() const { return fd_; }
  std::uint64_t size() const { return size_; }

 private:
  explicit SpoolFile(int fd) : fd_(fd) {}

  int fd_;
  std::uint64_t size_ = 0;
};

// The default spool directory: $TMPDIR, else /tmp.
std::string default_spool_dir();

}  // namespace tb::server
