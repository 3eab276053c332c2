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
template <class T>
void put(Sha256& h, T value) {
  unsigned char buf[sizeof(T)];
  for (std::size_t i = 0; i < sizeof(T); ++i) buf[i] = static_cast<unsigned char>(static_cast<std::uint64_t>(value) >> (8 * i));
  h.update(std::string_view(reinterpret_cast<const char*>(buf), sizeof(T)));
}
void put_bytes(Sha256& h, std::string_view s) {
  put<std::uint64_t>(h, s.size());
  h.update(s);
}
}  // namespace

void hash_record(Sha256& h, const FileRecord& r) {
  put_bytes(h, r.path);
  put<std::uint8_t>(h, static_cast<std::uint8_t>(r.type));
  put<std::uint16_t>(h, r.present.bits());
  if (r.has(Attr::size)) put<std::uint64_t>(h, r.size);
  if (r.has(Attr::mode)) put<std::uint32_t>(h, r.mode);
  if (r.has(Attr::uid)) put<std::uint32_t>(h, r.uid);
  if (r.has(Attr::gid)) put<std::uint32_t>(h, r.gid);
  if (r.has(Attr::mtime)) put<std::uint64_t>(h, static_cast<std::uint64_t>(r.mtime_ns));
  if (r.has(Attr::sha256))
    h.update(std::string_view(reinterpret_cast<const char*>(r.sha256.bytes.data()), r.sha256.bytes.size()));
  if (r.has(Attr::link_target)) put_bytes(h, r.link_target);
}

Sha256Digest Manifest::digest() const {
  Sha256 h;
  h.update(std::string_view("trustbase-manifest-v1"));
  put<std::uint64_t>(h, records_.size());
  for (const FileRecord& r : records_) hash_record(h, r);
  return h.finish();
}

}  // namespace tb
