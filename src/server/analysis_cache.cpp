#include "server/analysis_cache.h"

namespace tb::server {

// The digest's bytes, then each root with its length first (roots may hold any byte).
std::string AnalysisCache::key(const Sha256Digest& chunk_list, const std::vector<std::string>& roots) {
  std::string k(reinterpret_cast<const char*>(chunk_list.bytes.data()), chunk_list.bytes.size());
  for (const std::string& r : roots) {
    k += std::to_string(r.size());
    k += ':';
    k += r;
  }
  return k;
}

std::shared_ptr<const Analysis> AnalysisCache::find(const Sha256Digest& chunk_list,
                                                    const std::vector<std::string>& roots,
                                                    const std::shared_ptr<const SignatureIndex>& index) {
  const std::string k = key(chunk_list, roots);
  std::lock_guard lock(mutex_);
  auto it = entries_.find(k);
  if (it == entries_.end()) return nullptr;
  if (it->second.index.lock() != index) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.age);
  return it->second.analysis;
}

void AnalysisCache::add(const Sha256Digest& chunk_list, const std::vector<std::string>& roots,
                        const std::shared_ptr<const SignatureIndex>& index, std::shared_ptr<const Analysis> analysis) {
  if (max_entries_ == 0 || !analysis) return;
  std::string k = key(chunk_list, roots);
  std::lock_guard lock(mutex_);
  auto it = entries_.find(k);
  if (it != entries_.end()) {  // made with an older index: replaced
    it->second.index = index;
    it->second.analysis = std::move(analysis);
    lru_.splice(lru_.begin(), lru_, it->second.age);
    return;
  }
  lru_.push_front(k);
  entries_.emplace(std::move(k), Entry{index, std::move(analysis), lru_.begin()});
  while (entries_.size() > max_entries_) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
}

std::size_t AnalysisCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace tb::server
