// Where document bytes come from, pulled by the scan readers (format/scan_reader.h): a
// string, a file descriptor, or a gzip/zlib stream over another source. The server parses
// uploads from its spool file through GunzipSource, so neither the body nor its
// decompressed text is ever held whole in memory.
//
// Errors: ErrorCode::io when the underlying read fails, ErrorCode::parse when compressed
// data is corrupt or truncated. Bounds on the total (decompressed) size are the reader's
// business (ReadLimits::max_document_bytes): a source produces as much as it is asked for.
// Not thread-safe: one reader per source.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"

struct z_stream_s;  // zlib, kept out of this header

namespace tb {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads up to `size` bytes into `buffer` (size > 0); returns how many, 0 at the end of
  // the input only. After an error the source must not be read again.
  virtual Expected<std::size_t> read(char* buffer, std::size_t size) = 0;
};

// The bytes of a string it does not own.
class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::string_view bytes) : bytes_(bytes) {}
  Expected<std::size_t> read(char* buffer, std::size_t size) override;

 private:
  std::string_view bytes_;
  std::size_t offset_ = 0;
};

// A file descriptor it does not own, read with pread(2) from `offset` on (so the file's
// own position is left alone and a spooled file can be read again from the start).
class FdSource final : public ByteSource {
 public:
  explicit FdSource(int fd, off_t offset = 0, std::string name = "the document")
      : fd_(fd), offset_(offset), name_(std::move(name)) {}
  Expected<std::size_t> read(char* buffer, std::size_t size) override;

 private:
  int fd_;
  off_t offset_;
  std::string name_;  // for messages
};

// Inflates a gzip (RFC 1952) or zlib (RFC 1950, HTTP's "deflate") stream read from
// `compressed`, which it does not own; the format is recognised by its header.
// Concatenated gzip members are read one after the other, as gunzip does. Memory is
// two fixed buffers whatever the ratio, so a "zip bomb" costs only the reader's limit.
class GunzipSource final : public ByteSource {
 public:
  explicit GunzipSource(ByteSource& compressed);
  ~GunzipSource() override;
  GunzipSource(const GunzipSource&) = delete;
  GunzipSource& operator=(const GunzipSource&) = delete;

  Expected<std::size_t> read(char* buffer, std::size_t size) override;

  std::uint64_t compressed_bytes() const { return compressed_; }

 private:
  ByteSource& in_;
  std::unique_ptr<z_stream_s> zs_;
  bool initialised_ = false;
  bool input_ended_ = false;
  bool stream_ended_ = false;  // the current member ended; more may follow
  std::string buffer_;         // compressed input, refilled from in_
  std::uint64_t compressed_ = 0;
};

// True when `prefix` starts like a gzip member (magic bytes 1f 8b).
bool looks_gzipped(std::string_view prefix) noexcept;

}  // namespace tb
