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
        auto id = shared.with([&](Store& s) { return s.put_scan(doc.header.host.hostname, doc); });
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
}

}  // namespace
}  // namespace tb::server
