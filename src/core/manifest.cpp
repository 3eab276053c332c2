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

}  // namespace tb
