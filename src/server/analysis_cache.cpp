#include "server/analysis_cache.h"

namespace tb::server {

// The digest's bytes, then each root with its length first (roots may hold any byte).
std::string AnalysisCache::key(const Sha256Digest& chunk_list, const std::vector<std::string>& roots,
                               const std::optional<Sha256Digest>& inventory) {
  std::string k(reinterpret_cast<const char*>(chunk_list.bytes.data()), chunk_list.bytes.size());
  // Fixed size, and before the roots: never confused with them.
  k += inventory ? 'I' : '-';
  if (inventory) k.append(reinterpret_cast<const char*>(inventory->bytes.data()), inventory->bytes.size());
  for (const std::string& r : roots) {
    k += std::to_string(r.size());
    k += ':';
    k += r;
  }
  return k;
}

std::shared_ptr<const Analysis> AnalysisCache::find(const Sha256Digest& chunk_list,
                                                    const std::vector<std::string>& roots,
                                                    const std::shared_ptr<const SignatureIndex>& index,
                                                    const std::optional<Sha256Digest>& inventory) {
  const std::string k = key(chunk_list, roots, inventory);
  std::lock_guard lock(mutex_);
  auto it = entries_.find(k);
  if (it == entries_.end()) return nullptr;
  if (it->second.index.lock() != index) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.age);
  return it->second.analysis;
}

void AnalysisCache::add(const Sha256Digest& chunk_list, const std::vector<std::string>& roots,
                        const std::shared_ptr<const SignatureIndex>& index, std::shared_ptr<const Analysis> analysis,
                        const std::optional<Sha256Digest>& inventory) {
  if (!analysis) return;
  std::string k = key(chunk_list, roots, inventory);
  const std::size_t size = memory_bytes(*analysis) + 2 * k.size() + sizeof(Entry) + 64;  // key in map and list
  if (size > max_bytes_) return;
  std::lock_guard lock(mutex_);
  auto it = entries_.find(k);
  if (it != entries_.end()) {  // made with an older index: replaced
    bytes_ = bytes_ - it->second.bytes + size;
    it->second = Entry{index, std::move(analysis), size, it->second.age};
    lru_.splice(lru_.begin(), lru_, it->second.age);
  } else {
    lru_.push_front(k);
    entries_.emplace(std::move(k), Entry{index, std::move(analysis), size, lru_.begin()});
    bytes_ += size;
  }
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    auto last = entries_.find(lru_.back());
    bytes_ -= last->second.bytes;
    entries_.erase(last);
    lru_.pop_back();
  }
}

namespace {
std::size_t heap(const std::string& s) {
  return s.capacity() > 15 ? s.capacity() + 1 : 0;
}
std::size_t heap(const SignatureRef& r) {
  return heap(r.name) + heap(r.version);
}
std::size_t heap(const std::vector<SignatureRef>& refs) {
  std::size_t n = refs.capacity() * sizeof(SignatureRef);
  for (const SignatureRef& r : refs) n += heap(r);
  return n;
}
}  // namespace

std::size_t AnalysisCache::memory_bytes(const Analysis& a) {
  std::size_t n = sizeof(Analysis) + a.verdicts.capacity() * sizeof(SignatureVerdict) +
                  a.deviations.capacity() * sizeof(FileDeviation);
  for (const SignatureVerdict& v : a.verdicts) {
    n += heap(v.ref) + heap(v.superseded_by) + heap(v.patched_by) + heap(v.other_version);
    n += v.issues.capacity() * sizeof(FileIssue);
    for (const FileIssue& i : v.issues) n += heap(i.path) + (i.other ? heap(*i.other) : 0);
  }
  for (const FileDeviation& d : a.deviations) n += heap(d.path) + heap(d.owners) + heap(d.content_owners);
  return n;  // a.inventory: never set on a cached analysis
}

std::size_t AnalysisCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

std::size_t AnalysisCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace tb::server
