// Decoded directory chunks the store holds, kept in memory between requests: a fleet's
// chunked uploads name the same chunks over and over (the base install of every host, a
// host's unchanged directories), and reading, hashing and decoding them each time was
// most of what a chunked scan cost the server. Content addressing makes an entry true
// forever (a chunk's digest says what it holds; the store never deletes one), so there
// is no invalidation, only a bound: least recently used entries go beyond max_bytes.
// Only chunks known to be in the store go in (read from it, or sent and then stored), so
// a hit also answers "does the store hold it" for a scanner's first round.
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/sha256.h"
#include "format/chunked_scan.h"

namespace tb::server {

class ChunkCache {
 public:
  explicit ChunkCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // The entry for each digest, in order; null where there is none. Hits become the most
  // recently used.
  std::vector<SharedChunk> find(std::span<const Sha256Digest> digests);
  // Adds chunks (replacing nothing: an entry for a digest is the same forever), then
  // drops the least recently used entries beyond the bound. A chunk larger than the
  // bound alone is not kept.
  void add(std::span<const SharedChunk> chunks);

  struct Stats {
    std::size_t entries = 0, bytes = 0;
    std::uint64_t hits = 0, misses = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    SharedChunk chunk;
    std::size_t bytes = 0;
    std::list<Sha256Digest>::iterator age;  // position in lru_
  };
  const std::size_t max_bytes_;
  mutable std::mutex mutex_;
  std::unordered_map<Sha256Digest, Entry, Sha256DigestHash> entries_;
  std::list<Sha256Digest> lru_;  // most recently used first
  std::size_t bytes_ = 0;
  std::uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace tb::server
