#include "format/manifest_chunks.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "core/path.h"
#include "format/binary_codec.h"

namespace tb {
namespace {

using binary::put_bytes;
using binary::put_varint;
using binary::Reader;
using binary::unzigzag;
using binary::zigzag;


constexpr std::uint8_t kChunkVersion = 1;
constexpr std::uint16_t kKnownAttrBits = 0xFF;
constexpr std::uint8_t kMaxFileType = static_cast<std::uint8_t>(FileType::unknown);

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
  return Error{ErrorCode::parse, "malformed " + std::string(what)};
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

Sha256Digest chunk_list_digest(std::span<const Sha256Digest> digests) {
  Sha256 hasher;
  for (const Sha256Digest& d : digests)
    hasher.update(std::string_view(reinterpret_cast<const char*>(d.bytes.data()), d.bytes.size()));
  return hasher.finish();
}

std::vector<Sha256Digest> chunk_digests(std::span<const ChunkView> chunks) {
  std::vector<Sha256Digest> digests;
  digests.reserve(chunks.size());
  std::string buffer;
  for (const ChunkView& chunk : chunks) {
    buffer.clear();
    encode_chunk(chunk, buffer);
    digests.push_back(Sha256::of(buffer));
  }
  return digests;
}

Sha256Digest manifest_digest(const Manifest& manifest) {
  return chunk_list_digest(chunk_digests(split_into_chunks(manifest)));
}

namespace {

// True when directory `dir` is `inner` or one of its ancestors ("" is above everything).
bool contains_directory(std::string_view dir, std::string_view inner) {
  if (dir.empty() || dir == inner) return true;
  if (dir == "/") return !inner.empty();
  return inner.size() > dir.size() && inner.starts_with(dir) && inner[dir.size()] == '/';
}

}  // namespace

Expected<void> ChunkBuilder::add(const FileRecord& record) {
  if (!last_path_.empty() && !path_less(last_path_, record.path))
    return fail(ErrorCode::invalid_argument, "chunk builder: record out of path order: " + record.path);
  last_path_ = record.path;
  const std::string_view dir = split_parent(record.path).first;
  // Path order puts a directory's whole subtree together: a record outside an open
  // directory means that directory has no more records to come.
  while (!open_.empty() && !contains_directory(open_.back().dir, dir)) close_innermost();
  if (open_.empty() || open_.back().dir != dir) open_.push_back(OpenDirectory{std::string(dir), {}});
  open_.back().records.push_back(record);
  return {};
}

void ChunkBuilder::close_innermost() {
  OpenDirectory& d = open_.back();
  ChunkView view{d.dir, {}};
  view.records.reserve(d.records.size());
  for (const FileRecord& r : d.records) view.records.push_back(&r);
  EncodedChunk chunk;
  encode_chunk(view, chunk.data);
  hasher_.update(chunk.data);
  chunk.digest = hasher_.finish();
  done_.push_back(std::move(chunk));
  open_.pop_back();
}

std::vector<EncodedChunk> ChunkBuilder::finish() {
  while (!open_.empty()) close_innermost();
  last_path_.clear();
  return std::exchange(done_, {});
}

}  // namespace tb
