// A fresh PostgreSQL schema per test, on the server TB_TEST_POSTGRES_URL names, dropped
// (with everything in it) when the test ends. scripts/test.sh starts a local server and
// sets the variable (scripts/start-postgres.sh); without it the PostgreSQL cases skip.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <pqxx/pqxx>

#include <atomic>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>

namespace tb::test {

inline constexpr const char* kPostgresSkipMessage =
    "PostgreSQL cases skipped: set TB_TEST_POSTGRES_URL=postgresql://USER:PASSWORD@127.0.0.1:5432/DB "
    "(`export TB_TEST_POSTGRES_URL=$(bash scripts/start-postgres.sh)` starts a local server and prints one)";

// The store tests that run on both backends are parameterised by this.
enum class Backend { sqlite, postgres };
inline std::string backend_name(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::sqlite ? "SQLite" : "PostgreSQL";
}

inline std::optional<std::string> postgres_test_server() {
  const char* url = std::getenv("TB_TEST_POSTGRES_URL");
  if (url == nullptr || *url == '\0') return std::nullopt;
  return std::string(url);
}

class PostgresTestSchema {
 public:
  // Creates the schema; check ok() (a failure has been reported with ADD_FAILURE).
  explicit PostgresTestSchema(std::string server) : server_(std::move(server)) {
    static std::atomic<unsigned> counter{0};
    std::random_device random;
    name_ = "tb_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" + std::to_string(random() % 100000);
    try {
      pqxx::connection c(server_);
      pqxx::work tx(c);
      tx.exec("CREATE SCHEMA " + tx.quote_name(name_));
      tx.commit();
      ok_ = true;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cannot create a test schema on TB_TEST_POSTGRES_URL: " << e.what();
    }
  }
  ~PostgresTestSchema() {
    if (!ok_) return;
    try {
      pqxx::connection c(server_);
      pqxx::work tx(c);
      tx.exec("DROP SCHEMA " + tx.quote_name(name_) + " CASCADE");
      tx.commit();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "cannot drop test schema " << name_ << ": " << e.what();
    }
  }
  PostgresTestSchema(const PostgresTestSchema&) = delete;
  PostgresTestSchema& operator=(const PostgresTestSchema&) = delete;

  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  // The server's URL with this schema first on the search path: a store opened with it
  // lives in the schema.
  std::string url() const {
    return server_ + (server_.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + name_;
  }
  // Runs one SQL statement in the schema (test set-up, checks).
  pqxx::result exec(const std::string& sql) const {
    pqxx::connection c(url());
    pqxx::work tx(c);
    auto r = tx.exec(sql);
    tx.commit();
    return r;
  }

 private:
  std::string server_;
  std::string name_;
  bool ok_ = false;
};

}  // namespace tb::test
