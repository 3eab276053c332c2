// trustbase's scanner: walks roots depth-first in path order, hashes regular files on
// several threads, and streams records to a callback in path order with bounded memory.
//
// Guarantees
// - never follows symlinks (O_NOFOLLOW everywhere, openat() relative to the parent
//   directory's descriptor, so a swapped path component cannot lead outside a root);
// - a hash is only ever reported for bytes that were stable while read: size, mtime,
//   ctime and inode are checked before and after; otherwise a `changed` error;
// - unreadable, vanishing and looping entries become ScanErrors, never a crash;
// - records reach `on_record` in path order, whatever the number of threads.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/scan_document.h"
#include "scan/sys.h"

namespace tb {

struct ScanOptions {
  std::vector<std::string> roots;      // directories or files; made absolute and canonical
  // Scan the file system mounted (or unpacked) at this directory as if it were "/": roots
  // and path excludes are read inside it and recorded paths are relative to it, so a
  // container image, a chroot or a mounted disk compares with the signatures of what is
  // installed in it. Empty: the live root. Roots that resolve outside it are refused.
  std::string sysroot;
  std::vector<std::string> excludes;   // globs, see scan/exclude.h
  bool one_file_system = false;        // do not descend into other mounts (mount point itself recorded)
  bool skip_pseudo_fs = true;          // do not descend into proc, sysfs, cgroup, debugfs...
  unsigned jobs = 0;                   // hashing threads; 0 = number of online CPUs
  double max_rate_mb_s = 0;            // read-rate cap in MB/s (10^6 bytes); 0 = unlimited
  std::size_t max_listed_errors = 100'000;  // beyond: counted, not listed
  std::size_t window = 4096;           // entries in flight between walk and output
  std::size_t read_buffer_bytes = 256 * 1024;  // per hashing thread
  std::size_t max_depth = 4096;        // deeper directories are reported as `limit` errors
  // Set to true (e.g. from SIGINT, or from on_record) to stop soon: queued and half-read
  // files are dropped, no record is delivered once the calling thread has seen the flag
  // (so none after the on_record call that set it), and scan() returns an error.
  const std::atomic<bool>* cancel = nullptr;
  Sys* sys = nullptr;                  // nullptr = real_sys()
};

// Live counters, updated as records are emitted; read from any thread.
struct ScanProgress {
  std::atomic<std::uint64_t> entries{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> errors{0};
};

struct ScanOutcome {
  std::vector<std::string> roots;   // canonical, overlapping roots folded
  std::vector<ScanError> errors;    // in path order, at most max_listed_errors
  ScanSummary summary;
};

// Makes roots absolute and canonical (realpath), sorts them in path order and folds
// roots that lie inside another root. Fails naming the first root that cannot be used.
Expected<std::vector<std::string>> canonical_roots(const std::vector<std::string>& roots);

// The roots a scan with these options walks: `real` are canonical paths on this system
// (inside the sysroot), `shown` the same as recorded in the document (relative to it).
struct ResolvedRoots {
  std::string sysroot;  // canonical; empty without one
  std::vector<std::string> real;
  std::vector<std::string> shown;
};
Expected<ResolvedRoots> resolve_roots(const ScanOptions& options);

// Maps canonical paths under a sysroot back to the paths they have inside it.
class SysrootMapper {
 public:
  // `sysroot` canonical and absolute; "/" or empty maps nothing.
  explicit SysrootMapper(std::string sysroot);
  bool active() const { return !prefix_.empty(); }
  const std::string& prefix() const { return prefix_; }
  // "/sys/root" -> "/", "/sys/root/etc" -> "/etc"; `path` must be the sysroot or under it.
  void strip(std::string& path) const;
  // The sysroot path of an in-sysroot path ("/etc" -> "/sys/root/etc").
  std::string apply(std::string_view path) const;

 private:
  std::string prefix_;  // empty when inactive
};

using RecordCallback = std::function<Expected<void>(const FileRecord&)>;

// Fatal problems (no root usable, callback failure, cancellation) are returned as an
// error; per-file problems are listed in ScanOutcome::errors.
Expected<ScanOutcome> scan(const ScanOptions& options, const RecordCallback& on_record,
                           ScanProgress* progress = nullptr);

// Convenience for tests and small trees: the whole manifest in memory.
struct CollectedScan {
  Manifest manifest;
  ScanOutcome outcome;
};
Expected<CollectedScan> scan_to_manifest(const ScanOptions& options);

}  // namespace tb
