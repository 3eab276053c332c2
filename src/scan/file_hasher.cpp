#include "scan/file_hasher.h"

#include <fcntl.h>

#include <algorithm>
#include <cstring>

#include "core/sha256.h"

namespace tb {

namespace {

FileType type_of(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG: return FileType::file;
    case S_IFDIR: return FileType::directory;
    case S_IFLNK: return FileType::symlink;
    case S_IFIFO: return FileType::fifo;
    case S_IFSOCK: return FileType::socket;
    case S_IFCHR: return FileType::char_device;
    case S_IFBLK: return FileType::block_device;
    default: return FileType::unknown;
  }
}

std::int64_t ns(const timespec& t) { return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; }

// Same object, same content version: anything a writer would have to change.
bool same_version(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
         ns(a.st_mtim) == ns(b.st_mtim) && ns(a.st_ctim) == ns(b.st_ctim);
}

Captured error_only(std::string path, ScanErrorKind kind, int neg_errno) {
  Captured c;
  c.has_record = false;
  c.error = make_scan_error(std::move(path), kind, neg_errno);
  return c;
}

}  // namespace

FileRecord record_from_stat(std::string path, const struct stat& st) {
  FileRecord r;
  r.path = std::move(path);
  r.type = type_of(st.st_mode);
  r.mode = st.st_mode & 07777;
  r.uid = st.st_uid;
  r.gid = st.st_gid;
  r.mtime_ns = ns(st.st_mtim);
  r.present = Attr::type | Attr::mode | Attr::uid | Attr::gid | Attr::mtime;
  if (r.type == FileType::file || r.type == FileType::symlink) {
    r.size = static_cast<std::uint64_t>(st.st_size);
    r.present |= Attr::size;
  }
  return r;
}

ScanError make_scan_error(std::string path, ScanErrorKind kind, int neg_errno) {
  ScanError e;
  e.path = std::move(path);
  e.kind = kind;
  e.sys_errno = -neg_errno;
  const char* desc = e.sys_errno > 0 ? ::strerrordesc_np(e.sys_errno) : nullptr;  // thread-safe
  e.message = desc != nullptr ? desc : "unknown error";
  return e;
}

Captured capture_other(Sys& sys, int dirfd, const std::string& name, std::string path) {
  struct stat st {};
  if (const int rc = sys.fstat_at(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW); rc < 0)
    return error_only(std::move(path), rc == -ENOENT ? ScanErrorKind::vanished : ScanErrorKind::stat, rc);
  Captured c;
  c.record = record_from_stat(std::move(path), st);
  if (c.record.type != FileType::symlink) return c;

  // Link targets are raw bytes; st_size is their length except on some pseudo file
  // systems where it is 0, so grow the buffer until the target fits.
  std::string target(st.st_size > 0 ? static_cast<std::size_t>(st.st_size) + 1 : 256, '\0');
  for (;;) {
    const ssize_t n = sys.readlink_at(dirfd, name.c_str(), target.data(), target.size());
    if (n < 0) {
      c.error = make_scan_error(c.record.path, n == -ENOENT ? ScanErrorKind::vanished : ScanErrorKind::read,
                                static_cast<int>(n));
      return c;
    }
    if (static_cast<std::size_t>(n) < target.size()) {
      target.resize(static_cast<std::size_t>(n));
      break;
    }
    if (target.size() > 64 * 1024) {
      c.error = ScanError{c.record.path, ScanErrorKind::limit, 0, "symlink target longer than 64 KiB"};
      return c;
    }
    target.resize(target.size() * 2);
  }
  c.record.link_target = std::move(target);
  c.record.size = c.record.link_target.size();
  c.record.present |= Attr::link_target;
  return c;
}

FileHasher::FileHasher(Sys& sys, RateLimiter& limiter, std::size_t buffer_bytes, const std::atomic<bool>* cancel)
    : sys_(sys), limiter_(limiter), cancel_(cancel), buffer_(std::max<std::size_t>(buffer_bytes, 4096)) {}

Captured FileHasher::capture(int dirfd, const std::string& name, std::string path) {
  Sys& sys = sys_;
  const std::span<std::byte> buffer(buffer_);
  constexpr int kFlags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;
  int fd = sys.open_at(dirfd, name.c_str(), kFlags | O_NOATIME);
  // O_NOATIME is refused (EPERM) on files the caller does not own unless privileged.
  if (fd == -EPERM) fd = sys.open_at(dirfd, name.c_str(), kFlags);
  if (fd == -ELOOP || fd == -ENXIO) {  // a symlink or socket now
    Captured c = capture_other(sys, dirfd, name, std::move(path));
    if (c.has_record && !c.error && c.record.type == FileType::file)  // and a file again: raced twice
      c.error = ScanError{c.record.path, ScanErrorKind::changed, 0, "replaced during the scan; not hashed"};
    return c;
  }
  if (fd == -ENOENT) return error_only(std::move(path), ScanErrorKind::vanished, fd);
  if (fd < 0) {
    // Unreadable: still list the file with its metadata, without a hash, plus the error.
    Captured c = capture_other(sys, dirfd, name, path);
    if (c.has_record && !c.error) c.error = make_scan_error(std::move(path), ScanErrorKind::open, fd);
    return c;
  }

  Captured c;
  struct stat before {};
  if (const int rc = sys.fstat(fd, &before); rc < 0) {
    sys.close(fd);
    return error_only(std::move(path), ScanErrorKind::stat, rc);
  }
  if (!S_ISREG(before.st_mode)) {
    // Replaced by another type between readdir and open: record what is there now.
    sys.close(fd);
    c.record = record_from_stat(std::move(path), before);
    if (c.record.type == FileType::directory)
      c.error = ScanError{c.record.path, ScanErrorKind::changed, 0, "became a directory during the scan; not descended"};
    return c;
  }
  if (static_cast<std::size_t>(before.st_size) > buffer.size()) sys.advise_sequential(fd);

  Sha256& hasher = hasher_;
  if (hasher_dirty_) hasher.reset();  // an earlier capture stopped mid-file
  hasher_dirty_ = true;
  const auto expected_size = static_cast<std::uint64_t>(before.st_size);
  std::uint64_t total = 0;
  ssize_t n;
  while ((n = sys.read(fd, buffer.data(), buffer.size())) > 0) {
    if (cancel_ != nullptr && cancel_->load(std::memory_order_relaxed)) {
      // A throttled multi-gigabyte file must not hold a cancelled scan for minutes.
      sys.close(fd);
      Captured dropped;
      dropped.has_record = false;
      dropped.bytes_hashed = total;
      return dropped;
    }
    limiter_.acquire(static_cast<std::uint64_t>(n));
    hasher.update(buffer.first(static_cast<std::size_t>(n)));
    total += static_cast<std::uint64_t>(n);
    // A short read that reaches the size fstat reported is the end: this saves a read()
    // per file, and a file that grew meanwhile is caught by the check after reading.
    if (static_cast<std::size_t>(n) < buffer.size() && total == expected_size) break;
  }
  struct stat after {};
  const int stat_rc = sys.fstat(fd, &after);
  sys.close(fd);

  c.bytes_hashed = total;
  if (n < 0) {
    c.record = record_from_stat(std::move(path), before);
    c.error = make_scan_error(c.record.path, ScanErrorKind::read, static_cast<int>(n));
    return c;
  }
  if (stat_rc < 0) {
    c.record = record_from_stat(std::move(path), before);
    c.error = make_scan_error(c.record.path, ScanErrorKind::stat, stat_rc);
    return c;
  }
  c.record = record_from_stat(std::move(path), after);
  if (!same_version(before, after) || total != static_cast<std::uint64_t>(after.st_size)) {
    // Never report a hash of bytes that were not the file's content at one moment.
    c.error = ScanError{c.record.path, ScanErrorKind::changed, 0,
                        "file changed while it was read (" + std::to_string(total) + " bytes read, size now " +
                            std::to_string(after.st_size) + "); hash withheld"};
    return c;
  }
  c.record.sha256 = hasher.finish();  // also resets the context
  hasher_dirty_ = false;
  c.record.present |= Attr::sha256;
  return c;
}

}  // namespace tb
