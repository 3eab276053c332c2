#include "core/manifest.h"

#include <algorithm>
#include <cstring>

#include "core/path.h"

namespace tb {

Expected<Manifest> Manifest::from_records(std::vector<FileRecord> records) {
  std::sort(records.begin(), records.end(),
            [](const FileRecord& a, const FileRecord& b) { return path_less(a.path, b.path); });
  return checked(std::move(records));
}

Expected<Manifest> Manifest::from_sorted(std::vector<FileRecord> records) {
  return checked(std::move(records));
}

Manifest Manifest::from_verified(std::vector<FileRecord> records) {
  return Manifest(std::move(records));
}

Expected<Manifest> Manifest::checked(std::vector<FileRecord> records) {
  for (std::size_t i = 0; i < records.size(); ++i) {
    const std::string& p = records[i].path;
    if (!is_canonical_path(p))
      return fail(ErrorCode::invalid_argument, "record path is not canonical: " + p);
    if (i == 0) continue;
    const int c = path_compare(records[i - 1].path, p);
    if (c == 0) return fail(ErrorCode::invalid_argument, "duplicated path: " + p);
    if (c > 0) return fail(ErrorCode::invalid_argument, "records out of path order at: " + p);
  }
  return Manifest(std::move(records));
}

const FileRecord* Manifest::find(std::string_view path) const {
  auto it = std::lower_bound(records_.begin(), records_.end(), path,
                             [](const FileRecord& r, std::string_view p) { return path_less(r.path, p); });
  if (it == records_.end() || it->path != path) return nullptr;
  return &*it;
}

namespace {
// The bytes hashed for a record, appended to a buffer: hashing one buffer per many
// records instead of ten EVP updates per record (the updates' overhead was most of a
// 5,000-record manifest's digest). The byte stream, hence every digest, is unchanged.
template <class T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];  // little-endian, whatever the machine's order; one append
  for (std::size_t i = 0; i < sizeof(T); ++i)
    bytes[i] = static_cast<char>(static_cast<unsigned char>(static_cast<std::uint64_t>(value) >> (8 * i)));
  out.append(bytes, sizeof(T));
}
void put_bytes(std::string& out, std::string_view s) {
  put<std::uint64_t>(out, s.size());
  out.append(s);
}

void append_record(std::string& out, const FileRecord& r) {
  put_bytes(out, r.path);
  put<std::uint8_t>(out, static_cast<std::uint8_t>(r.type));
  put<std::uint16_t>(out, r.present.bits());
  if (r.has(Attr::size)) put<std::uint64_t>(out, r.size);
  if (r.has(Attr::mode)) put<std::uint32_t>(out, r.mode);
  if (r.has(Attr::uid)) put<std::uint32_t>(out, r.uid);
  if (r.has(Attr::gid)) put<std::uint32_t>(out, r.gid);
  if (r.has(Attr::mtime)) put<std::uint64_t>(out, static_cast<std::uint64_t>(r.mtime_ns));
  if (r.has(Attr::sha256)) out.append(reinterpret_cast<const char*>(r.sha256.bytes.data()), r.sha256.bytes.size());
  if (r.has(Attr::link_target)) put_bytes(out, r.link_target);
}
}  // namespace

void hash_record(Sha256& h, const FileRecord& r) {
  std::string buffer;
  append_record(buffer, r);
  h.update(buffer);
}

Sha256Digest Manifest::digest() const {
  Sha256 h;
  std::string buffer("trustbase-manifest-v1");
  put<std::uint64_t>(buffer, records_.size());
  for (const FileRecord& r : records_) {
    append_record(buffer, r);
    if (buffer.size() >= (std::size_t{64} << 10)) {
      h.update(buffer);
      buffer.clear();
    }
  }
  h.update(buffer);
  return h.finish();
}

}  // namespace tb
