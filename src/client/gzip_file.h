// A scan document compressed on the fly into an anonymous temporary file: the scanner's
// memory stays flat however big the document, and an upload can be retried (the server
// was away) without scanning again.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/error.h"
#include "format/byte_sink.h"

namespace tb {

// `bytes` as one gzip member, in memory (small bodies: chunked uploads).
Expected<std::string> gzip_bytes(std::string_view bytes);

class GzipTempFile final : public ByteSink {
 public:
  // The file is created unlinked (O_TMPFILE) in `dir`, so it disappears with the process.
  static Expected<std::unique_ptr<GzipTempFile>> create(const std::string& dir = "/tmp");
  ~GzipTempFile() override;
  GzipTempFile(const GzipTempFile&) = delete;
  GzipTempFile& operator=(const GzipTempFile&) = delete;

  Expected<void> write(std::string_view bytes) override;
  // Finishes the gzip stream; call once, after the last write.
  Expected<void> finish();

  int fd() const { return fd_; }
  std::uint64_t compressed_bytes() const { return compressed_; }
  std::uint64_t raw_bytes() const { return raw_; }

 private:
  explicit GzipTempFile(int fd);
  Expected<void> deflate_some(int flush);

  int fd_;
  z_stream zs_{};
  bool finished_ = false;
  std::uint64_t raw_ = 0, compressed_ = 0;
  std::string out_;  // deflate output buffer
};

}  // namespace tb
