// The store as the server's request threads share it. A Store object is not thread-safe
// (store.h), so one mutex serialises every call; the expensive parts of a request
// (parsing the body, analysing, writing the report) run outside it.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

#include "core/error.h"
#include "core/signature_index.h"
#include "store/store.h"

namespace tb::server {

class SharedStore {
 public:
  explicit SharedStore(std::unique_ptr<Store> store) : store_(std::move(store)) {}

  // Runs `f(Store&)` under the lock and returns what it returns.
  template <class F>
  auto with(F&& f) {
    std::lock_guard lock(mutex_);
    return std::forward<F>(f)(*store_);
  }

  // The signature index, built once and shared by every request until an import through
  // this object invalidates it, or the number of stored signatures changes (an import by
  // another process: `trustbase import` next to a running server). Requests keep the
  // index they got; a rebuild never disturbs them.
  Expected<std::shared_ptr<const SignatureIndex>> index();

  // Drops the cached index: the next index() rebuilds it from the store.
  void invalidate_index();

  enum class ImportOutcome { created, existed, conflict };
  struct SignatureImport {
    ImportOutcome outcome = ImportOutcome::created;
    std::int64_t id = 0;  // the stored signature's (0 for conflict)
  };
  // Stores a signature with `trustbase import`'s rules, atomically for this server:
  // created when new (and the index invalidated), existed when name@version is stored
  // with the same manifest (nothing written), conflict when it is stored with another.
  Expected<SignatureImport> import_signature(const Signature& signature);

 private:
  std::mutex mutex_;
  std::unique_ptr<Store> store_;
  std::shared_ptr<const SignatureIndex> index_;
  std::uint64_t index_signatures_ = 0;
};

}  // namespace tb::server
