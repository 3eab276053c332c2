// A manifest: an immutable set of file records sorted in path order (core/path.h),
// with unique paths and a content digest of its own.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "core/error.h"
#include "core/file_record.h"

namespace tb {

class Manifest {
 public:
  Manifest() = default;

  // Takes records in any order; sorts them. Fails on a duplicated path or a path that
  // is not canonical (so a manifest never holds "/a/../b" or "//x").
  static Expected<Manifest> from_records(std::vector<FileRecord> records);
  // For producers that already emit path order (the scanner, a parsed document):
  // checks the order in one pass instead of sorting.
  static Expected<Manifest> from_sorted(std::vector<FileRecord> records);
  // For a producer that has checked both itself, in the same pass that made the records:
  // every path canonical, each strictly after the one before (path_less). The chunked
  // upload assembly checks every path as it decodes a chunk, and the order as it walks
  // them: checking again here was a tenth of a chunked scan's cost on the server.
  static Manifest from_verified(std::vector<FileRecord> records);

  std::span<const FileRecord> records() const { return records_; }
  std::size_t size() const { return records_.size(); }
  bool empty() const { return records_.empty(); }
  const FileRecord& operator[](std::size_t i) const { return records_[i]; }
  auto begin() const { return records_.begin(); }
  auto end() const { return records_.end(); }

  // Binary search by path; nullptr when absent.
  const FileRecord* find(std::string_view path) const;

  // A manifest's digest (its identity in the store and in reports) is
  // manifest_digest() in format/manifest_chunks.h: the digest of its directory chunks.

  friend bool operator==(const Manifest& a, const Manifest& b) { return a.records_ == b.records_; }

 private:
  explicit Manifest(std::vector<FileRecord> records) : records_(std::move(records)) {}
  static Expected<Manifest> checked(std::vector<FileRecord> records);

  std::vector<FileRecord> records_;
};

}  // namespace tb
