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

}  // namespace tb::server
