#include "server/spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <system_error>

namespace tb::server {

namespace {

std::string os_error(int err) {
  return std::system_category().message(err);
}

// An unlinked file in `dir` (mode 0600). File systems without O_TMPFILE get a named file
// that is unlinked at once.
Expected<int> create_unlinked(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    std::string name = dir + "/trustbase-spool-XXXXXX";
    fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd >= 0) ::unlink(name.c_str());
  }
  if (fd < 0) {
    const int err = errno;
    return fail(ErrorCode::io, "cannot create a spool file in " + dir + ": " + os_error(err));
  }
  return fd;
}

Expected<void> write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      return fail(ErrorCode::io, "cannot write the spool file: " + os_error(err));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

Spool::Spool(Spool&& other) noexcept
    : dir_(std::move(other.dir_)),
      memory_bytes_(other.memory_bytes_),
      memory_(std::move(other.memory_)),
      fd_(other.fd_),
      size_(other.size_) {
  other.fd_ = -1;
  other.size_ = 0;
}

Spool::~Spool() {
  if (fd_ >= 0) ::close(fd_);
}

Expected<void> Spool::spill() {
  auto fd = create_unlinked(dir_);
  if (!fd) return tl::unexpected(fd.error());
  fd_ = *fd;
  auto written = write_all(fd_, memory_);
  std::string().swap(memory_);
  return written;
}

Expected<void> Spool::append(std::string_view bytes) {
  if (fd_ < 0 && bytes.size() > memory_bytes_ - memory_.size()) {
    if (auto moved = spill(); !moved) return moved;
  }
  if (fd_ < 0) {
    memory_.append(bytes);
  } else if (auto written = write_all(fd_, bytes); !written) {
    return written;
  }
  size_ += bytes.size();
  return {};
}

std::unique_ptr<ByteSource> Spool::source(std::string name) const {
  if (fd_ < 0) return std::make_unique<MemorySource>(memory_);
  return std::make_unique<FdSource>(fd_, 0, std::move(name));
}

Expected<Sha256Digest> Spool::sha256() const {
  if (fd_ < 0) return Sha256::of(memory_);
  Sha256 hasher;
  std::string buf(std::size_t{1} << 16, '\0');
  for (std::uint64_t offset = 0; offset < size_;) {
    const ssize_t n = ::pread(fd_, buf.data(), buf.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(ErrorCode::io, "cannot read the spooled upload back");
    hasher.update(std::string_view(buf.data(), static_cast<std::size_t>(n)));
    offset += static_cast<std::uint64_t>(n);
  }
  return hasher.finish();
}

Expected<void> check_spool_dir(const std::string& dir) {
  auto fd = create_unlinked(dir);
  if (!fd) return tl::unexpected(fd.error());
  ::close(*fd);
  return {};
}

std::string default_spool_dir() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? std::string(tmp) : std::string("/tmp");
}

}  // namespace tb::server
