// The model of one scan: host facts and scan parameters (header), the file records
// (a manifest, streamed in path order), the errors met, and a closing summary.
// Formats (format/) serialise exactly this; the scanner (scan/) produces it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/manifest.h"

namespace tb {

inline constexpr int kScanFormatVersion = 1;

struct HostFacts {
  std::string hostname;    // gethostname()
  std::string os_id;       // os-release ID, e.g. "debian"
  std::string os_version;  // os-release VERSION_ID, e.g. "12"
  std::string os_pretty;   // os-release PRETTY_NAME
  std::string kernel;      // uname -r
  std::string arch;        // uname -m
  bool operator==(const HostFacts&) const = default;
};

// One installed package as the host's package manager lists it (dpkg status, rpmdb).
enum class PackageManager : std::uint8_t { dpkg, rpm };
std::string_view to_string(PackageManager manager) noexcept;
std::optional<PackageManager> package_manager_from_string(std::string_view name) noexcept;

struct InstalledPackage {
  std::string name;     // dpkg Package / rpm NAME
  std::string version;  // dpkg Version verbatim / rpm "[E:]V-R" (as signatures name them)
  std::string arch;     // dpkg Architecture / rpm ARCH; may be empty
  PackageManager manager = PackageManager::dpkg;
  bool operator==(const InstalledPackage&) const = default;
};

// Something wrong with a package database that did not stop the scan (a malformed stanza,
// an oversized file, an unreadable rpmdb): the inventory may be incomplete.
struct InventoryWarning {
  PackageManager manager = PackageManager::dpkg;
  std::string message;
  bool operator==(const InventoryWarning&) const = default;
};

// Bounds shared by the scanner (what it collects) and the readers (what they accept).
inline constexpr std::size_t kMaxInventoryPackages = 200'000;
inline constexpr std::size_t kMaxInventoryWarnings = 100;
inline constexpr std::size_t kMaxPackageField = 1024;  // name, version, arch, in bytes

// The host's installed packages, as its package managers list them. Sorted by manager,
// name, arch, version (the scanner sorts; readers keep the document's order).
struct PackageInventory {
  std::vector<InstalledPackage> packages;
  std::vector<InventoryWarning> warnings;
  bool operator==(const PackageInventory&) const = default;
};

// A digest of what an inventory lists (manager, name, version, arch of each package, in
// a canonical order; warnings left out): equal inventories judge files alike.
Sha256Digest inventory_digest(const PackageInventory& inventory);

struct ScanHeader {
  int format_version = kScanFormatVersion;
  std::string scanner;  // "trustbase-scan 0.1.0"
  HostFacts host;
  std::vector<std::string> roots;     // canonical absolute paths, as scanned
  std::vector<std::string> excludes;  // glob patterns, as given
  bool one_file_system = false;
  bool skip_pseudo_fs = true;
  std::int64_t started_ns = 0;  // wall clock, ns since the Unix epoch
  // The installed packages; nullopt when the scanner did not look (--no-inventory, or no
  // package database on the host), empty when it looked and found none.
  std::optional<PackageInventory> inventory;
  bool operator==(const ScanHeader&) const = default;
};

// Why a scan's own start time cannot be believed, or nullopt: a document dated later than
// `now_ns` plus `tolerance_ns` (clock skew) would otherwise be its host's latest scan for
// ever, hiding every later one. Scans are ordered by their start time so that an offline
// host's older document ingested late does not become the latest; this keeps that order
// honest. One rule for the server and `trustbase ingest`.
inline constexpr std::int64_t kScanClockTolerance_ns = 10LL * 60 * 1'000'000'000;  // 10 minutes
std::optional<std::string> implausible_start(const ScanHeader& header, std::int64_t now_ns,
                                             std::int64_t tolerance_ns = kScanClockTolerance_ns);

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
  std::string path;  // raw bytes, absolute
  ScanErrorKind kind = ScanErrorKind::other;
  int sys_errno = 0;    // errno when the OS reported one, else 0
  std::string message;  // human-readable, e.g. "Permission denied"
  bool operator==(const ScanError&) const = default;
};

struct ScanSummary {
  std::int64_t finished_ns = 0;
  std::uint64_t files = 0, directories = 0, symlinks = 0, others = 0;
  std::uint64_t bytes_hashed = 0;
  std::uint64_t errors = 0;          // all errors met, including those not listed
  std::uint64_t errors_dropped = 0;  // errors beyond the listing cap, counted only
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
