// SignatureIndex: the imported signatures, owned and indexed for analysis. Built once,
// immutable afterwards (an import builds a new one), so lookups hand out views into the
// owned manifests without copying and any number of threads may read it at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/path_table.h"
#include "core/signature.h"

namespace tb {

class SignatureIndex {
 public:
  using Id = std::uint32_t;      // a signature: its position in signatures()
  using PathId = std::uint32_t;  // a distinct path listed by at least one signature
  static constexpr PathId kNoPath = 0xFFFF'FFFF;  // a path no signature lists

  // One record of one signature: the unit the path and content lookups return.
  struct Entry {
    Id signature;
    const FileRecord* record;  // points into signature(signature).manifest
  };

  SignatureIndex() = default;
  // The maps hold string_views into the owned manifests: a copy would point into the
  // original, so copying is disabled. Moving keeps every record in place.
  SignatureIndex(const SignatureIndex&) = delete;
  SignatureIndex& operator=(const SignatureIndex&) = delete;
  SignatureIndex(SignatureIndex&&) noexcept = default;
  SignatureIndex& operator=(SignatureIndex&&) noexcept = default;
  ~SignatureIndex() = default;

  // Takes the signatures in the given order (Ids follow it). Fails with invalid_argument
  // when two signatures share a name@version. References to signatures that are not in
  // the set (a patch whose base was never imported) are kept but link nothing.
  static Expected<SignatureIndex> build(std::vector<Signature> signatures);

  std::size_t size() const { return signatures_.size(); }
  std::span<const Signature> signatures() const { return signatures_; }
  const Signature& signature(Id id) const { return signatures_[id]; }
  const SignatureRef& ref(Id id) const { return signatures_[id].info.ref; }
  std::optional<Id> find(const SignatureRef& ref) const;

  // --- by path ---
  std::size_t path_count() const { return path_offsets_.empty() ? 0 : path_offsets_.size() - 1; }
  std::optional<PathId> find_path(std::string_view path) const;
  // The signatures listing a path, in Id order (one entry per signature: paths are unique
  // within a manifest). Empty for a path no signature lists.
  std::span<const Entry> owners(PathId path) const;
  std::span<const Entry> owners(std::string_view path) const;
  // The PathId of each record of a signature, aligned with its manifest's records().
  std::span<const PathId> path_ids(Id id) const;
  // True when some patch signature lists the path (snapshots leave such paths out).
  bool listed_by_patch(PathId path) const { return listed_by_patch_[path] != 0; }
  bool listed_by_patch(std::string_view path) const;

  // --- by scan roots ---
  // Per PathId, whether a scan of `roots` covers the path (it is a root or under one; no
  // roots: every path). Memoised per distinct list of roots, of which a fleet has a few:
  // otherwise every path of the catalogue is checked against the roots for every scan.
  // Thread-safe.
  std::shared_ptr<const std::vector<bool>> coverage(std::span<const std::string> roots) const;

  // --- by content ---
  // Every regular file (of any signature, at any path) whose SHA-256 is `digest`,
  // in Id order, then path order.
  std::span<const Entry> content_owners(const Sha256Digest& digest) const;

  // --- relation graph ---
  // The signatures later in `id`'s chain, sorted by Id: patches of it, patches that
  // supersede those, and so on (transitive). Never contains `id` itself.
  std::span<const Id> later(Id id) const { return later_[id]; }
  // The inverse: its base product, the patches it supersedes and their bases...
  std::span<const Id> earlier(Id id) const { return earlier_[id]; }
  // True when `other` is later in `id`'s chain.
  bool is_later(Id id, Id other) const;
  bool is_earlier(Id id, Id other) const;
  // Same name, different version.
  bool is_other_version(Id id, Id other) const;

 private:
  // CSR layout: the entries of path p are path_entries_[path_offsets_[p] .. path_offsets_[p+1]).
  // One flat array instead of a vector per path keeps a 1M-path build to a few allocations.
  void index_paths();
  void index_contents();
  void link_relations();

  std::vector<Signature> signatures_;
  std::unordered_map<std::string_view, Id> by_id_;  // "name@version" of ids_ below
  std::vector<std::string> ids_;                     // owned "name@version" keys

  PathTable path_ids_by_path_;
  std::vector<std::uint32_t> path_offsets_;
  std::vector<Entry> path_entries_;
  std::vector<std::uint8_t> listed_by_patch_;        // per PathId
  // The patch paths alone: a table small enough to stay in cache, so filtering a 1M-record
  // scan (most of whose paths are not patch paths) does not probe the big path map.
  std::unordered_set<std::string_view> patch_paths_;
  std::vector<std::size_t> record_offsets_;          // per signature, into record_paths_
  std::vector<PathId> record_paths_;                 // PathId of every record, signature by signature

  std::unordered_map<Sha256Digest, std::pair<std::uint32_t, std::uint32_t>, Sha256DigestHash> content_;  // offset, count
  std::vector<Entry> content_entries_;

  std::vector<std::vector<Id>> later_;
  std::vector<std::vector<Id>> earlier_;

  // coverage()'s memo: the index is shared read-only between threads, so it has a lock of
  // its own, behind a pointer to keep the index movable.
  struct CoverageMemo {
    std::mutex mutex;
    std::map<std::vector<std::string>, std::shared_ptr<const std::vector<bool>>> by_roots;
  };
  std::unique_ptr<CoverageMemo> coverage_memo_ = std::make_unique<CoverageMemo>();
};

}  // namespace tb
