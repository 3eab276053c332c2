#include "store/chunk_codec.h"

#include <algorithm>
#include <unordered_map>

#include "core/path.h"

namespace tb::store {
namespace {

constexpr std::uint8_t kChunkVersion = 1;
constexpr std::uint16_t kKnownAttrBits = 0xFF;
constexpr std::uint8_t kMaxFileType = static_cast<std::uint8_t>(FileType::unknown);
constexpr std::uint8_t kMaxErrorKind = static_cast<std::uint8_t>(ScanErrorKind::other);

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(static_cast<std::uint8_t>(v) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

void put_bytes(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

// Bounds-checked reader: after the first overrun every read returns zero/empty and ok()
// stays false, so decoders check once at the end instead of after every field.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  std::uint64_t varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return overrun();
      const auto b = static_cast<std::uint8_t>(in_[pos_++]);
      v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return overrun();  // more than 10 bytes: not a varint we wrote
  }
  std::uint8_t byte() {
    if (pos_ >= in_.size()) return static_cast<std::uint8_t>(overrun());
    return static_cast<std::uint8_t>(in_[pos_++]);
  }
  std::string_view raw(std::uint64_t n) {
    if (!ok_ || n > in_.size() - pos_) {
      overrun();
      return {};
    }
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  std::string_view bytes() { return raw(varint()); }
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == in_.size(); }
  // A count read from input can never exceed the bytes left (each item takes >= 1 byte):
  // checked before reserving, so a corrupt count cannot trigger a huge allocation.
  bool plausible_count(std::uint64_t n) const { return n <= in_.size() - pos_; }

 private:
  std::uint64_t overrun() {
    ok_ = false;
    pos_ = in_.size();
    return 0;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

// "/a/b" -> ("/a", "b"); "/a" -> ("/", "a"); "/" -> ("", "").
std::pair<std::string_view, std::string_view> split_parent(std::string_view path) {
  if (path == "/") return {"", ""};
  const std::size_t slash = path.rfind('/');
  return {slash == 0 ? std::string_view("/") : path.substr(0, slash), path.substr(slash + 1)};
}

std::string join(std::string_view dir, std::string_view name) {
  std::string path;
  path.reserve(dir.size() + 1 + name.size());
  if (dir.size() > 1) path.append(dir);  // "" and "/" both contribute nothing before '/'
  path.push_back('/');
  path.append(name);
  return path;
}

std::size_t common_prefix(std::string_view a, std::string_view b) {
  const std::size_t n = std::min(a.size(), b.size());
  std::size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  return i;
}

Error corrupt(std::string_view what) {
  return Error{ErrorCode::parse, "corrupt " + std::string(what) + " in the store"};
}

void encode_record(const FileRecord& r, std::string_view name, std::string_view prev_name,
                   std::int64_t& prev_mtime, std::string& out) {
  const std::size_t shared = common_prefix(prev_name, name);
  put_varint(out, shared);
  put_bytes(out, name.substr(shared));
  out.push_back(static_cast<char>(r.type));
  put_varint(out, r.present.bits());
  if (r.has(Attr::size)) put_varint(out, r.size);
  if (r.has(Attr::mode)) put_varint(out, r.mode);
  if (r.has(Attr::uid)) put_varint(out, r.uid);
  if (r.has(Attr::gid)) put_varint(out, r.gid);
  if (r.has(Attr::mtime)) {
    // Wrapping subtraction in unsigned arithmetic: defined for any pair of mtimes.
    put_varint(out, zigzag(static_cast<std::int64_t>(static_cast<std::uint64_t>(r.mtime_ns) -
                                                     static_cast<std::uint64_t>(prev_mtime))));
    prev_mtime = r.mtime_ns;
  }
  if (r.has(Attr::sha256))
    out.append(reinterpret_cast<const char*>(r.sha256.bytes.data()), r.sha256.bytes.size());
  if (r.has(Attr::link_target)) put_bytes(out, r.link_target);
}

// Decodes one record's fields after its name. False when a field holds an impossible value.
bool decode_attributes(Reader& in, FileRecord& r, std::int64_t& prev_mtime) {
  const std::uint8_t type = in.byte();
  const std::uint64_t present = in.varint();
  if (type > kMaxFileType || (present & ~std::uint64_t{kKnownAttrBits}) != 0) return false;
  r.type = static_cast<FileType>(type);
  r.present = AttrSet::from_bits(static_cast<std::uint16_t>(present));
  if (r.has(Attr::size)) r.size = in.varint();
  if (r.has(Attr::mode)) r.mode = static_cast<std::uint32_t>(in.varint());
  if (r.has(Attr::uid)) r.uid = static_cast<std::uint32_t>(in.varint());
  if (r.has(Attr::gid)) r.gid = static_cast<std::uint32_t>(in.varint());
  if (r.has(Attr::mtime)) {
    r.mtime_ns = static_cast<std::int64_t>(static_cast<std::uint64_t>(prev_mtime) +
                                           static_cast<std::uint64_t>(unzigzag(in.varint())));
    prev_mtime = r.mtime_ns;
  }
  if (r.has(Attr::sha256)) {
    const std::string_view h = in.raw(r.sha256.bytes.size());
    if (h.size() == r.sha256.bytes.size()) std::copy(h.begin(), h.end(), reinterpret_cast<char*>(r.sha256.bytes.data()));
  }
  if (r.has(Attr::link_target)) r.link_target = std::string(in.bytes());
  return in.ok();
}

}  // namespace

std::vector<ChunkView> split_into_chunks(const Manifest& manifest) {
  std::vector<ChunkView> chunks;
  std::unordered_map<std::string_view, std::size_t> by_dir;
  by_dir.reserve(manifest.size() / 8 + 1);
  for (const FileRecord& r : manifest) {
    const std::string_view dir = split_parent(r.path).first;
    auto [it, inserted] = by_dir.try_emplace(dir, chunks.size());
    if (inserted) chunks.push_back(ChunkView{dir, {}});
    chunks[it->second].records.push_back(&r);  // manifest order is path order within a dir
  }
  std::sort(chunks.begin(), chunks.end(),
            [](const ChunkView& a, const ChunkView& b) { return path_less(a.dir, b.dir); });
  return chunks;
}

void encode_chunk(const ChunkView& chunk, std::string& out) {
  out.push_back(static_cast<char>(kChunkVersion));
  put_bytes(out, chunk.dir);
  put_varint(out, chunk.records.size());
  std::string_view prev_name;
  std::int64_t prev_mtime = 0;
  for (const FileRecord* r : chunk.records) {
    const std::string_view name = split_parent(r->path).second;
    encode_record(*r, name, prev_name, prev_mtime, out);
    prev_name = name;
  }
}

Expected<std::size_t> decode_chunk(std::string_view data, std::vector<FileRecord>& out) {
  Reader in(data);
  if (in.byte() != kChunkVersion) return tl::unexpected(corrupt("chunk (unknown version)"));
  const std::string_view dir = in.bytes();
  const std::uint64_t count = in.varint();
  if (!in.ok() || !in.plausible_count(count)) return tl::unexpected(corrupt("chunk header"));
  std::string name;
  std::int64_t prev_mtime = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t shared = in.varint();
    const std::string_view suffix = in.bytes();
    if (!in.ok() || shared > name.size()) return tl::unexpected(corrupt("chunk record name"));
    name.resize(shared);
    name.append(suffix);
    FileRecord r;
    r.path = join(dir, name);
    if (!decode_attributes(in, r, prev_mtime)) return tl::unexpected(corrupt("chunk record"));
    out.push_back(std::move(r));
  }
  if (!in.at_end()) return tl::unexpected(corrupt("chunk (trailing bytes)"));
  return static_cast<std::size_t>(count);
}

std::string encode_scan_errors(std::span<const ScanError> errors) {
  std::string out;
  put_varint(out, errors.size());
  for (const ScanError& e : errors) {
    put_bytes(out, e.path);
    out.push_back(static_cast<char>(e.kind));
    put_varint(out, zigzag(e.sys_errno));
    put_bytes(out, e.message);
  }
  return out;
}

Expected<std::vector<ScanError>> decode_scan_errors(std::string_view data) {
  Reader in(data);
  const std::uint64_t count = in.varint();
  if (!in.plausible_count(count)) return tl::unexpected(corrupt("scan error list"));
  std::vector<ScanError> errors;
  errors.reserve(count);
  for (std::uint64_t i = 0; i < count && in.ok(); ++i) {
    ScanError e;
    e.path = std::string(in.bytes());
    const std::uint8_t kind = in.byte();
    if (kind > kMaxErrorKind) return tl::unexpected(corrupt("scan error kind"));
    e.kind = static_cast<ScanErrorKind>(kind);
    e.sys_errno = static_cast<int>(unzigzag(in.varint()));
    e.message = std::string(in.bytes());
    errors.push_back(std::move(e));
  }
  if (!in.ok() || !in.at_end()) return tl::unexpected(corrupt("scan error list"));
  return errors;
}

std::string encode_strings(std::span<const std::string> strings) {
  std::string out;
  put_varint(out, strings.size());
  for (const std::string& s : strings) put_bytes(out, s);
  return out;
}

Expected<std::vector<std::string>> decode_strings(std::string_view data) {
  Reader in(data);
  const std::uint64_t count = in.varint();
  if (!in.plausible_count(count)) return tl::unexpected(corrupt("string list"));
  std::vector<std::string> strings;
  strings.reserve(count);
  for (std::uint64_t i = 0; i < count && in.ok(); ++i) strings.emplace_back(in.bytes());
  if (!in.ok() || !in.at_end()) return tl::unexpected(corrupt("string list"));
  return strings;
}

namespace {

constexpr std::uint8_t kResultVersion = 1;
constexpr std::uint8_t kMaxSignatureState = static_cast<std::uint8_t>(SignatureState::tampered);

void put_counts(std::string& out, const DeviationCounts& c) {
  put_varint(out, c.added);
  put_varint(out, c.removed);
  put_varint(out, c.modified);
  put_varint(out, c.config);
}

DeviationCounts read_counts(Reader& in) {
  DeviationCounts c;
  c.added = in.varint();
  c.removed = in.varint();
  c.modified = in.varint();
  c.config = in.varint();
  return c;
}

}  // namespace

std::string encode_scan_result(const ScanResult& result) {
  std::string out;
  out.reserve(16 + 2 * result.states.size());
  out.push_back(static_cast<char>(kResultVersion));
  put_counts(out, result.deviations);
  put_counts(out, result.drift);
  put_varint(out, result.states.size());
  std::int64_t previous = 0;
  for (const SignatureStateEntry& e : result.states) {
    put_varint(out, static_cast<std::uint64_t>(e.signature_id) - static_cast<std::uint64_t>(previous));
    out.push_back(static_cast<char>(e.state));
    previous = e.signature_id;
  }
  return out;
}

Expected<void> decode_scan_result(std::string_view data, ScanResult& out) {
  Reader in(data);
  if (in.byte() != kResultVersion) return tl::unexpected(corrupt("scan result (unknown version)"));
  out.deviations = read_counts(in);
  out.drift = read_counts(in);
  const std::uint64_t count = in.varint();
  if (!in.ok() || !in.plausible_count(count)) return tl::unexpected(corrupt("scan result header"));
  out.states.clear();
  out.states.reserve(count);
  std::uint64_t id = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t delta = in.varint();
    const std::uint8_t state = in.byte();
    // Ids ascend strictly and stay positive int64.
    if (!in.ok() || delta == 0 || delta > static_cast<std::uint64_t>(INT64_MAX) - id || state > kMaxSignatureState)
      return tl::unexpected(corrupt("scan result state"));
    id += delta;
    out.states.push_back(SignatureStateEntry{static_cast<std::int64_t>(id), static_cast<SignatureState>(state)});
  }
  if (!in.at_end()) return tl::unexpected(corrupt("scan result (trailing bytes)"));
  return {};
}

std::string encode_inventory(const PackageInventory& inv) {
  std::vector<std::string> packages, warnings;
  packages.reserve(inv.packages.size() * 4);
  for (const InstalledPackage& p : inv.packages)
    for (std::string_view f : {to_string(p.manager), std::string_view(p.name), std::string_view(p.version),
                               std::string_view(p.arch)})
      packages.emplace_back(f);
  for (const InventoryWarning& w : inv.warnings) {
    warnings.emplace_back(to_string(w.manager));
    warnings.push_back(w.message);
  }
  const std::string parts[] = {encode_strings(packages), encode_strings(warnings)};
  return encode_strings(parts);
}

Expected<PackageInventory> decode_inventory(std::string_view data) {
  auto corrupt = [] { return fail(ErrorCode::parse, "corrupt store: a package inventory cannot be decoded"); };
  auto parts = decode_strings(data);
  if (!parts || parts->size() != 2) return corrupt();
  auto packages = decode_strings((*parts)[0]);
  auto warnings = decode_strings((*parts)[1]);
  if (!packages || !warnings || packages->size() % 4 != 0 || warnings->size() % 2 != 0) return corrupt();
  PackageInventory inv;
  inv.packages.reserve(packages->size() / 4);
  for (std::size_t i = 0; i < packages->size(); i += 4) {
    const auto manager = package_manager_from_string((*packages)[i]);
    if (!manager) return corrupt();
    inv.packages.push_back(InstalledPackage{std::move((*packages)[i + 1]), std::move((*packages)[i + 2]),
                                            std::move((*packages)[i + 3]), *manager});
  }
  for (std::size_t i = 0; i < warnings->size(); i += 2) {
    const auto manager = package_manager_from_string((*warnings)[i]);
    if (!manager) return corrupt();
    inv.warnings.push_back(InventoryWarning{*manager, std::move((*warnings)[i + 1])});
  }
  return inv;
}

}  // namespace tb::store
