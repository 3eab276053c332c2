#include "server/shared_store.h"

#include "format/manifest_chunks.h"

namespace tb::server {

namespace {

std::vector<std::unique_ptr<Store>> one(std::unique_ptr<Store> store) {
  std::vector<std::unique_ptr<Store>> v;
  v.push_back(std::move(store));
  return v;
}

}  // namespace

SharedStore::SharedStore(std::unique_ptr<Store> store, CacheSizes caches)
    : SharedStore(one(std::move(store)), caches) {}

SharedStore::SharedStore(std::vector<std::unique_ptr<Store>> connections, CacheSizes caches)
    : connections_(std::move(connections)), chunk_cache_(caches.chunk_bytes), analysis_cache_(caches.analysis_bytes) {
  for (const auto& c : connections_) free_.push_back(c.get());
}

SharedStore::Lease::Lease(SharedStore& o) : owner(o) {
  std::unique_lock lock(owner.pool_mutex_);
  owner.released_.wait(lock, [&] { return !owner.free_.empty(); });
  store = owner.free_.back();
  owner.free_.pop_back();
}

SharedStore::Lease::~Lease() {
  {
    std::lock_guard lock(owner.pool_mutex_);
    owner.free_.push_back(store);
  }
  owner.released_.notify_one();
}

Expected<std::shared_ptr<const SignatureIndex>> SharedStore::index() {
  std::lock_guard lock(index_mutex_);
  return with([&](Store& store) -> Expected<std::shared_ptr<const SignatureIndex>> {
    auto count = store.signature_count();
    if (!count) return tl::unexpected(count.error());
    if (index_ && *count == index_signatures_) return index_;
    auto signatures = store.signatures();
    if (!signatures) return tl::unexpected(signatures.error());
    auto built = SignatureIndex::build(std::move(*signatures));
    if (!built) return tl::unexpected(built.error());
    index_ = std::make_shared<const SignatureIndex>(std::move(*built));
    index_signatures_ = *count;
    return index_;
  });
}

void SharedStore::invalidate_index() {
  std::lock_guard lock(index_mutex_);
  index_.reset();
}

Expected<SharedStore::SignatureImport> SharedStore::import_signature(const Signature& signature) {
  std::lock_guard lock(index_mutex_);
  return with([&](Store& store) -> Expected<SignatureImport> {
    auto existing = store.find_signature(signature.info.ref);
    if (!existing) return tl::unexpected(existing.error());
    if (*existing) {
      if ((*existing)->manifest_digest == manifest_digest(signature.manifest))
        return SignatureImport{ImportOutcome::existed, (*existing)->id};
      return SignatureImport{ImportOutcome::conflict, 0};
    }
    auto id = store.put_signature(signature);
    if (!id) return tl::unexpected(id.error());
    index_.reset();
    return SignatureImport{ImportOutcome::created, *id};
  });
}

}  // namespace tb::server
