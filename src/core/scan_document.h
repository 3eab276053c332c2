// The model of one scan: host facts and scan parameters (header), the file records
// (a manifest, streamed in path order), the errors met, and a closing summary.
// Formats (format/) serialise exactly this; the scanner (scan/) produces it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/manifest.h"

namespace tb {

inline constexpr int kScanFormatVersion = 1;

struct HostFacts {
  std::string hostname;     // gethostname()
  std::string os_id;        // os-release ID, e.g. "debian"
  std::string os_version;   // os-release VERSION_ID, e.g. "12"
  std::string os_pretty;    // os-release PRETTY_NAME
  std::string kernel;       // uname -r
  std::string arch;         // uname -m
  bool operator==(const HostFacts&) const = default;
};

struct ScanHeader {
  int format_version = kScanFormatVersion;
  std::string scanner;                 // "trustbase-scan 0.1.0"
  HostFacts host;
  std::vector<std::string> roots;      // canonical absolute paths, as scanned
  std::vector<std::string> excludes;   // glob patterns, as given
  bool one_file_system = false;
  bool skip_pseudo_fs = true;
  std::int64_t started_ns = 0;         // wall clock, ns since the Unix epoch
  bool operator==(const ScanHeader&) const = default;
};

// Why a path could not be recorded (or was recorded without a hash).
enum class ScanErrorKind : std::uint8_t {
  open,      // open/opendir failed (EACCES, ELOOP...)
  read,      // read failed mid-file (EIO...)
  stat,      // lstat/fstat failed
  vanished,  // listed by readdir, gone before it could be opened
  changed,   // size/mtime/inode changed while hashing: hash withheld, never a wrong one
  loop,      // directory already on the current path (bind-mount loop)
  limit,     // path too long / too deep
  other,
};
std::string_view to_string(ScanErrorKind kind) noexcept;
std::optional<ScanErrorKind> scan_error_kind_from_string(std::string_view name) noexcept;

struct ScanError {
  std::string path;        // raw bytes, absolute
  ScanErrorKind kind = ScanErrorKind::other;
  int sys_errno = 0;       // errno when the OS reported one, else 0
  std::string message;     // human-readable, e.g. "Permission denied"
  bool operator==(const ScanError&) const = default;
};

struct ScanSummary {
  std::int64_t finished_ns = 0;
  std::uint64_t files = 0, directories = 0, symlinks = 0, others = 0;
  std::uint64_t bytes_hashed = 0;
  std::uint64_t errors = 0;           // all errors met, including those not listed
  std::uint64_t errors_dropped = 0;   // errors beyond the listing cap, counted only
  bool operator==(const ScanSummary&) const = default;
};

// A whole scan in memory (tests, small scans, the server after parsing).
struct ScanDocument {
  ScanHeader header;
  Manifest manifest;
  std::vector<ScanError> errors;
  ScanSummary summary;
};

}  // namespace tb
