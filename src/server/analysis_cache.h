// Analyses of stored manifests, kept between requests: the members of a cluster run
// identical software and an unchanged host rescans the manifest it sent last time, so
// one analysis serves many scans. An entry is keyed by the manifest's chunk list digest
// (chunk_list_digest: equal exactly when the manifests are), the scan's roots (they
// decide which signature files are expected) and the signature index it was made with:
// an import builds a new index, and entries made with another one miss (and age out).
// The package inventory decides states too (a package it does not list is absent), so
// its digest (inventory_digest) joins the key; the cross-check of the inventory with the
// verdicts is not part of an entry. Least recently used entries go beyond max_bytes (a
// clean host's analysis is a few hundred bytes per signature; 10,000 hosts that each
// have files of their own need 10,000 entries for their rescans to hit).
// Thread-safe.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/analysis.h"
#include "core/sha256.h"
#include "core/signature_index.h"

namespace tb::server {

class AnalysisCache {
 public:
  explicit AnalysisCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // The analysis of the manifest with this chunk list under these roots, made with
  // `index`; null when there is none.
  // `inventory`: inventory_digest() of the scan's inventory, nullopt when it has none.
  std::shared_ptr<const Analysis> find(const Sha256Digest& chunk_list, const std::vector<std::string>& roots,
                                       const std::shared_ptr<const SignatureIndex>& index,
                                       const std::optional<Sha256Digest>& inventory = std::nullopt);
  // `analysis` must be analyze(manifest, *index, {roots, inventory}) without an inventory check.
  void add(const Sha256Digest& chunk_list, const std::vector<std::string>& roots,
           const std::shared_ptr<const SignatureIndex>& index, std::shared_ptr<const Analysis> analysis,
           const std::optional<Sha256Digest>& inventory = std::nullopt);

  std::size_t size() const;   // entries
  std::size_t bytes() const;  // their approximate memory

  // Roughly the heap an analysis takes, for the bound.
  static std::size_t memory_bytes(const Analysis& analysis);

 private:
  struct Entry {
    std::weak_ptr<const SignatureIndex> index;  // expired, or another index: a miss
    std::shared_ptr<const Analysis> analysis;
    std::size_t bytes = 0;
    std::list<std::string>::iterator age;
  };
  static std::string key(const Sha256Digest& chunk_list, const std::vector<std::string>& roots,
                         const std::optional<Sha256Digest>& inventory);

  const std::size_t max_bytes_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // keys, most recently used first
  std::size_t bytes_ = 0;
};

}  // namespace tb::server
