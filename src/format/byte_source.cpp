#include "format/byte_source.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <system_error>

namespace tb {

namespace {

constexpr std::size_t kInflateInput = 64 * 1024;

}  // namespace

Expected<std::size_t> MemorySource::read(char* buffer, std::size_t size) {
  const std::size_t n = std::min(size, bytes_.size() - offset_);
  std::memcpy(buffer, bytes_.data() + offset_, n);
  offset_ += n;
  return n;
}

Expected<std::size_t> FdSource::read(char* buffer, std::size_t size) {
  for (;;) {
    const ssize_t n = ::pread(fd_, buffer, std::min<std::size_t>(size, SSIZE_MAX), offset_);
    if (n >= 0) {
      offset_ += n;
      return static_cast<std::size_t>(n);
    }
    if (errno == EINTR) continue;
    const int err = errno;
    return fail(ErrorCode::io, "reading " + name_ + " failed: " + std::system_category().message(err));
  }
}

GunzipSource::GunzipSource(ByteSource& compressed) : in_(compressed), zs_(std::make_unique<z_stream>()) {
  // windowBits 15 + 32: accept a gzip or a zlib header, whichever the stream has.
  initialised_ = inflateInit2(zs_.get(), 15 + 32) == Z_OK;
  buffer_.resize(kInflateInput);
}

GunzipSource::~GunzipSource() {
  if (initialised_) inflateEnd(zs_.get());
}

Expected<std::size_t> GunzipSource::read(char* buffer, std::size_t size) {
  if (!initialised_) return fail(ErrorCode::internal, "zlib inflateInit2 failed");
  z_stream& zs = *zs_;
  zs.next_out = reinterpret_cast<Bytef*>(buffer);
  zs.avail_out = static_cast<uInt>(std::min<std::size_t>(size, UINT_MAX));
  while (zs.avail_out == static_cast<uInt>(std::min<std::size_t>(size, UINT_MAX))) {  // until some output
    if (zs.avail_in == 0 && !input_ended_) {
      auto got = in_.read(buffer_.data(), buffer_.size());
      if (!got) return tl::unexpected(got.error());
      if (*got == 0) input_ended_ = true;
      compressed_ += *got;
      zs.next_in = reinterpret_cast<Bytef*>(buffer_.data());
      zs.avail_in = static_cast<uInt>(*got);
    }
    if (stream_ended_) {
      // A member ended: more input is another member (gzip allows several), none is the end.
      if (zs.avail_in == 0 && input_ended_) return std::size_t{0};
      if (zs.avail_in == 0) continue;
      if (inflateReset(&zs) != Z_OK) return fail(ErrorCode::internal, "zlib inflateReset failed");
      stream_ended_ = false;
    }
    if (zs.avail_in == 0 && input_ended_)
      return fail(ErrorCode::parse, "the compressed data is truncated (the stream ended early)");
    const int rc = inflate(&zs, Z_NO_FLUSH);
    if (rc == Z_STREAM_END) {
      stream_ended_ = true;
    } else if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT) {
      return fail(ErrorCode::parse, std::string("the compressed data is corrupt") +
                                        (zs.msg != nullptr ? std::string(" (zlib: ") + zs.msg + ")" : std::string()));
    } else if (rc == Z_MEM_ERROR) {
      return fail(ErrorCode::internal, "zlib is out of memory");
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return fail(ErrorCode::internal, "zlib inflate failed (" + std::to_string(rc) + ")");
    }
  }
  return static_cast<std::size_t>(std::min<std::size_t>(size, UINT_MAX) - zs.avail_out);
}

bool looks_gzipped(std::string_view prefix) noexcept {
  return prefix.size() >= 2 && static_cast<unsigned char>(prefix[0]) == 0x1f &&
         static_cast<unsigned char>(prefix[1]) == 0x8b;
}

}  // namespace tb
