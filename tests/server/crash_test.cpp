// Crash safety: the real server is killed with SIGKILL at random moments while clients
// post scans and import signatures, many times over one store. After each kill the store
// must pass SQLite's integrity and foreign-key checks, and every scan and signature the
// server acknowledged (201) must be there — nothing acknowledged is ever lost.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server_process.h"

namespace {

namespace fs = std::filesystem;
using servertest::run;
using servertest::ServerProcess;
using servertest::slurp;
using servertest::write;

struct Acknowledged {
  std::mutex mutex;
  std::vector<std::int64_t> scan_ids;
  std::vector<std::string> signatures;  // name@version
};

std::vector<std::string> column(sqlite3* db, const std::string& sql) {
  std::vector<std::string> out;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) return {"prepare failed: " + sql};
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt, 0);
    out.emplace_back(text == nullptr ? "" : reinterpret_cast<const char*>(text));
  }
  sqlite3_finalize(stmt);
  return out;
}

TEST(CrashSafety, KilledAtRandomDuringIngestAndImportTheStoreStaysWholeAndKeepsWhatItAcknowledged) {
  const fs::path dir = fs::temp_directory_path() / ("tb-crash-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  for (int i = 0; i < 300; ++i)
    write(dir / "tree" / ("d" + std::to_string(i % 17)) / ("f" + std::to_string(i)), "content " + std::to_string(i));
  int status = 0;
  run(std::string(TB_SCAN_BINARY) + " -q --no-inventory " + (dir / "tree").string() + " -o " +
          (dir / "scan.xml").string(),
      &status);
  ASSERT_EQ(status, 0);
  const std::string body = slurp(dir / "scan.xml");
  const fs::path db = dir / "store.db";
  const std::string admin = run(std::string(TB_TRUSTBASE_BINARY) + " --db " + db.string() +
                                " token add --name ci --role admin 2>/dev/null");
  ASSERT_FALSE(admin.empty());

  Acknowledged acked;
  std::mt19937 rng(42);  // fixed: the same kill points on every run
  constexpr int kRounds = 12;
  int sequence = 0;
  for (int round = 0; round < kRounds; ++round) {
    auto server = std::make_unique<ServerProcess>(db, dir / "server.log");
    ASSERT_GT(server->port(), 0) << slurp(dir / "server.log");
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < 3; ++c) {
      const int first = (sequence += 1000);
      clients.emplace_back([&, c, first] {
        httplib::Client client("127.0.0.1", server->port());
        client.set_bearer_token_auth(admin.c_str());
        client.set_read_timeout(std::chrono::seconds(10));
        for (int n = first; !stop.load(); ++n) {
          if (c == 2) {  // an importer
            const std::string name = "pkg" + std::to_string(n);
            auto res = client.Post(("/api/v1/signatures?name=" + name + "&version=1").c_str(), body, "application/xml");
            if (!res) return;
            if (res->status == 201) {
              std::lock_guard lock(acked.mutex);
              acked.signatures.push_back(name + "@1");
            }
          } else {  // scans of a few hosts
            auto res = client.Post(("/api/v1/scans?host=h" + std::to_string(n % 5)).c_str(), body, "application/xml");
            if (!res) return;
            if (res->status == 201) {
              const auto answer = nlohmann::json::parse(res->body, nullptr, false);
              std::lock_guard lock(acked.mutex);
              acked.scan_ids.push_back(answer.value("scan_id", std::int64_t{-1}));
            }
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(30, 400)(rng)));
    server->kill(SIGKILL);
    stop = true;
    for (auto& t : clients) t.join();

    sqlite3* handle = nullptr;
    ASSERT_EQ(sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    EXPECT_EQ(column(handle, "PRAGMA integrity_check"), std::vector<std::string>{"ok"}) << "round " << round;
    EXPECT_TRUE(column(handle, "PRAGMA foreign_key_check").empty()) << "round " << round;
    const auto ids = column(handle, "SELECT id FROM scans");
    const auto sigs = column(handle, "SELECT name || '@' || version FROM signatures");
    sqlite3_close(handle);
    std::lock_guard lock(acked.mutex);
    for (std::int64_t id : acked.scan_ids)
      EXPECT_NE(std::find(ids.begin(), ids.end(), std::to_string(id)), ids.end()) << "acknowledged scan " << id << " lost";
    for (const std::string& s : acked.signatures)
      EXPECT_NE(std::find(sigs.begin(), sigs.end(), s), sigs.end()) << "acknowledged signature " << s << " lost";
  }
  // The rounds did real work: scans and imports were acknowledged before the kills.
  EXPECT_GT(acked.scan_ids.size(), 0u);
  EXPECT_GT(acked.signatures.size(), 0u);
  // And the store still serves: a fresh server reports on a host.
  ServerProcess server(db, dir / "server.log");
  httplib::Client client("127.0.0.1", server.port());
  client.set_bearer_token_auth(admin.c_str());
  auto report = client.Get("/api/v1/hosts/h1/report");
  ASSERT_TRUE(report);
  EXPECT_EQ(report->status, 200) << report->body;
  fs::remove_all(dir);
}

}  // namespace
