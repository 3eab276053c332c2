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

}  // namespace

Expected<SpoolFile> SpoolFile::create(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    // No O_TMPFILE on this file system: a named file, unlinked before anything is written.
    std::string name = dir + "/trustbase-spool-XXXXXX";
    fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd >= 0) ::unlink(name.c_str());
  }
  if (fd < 0) {
    const int err = errno;
    return fail(ErrorCode::io, "cannot create a spool file in " + dir + ": " + os_error(err));
  }
  return SpoolFile(fd);
}

SpoolFile::~SpoolFile() {
  if (fd_ >= 0) ::close(fd_);
}

Expected<void> SpoolFile::append(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      return fail(ErrorCode::io, "cannot write the spool file: " + os_error(err));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
    size_ += static_cast<std::uint64_t>(n);
  }
  return {};
}

std::string default_spool_dir() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? std::string(tmp) : std::string("/tmp");
}

Expected<Sha256Digest> SpoolFile::sha256() const {
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

}  // namespace tb::server
