#include "server/chunk_cache.h"

namespace tb::server {

std::vector<SharedChunk> ChunkCache::find(std::span<const Sha256Digest> digests) {
  std::vector<SharedChunk> out(digests.size());
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < digests.size(); ++i) {
    auto it = entries_.find(digests[i]);
    if (it == entries_.end()) {
      ++misses_;
      continue;
    }
    ++hits_;
    lru_.splice(lru_.begin(), lru_, it->second.age);
    out[i] = it->second.chunk;
  }
  return out;
}

void ChunkCache::add(std::span<const SharedChunk> chunks) {
  // Sizes outside the lock: memory_bytes() walks the records.
  std::vector<std::size_t> sizes(chunks.size());
  for (std::size_t i = 0; i < chunks.size(); ++i) sizes[i] = chunks[i] ? chunks[i]->memory_bytes() : 0;
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    if (!chunks[i] || sizes[i] > max_bytes_ || entries_.count(chunks[i]->digest) != 0) continue;
    lru_.push_front(chunks[i]->digest);
    entries_.emplace(chunks[i]->digest, Entry{chunks[i], sizes[i], lru_.begin()});
    bytes_ += sizes[i];
  }
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    auto it = entries_.find(lru_.back());
    bytes_ -= it->second.bytes;
    entries_.erase(it);
    lru_.pop_back();
  }
}

ChunkCache::Stats ChunkCache::stats() const {
  std::lock_guard lock(mutex_);
  return Stats{entries_.size(), bytes_, hits_, misses_};
}

}  // namespace tb::server
