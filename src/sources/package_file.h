// A package file opened for import: read once, front to back, in large chunks, with the
// SHA-256 of the whole file computed on the way (the signature's source_sha256 is the
// hash of exactly the bytes that were parsed). Seeking (zip's central directory) is
// allowed: bytes are hashed while reads stay contiguous, and finish() hashes whatever
// was skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/sha256.h"

namespace tb {

class PackageFile {
 public:
  // Opens `path` read-only (O_NOFOLLOW is not used: a package path given on the command
  // line may be a symlink into a repository). Fails on anything but a regular file.
  static Expected<PackageFile> open(const std::string& path);

  PackageFile(PackageFile&& other) noexcept;
  PackageFile& operator=(PackageFile&& other) noexcept;
  PackageFile(const PackageFile&) = delete;
  PackageFile& operator=(const PackageFile&) = delete;
  ~PackageFile();

  const std::string& path() const { return path_; }
  // The file name without directories, as signatures name their source.
  std::string file_name() const;
  std::uint64_t size() const { return size_; }
  std::uint64_t position() const { return position_; }

  // The next bytes of the file (at most the chunk size), empty at the end. The view
  // stays valid until the next call.
  Expected<std::span<const std::byte>> read_some();
  // Exactly `n` bytes, or ErrorCode::parse naming the file ("truncated") when it ends first.
  Expected<std::string> read_exact(std::size_t n, std::string_view what);
  // Moves the read position (SEEK_SET/SEEK_CUR/SEEK_END semantics); returns the new one.
  Expected<std::uint64_t> seek(std::int64_t offset, int whence);

  // Also hashes, from the current position on, the bytes read until section_digest()
  // (RPM: the payload digest covers the payload only). Reads must stay contiguous.
  void begin_section();
  // The section's digest, nullopt when reads were not contiguous.
  std::optional<Sha256Digest> section_digest();

  // The SHA-256 of the whole file: hashes the bytes not read yet (or skipped) and checks
  // that the file did not change size while it was imported.
  Expected<Sha256Digest> finish();

 private:
  PackageFile(int fd, std::string path, std::uint64_t size);
  Expected<std::span<const std::byte>> read_at(std::uint64_t offset, std::size_t max);

  int fd_ = -1;
  std::string path_;
  std::uint64_t size_ = 0;
  std::uint64_t position_ = 0;     // next byte read_some() returns
  std::uint64_t hashed_upto_ = 0;  // the file hash covers [0, hashed_upto_)
  Sha256 file_hash_;
  std::optional<Sha256> section_hash_;
  bool section_contiguous_ = true;
  std::vector<std::byte> buffer_;
};

}  // namespace tb
