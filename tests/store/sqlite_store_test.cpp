// The SQLite store: round trips, deduplication, atomicity, migrations, hostile input.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/test_records.h"
#include "store/sqlite_store.h"

namespace tb {
namespace {

namespace fs = std::filesystem;
using test::dir;
using test::file;
using test::symlink;

// A fresh directory per test, removed afterwards.
class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "tb-store-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "trustbase.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Store> open(SqliteStoreOptions options = {}) {
    auto s = open_sqlite_store(path_, options);
    if (!s) ADD_FAILURE() << s.error().message;
    return s ? std::move(*s) : nullptr;
  }

  fs::path dir_;
  std::string path_;
};

// Every file type, absent attributes, a non-UTF-8 path and an error list.
ScanDocument varied_scan() {
  ScanDocument doc;
  doc.header.scanner = "trustbase-scan 0.1.0";
  doc.header.host = HostFacts{"web-01", "debian", "12", "Debian GNU/Linux 12 (bookworm)", "6.1.0-18-amd64", "x86_64"};
  doc.header.roots = {"/", "/opt"};
  doc.header.excludes = {"*.log", "/proc"};
  doc.header.one_file_system = true;
  doc.header.skip_pseudo_fs = false;
  doc.header.started_ns = 1'700'000'000'123'456'789;
  std::vector<FileRecord> records = {dir("/"), dir("/etc"), file("/etc/passwd", "root:x:0:0"),
                                     symlink("/etc/localtime", "/usr/share/zoneinfo/UTC"),
                                     file("/etc/\xff\xfe-latin1-\xe9", "bytes")};
  FileRecord fifo = dir("/run/fifo");
  fifo.type = FileType::fifo;
  FileRecord dev = dir("/dev/sda");
  dev.type = FileType::block_device;
  dev.present = Attr::type | Attr::mode;  // absent size, owner, mtime
  FileRecord unhashed = file("/var/grows", "x");
  unhashed.present = AttrSet::from_bits(test::kFileAttrs.bits() & ~static_cast<std::uint16_t>(Attr::sha256));
  FileRecord old = file("/old", "x");
  old.mtime_ns = -1'000'000'007;  // before 1970
  for (auto t : {FileType::socket, FileType::char_device, FileType::unknown}) {
    FileRecord r = dir("/dev/t" + std::to_string(static_cast<int>(t)));
    r.type = t;
    records.push_back(r);
  }
  records.insert(records.end(), {fifo, dev, unhashed, old, dir("/run"), dir("/dev"), dir("/var")});
  doc.manifest = test::manifest(records);
  doc.errors = {{"/root", ScanErrorKind::open, 13, "Permission denied"},
                {"/var/grows", ScanErrorKind::changed, 0, "size changed while hashing"}};
  doc.summary = ScanSummary{1'700'000'005'000'000'000, 6, 5, 1, 5, 1234, 3, 1};
  return doc;
}

void expect_same(const ScanDocument& a, const ScanDocument& b) {
  EXPECT_EQ(a.header, b.header);
  EXPECT_EQ(a.manifest, b.manifest);
  EXPECT_EQ(a.manifest.digest(), b.manifest.digest());
  EXPECT_EQ(a.errors, b.errors);
  EXPECT_EQ(a.summary, b.summary);
}

// A tree like an installed system: `files` files, 20 per directory, package mtimes.
ScanDocument generated_scan(std::size_t files, std::int64_t started_ns = 1'700'000'000'000'000'000) {
  std::vector<FileRecord> records = {dir("/"), dir("/usr"), dir("/usr/lib")};
  for (std::size_t i = 0; i < files; ++i) {
    const std::string d = "/usr/lib/pkg" + std::to_string(i / 20);
    if (i % 20 == 0) records.push_back(dir(d));
    records.push_back(file(d + "/lib" + std::to_string(i) + ".so.1", "content " + std::to_string(i)));
  }
  ScanDocument doc;
  doc.header.host.hostname = "generated";
  doc.header.roots = {"/"};
  doc.header.started_ns = started_ns;
  doc.manifest = test::manifest(std::move(records));
  doc.summary.files = files;
  return doc;
}

StoreStats stats(Store& s) {
  auto st = s.stats();
  EXPECT_TRUE(st.has_value()) << st.error().message;
  return st ? *st : StoreStats{};
}

TEST_F(SqliteStoreTest, ScanRoundTripsExactly) {
  auto store = open();
  const ScanDocument doc = varied_scan();
  auto id = store->put_scan("web-01", doc);
  ASSERT_TRUE(id.has_value()) << id.error().message;
  auto back = store->get_scan(*id);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  expect_same(*back, doc);
}

TEST_F(SqliteStoreTest, MissingScanIsNotFound) {
  auto store = open();
  auto back = store->get_scan(42);
  ASSERT_FALSE(back.has_value());
  EXPECT_EQ(back.error().code, ErrorCode::not_found);
}

TEST_F(SqliteStoreTest, EmptyManifestRoundTrips) {
  auto store = open();
  ScanDocument doc;
  doc.header.host.hostname = "empty";
  auto id = store->put_scan("empty", doc);
  ASSERT_TRUE(id.has_value()) << id.error().message;
  auto back = store->get_scan(*id);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  expect_same(*back, doc);
}

TEST_F(SqliteStoreTest, ReopeningTheFileKeepsEverything) {
  const ScanDocument doc = varied_scan();
  std::int64_t id = 0;
  {
    auto store = open();
    id = *store->put_scan("web-01", doc);
  }
  auto store = open();
  auto back = store->get_scan(id);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  expect_same(*back, doc);
  EXPECT_EQ(stats(*store).scans, 1u);
}

TEST_F(SqliteStoreTest, IdenticalSecondHostCostsAlmostNothing) {
  auto store = open();
  const ScanDocument doc = generated_scan(20'000);
  ASSERT_TRUE(store->put_scan("host-1", doc).has_value());
  const StoreStats first = stats(*store);
  ASSERT_TRUE(store->put_scan("host-2", doc).has_value());
  const StoreStats second = stats(*store);
  EXPECT_EQ(second.manifests, first.manifests);
  EXPECT_EQ(second.chunks, first.chunks);
  EXPECT_EQ(second.records_stored, first.records_stored);
  EXPECT_EQ(second.scans, 2u);
  EXPECT_EQ(second.hosts, 2u);
  EXPECT_LT(second.database_bytes - first.database_bytes, first.database_bytes / 100)
      << "first host " << first.database_bytes << " bytes, second " << second.database_bytes - first.database_bytes;
}

TEST_F(SqliteStoreTest, ScanDifferingInOneDirectoryAddsOneChunk) {
  auto store = open();
  const ScanDocument doc = generated_scan(2'000);
  ASSERT_TRUE(store->put_scan("host-1", doc).has_value());
  const StoreStats first = stats(*store);

  std::vector<FileRecord> records(doc.manifest.begin(), doc.manifest.end());
  for (FileRecord& r : records)
    if (r.path == "/usr/lib/pkg7/lib141.so.1") r.sha256 = Sha256::of("patched");
  ScanDocument changed = doc;
  changed.manifest = test::manifest(std::move(records));
  auto id = store->put_scan("host-2", changed);
  ASSERT_TRUE(id.has_value()) << id.error().message;
  const StoreStats second = stats(*store);
  EXPECT_EQ(second.manifests, first.manifests + 1);
  EXPECT_EQ(second.chunks, first.chunks + 1);
  EXPECT_EQ(second.records_stored, first.records_stored + 20);
  expect_same(*store->get_scan(*id), changed);
}

TEST_F(SqliteStoreTest, LatestAndListFollowStartTimeThenId) {
  auto store = open();
  const auto a = *store->put_scan("h", generated_scan(10, 300));
  const auto b = *store->put_scan("h", generated_scan(11, 100));  // stored later, started earlier
  const auto c = *store->put_scan("h", generated_scan(12, 300));  // same start as a, stored later
  ASSERT_TRUE(store->put_scan("other", generated_scan(5, 999)).has_value());
  auto latest = store->latest_scan("h");
  ASSERT_TRUE(latest.has_value());
  EXPECT_EQ(*latest, c);
  auto list = store->list_scans("h");
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].id, b);
  EXPECT_EQ((*list)[1].id, a);
  EXPECT_EQ((*list)[2].id, c);
  EXPECT_EQ((*list)[0].records, generated_scan(11).manifest.size());
  EXPECT_EQ((*list)[0].manifest_digest, generated_scan(11).manifest.digest());
  EXPECT_EQ(*store->latest_scan("nobody"), std::nullopt);
  EXPECT_TRUE(store->list_scans("nobody")->empty());

  auto hosts = store->list_hosts();
  ASSERT_TRUE(hosts.has_value()) << hosts.error().message;
  ASSERT_EQ(hosts->size(), 2u);
  EXPECT_EQ((*hosts)[0].name, "h");
  EXPECT_EQ((*hosts)[0].scans, 3u);
  EXPECT_EQ((*hosts)[0].latest_scan_id, c) << "the same latest as latest_scan()";
  EXPECT_EQ((*hosts)[0].latest_started_ns, generated_scan(12, 300).header.started_ns);
  EXPECT_EQ((*hosts)[1].name, "other");
  EXPECT_EQ((*hosts)[1].scans, 1u);
}

Signature signature(std::string name, std::string version, std::string content) {
  Signature s;
  s.info.ref = {std::move(name), std::move(version)};
  s.info.vendor = "Acme";
  s.info.kind = SignatureKind::patch;
  s.info.patches = SignatureRef{"app", "1.0"};
  s.info.supersedes = {{"app-p1", "1"}, {"we@ird", "2"}};
  s.info.install_root = "/opt/app";
  s.info.source = "app-p2.tar.gz";
  s.info.source_sha256 = Sha256::of("package");
  FileRecord f = file("/opt/app/bin/app", content);
  f.present = Attr::type | Attr::size | Attr::mode | Attr::sha256;  // a package knows no mtime/owner
  s.manifest = test::manifest({f, dir("/opt/app/bin")});
  return s;
}

TEST_F(SqliteStoreTest, SignaturesRoundTripAndPutIsIdempotent) {
  auto store = open();
  const Signature p = signature("app-p2", "2", "v2");
  Signature product = signature("app", "1.0", "v1");
  product.info.kind = SignatureKind::product;
  product.info.patches.reset();
  product.info.supersedes.clear();
  product.info.source_sha256.reset();
  auto id1 = store->put_signature(p);
  ASSERT_TRUE(id1.has_value()) << id1.error().message;
  ASSERT_TRUE(store->put_signature(product).has_value());
  auto again = store->put_signature(p);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *id1);
  auto all = store->signatures();
  ASSERT_TRUE(all.has_value()) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].info, p.info);
  EXPECT_EQ((*all)[0].manifest, p.manifest);
  EXPECT_EQ((*all)[1].info, product.info);
  EXPECT_EQ(stats(*store).signatures, 2u);
}

TEST_F(SqliteStoreTest, SameSignatureWithDifferentFilesIsRefused) {
  auto store = open();
  ASSERT_TRUE(store->put_signature(signature("app-p2", "2", "v2")).has_value());
  auto r = store->put_signature(signature("app-p2", "2", "tampered"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(r.error().message.find("app-p2@2"), std::string::npos) << r.error().message;
  EXPECT_EQ(stats(*store).manifests, 1u);
}

TEST_F(SqliteStoreTest, FailedPutScanLeavesNoPartialRows) {
  auto store = open();
  const ScanDocument good = varied_scan();
  const auto id = *store->put_scan("web-01", good);
  const StoreStats before = stats(*store);
  // A new host and a new manifest, but a summary the scans table's CHECK refuses: the
  // host, manifest and chunk rows are written first, the scan row last, so this fails
  // midway through the transaction.
  ScanDocument bad = generated_scan(500);
  bad.summary.errors = 1;
  bad.summary.errors_dropped = 2;
  auto r = store->put_scan("new-host", bad);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(r.error().message.find("scan_error_counts"), std::string::npos) << r.error().message;
  const StoreStats after = stats(*store);
  EXPECT_EQ(after.hosts, before.hosts);
  EXPECT_EQ(after.scans, before.scans);
  EXPECT_EQ(after.manifests, before.manifests);
  EXPECT_EQ(after.chunks, before.chunks);
  EXPECT_EQ(*store->latest_scan("new-host"), std::nullopt);
  expect_same(*store->get_scan(id), good);
}

TEST_F(SqliteStoreTest, WriterLockedOutPastBusyTimeoutFailsCleanly) {
  SqliteStoreOptions options;
  options.busy_timeout_ms = 50;
  auto store = open(options);
  ASSERT_TRUE(store->put_scan("a", generated_scan(10)).has_value());
  const StoreStats before = stats(*store);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto r = store->put_scan("b", generated_scan(100));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::io);
  EXPECT_NE(r.error().message.find("locked"), std::string::npos) << r.error().message;
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_EQ(stats(*store).scans, before.scans);
  EXPECT_TRUE(store->put_scan("b", generated_scan(100)).has_value());  // and it recovers
}

TEST_F(SqliteStoreTest, FutureSchemaVersionIsRefused) {
  open();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (99, 'from the future', 0)", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = open_sqlite_store(path_);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(s.error().message.find("schema version 99"), std::string::npos) << s.error().message;
}

TEST_F(SqliteStoreTest, SchemaMigrationsAreRecorded) {
  open();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_migrations", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), sqlite_store_schema_version());
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  EXPECT_NE(open(), nullptr);  // reopening applies nothing and succeeds
}

TEST_F(SqliteStoreTest, RandomBytesAreAClearErrorNotACrash) {
  std::mt19937_64 rng(1);
  std::string junk(64 * 1024, '\0');
  for (char& c : junk) c = static_cast<char>(rng());
  std::ofstream(path_, std::ios::binary) << junk;
  auto s = open_sqlite_store(path_);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::parse);
  EXPECT_NE(s.error().message.find(path_), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("not a database"), std::string::npos) << s.error().message;
}

TEST_F(SqliteStoreTest, InjectionLookingNamesAndPathsAreStoredVerbatim) {
  auto store = open();
  const std::string host = "x'); DROP TABLE scans; --";
  ScanDocument doc = varied_scan();
  doc.header.host.hostname = host;
  doc.header.excludes = {"'; DELETE FROM chunks; --"};
  std::vector<FileRecord> records(doc.manifest.begin(), doc.manifest.end());
  records.push_back(file("/etc/'; DROP TABLE hosts; --", "x"));
  records.push_back(symlink("/etc/\"quoted\" name", "'); --"));
  doc.manifest = test::manifest(std::move(records));
  auto id = store->put_scan(host, doc);
  ASSERT_TRUE(id.has_value()) << id.error().message;
  expect_same(*store->get_scan(*id), doc);
  EXPECT_EQ(*store->latest_scan(host), *id);
  EXPECT_EQ(stats(*store).hosts, 1u);
}

}  // namespace
}  // namespace tb
