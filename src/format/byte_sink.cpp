#include "format/byte_sink.h"

#include <cerrno>
#include <system_error>

#include <unistd.h>

namespace tb {

Expected<void> FdSink::write(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;  // a signal arrived before anything was written
      const int err = errno;
      return fail(ErrorCode::io, "write to file descriptor " + std::to_string(fd_) + " failed: " +
                                     std::system_category().message(err) + " (errno " + std::to_string(err) + ")");
    }
    if (n == 0)  // never for a byte count > 0 on Linux; do not spin if it happens
      return fail(ErrorCode::io, "write to file descriptor " + std::to_string(fd_) + " wrote nothing");
    // A short write (pipe, socket, signal mid-way) is not an error: write the rest.
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

// Nothing is buffered here (the writers buffer); durability (fsync) is the caller's
// decision, since the scanner often writes to a pipe or socket.
Expected<void> FdSink::flush() { return {}; }

}  // namespace tb
