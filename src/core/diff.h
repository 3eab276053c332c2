// Sorted-merge difference of two manifests: one pass, O(n + m), no allocation per
// unchanged record.
#pragma once

#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "core/manifest.h"

namespace tb {

enum class Change : std::uint8_t { added, removed, modified };
std::string_view to_string(Change change) noexcept;

// One difference. Points into the two manifests given to diff(): valid while they live.
struct DiffEntry {
  Change change;
  AttrSet changed;            // for `modified`: the attributes that differ
  const FileRecord* before;   // null for `added`
  const FileRecord* after;    // null for `removed`

  std::string_view path() const { return before != nullptr ? before->path : after->path; }
};

// Every attribute: the default comparison.
inline constexpr AttrSet kAllAttrs = AttrSet::from_bits(0xFF);

// Calls `visit` for each difference from `before` to `after`, in path order. Only the
// attributes in `compare` are compared (e.g. leave out mtime and owner to compare
// cluster members deployed at different times by different users); type always is.
void for_each_difference(const Manifest& before, const Manifest& after,
                         const std::function<void(const DiffEntry&)>& visit,
                         AttrSet compare = kAllAttrs);

// The same, collected.
std::vector<DiffEntry> diff(const Manifest& before, const Manifest& after, AttrSet compare = kAllAttrs);

struct DiffCounts {
  std::size_t added = 0, removed = 0, modified = 0;
  std::size_t total() const { return added + removed + modified; }
};
DiffCounts count(std::span<const DiffEntry> entries);

// Rebuilds `after` from `before` and a diff of the two: removed records dropped,
// added records inserted, modified records replaced. apply_diff(A, diff(A, B)) == B whenever
// paired records carry the same attribute set (the property the tests check).
Manifest apply_diff(const Manifest& before, std::span<const DiffEntry> entries);

}  // namespace tb
