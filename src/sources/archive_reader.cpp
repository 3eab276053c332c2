#include "sources/archive_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <unordered_set>
#include <utility>

#include "core/path.h"
#include "format/drift_report.h"  // printable()

namespace tb {

std::string_view to_string(Compression c) noexcept {
  switch (c) {
    case Compression::none: return "none";
    case Compression::gzip: return "gzip";
    case Compression::bzip2: return "bzip2";
    case Compression::xz: return "xz";
    case Compression::lzma: return "lzma";
    case Compression::zstd: return "zstd";
    case Compression::other: return "other";
  }
  return "other";
}

struct ArchiveReader::State {
  std::string name;
  ArchiveLimits limits;
  archive* a = nullptr;
  PackageFile* file = nullptr;  // the input: a file...
  State* parent = nullptr;      // ...or the current entry of another archive
  std::uint64_t total_limit = 0;
  std::optional<Error> input_error;  // raised inside a libarchive callback

  ArchiveEntry entry;
  archive_entry* raw_entry = nullptr;
  bool in_entry = false;
  bool data_done = true;
  std::uint64_t entries = 0;
  std::uint64_t total_bytes = 0;
  std::uint64_t entry_bytes = 0;  // delivered of the current entry (holes included)
  // A block libarchive returned but not yet delivered, because a hole comes before it.
  bool has_pending = false;
  const std::byte* pending = nullptr;
  std::size_t pending_size = 0;
  std::uint64_t pending_offset = 0;
  bool sparse = false;
  std::vector<std::byte> zeros;

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() {
    if (a != nullptr) archive_read_free(a);
  }

  Error error(ErrorCode code, const std::string& message) const { return Error{code, name + ": " + message}; }

  // The failure of a libarchive call: the callback's own error when it caused it.
  Error archive_failure(std::string_view doing) const {
    if (input_error) return *input_error;
    const char* why = archive_error_string(a);
    return error(ErrorCode::parse, std::string(doing) + ": " + (why != nullptr ? why : "unreadable archive"));
  }

  Expected<std::span<const std::byte>> read_block();
  Expected<std::span<const std::byte>> count(std::span<const std::byte> data);
};

namespace {

la_ssize_t read_callback(struct archive* a, void* client, const void** buffer) {
  auto* s = static_cast<ArchiveReader::State*>(client);
  Expected<std::span<const std::byte>> data = s->file != nullptr ? s->file->read_some() : s->parent->read_block();
  if (!data) {
    s->input_error = data.error();
    archive_set_error(a, EIO, "%s", data.error().message.c_str());
    return -1;
  }
  *buffer = data->data();
  return static_cast<la_ssize_t>(data->size());
}

la_int64_t seek_callback(struct archive* a, void* client, la_int64_t offset, int whence) {
  auto* s = static_cast<ArchiveReader::State*>(client);
  auto position = s->file->seek(offset, whence);
  if (!position) {
    s->input_error = position.error();
    archive_set_error(a, EIO, "%s", position.error().message.c_str());
    return ARCHIVE_FATAL;
  }
  return static_cast<la_int64_t>(*position);
}

Compression compression_of(int code) {
  switch (code) {
    case ARCHIVE_FILTER_NONE: return Compression::none;
    case ARCHIVE_FILTER_GZIP: return Compression::gzip;
    case ARCHIVE_FILTER_BZIP2: return Compression::bzip2;
    case ARCHIVE_FILTER_XZ: return Compression::xz;
    case ARCHIVE_FILTER_LZMA: return Compression::lzma;
    case ARCHIVE_FILTER_ZSTD: return Compression::zstd;
    default: return Compression::other;
  }
}

FileType type_of(mode_t type) {
  switch (type) {
    case AE_IFREG: return FileType::file;
    case AE_IFDIR: return FileType::directory;
    case AE_IFLNK: return FileType::symlink;
    case AE_IFIFO: return FileType::fifo;
    case AE_IFSOCK: return FileType::socket;
    case AE_IFCHR: return FileType::char_device;
    case AE_IFBLK: return FileType::block_device;
    default: return FileType::unknown;
  }
}

Expected<std::unique_ptr<ArchiveReader::State>> start(std::unique_ptr<ArchiveReader::State> s, unsigned formats) {
  s->a = archive_read_new();
  if (s->a == nullptr) return fail(ErrorCode::internal, s->name + ": out of memory");
  // Only in-process decompressors: archive_read_support_filter_all() would also run
  // external programs (lrzip, lzop...) on hostile input.
  archive_read_support_filter_gzip(s->a);
  archive_read_support_filter_bzip2(s->a);
  archive_read_support_filter_xz(s->a);
  archive_read_support_filter_lzma(s->a);
  archive_read_support_filter_zstd(s->a);
  if ((formats & kArchiveTar) != 0) archive_read_support_format_tar(s->a);
  if ((formats & kArchiveAr) != 0) archive_read_support_format_ar(s->a);
  if ((formats & kArchiveCpio) != 0) archive_read_support_format_cpio(s->a);
  if ((formats & kArchiveZip) != 0) {
    if (s->file != nullptr) archive_read_support_format_zip_seekable(s->a);
    else archive_read_support_format_zip_streamable(s->a);
  }
  archive_read_set_callback_data(s->a, s.get());
  archive_read_set_read_callback(s->a, read_callback);
  if (s->file != nullptr) archive_read_set_seek_callback(s->a, seek_callback);
  if (archive_read_open1(s->a) != ARCHIVE_OK) return tl::unexpected(s->archive_failure("not a readable archive"));
  return s;
}

std::uint64_t total_limit(const ArchiveLimits& limits, std::uint64_t package_bytes) {
  const std::uint64_t expansion =
      package_bytes > UINT64_MAX / limits.max_expansion ? UINT64_MAX : package_bytes * limits.max_expansion;
  return std::min(limits.max_total_bytes, std::max(limits.expansion_floor, expansion));
}

}  // namespace

Expected<std::span<const std::byte>> ArchiveReader::State::count(std::span<const std::byte> data) {
  entry_bytes += data.size();
  total_bytes += data.size();
  if (entry_bytes > limits.max_entry_bytes)
    return fail(ErrorCode::limit, name + ": entry '" + printable(entry.path) + "' is larger than the limit of " +
                                      std::to_string(limits.max_entry_bytes) + " bytes");
  if (total_bytes > total_limit)
    return fail(ErrorCode::limit, name + ": the content is larger than the limit of " + std::to_string(total_limit) +
                                      " bytes (archive bomb?)");
  return data;
}

Expected<std::span<const std::byte>> ArchiveReader::State::read_block() {
  if (!in_entry || data_done) return std::span<const std::byte>();
  if (!has_pending) {
    const void* buffer = nullptr;
    std::size_t size = 0;
    la_int64_t offset = 0;
    const int r = archive_read_data_block(a, &buffer, &size, &offset);
    if (r == ARCHIVE_EOF) {
      // A sparse file may end in a hole: its declared size says how long it is.
      if (sparse && entry.size && entry_bytes < *entry.size) {
        pending_offset = *entry.size;
        pending_size = 0;  // a zero-length block after the hole: the end
        pending = nullptr;
        has_pending = true;
      } else {
        data_done = true;
        return std::span<const std::byte>();
      }
    } else if (r != ARCHIVE_OK) {
      // A warning on data is an integrity failure (zip reports a bad CRC as one).
      return tl::unexpected(archive_failure("entry '" + printable(entry.path) + "'"));
    } else {
      if (offset < 0 || static_cast<std::uint64_t>(offset) < entry_bytes)
        return fail(ErrorCode::parse, name + ": entry '" + printable(entry.path) + "': overlapping data blocks");
      pending = static_cast<const std::byte*>(buffer);
      has_pending = true;
      pending_size = size;
      pending_offset = static_cast<std::uint64_t>(offset);
    }
  }
  if (pending_offset > entry_bytes) {
    // A hole before the pending block: deliver zeros first.
    if (zeros.empty()) zeros.resize(64 * 1024);
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(pending_offset - entry_bytes, zeros.size()));
    return count(std::span<const std::byte>(zeros.data(), n));
  }
  const std::span<const std::byte> data(pending, pending_size);
  has_pending = false;
  if (data.empty()) return read_block();  // an empty block (after a trailing hole): ask again
  return count(data);
}

ArchiveReader::ArchiveReader(std::unique_ptr<State> state) : state_(std::move(state)) {}
ArchiveReader::ArchiveReader(ArchiveReader&&) noexcept = default;
ArchiveReader& ArchiveReader::operator=(ArchiveReader&&) noexcept = default;
ArchiveReader::~ArchiveReader() = default;

Expected<ArchiveReader> ArchiveReader::open(PackageFile& file, unsigned formats, std::string name,
                                            const ArchiveLimits& limits) {
  auto s = std::make_unique<State>();
  s->name = std::move(name);
  s->limits = limits;
  s->file = &file;
  s->total_limit = total_limit(limits, file.size());
  auto started = start(std::move(s), formats);
  if (!started) return tl::unexpected(started.error());
  return ArchiveReader(std::move(*started));
}

Expected<ArchiveReader> ArchiveReader::open_entry(ArchiveReader& parent, unsigned formats, std::string name,
                                                  const ArchiveLimits& limits) {
  auto s = std::make_unique<State>();
  s->name = std::move(name);
  s->limits = limits;
  s->parent = parent.state_.get();
  // The expansion guard is relative to the package file, the outermost input.
  const State* root = s->parent;
  while (root->parent != nullptr) root = root->parent;
  s->total_limit = total_limit(s->limits, root->file->size());
  auto started = start(std::move(s), formats & ~unsigned{kArchiveZip});
  if (!started) return tl::unexpected(started.error());
  return ArchiveReader(std::move(*started));
}

const std::string& ArchiveReader::name() const { return state_->name; }
const ArchiveLimits& ArchiveReader::limits() const { return state_->limits; }
Compression ArchiveReader::compression() const { return compression_of(archive_filter_code(state_->a, 0)); }

Error ArchiveReader::entry_error(ErrorCode code, std::string_view message) const {
  return state_->error(code, "entry '" + printable(state_->entry.path) + "': " + std::string(message));
}

Expected<const ArchiveEntry*> ArchiveReader::next() {
  State& s = *state_;
  // Unread data is read rather than skipped, so that it counts against the limits.
  while (s.in_entry && !s.data_done) {
    auto block = s.read_block();
    if (!block) return tl::unexpected(block.error());
  }
  s.in_entry = false;
  const int r = archive_read_next_header(s.a, &s.raw_entry);
  if (r == ARCHIVE_EOF) return nullptr;
  if (r < ARCHIVE_WARN) {
    return tl::unexpected(s.archive_failure(s.entries == 0 ? "not a readable archive"
                                                           : "after entry " + std::to_string(s.entries)));
  }
  if (++s.entries > s.limits.max_entries)
    return fail(ErrorCode::limit, s.name + ": more than " + std::to_string(s.limits.max_entries) + " entries");

  archive_entry* e = s.raw_entry;
  ArchiveEntry& out = s.entry;
  const char* path = archive_entry_pathname(e);
  if (path == nullptr) path = archive_entry_pathname_utf8(e);
  if (path == nullptr) return fail(ErrorCode::parse, s.name + ": entry " + std::to_string(s.entries) + " has no name");
  out.path = path;
  out.type = type_of(archive_entry_filetype(e));
  out.mode = static_cast<std::uint32_t>(archive_entry_perm(e)) & 07777;
  out.uid = static_cast<std::uint32_t>(archive_entry_uid(e));
  out.gid = static_cast<std::uint32_t>(archive_entry_gid(e));
  out.size.reset();
  if (archive_entry_size_is_set(e) != 0 && archive_entry_size(e) >= 0)
    out.size = static_cast<std::uint64_t>(archive_entry_size(e));
  out.link_target.clear();
  if (out.type == FileType::symlink) {
    const char* target = archive_entry_symlink(e);
    if (target == nullptr) target = archive_entry_symlink_utf8(e);
    if (target != nullptr) out.link_target = target;
  }
  out.hardlink.reset();
  if (const char* link = archive_entry_hardlink(e); link != nullptr) {
    out.hardlink = link;
    out.type = FileType::file;
  }
  if (out.size && *out.size > s.limits.max_entry_bytes)
    return tl::unexpected(entry_error(ErrorCode::limit, "declares " + std::to_string(*out.size) +
                                                            " bytes, over the limit of " +
                                                            std::to_string(s.limits.max_entry_bytes)));
  s.in_entry = true;
  s.data_done = false;
  s.entry_bytes = 0;
  s.has_pending = false;
  s.sparse = archive_entry_sparse_count(e) > 0;
  return &out;
}

Expected<std::span<const std::byte>> ArchiveReader::read_block() { return state_->read_block(); }

Expected<std::string> ArchiveReader::read_all(std::size_t max_bytes) {
  std::string out;
  for (;;) {
    auto block = read_block();
    if (!block) return tl::unexpected(block.error());
    if (block->empty()) return out;
    if (out.size() + block->size() > max_bytes)
      return tl::unexpected(entry_error(ErrorCode::limit, "larger than " + std::to_string(max_bytes) + " bytes"));
    out.append(reinterpret_cast<const char*>(block->data()), block->size());
  }
}

// --- entry paths ------------------------------------------------------------------------

Expected<std::optional<std::string>> archive_entry_path(std::string_view raw, const std::string& install_root,
                                                        unsigned strip_components, std::size_t max_path_bytes) {
  if (raw.empty()) return fail(ErrorCode::parse, "empty name");
  if (raw.find('\0') != std::string_view::npos) return fail(ErrorCode::parse, "NUL byte in the name");
  if (raw.size() > max_path_bytes)
    return fail(ErrorCode::limit, "name longer than " + std::to_string(max_path_bytes) + " bytes");
  if (raw.front() == '/') return fail(ErrorCode::parse, "absolute path (entries must be relative to the install root)");
  std::string relative;
  unsigned skipped = 0;
  std::size_t i = 0;
  while (i < raw.size()) {
    std::size_t j = raw.find('/', i);
    if (j == std::string_view::npos) j = raw.size();
    const std::string_view part = raw.substr(i, j - i);
    i = j + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") return fail(ErrorCode::parse, "'..' would escape the install root");
    if (skipped < strip_components) {
      ++skipped;
      continue;
    }
    relative += '/';
    relative += part;
  }
  // Like tar: an entry with no component left after stripping is dropped.
  if (skipped < strip_components || (strip_components != 0 && relative.empty())) return std::optional<std::string>();
  if (relative.empty()) return std::optional<std::string>(install_root);  // "./" or "."
  std::string path = install_root == "/" ? relative : install_root + relative;
  PathLimits limits;
  limits.max_path_bytes = max_path_bytes;
  if (!is_canonical_path(path, limits)) {
    auto canonical = normalize_path(path, limits);
    if (!canonical) return tl::unexpected(canonical.error());
    path = std::move(*canonical);
  }
  return std::optional<std::string>(std::move(path));
}

// --- trees ------------------------------------------------------------------------------

namespace {

// An OpenSSL digest of another algorithm, alongside SHA-256 (RPM cross-checks).
class ExtraDigest {
 public:
  explicit ExtraDigest(const std::string& name) {
    if (name.empty()) return;
    md_ = EVP_get_digestbyname(name.c_str());
    if (md_ != nullptr) ctx_ = EVP_MD_CTX_new();
  }
  ~ExtraDigest() { EVP_MD_CTX_free(ctx_); }
  ExtraDigest(const ExtraDigest&) = delete;
  ExtraDigest& operator=(const ExtraDigest&) = delete;

  bool active() const { return ctx_ != nullptr; }
  bool known(const std::string& name) const { return name.empty() || md_ != nullptr; }
  void begin() { EVP_DigestInit_ex(ctx_, md_, nullptr); }
  void update(std::span<const std::byte> data) { EVP_DigestUpdate(ctx_, data.data(), data.size()); }
  std::string finish_hex() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, out, &n);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned int k = 0; k < n; ++k) {
      hex += kHex[out[k] >> 4];
      hex += kHex[out[k] & 15];
    }
    return hex;
  }

 private:
  const EVP_MD* md_ = nullptr;
  EVP_MD_CTX* ctx_ = nullptr;
};

}  // namespace

Expected<ArchiveTree> read_archive_tree(ArchiveReader& reader, const TreeOptions& options) {
  ArchiveTree tree;
  ExtraDigest extra(options.extra_digest);
  if (!extra.known(options.extra_digest))
    return fail(ErrorCode::invalid_argument, reader.name() + ": unknown digest algorithm " + options.extra_digest);
  const std::size_t max_path = reader.limits().max_path_bytes;
  Sha256 hasher;
  std::unordered_set<std::string> seen;
  // Hard links: each group (keyed by the path of its first member) lists its members;
  // tar puts the data on the first member, cpio on the last.
  std::map<std::string, std::vector<std::size_t>> link_groups;
  std::unordered_map<std::size_t, std::string> group_of;  // record -> its group's key
  std::unordered_map<std::string, std::size_t> file_index;  // regular file path -> record
  std::vector<bool> has_data;                               // per record

  for (;;) {
    auto next = reader.next();
    if (!next) return tl::unexpected(next.error());
    const ArchiveEntry* e = *next;
    if (e == nullptr) break;
    auto path = archive_entry_path(e->path, options.install_root, options.strip_components, max_path);
    if (!path) return tl::unexpected(reader.entry_error(path.error().code, path.error().message));
    if (!*path) continue;  // stripped away
    if (**path == "/" && options.install_root == "/") {
      // "./": every package would claim "/" (see sources/directory_source.h).
      if (e->type != FileType::directory) return tl::unexpected(reader.entry_error(ErrorCode::parse, "the root is not a directory"));
      continue;
    }
    if (!seen.insert(**path).second)
      return tl::unexpected(reader.entry_error(ErrorCode::parse, "duplicate entry for " + printable(**path)));

    FileRecord r;
    r.path = std::move(**path);
    r.type = e->type;
    r.present = Attr::type;
    if (options.keep_owner) {
      r.uid = e->uid;
      r.gid = e->gid;
      r.present |= Attr::uid | Attr::gid;
    }
    bool data = false;
    switch (e->type) {
      case FileType::file: {
        r.present |= Attr::size | Attr::mode | Attr::sha256;
        r.mode = e->mode;
        if (extra.active()) extra.begin();
        std::uint64_t size = 0;
        for (;;) {
          auto block = reader.read_block();
          if (!block) return tl::unexpected(block.error());
          if (block->empty()) break;
          hasher.update(*block);
          if (extra.active()) extra.update(*block);
          size += block->size();
        }
        r.size = size;
        r.sha256 = hasher.finish();
        if (extra.active()) tree.extra_digests[r.path] = extra.finish_hex();
        data = size > 0;
        if (e->size && *e->size != size && !e->hardlink)
          return tl::unexpected(reader.entry_error(ErrorCode::parse, "declares " + std::to_string(*e->size) +
                                                                         " bytes but holds " + std::to_string(size)));
        break;
      }
      case FileType::directory:
        r.present |= Attr::mode;
        r.mode = e->mode;
        break;
      case FileType::symlink:
        if (e->link_target.empty()) return tl::unexpected(reader.entry_error(ErrorCode::parse, "symlink without a target"));
        if (e->link_target.size() > max_path)
          return tl::unexpected(reader.entry_error(ErrorCode::limit, "link target longer than " +
                                                                         std::to_string(max_path) + " bytes"));
        r.present |= Attr::size | Attr::link_target;
        r.link_target = e->link_target;
        r.size = r.link_target.size();
        break;
      default:
        r.present |= Attr::mode;
        r.mode = e->mode;
        break;
    }
    const std::size_t index = tree.records.size();
    if (e->hardlink) {
      auto target = archive_entry_path(*e->hardlink, options.install_root, options.strip_components, max_path);
      if (!target || !*target)
        return tl::unexpected(reader.entry_error(ErrorCode::parse, "hard link to a path outside the install root"));
      const auto found = file_index.find(**target);
      if (found == file_index.end())
        return tl::unexpected(reader.entry_error(
            ErrorCode::parse, "hard link to " + printable(**target) + ", which is no earlier regular file of the archive"));
      // Join the target's group (its first member keys it).
      const auto group = group_of.try_emplace(found->second, **target).first->second;
      auto& members = link_groups[group];
      if (members.empty()) members.push_back(found->second);
      members.push_back(index);
      group_of.emplace(index, group);
    }
    if (r.type == FileType::file) file_index.emplace(r.path, index);
    has_data.push_back(data);
    tree.records.push_back(std::move(r));
  }

  // Members of a hard-link group without data of their own take the group's content.
  for (const auto& [key, members] : link_groups) {
    std::optional<std::size_t> source;
    for (const std::size_t m : members) {
      if (!has_data[m]) continue;
      if (source && tree.records[*source].sha256 != tree.records[m].sha256)
        return fail(ErrorCode::parse, reader.name() + ": hard links to " + printable(key) + " hold different contents");
      source = m;
    }
    if (!source) continue;  // an empty file, linked
    for (const std::size_t m : members) {
      if (has_data[m]) continue;
      tree.records[m].size = tree.records[*source].size;
      tree.records[m].sha256 = tree.records[*source].sha256;
      const auto digest = tree.extra_digests.find(tree.records[*source].path);
      if (digest != tree.extra_digests.end()) tree.extra_digests[tree.records[m].path] = digest->second;
    }
  }

  std::sort(tree.records.begin(), tree.records.end(),
            [](const FileRecord& a, const FileRecord& b) { return path_less(a.path, b.path); });
  return tree;
}

}  // namespace tb
