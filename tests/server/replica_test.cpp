// Two `trustbase serve` replicas on one PostgreSQL database, many clients posting scans to
// both at once: every acknowledged scan is stored exactly once, host and scan counts are
// exact, and no request fails. Skipped without TB_TEST_POSTGRES_URL (store/pg_test_db.h).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server_process.h"
#include "store/pg_test_db.h"

namespace {

namespace fs = std::filesystem;
using servertest::run;
using servertest::ServerProcess;
using servertest::slurp;
using servertest::write;

TEST(Replicas, TwoServersOnOnePostgresDatabaseStoreEveryAcknowledgedScanOnce) {
  const auto server_url = tb::test::postgres_test_server();
  if (!server_url) GTEST_SKIP() << tb::test::kPostgresSkipMessage;
  tb::test::PostgresTestSchema schema(*server_url);
  ASSERT_TRUE(schema.ok());
  const std::string url = schema.url();

  const fs::path dir = fs::temp_directory_path() / ("tb-replicas-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  // Two documents sharing most directories: replicas store overlapping chunks at once.
  std::vector<std::string> bodies;
  for (int variant = 0; variant < 2; ++variant) {
    for (int i = 0; i < 400; ++i)
      write(dir / "tree" / ("d" + std::to_string(i % 20)) / ("f" + std::to_string(i)), "content " + std::to_string(i));
    write(dir / "tree" / "d0" / "f0", "variant " + std::to_string(variant));
    const fs::path doc = dir / ("scan" + std::to_string(variant) + ".xml");
    int status = 0;
    run(std::string(TB_SCAN_BINARY) + " -q --no-inventory " + (dir / "tree").string() + " -o " + doc.string(), &status);
    ASSERT_EQ(status, 0);
    bodies.push_back(slurp(doc));
  }
  const std::string admin =
      run(std::string(TB_TRUSTBASE_BINARY) + " --db '" + url + "' token add --name ci --role admin 2>/dev/null");
  ASSERT_EQ(admin.rfind("tb_", 0), 0u) << admin;

  ServerProcess a(url, dir / "a.log"), b(url, dir / "b.log");
  ASSERT_GT(a.port(), 0) << slurp(dir / "a.log");
  ASSERT_GT(b.port(), 0) << slurp(dir / "b.log");
  // The logs name the store with its password hidden.
  const auto user_start = url.find("://") + 3, at = url.find('@'), colon = url.find(':', user_start);
  if (at != std::string::npos && colon < at) {
    const std::string password = url.substr(colon + 1, at - colon - 1);
    for (const char* log : {"a.log", "b.log"})
      EXPECT_EQ(slurp(dir / log).find(":" + password + "@"), std::string::npos) << log << " shows the password";
  }

  constexpr int kClients = 8, kScansEach = 8, kHosts = 10;
  std::mutex mutex;
  std::vector<std::int64_t> acked;
  std::vector<std::string> failures;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c)
    clients.emplace_back([&, c] {
      httplib::Client to_a("127.0.0.1", a.port()), to_b("127.0.0.1", b.port());
      for (httplib::Client* client : {&to_a, &to_b}) {
        client->set_bearer_token_auth(admin.c_str());
        client->set_read_timeout(std::chrono::seconds(30));
      }
      for (int n = 0; n < kScansEach; ++n) {
        httplib::Client& client = (c + n) % 2 == 0 ? to_a : to_b;
        const std::string host = "h" + std::to_string((c * kScansEach + n) % kHosts);
        auto res = client.Post(("/api/v1/scans?host=" + host).c_str(), bodies[static_cast<std::size_t>(n % 2)],
                               "application/xml");
        std::lock_guard lock(mutex);
        if (!res) {
          failures.push_back("no answer: " + httplib::to_string(res.error()));
        } else if (res->status != 201) {
          failures.push_back(std::to_string(res->status) + " " + res->body);
        } else {
          acked.push_back(nlohmann::json::parse(res->body, nullptr, false).value("scan_id", std::int64_t{-1}));
        }
      }
    });
  for (auto& t : clients) t.join();
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();
  ASSERT_EQ(acked.size(), static_cast<std::size_t>(kClients * kScansEach));
  EXPECT_EQ(std::set<std::int64_t>(acked.begin(), acked.end()).size(), acked.size()) << "a scan id acknowledged twice";

  const auto scans = schema.exec("SELECT id FROM scans ORDER BY id");
  std::set<std::int64_t> stored;
  for (const auto& row : scans) stored.insert(row[0].as<std::int64_t>());
  EXPECT_EQ(stored, std::set<std::int64_t>(acked.begin(), acked.end()));
  EXPECT_EQ(schema.exec("SELECT count(*) FROM hosts")[0][0].as<int>(), kHosts);
  EXPECT_EQ(schema.exec("SELECT count(*) FROM manifests")[0][0].as<int>(), 2);
  EXPECT_EQ(schema.exec("SELECT count(*) FROM (SELECT digest FROM chunks GROUP BY digest HAVING count(*) > 1) d")[0][0]
                .as<int>(),
            0);
  // Both replicas answer from the shared store.
  for (const ServerProcess* server : {&a, &b}) {
    httplib::Client client("127.0.0.1", server->port());
    client.set_bearer_token_auth(admin.c_str());
    auto hosts = client.Get("/api/v1/hosts");
    ASSERT_TRUE(hosts);
    ASSERT_EQ(hosts->status, 200) << hosts->body;
    const auto json = nlohmann::json::parse(hosts->body, nullptr, false);
    const auto& list = json.is_object() && json.contains("hosts") ? json["hosts"] : json;
    EXPECT_EQ(list.size(), static_cast<std::size_t>(kHosts)) << hosts->body.substr(0, 500);
  }
  fs::remove_all(dir);
}

}  // namespace
