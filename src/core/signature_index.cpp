#include "core/signature_index.h"

#include <algorithm>
#include <cstring>

#include "core/path.h"

namespace tb {

Expected<SignatureIndex> SignatureIndex::build(std::vector<Signature> signatures) {
  // Ids and PathIds are 32-bit, which halves the index next to size_t and is far beyond
  // any real set (500 signatures x 2,000 files is 1M records).
  std::size_t total = 0;
  for (const Signature& s : signatures) total += s.manifest.size();
  if (total >= std::size_t{UINT32_MAX}) return fail(ErrorCode::limit, "signatures hold too many records");
  SignatureIndex index;
  index.signatures_ = std::move(signatures);
  index.ids_.reserve(index.signatures_.size());  // no reallocation: by_id_ keeps views into ids_
  for (const Signature& s : index.signatures_) index.ids_.push_back(s.info.ref.id());
  for (Id id = 0; id < index.ids_.size(); ++id) {
    if (!index.by_id_.emplace(index.ids_[id], id).second) {
      return fail(ErrorCode::invalid_argument, "signature " + index.ids_[id] + " given twice");
    }
  }
  index.index_paths();
  index.index_contents();
  index.link_relations();
  return index;
}

std::optional<SignatureIndex::Id> SignatureIndex::find(const SignatureRef& ref) const {
  const auto it = by_id_.find(ref.id());
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

void SignatureIndex::index_paths() {
  std::size_t total = 0;
  for (const Signature& s : signatures_) total += s.manifest.size();
  path_ids_by_path_.reserve(total);
  record_offsets_.reserve(signatures_.size() + 1);
  record_paths_.reserve(total);

  // Pass 1: number the distinct paths and count the listings of each.
  std::vector<std::uint32_t> counts;
  counts.reserve(total);
  for (const Signature& s : signatures_) {
    record_offsets_.push_back(record_paths_.size());
    for (const FileRecord& r : s.manifest) {
      const auto [id, inserted] = path_ids_by_path_.try_emplace(r.path, static_cast<PathId>(counts.size()));
      if (inserted) counts.push_back(0);
      ++counts[id];
      record_paths_.push_back(id);
    }
  }
  record_offsets_.push_back(record_paths_.size());

  // Pass 2: prefix sums, then place each record; signatures are visited in Id order so
  // every path's owners come out sorted by Id without a sort.
  path_offsets_.assign(counts.size() + 1, 0);
  for (std::size_t p = 0; p < counts.size(); ++p) path_offsets_[p + 1] = path_offsets_[p] + counts[p];
  path_entries_.resize(record_paths_.size());
  listed_by_patch_.assign(counts.size(), 0);
  std::vector<std::uint32_t> next(path_offsets_.begin(), path_offsets_.end() - 1);
  for (Id id = 0; id < signatures_.size(); ++id) {
    const Signature& s = signatures_[id];
    const bool patch = s.info.kind == SignatureKind::patch;
    const auto paths = path_ids(id);
    for (std::size_t i = 0; i < paths.size(); ++i) {
      path_entries_[next[paths[i]]++] = Entry{id, &s.manifest[i]};
      if (patch && !listed_by_patch_[paths[i]]) {
        listed_by_patch_[paths[i]] = 1;
        patch_paths_.insert(s.manifest[i].path);
      }
    }
  }
}

void SignatureIndex::index_contents() {
  // Same two-pass layout as the paths, keyed by digest; only records carrying a hash.
  std::vector<std::uint32_t> counts;
  content_.reserve(record_paths_.size());
  for (const Signature& s : signatures_) {
    for (const FileRecord& r : s.manifest) {
      if (!r.has(Attr::sha256)) continue;
      const auto [it, inserted] = content_.try_emplace(r.sha256, static_cast<std::uint32_t>(counts.size()), 0u);
      if (inserted) counts.push_back(0);
      ++counts[it->second.first];
    }
  }
  // Turn (slot, 0) into (offset, count).
  std::vector<std::uint32_t> offsets(counts.size() + 1, 0);
  for (std::size_t k = 0; k < counts.size(); ++k) offsets[k + 1] = offsets[k] + counts[k];
  content_entries_.resize(offsets.back());
  std::vector<std::uint32_t> next(offsets.begin(), offsets.end() - 1);
  for (Id id = 0; id < signatures_.size(); ++id) {
    for (const FileRecord& r : signatures_[id].manifest) {
      if (!r.has(Attr::sha256)) continue;
      const std::uint32_t slot = content_.find(r.sha256)->second.first;
      content_entries_[next[slot]++] = Entry{id, &r};
    }
  }
  for (auto& [digest, range] : content_) range = {offsets[range.first], counts[range.first]};
}

void SignatureIndex::link_relations() {
  // Direct edges "x is later than y": a patch is later than the release it patches, and
  // than every patch it supersedes.
  const std::size_t n = signatures_.size();
  std::vector<std::vector<Id>> direct(n);
  for (Id id = 0; id < n; ++id) {
    const SignatureInfo& info = signatures_[id].info;
    if (info.patches) {
      if (const auto base = find(*info.patches)) direct[*base].push_back(id);
    }
    for (const SignatureRef& old : info.supersedes) {
      if (const auto o = find(old)) direct[*o].push_back(id);
    }
  }
  // Transitive closure by a walk from every node: chains are short and signatures few
  // (hundreds), so O(n * edges) is nothing next to indexing the files. A cycle (bad
  // metadata) terminates thanks to `seen`; a node never counts as later than itself.
  later_.assign(n, {});
  earlier_.assign(n, {});
  std::vector<std::uint8_t> seen(n);
  std::vector<Id> stack;
  for (Id root = 0; root < n; ++root) {
    std::fill(seen.begin(), seen.end(), 0);
    seen[root] = 1;
    stack.assign(direct[root].begin(), direct[root].end());
    while (!stack.empty()) {
      const Id x = stack.back();
      stack.pop_back();
      if (seen[x]) continue;
      seen[x] = 1;
      later_[root].push_back(x);
      earlier_[x].push_back(root);
      stack.insert(stack.end(), direct[x].begin(), direct[x].end());
    }
    std::sort(later_[root].begin(), later_[root].end());
  }
  // earlier_ lists were filled in increasing root order: already sorted.
}

std::optional<SignatureIndex::PathId> SignatureIndex::find_path(std::string_view path) const {
  return path_ids_by_path_.find(path);
}

std::span<const SignatureIndex::Entry> SignatureIndex::owners(PathId path) const {
  return std::span<const Entry>(path_entries_).subspan(path_offsets_[path], path_offsets_[path + 1] - path_offsets_[path]);
}

std::span<const SignatureIndex::Entry> SignatureIndex::owners(std::string_view path) const {
  const auto p = find_path(path);
  if (!p) return {};
  return owners(*p);
}

std::span<const SignatureIndex::PathId> SignatureIndex::path_ids(Id id) const {
  return std::span<const PathId>(record_paths_).subspan(record_offsets_[id], record_offsets_[id + 1] - record_offsets_[id]);
}

bool SignatureIndex::listed_by_patch(std::string_view path) const { return patch_paths_.contains(path); }

std::span<const SignatureIndex::Entry> SignatureIndex::content_owners(const Sha256Digest& digest) const {
  const auto it = content_.find(digest);
  if (it == content_.end()) return {};
  return std::span<const Entry>(content_entries_).subspan(it->second.first, it->second.second);
}

bool SignatureIndex::is_later(Id id, Id other) const {
  return std::binary_search(later_[id].begin(), later_[id].end(), other);
}

bool SignatureIndex::is_earlier(Id id, Id other) const {
  return std::binary_search(earlier_[id].begin(), earlier_[id].end(), other);
}

bool SignatureIndex::is_other_version(Id id, Id other) const {
  const SignatureRef& a = ref(id);
  const SignatureRef& b = ref(other);
  return a.name == b.name && a.version != b.version;
}

std::shared_ptr<const std::vector<bool>> SignatureIndex::coverage(std::span<const std::string> roots) const {
  // Distinct root lists beyond this many are computed each time (not kept): the memo
  // stays small whatever the scans send.
  constexpr std::size_t kMaxMemoised = 16;
  std::vector<std::string> key(roots.begin(), roots.end());
  {
    std::lock_guard lock(coverage_memo_->mutex);
    if (auto it = coverage_memo_->by_roots.find(key); it != coverage_memo_->by_roots.end()) return it->second;
  }
  auto covered = std::make_shared<std::vector<bool>>(path_count(), true);
  if (!roots.empty())
    for (PathId p = 0; p < path_count(); ++p) {
      const std::string_view path = owners(p).front().record->path;
      (*covered)[p] = std::any_of(roots.begin(), roots.end(), [&](const std::string& root) {
        return path == root || root == "/" || path_is_under(path, root);
      });
    }
  std::lock_guard lock(coverage_memo_->mutex);
  if (coverage_memo_->by_roots.size() < kMaxMemoised) coverage_memo_->by_roots.emplace(std::move(key), covered);
  return covered;
}

}  // namespace tb
