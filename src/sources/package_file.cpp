#include "sources/package_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace tb {

namespace {

// Large enough that syscalls cost nothing next to decompression, small enough to stay in
// the L2 cache while libarchive decompresses it.
constexpr std::size_t kChunkBytes = 256 * 1024;

std::string os_error(const std::string& path, const char* what) {
  return path + ": " + what + ": " + std::strerror(errno);
}

}  // namespace

Expected<PackageFile> PackageFile::open(const std::string& path) {
  // O_NONBLOCK: a FIFO given by mistake must not hang the import (refused just below).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return fail(ErrorCode::io, os_error(path, "cannot open"));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const std::string message = os_error(path, "cannot stat");
    ::close(fd);
    return fail(ErrorCode::io, message);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(ErrorCode::invalid_argument, path + ": not a regular file");
  }
#ifdef POSIX_FADV_SEQUENTIAL
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  return PackageFile(fd, path, static_cast<std::uint64_t>(st.st_size));
}

PackageFile::PackageFile(int fd, std::string path, std::uint64_t size)
    : fd_(fd), path_(std::move(path)), size_(size) {}

PackageFile::PackageFile(PackageFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      size_(other.size_),
      position_(other.position_),
      hashed_upto_(other.hashed_upto_),
      file_hash_(std::move(other.file_hash_)),
      section_hash_(std::move(other.section_hash_)),
      section_contiguous_(other.section_contiguous_),
      buffer_(std::move(other.buffer_)) {}

PackageFile& PackageFile::operator=(PackageFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    size_ = other.size_;
    position_ = other.position_;
    hashed_upto_ = other.hashed_upto_;
    file_hash_ = std::move(other.file_hash_);
    section_hash_ = std::move(other.section_hash_);
    section_contiguous_ = other.section_contiguous_;
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

PackageFile::~PackageFile() {
  if (fd_ >= 0) ::close(fd_);
}

std::string PackageFile::file_name() const {
  const auto slash = path_.find_last_of('/');
  return slash == std::string::npos ? path_ : path_.substr(slash + 1);
}

Expected<std::span<const std::byte>> PackageFile::read_at(std::uint64_t offset, std::size_t max) {
  if (buffer_.size() < max) buffer_.resize(std::max(max, kChunkBytes));
  ssize_t n;
  do {
    n = ::pread(fd_, buffer_.data(), max, static_cast<off_t>(offset));
  } while (n < 0 && errno == EINTR);
  if (n < 0) return fail(ErrorCode::io, os_error(path_, "cannot read"));
  const std::span<const std::byte> data(buffer_.data(), static_cast<std::size_t>(n));
  if (offset == hashed_upto_) {
    file_hash_.update(data);
    hashed_upto_ += data.size();
  }
  if (section_hash_) section_hash_->update(data);
  return data;
}

Expected<std::span<const std::byte>> PackageFile::read_some() {
  auto data = read_at(position_, kChunkBytes);
  if (data) position_ += data->size();
  return data;
}

Expected<std::string> PackageFile::read_exact(std::size_t n, std::string_view what) {
  // A length read from the file itself is checked against the file before any memory is
  // set aside for it.
  if (position_ > size_ || n > size_ - position_)
    return fail(ErrorCode::parse, path_ + ": truncated: the file ends inside the " + std::string(what) + " (" +
                                      std::to_string(n) + " bytes wanted at byte " + std::to_string(position_) +
                                      ", the file has " + std::to_string(size_) + ")");
  std::string out;
  out.reserve(n);
  while (out.size() < n) {
    auto data = read_at(position_, std::min(n - out.size(), kChunkBytes));
    if (!data) return tl::unexpected(data.error());
    if (data->empty())
      return fail(ErrorCode::parse, path_ + ": truncated: the file ends inside the " + std::string(what) + " (at byte " +
                                        std::to_string(position_) + ")");
    out.append(reinterpret_cast<const char*>(data->data()), data->size());
    position_ += data->size();
  }
  return out;
}

Expected<std::uint64_t> PackageFile::seek(std::int64_t offset, int whence) {
  std::int64_t base = 0;
  if (whence == SEEK_CUR) base = static_cast<std::int64_t>(position_);
  else if (whence == SEEK_END) base = static_cast<std::int64_t>(size_);
  else if (whence != SEEK_SET) return fail(ErrorCode::invalid_argument, path_ + ": bad seek");
  const std::int64_t target = base + offset;
  if (target < 0) return fail(ErrorCode::parse, path_ + ": seek before the start of the file");
  if (static_cast<std::uint64_t>(target) != position_) section_contiguous_ = false;
  position_ = static_cast<std::uint64_t>(target);
  return position_;
}

void PackageFile::begin_section() {
  section_hash_.emplace();
  section_contiguous_ = true;
}

std::optional<Sha256Digest> PackageFile::section_digest() {
  if (!section_hash_) return std::nullopt;
  std::optional<Sha256Digest> out;
  if (section_contiguous_) out = section_hash_->finish();
  section_hash_.reset();
  return out;
}

Expected<Sha256Digest> PackageFile::finish() {
  section_hash_.reset();
  while (hashed_upto_ < size_) {
    auto data = read_at(hashed_upto_, kChunkBytes);
    if (!data) return tl::unexpected(data.error());
    if (data->empty()) break;
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return fail(ErrorCode::io, os_error(path_, "cannot stat"));
  if (static_cast<std::uint64_t>(st.st_size) != size_ || hashed_upto_ != size_)
    return fail(ErrorCode::changed, path_ + ": the file changed size while it was imported");
  return file_hash_.finish();
}

}  // namespace tb
