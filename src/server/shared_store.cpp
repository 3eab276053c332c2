#include "server/shared_store.h"

namespace tb::server {

Expected<std::shared_ptr<const SignatureIndex>> SharedStore::index() {
  std::lock_guard lock(mutex_);
  auto count = store_->signature_count();
  if (!count) return tl::unexpected(count.error());
  if (index_ && *count == index_signatures_) return index_;
  auto signatures = store_->signatures();
  if (!signatures) return tl::unexpected(signatures.error());
  auto built = SignatureIndex::build(std::move(*signatures));
  if (!built) return tl::unexpected(built.error());
  index_ = std::make_shared<const SignatureIndex>(std::move(*built));
  index_signatures_ = *count;
  return index_;
}

void SharedStore::invalidate_index() {
  std::lock_guard lock(mutex_);
  index_.reset();
}

Expected<SharedStore::SignatureImport> SharedStore::import_signature(const Signature& signature) {
  std::lock_guard lock(mutex_);
  auto existing = store_->find_signature(signature.info.ref);
  if (!existing) return tl::unexpected(existing.error());
  if (*existing) {
    if ((*existing)->manifest_digest == signature.manifest.digest())
      return SignatureImport{ImportOutcome::existed, (*existing)->id};
    return SignatureImport{ImportOutcome::conflict, 0};
  }
  auto id = store_->put_signature(signature);
  if (!id) return tl::unexpected(id.error());
  index_.reset();
  return SignatureImport{ImportOutcome::created, *id};
}

}  // namespace tb::server
