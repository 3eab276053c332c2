// Request bodies as they arrive: in memory up to a bound (a chunked scan is a few KiB, and
// a file per request cost an inode and several system calls), beyond it in an unlinked
// temporary file (O_TMPFILE) in the spool directory, so an upload of hundreds of megabytes
// costs the server disk, not memory, and vanishes with the request (or with the process,
// whatever kills it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/sha256.h"
#include "format/byte_source.h"

namespace tb::server {

// What a spool keeps in memory before it moves to a file, by default.
inline constexpr std::size_t kSpoolMemoryBytes = std::size_t{1} << 20;

class Spool {
 public:
  // Files go to `dir` once more than `memory_bytes` arrived.
  Spool(std::string dir, std::size_t memory_bytes = kSpoolMemoryBytes)
      : dir_(std::move(dir)), memory_bytes_(memory_bytes) {}
  Spool(Spool&& other) noexcept;
  Spool& operator=(Spool&&) = delete;
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;
  ~Spool();

  // Appends `bytes` (retrying short writes); ErrorCode::io when the file cannot be created
  // ("cannot create a spool file in DIR: ...") or the disk refuses.
  Expected<void> append(std::string_view bytes);

  // SHA-256 of everything appended (a signed scan's body hash).
  Expected<Sha256Digest> sha256() const;

  // Everything appended, from the start; the spool must outlive it.
  std::unique_ptr<ByteSource> source(std::string name) const;

  std::uint64_t size() const { return size_; }
  bool in_memory() const { return fd_ < 0; }

 private:
  Expected<void> spill();  // memory to a new file

  std::string dir_;
  std::size_t memory_bytes_;
  std::string memory_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// Whether `dir` takes spool files (one is created and dropped): a server checks at start
// rather than fail its first large upload.
Expected<void> check_spool_dir(const std::string& dir);

// The default spool directory: $TMPDIR, else /tmp.
std::string default_spool_dir();

}  // namespace tb::server
