// API tokens in the SQLite store: shown once, kept only as SHA-256, found by value.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "store/sqlite_store.h"

namespace tb {
namespace {

class TokenStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tb-tokens-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto s = open_sqlite_store((dir_ / "store.db").string());
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(TokenStoreTest, AddFindRevoke) {
  auto admin = store_->add_token("adm", TokenRole::admin, std::nullopt);
  ASSERT_TRUE(admin) << admin.error().message;
  auto host = store_->add_token("web1", TokenRole::host, "web1");
  ASSERT_TRUE(host);
  EXPECT_NE(*admin, *host);
  EXPECT_EQ(admin->rfind("tb_", 0), 0u);
  EXPECT_EQ(admin->size(), 67u);

  auto found = store_->find_token(*host);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->name, "web1");
  EXPECT_EQ((*found)->role, TokenRole::host);
  EXPECT_EQ((*found)->host, std::optional<std::string>("web1"));
  EXPECT_GT((*found)->created_ns, 0);
  auto none = store_->find_token(*host + "x");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);

  ASSERT_TRUE(store_->revoke_token("web1"));
  EXPECT_FALSE(*store_->find_token(*host));
  EXPECT_EQ(store_->revoke_token("web1").error().code, ErrorCode::not_found);
  EXPECT_TRUE(*store_->find_token(*admin));
}

TEST_F(TokenStoreTest, RefusesDuplicatesAndBadBindings) {
  ASSERT_TRUE(store_->add_token("a", TokenRole::reader, std::nullopt));
  EXPECT_EQ(store_->add_token("a", TokenRole::reader, std::nullopt).error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(store_->add_token("", TokenRole::reader, std::nullopt).error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(store_->add_token("b", TokenRole::reader, "web1").error().code, ErrorCode::invalid_argument);
}

TEST_F(TokenStoreTest, OnlyTheHashIsStored) {
  auto token = store_->add_token("a", TokenRole::admin, std::nullopt);
  ASSERT_TRUE(token);
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "store.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT hex(token_sha256), length(token_sha256) FROM tokens", -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 1), 32);
  EXPECT_GE(sqlite_store_schema_version(), 5);  // 5: enrol tokens
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  // Nothing of the plain token anywhere in the file.
  std::FILE* f = std::fopen((dir_ / "store.db").c_str(), "rb");
  ASSERT_NE(f, nullptr);
  std::string bytes;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) bytes.append(buf, n);
  std::fclose(f);
  EXPECT_EQ(bytes.find(token->substr(3, 32)), std::string::npos);
}

}  // namespace
}  // namespace tb
