// The store as the server's request threads share it: a small pool of connections to
// one store. A Store object is not thread-safe (store.h), so each call borrows one
// connection for its duration; calls on different connections run at the same time
// (SQLite in WAL mode: readers beside one writer, writers queue on the database's lock;
// PostgreSQL: only what conflicts waits). Every store operation is already safe between
// processes (replicas, `trustbase import` beside a running server), so it is between
// connections of one process too. The expensive parts of a request (parsing the body,
// analysing, writing the report) run without a connection.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/signature_index.h"
#include "server/analysis_cache.h"
#include "server/chunk_cache.h"
#include "store/store.h"

namespace tb::server {

// Bounds of the memory a SharedStore keeps between requests.
struct CacheSizes {
  std::size_t chunk_bytes = std::size_t{64} << 20;     // server/chunk_cache.h
  std::size_t analysis_bytes = std::size_t{64} << 20;  // server/analysis_cache.h
};

class SharedStore {
 public:
  // A pool of one connection.
  explicit SharedStore(std::unique_ptr<Store> store, CacheSizes caches = CacheSizes());
  // A pool: every element a connection to the same store (at least one).
  explicit SharedStore(std::vector<std::unique_ptr<Store>> connections, CacheSizes caches = CacheSizes());

  // Runs `f(Store&)` on a free connection (waiting for one) and returns what it returns.
  // `f` must not call back into this object: with every connection lent out it would wait
  // for itself.
  template <class F>
  auto with(F&& f) {
    Lease lease(*this);
    return std::forward<F>(f)(*lease.store);
  }

  // Runs a write `f(Store&)` (one Store write call, all-or-nothing on its own) and returns
  // what it returns once it is durable. On a store that groups commits (SQLite), writes
  // that arrive while one batch commits are run together on one connection in the next
  // batch and committed at once (group commit): one fdatasync for all, and writers queue
  // here in order instead of polling SQLite's lock. A failed commit is every write's of
  // the batch; a write that fails alone leaves the others be. Other stores: with(f).
  // Same rule as with(): `f` must not call back into this object.
  template <class F>
  auto write(F&& f) {
    using Result = std::invoke_result_t<F&, Store&>;
    if (!connections_.front()->groups_commits()) {
      Result result = with(std::forward<F>(f));
      count_batch(1);  // each write its own transaction
      return result;
    }
    std::optional<Result> result;
    PendingWrite pending{[&](Store& s) { result.emplace(f(s)); },
                         [&](const Error& e) { result.emplace(tl::unexpected(e)); }};
    run_in_batch(pending);
    return std::move(*result);
  }

  // Writes run through write() and the transactions (batches) they ran in, since the start.
  struct BatchCounts {
    std::uint64_t writes = 0;
    std::uint64_t batches = 0;
  };
  BatchCounts batch_counts() const;
  // Writes waiting for the next batch (for tests).
  std::size_t queued_writes() const;

  std::size_t connections() const { return connections_.size(); }

  // Decoded chunks the store holds, shared by every request (server/chunk_cache.h).
  ChunkCache& chunk_cache() { return chunk_cache_; }
  // Analyses of stored manifests, shared likewise (server/analysis_cache.h).
  AnalysisCache& analysis_cache() { return analysis_cache_; }

  // The signature index, built once and shared by every request until an import through
  // this object invalidates it, or the store's signature generation grows (an import by
  // another process: `trustbase import` next to a running server). Requests keep the
  // index they got; a rebuild never disturbs them. Given the store's signature generation
  // as the caller just read it (Store::scan_context), no look-up unless the index must be
  // rebuilt.
  Expected<std::shared_ptr<const SignatureIndex>> index(std::optional<std::int64_t> generation = std::nullopt);

  // Drops the cached index: the next index() rebuilds it from the store.
  void invalidate_index();

  enum class ImportOutcome { created, existed, conflict };
  struct SignatureImport {
    ImportOutcome outcome = ImportOutcome::created;
    std::int64_t id = 0;  // the stored signature's (0 for conflict)
  };
  // Stores a signature with `trustbase import`'s rules: created when new (and the index
  // invalidated), existed when name@version is stored with the same manifest (nothing
  // written), conflict when it is stored with another. Imports through this object are
  // serialised (the store's own rules decide between processes).
  Expected<SignatureImport> import_signature(const Signature& signature);

 private:
  struct Lease {
    explicit Lease(SharedStore& owner);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    SharedStore& owner;
    Store* store;
  };

  struct PendingWrite {
    std::function<void(Store&)> run;
    std::function<void(const Error&)> fail;  // replaces what run() gave: the batch failed
    bool done = false;                       // guarded by batch_mutex_
  };
  // Queues `w` and returns when it has been run and its batch committed (or failed): the
  // first writer to find no batch running runs the queue's head as the next batch.
  void run_in_batch(PendingWrite& w);
  void run_batch(std::span<PendingWrite* const> batch);
  void count_batch(std::size_t writes);

  std::vector<std::unique_ptr<Store>> connections_;
  std::mutex pool_mutex_;
  std::condition_variable released_;
  std::vector<Store*> free_;

  mutable std::mutex batch_mutex_;  // queued_, batch_running_, batch_counts_, every PendingWrite::done
  std::condition_variable batch_done_;
  std::deque<PendingWrite*> queued_;
  bool batch_running_ = false;
  BatchCounts batch_counts_;

  ChunkCache chunk_cache_;
  AnalysisCache analysis_cache_;

  std::mutex index_mutex_;  // index_, index_generation_, and imports
  std::shared_ptr<const SignatureIndex> index_;
  std::int64_t index_generation_ = 0;  // Store::signature_generation() index_ was built at
};

}  // namespace tb::server
