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

namespace {

// Enough to amortise a commit over many writes, few enough that the batch's own last write
// does not wait long for its first.
constexpr std::size_t kMaxBatchWrites = 32;

}  // namespace

void SharedStore::run_in_batch(PendingWrite& w) {
  std::unique_lock lock(batch_mutex_);
  queued_.push_back(&w);
  while (!w.done) {
    if (batch_running_) {
      batch_done_.wait(lock);
      continue;
    }
    // Lead the next batch: the queue's head, which holds w unless more than a batch was queued before it.
    batch_running_ = true;
    const std::size_t n = std::min(queued_.size(), kMaxBatchWrites);
    std::vector<PendingWrite*> batch(queued_.begin(), queued_.begin() + static_cast<std::ptrdiff_t>(n));
    queued_.erase(queued_.begin(), queued_.begin() + static_cast<std::ptrdiff_t>(n));
    lock.unlock();
    try {
      run_batch(batch);
    } catch (const std::exception& e) {  // no connection, no memory: the batch fails, the queue goes on
      for (PendingWrite* p : batch) p->fail(Error{ErrorCode::internal, std::string("store write failed: ") + e.what()});
    }
    lock.lock();
    for (PendingWrite* p : batch) p->done = true;  // its owner may return (and free it) from here on
    batch_running_ = false;
    batch_counts_.writes += batch.size();
    ++batch_counts_.batches;
    lock.unlock();
    batch_done_.notify_all();
    lock.lock();
  }
}

void SharedStore::run_batch(std::span<PendingWrite* const> batch) {
  Lease lease(*this);
  Store& store = *lease.store;
  if (auto begun = store.begin_batch(); !begun) {
    for (PendingWrite* p : batch) p->fail(begun.error());
    return;
  }
  // Rolled back if an exception leaves before the commit, so the connection takes batches
  // again (after commit_batch it has none open: a no-op).
  struct AbortUnlessDone {
    Store& store;
    ~AbortUnlessDone() { store.abort_batch(); }
  } abort_unless_done{store};
  for (PendingWrite* p : batch) {
    if (!store.batch_open()) {  // rolled back under the writes before: the commit below fails them all
      p->fail(Error{ErrorCode::io, "store write not attempted: its batch's transaction was rolled back"});
      continue;
    }
    try {
      p->run(store);
    } catch (const std::exception& e) {  // its savepoint rolled back as the exception left the store
      p->fail(Error{ErrorCode::internal, std::string("store write failed: ") + e.what()});
    }
  }
  if (auto committed = store.commit_batch(); !committed)
    for (PendingWrite* p : batch) p->fail(committed.error());
}

void SharedStore::count_batch(std::size_t writes) {
  std::lock_guard lock(batch_mutex_);
  batch_counts_.writes += writes;
  ++batch_counts_.batches;
}

SharedStore::BatchCounts SharedStore::batch_counts() const {
  std::lock_guard lock(batch_mutex_);
  return batch_counts_;
}

std::size_t SharedStore::queued_writes() const {
  std::lock_guard lock(batch_mutex_);
  return queued_.size();
}

Expected<std::shared_ptr<const SignatureIndex>> SharedStore::index(std::optional<std::int64_t> known) {
  std::lock_guard lock(index_mutex_);
  // An index built at a later generation than the caller read holds all it could expect.
  if (known && index_ && *known <= index_generation_) return index_;
  return with([&](Store& store) -> Expected<std::shared_ptr<const SignatureIndex>> {
    // The generation (the highest signature id, an index look-up) and not a count (a scan
    // of the table, on every scan posted): it grows with every signature stored, by any
    // process (PostgreSQL: imports take their ids in commit order, under one lock).
    std::int64_t generation = 0;
    if (known) {
      generation = *known;
    } else {
      auto read = store.signature_generation();
      if (!read) return tl::unexpected(read.error());
      generation = *read;
      if (index_ && generation == index_generation_) return index_;
    }
    auto signatures = store.signatures();
    if (!signatures) return tl::unexpected(signatures.error());
    auto built = SignatureIndex::build(std::move(*signatures));
    if (!built) return tl::unexpected(built.error());
    index_ = std::make_shared<const SignatureIndex>(std::move(*built));
    index_generation_ = generation;
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
