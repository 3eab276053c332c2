#include "client/gzip_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tb {

namespace {
constexpr std::size_t kOutChunk = 256 * 1024;

Expected<void> write_all(int fd, const char* data, std::size_t len) {
  while (len > 0) {
    const ssize_t n = ::write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(ErrorCode::io, std::string("cannot write the compressed scan: ") + ::strerrordesc_np(errno));
    }
    data += n;
    len -= static_cast<std::size_t>(n);
  }
  return {};
}
}  // namespace

Expected<std::unique_ptr<GzipTempFile>> GzipTempFile::create(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    return fail(ErrorCode::io, "cannot create a temporary file in " + dir + ": " + ::strerrordesc_np(errno));
  auto file = std::unique_ptr<GzipTempFile>(new GzipTempFile(fd));
  // windowBits 15 + 16: a gzip wrapper, which HTTP's Content-Encoding: gzip means.
  if (deflateInit2(&file->zs_, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return fail(ErrorCode::internal, "zlib deflateInit2 failed");
  return file;
}

GzipTempFile::GzipTempFile(int fd) : fd_(fd), out_(kOutChunk, '\0') {}

GzipTempFile::~GzipTempFile() {
  deflateEnd(&zs_);
  ::close(fd_);
}

Expected<void> GzipTempFile::deflate_some(int flush) {
  do {
    zs_.next_out = reinterpret_cast<Bytef*>(out_.data());
    zs_.avail_out = static_cast<uInt>(out_.size());
    const int rc = deflate(&zs_, flush);
    if (rc == Z_STREAM_ERROR) return fail(ErrorCode::internal, "zlib deflate failed");
    const std::size_t produced = out_.size() - zs_.avail_out;
    if (auto st = write_all(fd_, out_.data(), produced); !st) return st;
    compressed_ += produced;
  } while (zs_.avail_out == 0);
  return {};
}

Expected<void> GzipTempFile::write(std::string_view bytes) {
  if (finished_) return fail(ErrorCode::internal, "write after finish");
  raw_ += bytes.size();
  zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));  // zlib's API is not const
  zs_.avail_in = static_cast<uInt>(bytes.size());
  return deflate_some(Z_NO_FLUSH);
}

Expected<void> GzipTempFile::finish() {
  if (finished_) return {};
  finished_ = true;
  zs_.next_in = nullptr;
  zs_.avail_in = 0;
  return deflate_some(Z_FINISH);
}

Expected<std::string> gzip_bytes(std::string_view bytes) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return fail(ErrorCode::internal, "cannot start gzip compression");
  std::string out(deflateBound(&zs, bytes.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return fail(ErrorCode::internal, "gzip compression failed");
  return out;
}

}  // namespace tb
