#include "core/diff.h"

#include "core/path.h"

namespace tb {

std::string_view to_string(Change change) noexcept {
  switch (change) {
    case Change::added: return "added";
    case Change::removed: return "removed";
    case Change::modified: return "modified";
  }
  return "unknown";
}

void for_each_difference(const Manifest& before, const Manifest& after,
                         const std::function<void(const DiffEntry&)>& visit, AttrSet compare) {
  compare |= Attr::type;
  const auto a = before.records();
  const auto b = after.records();
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    int c;
    if (i == a.size()) c = 1;
    else if (j == b.size()) c = -1;
    else c = path_compare(a[i].path, b[j].path);

    if (c < 0) {
      visit(DiffEntry{Change::removed, {}, &a[i], nullptr});
      ++i;
    } else if (c > 0) {
      visit(DiffEntry{Change::added, {}, nullptr, &b[j]});
      ++j;
    } else {
      const AttrSet changed = changed_attributes(a[i], b[j]) & compare;
      if (!changed.empty()) visit(DiffEntry{Change::modified, changed, &a[i], &b[j]});
      ++i;
      ++j;
    }
  }
}

std::vector<DiffEntry> diff(const Manifest& before, const Manifest& after, AttrSet compare) {
  std::vector<DiffEntry> out;
  for_each_difference(before, after, [&out](const DiffEntry& e) { out.push_back(e); }, compare);
  return out;
}

DiffCounts count(std::span<const DiffEntry> entries) {
  DiffCounts c;
  for (const DiffEntry& e : entries) {
    switch (e.change) {
      case Change::added: ++c.added; break;
      case Change::removed: ++c.removed; break;
      case Change::modified: ++c.modified; break;
    }
  }
  return c;
}

Manifest apply_diff(const Manifest& before, std::span<const DiffEntry> entries) {
  std::vector<FileRecord> out;
  out.reserve(before.size() + entries.size());
  const auto a = before.records();
  std::size_t i = 0;
  for (const DiffEntry& e : entries) {
    // Copy the unchanged records that precede this difference.
    while (i < a.size() && path_less(a[i].path, e.path())) out.push_back(a[i++]);
    switch (e.change) {
      case Change::added: out.push_back(*e.after); break;
      case Change::removed: ++i; break;
      case Change::modified: out.push_back(*e.after); ++i; break;
    }
  }
  while (i < a.size()) out.push_back(a[i++]);
  // Entries come from a sorted merge, so the result is sorted and unique.
  return *Manifest::from_sorted(std::move(out));
}

}  // namespace tb
