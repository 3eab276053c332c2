// Enrolment in the SQLite store: the first scan and the host token in one transaction,
// refused while the host has a live host token; migration 5 (the 'enrol' role) keeps
// every token of an older store; find_signature for idempotent imports.
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "core/sha256.h"
#include "store/sqlite_store.h"
#include "format/manifest_chunks.h"

namespace tb {
namespace {

ScanDocument small_scan(const std::string& content) {
  FileRecord dir;
  dir.path = "/opt";
  dir.type = FileType::directory;
  FileRecord file;
  file.path = "/opt/app";
  file.type = FileType::file;
  file.present = Attr::type | Attr::size | Attr::sha256;
  file.size = content.size();
  file.sha256 = Sha256::of(content);
  ScanDocument doc;
  doc.header.roots = {"/opt"};
  doc.header.host.hostname = "whatever";
  doc.manifest = *Manifest::from_records({dir, file});
  return doc;
}

class EnrolStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tb-enrol-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    open();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void open() {
    store_.reset();
    auto s = open_sqlite_store((dir_ / "store.db").string());
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }
  // Runs SQL on the database file directly (the store closed); SQLite's result code.
  int sql(const std::string& text) {
    store_.reset();
    sqlite3* db = nullptr;
    if (sqlite3_open((dir_ / "store.db").c_str(), &db) != SQLITE_OK) return -1;
    const int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(db);
    return rc;
  }
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(EnrolStoreTest, FirstEnrolmentStoresTheScanAndMintsAHostToken) {
  auto enrolled = store_->enrol_host("web7", small_scan("v1"));
  ASSERT_TRUE(enrolled) << enrolled.error().message;
  ASSERT_TRUE(*enrolled);
  const Enrolment& e = **enrolled;
  EXPECT_EQ(e.token_name, "enrolled:web7");
  EXPECT_EQ(e.token.rfind("tb_", 0), 0u);
  EXPECT_EQ(e.token.size(), 67u);
  auto latest = store_->latest_scan("web7");
  ASSERT_TRUE(latest && *latest);
  EXPECT_EQ(**latest, e.scan_id);

  auto token = store_->find_token(e.token);
  ASSERT_TRUE(token && *token);
  EXPECT_EQ((*token)->role, TokenRole::host);
  EXPECT_EQ((*token)->host, std::optional<std::string>("web7"));
}

TEST_F(EnrolStoreTest, ASecondEnrolmentIsRefusedAndWritesNothing) {
  ASSERT_TRUE(*store_->enrol_host("web7", small_scan("v1")));
  const auto before = store_->stats();
  auto again = store_->enrol_host("web7", small_scan("something else"));
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(*again);
  const auto after = store_->stats();
  EXPECT_EQ(before->scans, after->scans);
  EXPECT_EQ(before->manifests, after->manifests);

  // An admin-made host token counts too: the host is enrolled.
  ASSERT_TRUE(store_->add_token("db1-agent", TokenRole::host, "db1"));
  auto claimed = store_->enrol_host("db1", small_scan("v1"));
  ASSERT_TRUE(claimed);
  EXPECT_FALSE(*claimed);
}

TEST_F(EnrolStoreTest, RevokingTheHostTokenAllowsEnrollingAgain) {
  ASSERT_TRUE(*store_->enrol_host("web7", small_scan("v1")));
  ASSERT_TRUE(store_->revoke_token("enrolled:web7"));
  auto again = store_->enrol_host("web7", small_scan("v2"));
  ASSERT_TRUE(again && *again);
  EXPECT_EQ((*again)->token_name, "enrolled:web7#2");
  EXPECT_EQ(store_->list_scans("web7")->size(), 2u);
}

TEST_F(EnrolStoreTest, EnrolTokensAreARole) {
  auto t = store_->add_token("bootstrap", TokenRole::enrol, std::nullopt);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ((*store_->find_token(*t))->role, TokenRole::enrol);
  EXPECT_EQ(store_->add_token("bound", TokenRole::enrol, "web1").error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(token_role_from_string("enrol"), TokenRole::enrol);
  EXPECT_EQ(to_string(TokenRole::enrol), "enrol");
}

// A store from before migration 5: the tokens table with the old CHECK. Reopening it
// rebuilds the table, keeping every row (ids, hashes, revocations) as it was.
TEST_F(EnrolStoreTest, MigrationFiveKeepsEveryToken) {
  auto admin = store_->add_token("adm", TokenRole::admin, std::nullopt);
  auto host = store_->add_token("web1-agent", TokenRole::host, "web1");
  auto gone = store_->add_token("old", TokenRole::reader, std::nullopt);
  ASSERT_TRUE(admin && host && gone);
  ASSERT_TRUE(store_->revoke_token("old"));
  const auto admin_id = (*store_->find_token(*admin))->id;
  ASSERT_EQ(sql(R"sql(
    CREATE TABLE tokens_old (
      id           INTEGER PRIMARY KEY,
      name         TEXT NOT NULL UNIQUE CHECK (length(name) > 0),
      role         TEXT NOT NULL CHECK (role IN ('admin', 'host', 'reader')),
      host         TEXT CHECK (host IS NULL OR (role = 'host' AND length(host) > 0)),
      token_sha256 BLOB NOT NULL UNIQUE CHECK (length(token_sha256) = 32),
      created_ns   INTEGER NOT NULL,
      revoked      INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)));
    INSERT INTO tokens_old SELECT * FROM tokens;
    DROP TABLE tokens;
    ALTER TABLE tokens_old RENAME TO tokens;
    DELETE FROM schema_migrations WHERE version = 5;)sql"),
            SQLITE_OK);
  // The old CHECK is really there: it refuses the new role.
  EXPECT_EQ(sql("INSERT INTO tokens(name, role, token_sha256, created_ns) VALUES ('x', 'enrol', zeroblob(32), 1)"),
            SQLITE_CONSTRAINT);
  open();

  auto found = store_->find_token(*admin);
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->id, admin_id);
  EXPECT_EQ((*store_->find_token(*host))->host, std::optional<std::string>("web1"));
  EXPECT_FALSE(*store_->find_token(*gone));  // still revoked
  EXPECT_TRUE(store_->add_token("bootstrap", TokenRole::enrol, std::nullopt));
}

TEST_F(EnrolStoreTest, FindSignature) {
  Signature sig;
  sig.info.ref = SignatureRef{"app", "1"};
  sig.manifest = small_scan("v1").manifest;
  auto id = store_->put_signature(sig);
  ASSERT_TRUE(id);
  auto found = store_->find_signature(SignatureRef{"app", "1"});
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->id, *id);
  EXPECT_EQ((*found)->manifest_digest, manifest_digest(sig.manifest));
  EXPECT_FALSE(*store_->find_signature(SignatureRef{"app", "2"}));
}

}  // namespace
}  // namespace tb
