// One entry of a file tree, as captured by the scanner or declared by a signature.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/sha256.h"

namespace tb {

enum class FileType : std::uint8_t {
  file,
  directory,
  symlink,
  fifo,
  socket,
  char_device,
  block_device,
  unknown,
};

// Stable names used in documents and reports ("file", "dir", "symlink", ...).
std::string_view to_string(FileType type) noexcept;
std::optional<FileType> file_type_from_string(std::string_view name) noexcept;

// The optional attributes of a record. A record says which ones it carries (a package
// signature has no mtime, a scan of a FIFO has no hash); the diff compares an attribute
// only when both sides carry it.
enum class Attr : std::uint16_t {
  type = 1u << 0,
  size = 1u << 1,
  mode = 1u << 2,
  uid = 1u << 3,
  gid = 1u << 4,
  mtime = 1u << 5,
  sha256 = 1u << 6,
  link_target = 1u << 7,
};

// A small set of Attr values.
class AttrSet {
 public:
  constexpr AttrSet() = default;
  constexpr AttrSet(Attr a) : bits_(static_cast<std::uint16_t>(a)) {}  // NOLINT: implicit by design
  static constexpr AttrSet from_bits(std::uint16_t bits) { AttrSet s; s.bits_ = bits; return s; }

  constexpr bool has(Attr a) const { return (bits_ & static_cast<std::uint16_t>(a)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  constexpr std::uint16_t bits() const { return bits_; }
  constexpr AttrSet& operator|=(AttrSet o) { bits_ |= o.bits_; return *this; }
  constexpr friend AttrSet operator|(AttrSet a, AttrSet b) { a |= b; return a; }
  constexpr friend AttrSet operator&(AttrSet a, AttrSet b) { return from_bits(a.bits_ & b.bits_); }
  constexpr bool operator==(const AttrSet&) const = default;

 private:
  std::uint16_t bits_ = 0;
};

constexpr AttrSet operator|(Attr a, Attr b) { return AttrSet(a) | AttrSet(b); }

// "content,mode,uid" style list of the attributes in a set, for reports.
std::string describe(AttrSet attrs);
// The inverse of describe(): a comma-separated list of attribute names (type, size, mode,
// uid, gid, mtime, content, target); nullopt naming nothing when a name is unknown.
std::optional<AttrSet> parse_attr_list(std::string_view names);

struct FileRecord {
  std::string path;             // canonical absolute path (see core/path.h), raw bytes
  FileType type = FileType::file;
  AttrSet present = Attr::type;  // which of the fields below carry a value
  std::uint64_t size = 0;       // bytes; for symlinks the target length
  std::uint32_t mode = 0;       // permission bits including setuid/setgid/sticky (07777)
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::int64_t mtime_ns = 0;    // nanoseconds since the Unix epoch
  Sha256Digest sha256;          // regular files only
  std::string link_target;      // symlinks only, raw bytes

  bool has(Attr a) const { return present.has(a); }
  // Exact equality: same path, same present set, same values of present attributes.
  friend bool operator==(const FileRecord& a, const FileRecord& b);
};

// Attributes that both records carry and whose values differ (path is not compared).
AttrSet changed_attributes(const FileRecord& before, const FileRecord& after);

}  // namespace tb
