#include "scan/walker.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>

#include <algorithm>
#include <cerrno>

#include "core/path.h"
#include "scan/file_hasher.h"

namespace tb {

namespace {

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY;

std::string join(const std::string& dir, const std::string& name) {
  std::string p;
  p.reserve(dir.size() + 1 + name.size());
  p = dir;
  if (p.size() != 1) p += '/';
  p += name;
  return p;
}

std::pair<std::string, std::string> split_parent(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == 0) return {"/", path.substr(1)};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

WalkItem item_from(Captured&& c) {
  WalkItem item;
  item.has_record = c.has_record;
  item.record = std::move(c.record);
  item.error = std::move(c.error);
  return item;
}

}  // namespace

Walker::Walker(const ScanOptions& options, Sys& sys, const ExcludeSet& excludes, Emit emit)
    : options_(options), sys_(sys), excludes_(excludes), emit_(std::move(emit)) {}

bool Walker::stopped() const {
  return stop_ || (options_.cancel != nullptr && options_.cancel->load(std::memory_order_relaxed));
}

bool Walker::emit_error(std::string path, ScanErrorKind kind, int neg_errno) {
  WalkItem item;
  item.has_record = false;
  item.error = make_scan_error(std::move(path), kind, neg_errno);
  if (!emit_(std::move(item))) stop_ = true;
  return !stop_;
}

bool Walker::emit_unopened_dir(int dirfd, const std::string& name, std::string path, int open_rc) {
  if (open_rc == -ENOENT) return emit_error(std::move(path), ScanErrorKind::vanished, open_rc);
  // Unreadable (EACCES) or no longer a directory (ELOOP, ENOTDIR): list what is there.
  WalkItem item = item_from(capture_other(sys_, dirfd, name, path));
  if (item.has_record && !item.error) {
    if (item.record.type == FileType::directory)
      item.error = make_scan_error(std::move(path), ScanErrorKind::open, open_rc);
    else if (item.record.type == FileType::file)  // never a file record without hash and without reason
      item.error = ScanError{std::move(path), ScanErrorKind::changed, 0, "became a file during the scan; not hashed"};
  }
  if (!emit_(std::move(item))) stop_ = true;
  return !stop_;
}

bool Walker::is_pseudo_fs(int fd) const {
  struct statfs sfs {};
  if (sys_.fstatfs(fd, &sfs) < 0) return false;
  // Kernel interfaces whose "files" are generated on read: hashing them is meaningless
  // (and some block or never end).
  switch (static_cast<unsigned long>(sfs.f_type)) {
    case PROC_SUPER_MAGIC: case SYSFS_MAGIC: case DEVPTS_SUPER_MAGIC: case CGROUP_SUPER_MAGIC:
    case CGROUP2_SUPER_MAGIC: case DEBUGFS_MAGIC: case TRACEFS_MAGIC: case SECURITYFS_MAGIC:
    case PSTOREFS_MAGIC: case BPF_FS_MAGIC: case BINFMTFS_MAGIC: case EFIVARFS_MAGIC:
    case 0x62656570 /* configfs */: case 0x65735543 /* fusectl */: case 0x19800202 /* mqueue */:
    case 0x6e736673 /* nsfs */: case SELINUX_MAGIC: case SMACK_MAGIC:
      return true;
    default:
      return false;
  }
}

bool Walker::walk_root(const std::string& root) {
  if (stopped()) return false;
  struct stat st {};
  if (const int rc = sys_.fstat_at(AT_FDCWD, root.c_str(), &st, AT_SYMLINK_NOFOLLOW); rc < 0)
    return emit_error(root, ScanErrorKind::stat, rc);
  root_dev_ = st.st_dev;

  if (!S_ISDIR(st.st_mode)) {
    // A single file as root: hash it relative to its parent directory.
    auto [parent, name] = split_parent(root);
    const int pfd = sys_.open_at(AT_FDCWD, parent.c_str(), kDirFlags);
    if (pfd < 0) return emit_error(root, ScanErrorKind::open, pfd);
    auto handle = std::make_shared<const DirHandle>(sys_, pfd, parent);
    WalkItem item;
    item.record.path = root;
    if (S_ISREG(st.st_mode)) {
      item.needs_hash = true;
      item.dir = handle;
      item.name = name;
    } else {
      item = item_from(capture_other(sys_, pfd, name, root));
    }
    if (!emit_(std::move(item))) stop_ = true;
    return !stop_;
  }

  const int fd = sys_.open_at(AT_FDCWD, root.c_str(), kDirFlags);
  if (fd < 0) return emit_unopened_dir(AT_FDCWD, root, root, fd);
  auto handle = std::make_shared<const DirHandle>(sys_, fd, root);
  if (const int rc = sys_.fstat(fd, &st); rc < 0) return emit_error(root, ScanErrorKind::stat, rc);
  root_dev_ = st.st_dev;
  ancestors_.clear();
  return walk_dir(handle, st, 0);
}

bool Walker::walk_dir(const std::shared_ptr<const DirHandle>& dir, const struct stat& st, std::size_t depth) {
  WalkItem self;
  self.record = record_from_stat(dir->path(), st);
  std::vector<DirEntry> entries;
  if (const int rc = sys_.list_dir(dir->fd(), entries); rc < 0)
    self.error = make_scan_error(dir->path(), ScanErrorKind::read, rc);  // keep what was read
  if (!emit_(std::move(self))) stop_ = true;
  if (stopped()) return false;

  // Bytewise name order is exactly the manifest's path order within one directory.
  std::sort(entries.begin(), entries.end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  ancestors_.emplace_back(st.st_dev, st.st_ino);
  for (const DirEntry& e : entries) {
    if (!visit_entry(dir, st, e, depth)) break;
  }
  ancestors_.pop_back();
  return !stopped();
}

bool Walker::visit_entry(const std::shared_ptr<const DirHandle>& dir, const struct stat& dir_st, const DirEntry& e,
                         std::size_t depth) {
  if (stopped()) return false;
  std::string path = join(dir->path(), e.name);
  if (path.size() > PathLimits{}.max_path_bytes) {
    WalkItem item;
    item.has_record = false;
    // The over-long path itself cannot be a document path: report it on its directory.
    item.error = ScanError{dir->path(), ScanErrorKind::limit, 0,
                           "entry '" + e.name.substr(0, 64) + "...' would make a path longer than " +
                               std::to_string(PathLimits{}.max_path_bytes) + " bytes; skipped"};
    if (!emit_(std::move(item))) stop_ = true;
    return !stop_;
  }
  if (!excludes_.empty() && excludes_.excludes(path, e.name)) return true;

  unsigned char type = e.d_type;
  if (type == DT_REG) {
    WalkItem item;
    item.needs_hash = true;
    item.record.path = std::move(path);
    item.dir = dir;
    item.name = e.name;
    if (!emit_(std::move(item))) stop_ = true;
    return !stop_;
  }
  if (type == DT_DIR) return visit_subdir(dir, dir_st, e.name, std::move(path), depth);

  // Symlinks, devices, FIFOs, sockets, and DT_UNKNOWN (file systems that do not fill
  // d_type) need an lstat; the latter may turn out to be a file or directory.
  Captured c = capture_other(sys_, dir->fd(), e.name, path);
  if (c.has_record && c.record.type == FileType::directory)
    return visit_subdir(dir, dir_st, e.name, std::move(path), depth);
  WalkItem item;
  if (c.has_record && c.record.type == FileType::file) {
    item.needs_hash = true;
    item.record.path = std::move(path);
    item.dir = dir;
    item.name = e.name;
  } else {
    item = item_from(std::move(c));
  }
  if (!emit_(std::move(item))) stop_ = true;
  return !stop_;
}

bool Walker::visit_subdir(const std::shared_ptr<const DirHandle>& dir, const struct stat& dir_st,
                          const std::string& name, std::string path, std::size_t depth) {
  const int fd = sys_.open_at(dir->fd(), name.c_str(), kDirFlags);
  if (fd < 0) return emit_unopened_dir(dir->fd(), name, std::move(path), fd);
  auto handle = std::make_shared<const DirHandle>(sys_, fd, path);
  struct stat st {};
  if (const int rc = sys_.fstat(fd, &st); rc < 0) return emit_error(std::move(path), ScanErrorKind::stat, rc);

  // Record the directory itself but do not descend when it is another mount we were
  // asked to stay off, a pseudo file system, a loop back to an ancestor, or too deep.
  std::optional<ScanError> stop_here;
  bool descend = true;
  if (std::find(ancestors_.begin(), ancestors_.end(), std::make_pair(st.st_dev, st.st_ino)) != ancestors_.end()) {
    stop_here = ScanError{path, ScanErrorKind::loop, ELOOP, "directory is its own ancestor (bind mount loop); not descended"};
    descend = false;
  } else if (depth + 1 >= options_.max_depth) {
    stop_here = ScanError{path, ScanErrorKind::limit, 0, "directory deeper than the scanner's depth limit; not descended"};
    descend = false;
  } else if (st.st_dev != dir_st.st_dev || st.st_dev != root_dev_) {
    if (options_.one_file_system && st.st_dev != root_dev_) descend = false;
    else if (options_.skip_pseudo_fs && is_pseudo_fs(fd)) descend = false;
  }
  if (descend) return walk_dir(handle, st, depth + 1);

  WalkItem item;
  item.record = record_from_stat(std::move(path), st);
  item.error = std::move(stop_here);
  if (!emit_(std::move(item))) stop_ = true;
  return !stop_;
}

}  // namespace tb
