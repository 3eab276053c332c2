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

  // The signature index, built once and shared by every request until the number of
  // stored signatures changes. Signatures are immutable and only ever added, so the
  // count is a sound staleness test for now; once imports run inside the server (or
  // signatures can be deleted) they must invalidate the cache explicitly instead.
  Expected<std::shared_ptr<const SignatureIndex>> index();

 private:
  std::mutex mutex_;
  std::unique_ptr<Store> store_;
  std::shared_ptr<const SignatureIndex> index_;
  std::uint64_t index_signatures_ = 0;
};

}  // namespace tb::server
