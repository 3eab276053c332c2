// Reading archives with libarchive, bounded: a package is hostile input until proven
// otherwise (zip and tar bombs, `../` entries, absolute paths, duplicates).
//
// ArchiveReader walks the entries of one archive (tar, ar, cpio or zip; compressed with
// gzip, bzip2, xz, lzma or zstd, detected from the content) read from a PackageFile or
// from the current entry of another ArchiveReader (a .deb's data.tar.xz inside its ar
// container), counting entries and uncompressed bytes against ArchiveLimits.
// read_archive_tree() turns the entries into file records under an install root.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "core/file_record.h"
#include "sources/package_file.h"

namespace tb {

// Bounds on one archive's content. Defaults fit the largest distribution packages
// (texlive, firmware: tens of thousands of files, a few GiB) with a wide margin.
struct ArchiveLimits {
  std::uint64_t max_entries = 1'000'000;          // entries of one archive
  std::uint64_t max_entry_bytes = 16ull << 30;    // uncompressed bytes of one entry
  std::uint64_t max_total_bytes = 64ull << 30;    // uncompressed bytes of all entries
  // Zip-bomb guard: beyond `expansion_floor` uncompressed bytes, the archive may not
  // expand more than `max_expansion` times the size of the package file.
  std::uint64_t max_expansion = 1000;
  std::uint64_t expansion_floor = 1ull << 30;
  std::size_t max_path_bytes = 4096;              // an entry's path, and a link target
};

// Which container formats an ArchiveReader accepts (bit set).
enum ArchiveFormat : unsigned {
  kArchiveTar = 1u << 0,   // ustar, pax, GNU tar
  kArchiveAr = 1u << 1,    // the .deb container
  kArchiveCpio = 1u << 2,  // RPM payloads
  kArchiveZip = 1u << 3,   // needs a seekable PackageFile (reads the central directory)
};

// Compression of an archive's outermost layer, as detected from its bytes.
enum class Compression : std::uint8_t { none, gzip, bzip2, xz, lzma, zstd, other };
std::string_view to_string(Compression c) noexcept;

// One entry's header as stored (path not normalised yet).
struct ArchiveEntry {
  std::string path;            // raw bytes
  FileType type = FileType::file;
  std::uint32_t mode = 0;      // permission bits (07777)
  std::uint32_t uid = 0, gid = 0;
  std::optional<std::uint64_t> size;  // regular files: the declared size
  std::string link_target;     // symlinks
  std::optional<std::string> hardlink;  // a hard link to an earlier entry (raw path)
};

class ArchiveReader {
 public:
  // `name` names the archive in every error ("pkg.deb: data.tar.xz"). The PackageFile
  // (or the parent reader) must outlive the reader.
  static Expected<ArchiveReader> open(PackageFile& file, unsigned formats, std::string name,
                                      const ArchiveLimits& limits = {});
  // Reads the archive held in `parent`'s current entry (nested archives); the parent
  // may not be advanced while this reader is in use. The expansion guard stays relative
  // to the outermost package file.
  static Expected<ArchiveReader> open_entry(ArchiveReader& parent, unsigned formats, std::string name,
                                            const ArchiveLimits& limits = {});

  ArchiveReader(ArchiveReader&&) noexcept;
  ArchiveReader& operator=(ArchiveReader&&) noexcept;
  ~ArchiveReader();

  const std::string& name() const;
  const ArchiveLimits& limits() const;

  // The next entry's header; nullptr after the last one. The entry stays valid until the
  // next call. Unread data of the previous entry is skipped (and still counted).
  Expected<const ArchiveEntry*> next();
  // The next block of the current entry's data; empty at its end. Holes of sparse files
  // come back as zeros, so the bytes are exactly the file's content.
  Expected<std::span<const std::byte>> read_block();
  // The whole current entry, refused beyond `max_bytes` (control files, manifests).
  Expected<std::string> read_all(std::size_t max_bytes);

  // The compression detected (valid once next() has been called).
  Compression compression() const;
  // An error "NAME: entry 'PATH': message" for the current entry.
  Error entry_error(ErrorCode code, std::string_view message) const;

  struct State;

 private:
  explicit ArchiveReader(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// How read_archive_tree() maps entries to records.
struct TreeOptions {
  std::string install_root = "/";  // canonical; an entry "./usr/x" becomes ROOT/usr/x
  unsigned strip_components = 0;   // leading path components dropped (tar --strip-components)
  bool keep_owner = false;         // record uid/gid (packages fix them; plain tarballs do not)
  // Also compute this OpenSSL digest ("MD5", "SHA1", ...) of every regular file: RPM
  // headers may list file digests in another algorithm than SHA-256.
  std::string extra_digest;
};

struct ArchiveTree {
  std::vector<FileRecord> records;  // path order, unique, canonical
  // With TreeOptions::extra_digest: lower-case hex digest of each regular file, by path.
  std::unordered_map<std::string, std::string> extra_digests;
};

// Reads every entry of `reader` into records: regular files hashed with SHA-256 (type,
// size, mode, sha256), directories (type, mode), symlinks (type, size, link target),
// other types (type, mode); owners with keep_owner; never mtime. The install root's own
// directory entry ("./") is kept unless the root is "/". Refuses, naming the archive and
// the entry: absolute paths, `..` components, empty names, paths over the limits,
// duplicates, hard links to entries that are not earlier regular files.
Expected<ArchiveTree> read_archive_tree(ArchiveReader& reader, const TreeOptions& options);

// The canonical path of an entry under `install_root` ("./" and "." are the root itself),
// nullopt when strip_components leaves nothing of it, or the reason it is refused.
Expected<std::optional<std::string>> archive_entry_path(std::string_view raw, const std::string& install_root,
                                                        unsigned strip_components, std::size_t max_path_bytes);

}  // namespace tb
