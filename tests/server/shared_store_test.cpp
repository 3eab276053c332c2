// The server's pool of store connections (server/shared_store.h): calls run side by side
// up to the pool's size and never beyond, every connection is lent to one call at a time,
// and the signature index is shared until an import changes it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>
#include <vector>

#include "core/test_records.h"
#include "server/shared_store.h"
#include "store/open_store.h"

namespace tb::server {
namespace {

namespace fs = std::filesystem;

class SharedStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tb-shared-store-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::unique_ptr<Store>> pool(std::size_t n) {
    std::vector<std::unique_ptr<Store>> v;
    for (std::size_t i = 0; i < n; ++i) {
      auto s = open_store((dir_ / "store.db").string());
      EXPECT_TRUE(s) << s.error().message;
      v.push_back(std::move(*s));
    }
    return v;
  }
  fs::path dir_;
};

TEST_F(SharedStoreTest, CallsRunSideBySideUpToThePoolSizeAndNeverShareAConnection) {
  SharedStore shared(pool(3));
  ASSERT_EQ(shared.connections(), 3u);
  std::atomic<int> inside{0}, most{0};
  std::mutex seen_mutex;
  std::set<Store*> busy, seen;
  std::atomic<bool> shared_connection{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i)
        shared.with([&](Store& s) {
          {
            std::lock_guard lock(seen_mutex);
            if (!busy.insert(&s).second) shared_connection = true;
            seen.insert(&s);
          }
          const int now = ++inside;
          for (int m = most.load(); now > m && !most.compare_exchange_weak(m, now);) {
          }
          auto hosts = s.list_hosts();  // a real call on the connection
          EXPECT_TRUE(hosts);
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
          --inside;
          std::lock_guard lock(seen_mutex);
          busy.erase(&s);
        });
    });
  for (auto& t : threads) t.join();
  EXPECT_FALSE(shared_connection) << "two calls were given the same connection at once";
  EXPECT_LE(most.load(), 3);
  EXPECT_GE(most.load(), 2) << "calls never overlapped: the pool serialises them";
  EXPECT_EQ(seen.size(), 3u);
}

TEST_F(SharedStoreTest, WritesOnDifferentConnectionsAllLand) {
  SharedStore shared(pool(4));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        ScanDocument doc;
        doc.header.host.hostname = "h" + std::to_string(t);
        doc.header.started_ns = i + 1;
        auto m = Manifest::from_records({test::file("/etc/h" + std::to_string(t) + "_" + std::to_string(i))});
        ASSERT_TRUE(m);
        doc.manifest = std::move(*m);
        const auto put = [&](Store& s) { return s.put_scan(doc.header.host.hostname, doc); };
        auto id = t % 2 == 0 ? shared.with(put) : shared.write(put);  // beside each other, both kinds
        if (!id) {
          ++failures;
          ADD_FAILURE() << id.error().message;
        }
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto hosts = shared.with([](Store& s) { return s.list_hosts(); });
  ASSERT_TRUE(hosts);
  ASSERT_EQ(hosts->size(), 6u);
  for (const HostListing& h : *hosts) EXPECT_EQ(h.scans, 5u) << h.name;
}

ScanDocument small_scan(const std::string& host, int n) {
  ScanDocument doc;
  doc.header.host.hostname = host;
  doc.header.started_ns = n + 1;
  auto m = Manifest::from_records({test::file("/etc/" + host + "_" + std::to_string(n))});
  EXPECT_TRUE(m);
  if (m) doc.manifest = std::move(*m);
  return doc;
}

// Waits (bounded) until `shared` has `n` writes queued behind the running batch.
bool wait_for_queued(const SharedStore& shared, std::size_t n) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (shared.queued_writes() < n) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Group commit: writes that arrive while a batch runs wait for it and then go together,
// in one batch (one transaction and commit), and each gets its own answer.
TEST_F(SharedStoreTest, WritesThatArriveDuringABatchAreCommittedTogether) {
  SharedStore shared(pool(2));
  std::atomic<bool> first_inside{false};
  std::thread first([&] {
    auto id = shared.write([&](Store& s) {
      auto r = s.put_scan("first", small_scan("first", 0));
      first_inside = true;
      EXPECT_TRUE(wait_for_queued(shared, 3)) << "the other writes never queued";
      return r;
    });
    EXPECT_TRUE(id) << id.error().message;
  });
  while (!first_inside) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::vector<std::thread> others;
  std::vector<std::int64_t> ids(3);
  for (int t = 0; t < 3; ++t)
    others.emplace_back([&, t] {
      const std::string host = "h" + std::to_string(t);
      auto id = shared.write([&](Store& s) { return s.put_scan(host, small_scan(host, t)); });
      ASSERT_TRUE(id) << id.error().message;
      ids[static_cast<std::size_t>(t)] = *id;
    });
  first.join();
  for (auto& t : others) t.join();
  const SharedStore::BatchCounts counts = shared.batch_counts();
  EXPECT_EQ(counts.writes, 4u);
  EXPECT_EQ(counts.batches, 2u) << "the three writes queued together were not one batch";
  EXPECT_EQ(std::set<std::int64_t>(ids.begin(), ids.end()).size(), 3u);
  auto hosts = shared.with([](Store& s) { return s.list_hosts(); });
  ASSERT_TRUE(hosts);
  EXPECT_EQ(hosts->size(), 4u);
  for (const HostListing& h : *hosts) EXPECT_EQ(h.scans, 1u) << h.name;
}

// A write that fails inside a batch answers its error and leaves nothing (its savepoint
// rolls back), and the batch's other writes are stored all the same.
TEST_F(SharedStoreTest, AWriteThatFailsInABatchFailsAlone) {
  SharedStore shared(pool(2));
  std::atomic<bool> first_inside{false};
  std::thread first([&] {
    auto id = shared.write([&](Store& s) {
      first_inside = true;
      EXPECT_TRUE(wait_for_queued(shared, 2));
      return s.put_scan("first", small_scan("first", 0));
    });
    EXPECT_TRUE(id) << id.error().message;
  });
  while (!first_inside) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::thread failing([&] {
    // A chunk named but never stored: put_scan inserts the host, then fails.
    const ScanDocument doc = small_scan("ghost", 1);
    ScanDocument header_only = doc;
    header_only.manifest = Manifest();
    const ManifestChunkRef unstored{Sha256::of("never stored"), 1, {}};
    auto id = shared.write([&](Store& s) { return s.put_scan("ghost", header_only, {&unstored, 1}); });
    ASSERT_FALSE(id);
    EXPECT_EQ(id.error().code, ErrorCode::not_found) << id.error().message;
  });
  wait_for_queued(shared, 1);
  std::thread good([&] {
    auto id = shared.write([&](Store& s) { return s.put_scan("good", small_scan("good", 2)); });
    EXPECT_TRUE(id) << id.error().message;
  });
  first.join();
  failing.join();
  good.join();
  EXPECT_EQ(shared.batch_counts().batches, 2u);
  auto hosts = shared.with([](Store& s) { return s.list_hosts(); });
  ASSERT_TRUE(hosts);
  std::set<std::string> names;
  for (const HostListing& h : *hosts) names.insert(h.name);
  EXPECT_EQ(names, (std::set<std::string>{"first", "good"}));
}

TEST_F(SharedStoreTest, TheIndexIsSharedUntilAnImportChangesIt) {
  SharedStore shared(pool(2));
  auto first = shared.index();
  ASSERT_TRUE(first) << first.error().message;
  auto again = shared.index();
  ASSERT_TRUE(again);
  EXPECT_EQ(first->get(), again->get());
  Signature sig;
  sig.info.ref = {"app", "1"};
  auto m = Manifest::from_records({test::file("/opt/app/bin")});
  ASSERT_TRUE(m);
  sig.manifest = std::move(*m);
  auto imported = shared.import_signature(sig);
  ASSERT_TRUE(imported) << imported.error().message;
  EXPECT_EQ(imported->outcome, SharedStore::ImportOutcome::created);
  auto after = shared.index();
  ASSERT_TRUE(after);
  EXPECT_NE(after->get(), first->get());
  EXPECT_EQ(shared.import_signature(sig)->outcome, SharedStore::ImportOutcome::existed);
  EXPECT_EQ(shared.index()->get(), after->get()) << "an import that stored nothing rebuilt the index";

  // Stored by another process (`trustbase import` beside the server): noticed at the next call.
  auto other = open_store((dir_ / "store.db").string());
  ASSERT_TRUE(other) << other.error().message;
  Signature sig2 = sig;
  sig2.info.ref = {"app", "2"};
  ASSERT_TRUE((*other)->put_signature(sig2));
  // Given the generation a posted scan read (Store::scan_context): the cached index when it
  // is that generation's or a later one's, rebuilt when the store is ahead of it.
  const std::int64_t before_other = *(*other)->signature_generation();
  Signature sig3 = sig;
  sig3.info.ref = {"app", "3"};
  ASSERT_TRUE((*other)->put_signature(sig3));
  EXPECT_EQ(shared.index(before_other)->get(), shared.index(before_other)->get());
  auto outside = shared.index(*(*other)->signature_generation());
  ASSERT_TRUE(outside);
  EXPECT_NE(outside->get(), after->get());
  EXPECT_EQ((*outside)->size(), (*after)->size() + 2);
  EXPECT_EQ(shared.index(before_other)->get(), outside->get()) << "an older generation rebuilt the index";
  EXPECT_EQ(shared.index()->get(), outside->get());
}

}  // namespace
}  // namespace tb::server
