// The store, on both backends: round trips, deduplication, atomicity, hostile input (the
// StoreTest cases run against SQLite and PostgreSQL); SQLite's file handling, locking and
// migrations, and PostgreSQL's schema versions, concurrent writers and URLs.
#include "store/sqlite_store.h"

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "core/test_records.h"
#include "format/manifest_chunks.h"
#include "store/chunk_codec.h"
#include "store/open_store.h"
#include "store/pg_store.h"
#include "store/pg_test_db.h"
#include "store/postgres_store.h"

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

using test::Backend;
using test::backend_name;

// A fresh store per test: an SQLite file in a temporary directory, or a PostgreSQL schema
// (store/pg_test_db.h; skipped without TB_TEST_POSTGRES_URL).
class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::postgres) {
      auto server = test::postgres_test_server();
      if (!server) GTEST_SKIP() << test::kPostgresSkipMessage;
      pg_.emplace(*server);
      ASSERT_TRUE(pg_->ok());
      return;
    }
    std::string tmpl = (fs::temp_directory_path() / "tb-store-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    pg_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  std::string spec() const { return pg_ ? pg_->url() : (dir_ / "trustbase.db").string(); }
  // Runs SQL on the store's database directly (a test rewriting what an older release wrote).
  void sql(const std::string& text) {
    if (pg_) {
      pg_->exec(text);
      return;
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(spec().c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, text.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }
  std::unique_ptr<Store> open() {
    auto s = open_store(spec());
    if (!s) ADD_FAILURE() << s.error().message;
    return s ? std::move(*s) : nullptr;
  }
  // Every manifest's chunk_ids column, by manifest id.
  std::map<std::int64_t, std::string> chunk_lists() {
    std::map<std::int64_t, std::string> lists;
    if (pg_) {
      for (const auto& row : pg_->exec("SELECT id, encode(chunk_ids, 'hex') FROM manifests")) {
        std::string bytes;
        const std::string hex = row[1].as<std::string>();
        for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
          bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
        lists[row[0].as<std::int64_t>()] = bytes;
      }
      return lists;
    }
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(spec().c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, "SELECT id, chunk_ids FROM manifests", -1, &stmt, nullptr), SQLITE_OK);
    while (sqlite3_step(stmt) == SQLITE_ROW)
      lists[sqlite3_column_int64(stmt, 0)] = std::string(static_cast<const char*>(sqlite3_column_blob(stmt, 1)),
                                                         static_cast<std::size_t>(sqlite3_column_bytes(stmt, 1)));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return lists;
  }
  // The store as schema 10 left it (a release before migrations 11 and 12): each manifest's
  // chunk list as rows of manifest_chunks.
  void back_to_schema_10() {
    std::string text = pg_ ? "CREATE TABLE manifest_chunks (manifest_id bigint NOT NULL REFERENCES manifests(id),"
                             " seq bigint NOT NULL CHECK (seq >= 0), chunk_id bigint NOT NULL REFERENCES chunks(id),"
                             " PRIMARY KEY (manifest_id, seq));"
                           : "CREATE TABLE manifest_chunks (manifest_id INTEGER NOT NULL REFERENCES manifests(id),"
                             " seq INTEGER NOT NULL CHECK (seq >= 0), chunk_id INTEGER NOT NULL REFERENCES chunks(id),"
                             " PRIMARY KEY (manifest_id, seq)) WITHOUT ROWID;";
    for (const auto& [manifest, list] : chunk_lists()) {
      auto ids = store::decode_chunk_ids(list);
      ASSERT_TRUE(ids.has_value());
      for (std::size_t seq = 0; seq < ids->size(); ++seq)
        text += "INSERT INTO manifest_chunks VALUES (" + std::to_string(manifest) + ", " + std::to_string(seq) + ", " +
                std::to_string((*ids)[seq]) + ");";
    }
    if (pg_)
      text += "DROP FUNCTION put_scan; DROP FUNCTION stored_chunks; DROP INDEX chunks_digest_hash;";  // migration 13's
    text += "ALTER TABLE manifests DROP COLUMN chunk_ids; DELETE FROM schema_migrations WHERE version IN (11, 12, 13);";
    sql(text);
  }

  fs::path dir_;
  std::optional<test::PostgresTestSchema> pg_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values(Backend::sqlite, Backend::postgres), backend_name);

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
  EXPECT_EQ(manifest_digest(a.manifest), manifest_digest(b.manifest));
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

TEST_P(StoreTest, ScanRoundTripsExactly) {
  auto store = open();
  const ScanDocument doc = varied_scan();
  auto id = store->put_scan("web-01", doc);
  ASSERT_TRUE(id.has_value()) << id.error().message;
  auto back = store->get_scan(*id);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  expect_same(*back, doc);
}

// Chunked uploads name chunks by digest (format/chunked_scan.h): the store gives back
// exactly the chunks a stored scan was split into, in the order asked, and nothing for
// digests it does not hold.
TEST_P(StoreTest, FindChunksGivesBackTheChunksOfStoredScans) {
  auto store = open();
  const ScanDocument doc = varied_scan();
  ASSERT_TRUE(store->put_scan("web-01", doc));
  ChunkBuilder builder;
  for (const FileRecord& r : doc.manifest) ASSERT_TRUE(builder.add(r));
  std::vector<EncodedChunk> chunks = builder.finish();
  ASSERT_GE(chunks.size(), 2u);
  std::vector<Sha256Digest> asked;
  asked.push_back(Sha256::of("not a chunk"));
  for (const EncodedChunk& c : chunks) asked.push_back(c.digest);
  asked.push_back(chunks[0].digest);  // asked twice: given twice
  auto found = store->find_chunks(asked);
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_EQ(found->size(), asked.size());
  EXPECT_FALSE((*found)[0].has_value());
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    ASSERT_TRUE((*found)[i + 1].has_value()) << "chunk " << i;
    EXPECT_EQ(*(*found)[i + 1], chunks[i].data);
  }
  EXPECT_EQ((*found).back(), std::optional<std::string>(chunks[0].data));
  auto none = store->find_chunks({});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto held = store->has_chunks(asked);
  ASSERT_TRUE(held) << held.error().message;
  ASSERT_EQ(held->size(), asked.size());
  for (std::size_t i = 0; i < asked.size(); ++i) EXPECT_EQ((*held)[i], (*found)[i].has_value()) << i;
}

// A manifest's chunks as a chunked upload delivers them (format/chunked_scan.h
// AssembledScan::chunks): its split, in order, with the encoding of those in `send`
// (`encoded` keeps the bytes the refs point at).
std::vector<ManifestChunkRef> upload_chunks(const Manifest& manifest, std::vector<std::string>& encoded,
                                            const std::function<bool(std::size_t)>& send) {
  const auto split = split_into_chunks(manifest);
  encoded.assign(split.size(), {});
  std::vector<ManifestChunkRef> refs;
  for (std::size_t i = 0; i < split.size(); ++i) {
    encode_chunk(split[i], encoded[i]);
    refs.push_back(ManifestChunkRef{Sha256::of(encoded[i]), split[i].records.size(),
                                    send(i) ? std::string_view(encoded[i]) : std::string_view()});
  }
  return refs;
}

// Chunked uploads hand the store the manifest's chunks with their digests: the manifest
// is found by its chunk list or stored from those chunks, and is the same manifest a
// document upload of the same files stores (found both ways, whichever came first).
TEST_P(StoreTest, ChunkedUploadsStoreTheSameManifestsAsDocuments) {
  auto store = open();
  const ScanDocument doc = varied_scan();
  std::vector<std::string> encoded;
  const auto all_sent = upload_chunks(doc.manifest, encoded, [](std::size_t) { return true; });
  auto first = store->put_scan("h1", doc, all_sent);
  ASSERT_TRUE(first) << first.error().message;
  expect_same(*store->get_scan(*first), doc);
  EXPECT_EQ(stats(*store).chunks, all_sent.size());
  ASSERT_TRUE(store->put_scan("h2", doc));  // as a document: the same manifest
  const auto named = upload_chunks(doc.manifest, encoded, [](std::size_t) { return false; });
  ASSERT_TRUE(store->put_scan("h3", doc, named));  // by digests alone: found by its chunk list
  EXPECT_EQ(stats(*store).manifests, 1u);
  EXPECT_EQ(stats(*store).chunks, all_sent.size());

  // The other way round: a document first, then its chunks by digest.
  const ScanDocument generated = generated_scan(300);
  ASSERT_TRUE(store->put_scan("h4", generated));
  const StoreStats before = stats(*store);
  auto by_digest = store->put_scan("h5", generated, upload_chunks(generated.manifest, encoded, [](std::size_t) { return false; }));
  ASSERT_TRUE(by_digest) << by_digest.error().message;
  EXPECT_EQ(stats(*store).manifests, before.manifests);
  EXPECT_EQ(stats(*store).chunks, before.chunks);

  // One directory changed: its chunk is sent, the others named.
  std::vector<FileRecord> records(generated.manifest.begin(), generated.manifest.end());
  for (FileRecord& r : records)
    if (r.path == "/usr/lib/pkg7/lib141.so.1") r.sha256 = Sha256::of("patched");
  ScanDocument changed = generated;
  changed.manifest = test::manifest(std::move(records));
  const auto split = split_into_chunks(changed.manifest);
  const auto refs = upload_chunks(changed.manifest, encoded, [&](std::size_t i) { return split[i].dir == "/usr/lib/pkg7"; });
  auto id = store->put_scan("h6", changed, refs);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(stats(*store).manifests, before.manifests + 1);
  EXPECT_EQ(stats(*store).chunks, before.chunks + 1);
  expect_same(*store->get_scan(*id), changed);
}

// A server that only stores and judges a chunked scan gives the chunks alone (an empty
// scan.manifest): the manifest is stored from them with its record count, reads back
// whole, and equals a document's; a chunk named without data that the store lacks is
// not_found and nothing is written.
TEST_P(StoreTest, ChunksAloneStoreTheManifest) {
  auto store = open();
  const ScanDocument doc = generated_scan(400);
  ScanDocument header_only = doc;
  header_only.manifest = Manifest();
  std::vector<std::string> encoded;
  const auto sent = upload_chunks(doc.manifest, encoded, [](std::size_t i) { return i % 2 == 0; });

  // Half of them named, none stored yet: refused, nothing written.
  auto refused = store->put_scan("h1", header_only, sent);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::not_found) << refused.error().message;
  EXPECT_EQ(stats(*store).scans, 0u);
  EXPECT_EQ(stats(*store).manifests, 0u);
  EXPECT_EQ(stats(*store).chunks, 0u);
  EXPECT_EQ(stats(*store).hosts, 0u);

  const auto all_sent = upload_chunks(doc.manifest, encoded, [](std::size_t) { return true; });
  auto id = store->put_scan("h1", header_only, all_sent);
  ASSERT_TRUE(id) << id.error().message;
  auto back = store->get_scan(*id);
  ASSERT_TRUE(back) << back.error().message;
  expect_same(*back, doc);
  auto listed = store->list_scans("h1");
  ASSERT_TRUE(listed && listed->size() == 1);
  EXPECT_EQ((*listed)[0].manifest_digest, manifest_digest(doc.manifest));
  EXPECT_EQ((*listed)[0].records, doc.manifest.size());
  ASSERT_TRUE(store->put_scan("h2", doc));  // the same manifest as a document's
  EXPECT_EQ(stats(*store).manifests, 1u);
}

// A scan of a manifest the store holds, named by its chunk list: the scan's row alone,
// with that manifest; an unknown list writes nothing.
TEST_P(StoreTest, AScanOfAStoredManifestIsStoredByItsChunkList) {
  auto store = open();
  const ScanDocument doc = generated_scan(120);
  std::vector<std::string> encoded;
  const auto refs = upload_chunks(doc.manifest, encoded, [](std::size_t) { return true; });
  std::vector<Sha256Digest> digests;
  for (const ManifestChunkRef& r : refs) digests.push_back(r.digest);
  ScanDocument header_only = doc;
  header_only.manifest = Manifest();
  header_only.header.started_ns += 1000;

  auto unknown = store->put_scan_of_manifest("h1", header_only, chunk_list_digest(digests));
  ASSERT_TRUE(unknown) << unknown.error().message;
  EXPECT_FALSE(*unknown);
  EXPECT_EQ(stats(*store).scans, 0u);
  EXPECT_EQ(stats(*store).hosts, 0u) << "nothing written, not even the host";

  ASSERT_TRUE(store->put_scan("h1", doc, refs));
  const StoreStats before = stats(*store);
  auto id = store->put_scan_of_manifest("h2", header_only, chunk_list_digest(digests));
  ASSERT_TRUE(id) << id.error().message;
  ASSERT_TRUE(*id);
  const StoreStats after = stats(*store);
  EXPECT_EQ(after.scans, before.scans + 1);
  EXPECT_EQ(after.manifests, before.manifests);
  EXPECT_EQ(after.chunks, before.chunks);
  auto back = store->get_scan(**id);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->manifest, doc.manifest);
  EXPECT_EQ(back->header, header_only.header);
  auto latest = store->latest_scan("h2");
  ASSERT_TRUE(latest && *latest);
  EXPECT_EQ(**latest, **id);
}

// A chunk named by digest that the store does not hold (it never deletes one, but a
// store is a disk) is encoded from the manifest; a list that is not the manifest's split
// is refused and stores nothing.
TEST_P(StoreTest, ChunkedPutScanCopesWithAChunkTheStoreLacks) {
  auto store = open();
  const ScanDocument doc = generated_scan(100);
  std::vector<std::string> encoded;
  const auto named = upload_chunks(doc.manifest, encoded, [](std::size_t) { return false; });
  auto id = store->put_scan("h1", doc, named);
  ASSERT_TRUE(id) << id.error().message;
  expect_same(*store->get_scan(*id), doc);
  std::vector<Sha256Digest> digests;
  for (const ManifestChunkRef& r : named) digests.push_back(r.digest);
  auto held = store->has_chunks(digests);
  ASSERT_TRUE(held);
  EXPECT_EQ(std::count(held->begin(), held->end(), true), static_cast<std::ptrdiff_t>(digests.size()));

  const ScanDocument unstored = generated_scan(120), other = generated_scan(140);
  std::vector<std::string> other_encoded;
  const auto wrong = upload_chunks(other.manifest, other_encoded, [](std::size_t) { return false; });
  const StoreStats before = stats(*store);
  auto refused = store->put_scan("h2", unstored, wrong);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::internal) << refused.error().message;
  const StoreStats after = stats(*store);
  EXPECT_EQ(after.scans, before.scans);
  EXPECT_EQ(after.manifests, before.manifests);
  EXPECT_EQ(after.chunks, before.chunks);
}

// Migration 10: manifests stored when a manifest's digest was a hash over its records (and
// before migration 9 named them by chunk list) get their chunk list's digest: they read back
// (get_scan checks it), the same files uploaded again, as a document or as chunks, find them,
// and listings show the new digest.
TEST_P(StoreTest, MigrationTenRenamesStoredManifestsByTheirChunkList) {
  const ScanDocument doc = generated_scan(300);
  ScanDocument empty;
  empty.header.host.hostname = "empty";
  std::int64_t id = 0, empty_id = 0;
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    auto a = store->put_scan("h1", doc);
    auto b = store->put_scan("empty", empty);
    ASSERT_TRUE(a && b);
    id = *a;
    empty_id = *b;
  }
  // Back to schema 9 with other digests, as a store of the previous release holds them.
  back_to_schema_10();
  const std::string column = pg_ ? "bytea" : "BLOB";
  const std::string old_digests =
      pg_ ? "UPDATE manifests SET digest = sha256(digest || '\\x7631'::bytea)" : "UPDATE manifests SET digest = randomblob(32)";
  sql("ALTER TABLE manifests ADD COLUMN chunks_digest " + column +
      " CHECK (chunks_digest IS NULL OR length(chunks_digest) = 32);"
      " CREATE UNIQUE INDEX manifests_chunks_digest ON manifests(chunks_digest); " +
      old_digests + "; DELETE FROM schema_migrations WHERE version = 10;");

  auto store = open();
  ASSERT_NE(store, nullptr);
  auto back = store->get_scan(id);
  ASSERT_TRUE(back) << back.error().message;
  expect_same(*back, doc);
  auto empty_back = store->get_scan(empty_id);
  ASSERT_TRUE(empty_back) << empty_back.error().message;
  EXPECT_TRUE(empty_back->manifest.empty());
  auto listed = store->list_scans("h1");
  ASSERT_TRUE(listed && listed->size() == 1);
  EXPECT_EQ((*listed)[0].manifest_digest, manifest_digest(doc.manifest));

  std::vector<std::string> encoded;
  const auto named = upload_chunks(doc.manifest, encoded, [](std::size_t) { return false; });
  ASSERT_TRUE(store->put_scan("h2", doc));
  ASSERT_TRUE(store->put_scan("h3", doc, named));
  ASSERT_TRUE(store->put_scan("empty", empty));
  EXPECT_EQ(stats(*store).manifests, 2u);
  EXPECT_EQ(stats(*store).scans, 5u);
}

// Migrations 11 and 12: a store whose manifests list their chunks as manifest_chunks rows
// gets the same lists in manifests.chunk_ids, the rows go, and everything reads back and is
// found again by its chunk list.
TEST_P(StoreTest, MigrationTwelveFoldsChunkRowsIntoTheManifest) {
  const ScanDocument doc = generated_scan(300);
  const ScanDocument other = generated_scan(40);
  ScanDocument empty;
  empty.header.host.hostname = "empty";
  std::int64_t ids[3] = {};
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    std::vector<std::string> encoded;
    const auto named = upload_chunks(doc.manifest, encoded, [](std::size_t) { return true; });
    auto a = store->put_scan("h1", doc, named);
    auto b = store->put_scan("h2", other);
    auto c = store->put_scan("empty", empty);
    ASSERT_TRUE(a && b && c);
    ids[0] = *a;
    ids[1] = *b;
    ids[2] = *c;
  }
  const std::map<std::int64_t, std::string> lists = chunk_lists();
  ASSERT_EQ(lists.size(), 3u);
  std::size_t listed = 0;
  for (const auto& [manifest, list] : lists) listed += list.size() / 8;
  EXPECT_GT(listed, 2u);
  back_to_schema_10();

  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(chunk_lists(), lists);
  const ScanDocument* docs[3] = {&doc, &other, &empty};
  for (int i = 0; i < 3; ++i) {
    auto back = store->get_scan(ids[i]);
    ASSERT_TRUE(back) << back.error().message;
    expect_same(*back, *docs[i]);
  }
  std::vector<std::string> encoded;
  const auto named = upload_chunks(doc.manifest, encoded, [](std::size_t) { return false; });
  ASSERT_TRUE(store->put_scan("h3", doc, named));
  ASSERT_TRUE(store->put_scan("h4", other));
  EXPECT_EQ(stats(*store).manifests, 3u);
  EXPECT_EQ(stats(*store).scans, 5u);
  sql("CREATE TABLE manifest_chunks (unused INTEGER)");  // succeeds: the old table is gone
}

// A manifest naming a chunk that is not in the store (a damaged disk, a hand edit) reads
// back as a corrupt store, never as a shorter manifest.
TEST_P(StoreTest, AManifestNamingAMissingChunkIsACorruptStore) {
  const ScanDocument doc = generated_scan(100);
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto id = store->put_scan("h1", doc);
  ASSERT_TRUE(id);
  sql(pg_ ? "UPDATE manifests SET chunk_ids = chunk_ids || '\\x00000000000f423f'::bytea"
          : "UPDATE manifests SET chunk_ids = chunk_ids || x'00000000000F423F'");
  auto back = store->get_scan(*id);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().code, ErrorCode::parse);
  EXPECT_NE(back.error().message.find("chunk 999999 of manifest"), std::string::npos) << back.error().message;
}

TEST_P(StoreTest, MissingScanIsNotFound) {
  auto store = open();
  auto back = store->get_scan(42);
  ASSERT_FALSE(back.has_value());
  EXPECT_EQ(back.error().code, ErrorCode::not_found);
}

TEST_P(StoreTest, EmptyManifestRoundTrips) {
  auto store = open();
  ScanDocument doc;
  doc.header.host.hostname = "empty";
  auto id = store->put_scan("empty", doc);
  ASSERT_TRUE(id.has_value()) << id.error().message;
  auto back = store->get_scan(*id);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  expect_same(*back, doc);
}

TEST_P(StoreTest, ReopeningKeepsEverything) {
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

TEST_P(StoreTest, IdenticalSecondHostCostsAlmostNothing) {
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

TEST_P(StoreTest, ScanDifferingInOneDirectoryAddsOneChunk) {
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

TEST_P(StoreTest, LatestAndListFollowStartTimeThenId) {
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
  EXPECT_EQ((*list)[0].manifest_digest, manifest_digest(generated_scan(11).manifest));
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

TEST_P(StoreTest, SignaturesRoundTripAndPutIsIdempotent) {
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

TEST_P(StoreTest, SameSignatureWithDifferentFilesIsRefused) {
  auto store = open();
  ASSERT_TRUE(store->put_signature(signature("app-p2", "2", "v2")).has_value());
  auto r = store->put_signature(signature("app-p2", "2", "tampered"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(r.error().message.find("app-p2@2"), std::string::npos) << r.error().message;
  EXPECT_EQ(stats(*store).manifests, 1u);
}

// A release of "lib" whose relations follow the version order (versions compare as text
// here: the store does not know version orders, the linker it is given does).
Signature release(const std::string& version) {
  Signature s = signature("lib", version, "lib " + version);
  s.info.kind = SignatureKind::product;
  s.info.patches.reset();
  s.info.supersedes.clear();
  s.info.linked_by = VersionScheme::debian;
  return s;
}

// The first release by version is the product; every later linked one a patch of it.
void link_by_text(std::span<SignatureInfo> releases) {
  const SignatureInfo* oldest = nullptr;
  for (const SignatureInfo& r : releases)
    if (oldest == nullptr || r.ref.version < oldest->ref.version) oldest = &r;
  const SignatureRef base = oldest->ref;
  for (SignatureInfo& r : releases) {
    if (!r.linked_by) continue;
    r.kind = r.ref == base ? SignatureKind::product : SignatureKind::patch;
    r.patches = r.ref == base ? std::nullopt : std::optional<SignatureRef>(base);
  }
}

const SignatureInfo& info_of(const std::vector<SignatureInfo>& infos, const std::string& id) {
  for (const SignatureInfo& i : infos)
    if (i.ref.id() == id) return i;
  throw std::runtime_error("not stored: " + id);
}

TEST_P(StoreTest, AnOlderReleaseStoredLateReLinksTheNewerOnesInOneAuditedWrite) {
  auto store = open();
  Signature given = signature("lib", "9-given", "given");  // relations given: never re-linked
  given.info.kind = SignatureKind::product;
  given.info.patches.reset();
  given.info.supersedes.clear();
  ASSERT_TRUE(store->put_signature(given).has_value());
  ASSERT_TRUE(store->put_release(release("3"), link_by_text).has_value());
  ASSERT_TRUE(store->put_release(release("5"), link_by_text).has_value());
  auto before = store->signature_infos();
  ASSERT_TRUE(before.has_value()) << before.error().message;
  EXPECT_EQ(info_of(*before, "lib@5").patches, (SignatureRef{"lib", "3"}));
  const auto generation = *store->signature_generation();

  ASSERT_TRUE(store->put_release(release("2"), link_by_text).has_value());
  auto after = store->signature_infos();
  ASSERT_TRUE(after.has_value()) << after.error().message;
  ASSERT_EQ(after->size(), 4u);
  EXPECT_EQ(info_of(*after, "lib@2").kind, SignatureKind::product);
  EXPECT_EQ(info_of(*after, "lib@2").linked_by, VersionScheme::debian);
  EXPECT_EQ(info_of(*after, "lib@3").kind, SignatureKind::patch);
  EXPECT_EQ(info_of(*after, "lib@3").patches, (SignatureRef{"lib", "2"}));
  EXPECT_EQ(info_of(*after, "lib@5").patches, (SignatureRef{"lib", "2"}));
  EXPECT_EQ(info_of(*after, "lib@9-given"), given.info);
  EXPECT_GT(*store->signature_generation(), generation);  // cached analyses are stale
  auto audit = store->audit_log(10);
  ASSERT_TRUE(audit.has_value()) << audit.error().message;
  ASSERT_EQ(audit->size(), 2u);  // lib@3 and lib@5, newest first
  EXPECT_EQ((*audit)[0].action, "signature.relink");
  EXPECT_EQ((*audit)[0].object, "lib@5");
  EXPECT_EQ((*audit)[1].object, "lib@3");
  EXPECT_EQ((*audit)[1].detail, "patch of lib@2 (was product), in debian version order when lib@2 was stored");

  // Storing a stored release again links nothing; the manifests never change.
  ASSERT_TRUE(store->put_release(release("2"), link_by_text).has_value());
  EXPECT_EQ(store->audit_log(10)->size(), 2u);
  auto all = store->signatures();
  ASSERT_TRUE(all.has_value());
  for (const Signature& s : *all) {
    if (s.info.ref.version == "9-given") continue;
    EXPECT_EQ(s.manifest, release(s.info.ref.version).manifest);
  }
}

TEST_P(StoreTest, ALinkerThatChangesMoreThanRelationsStoresNothing) {
  auto store = open();
  ASSERT_TRUE(store->put_release(release("3"), link_by_text).has_value());
  const auto rename = [](std::span<SignatureInfo> releases) { releases.front().vendor = "someone else"; };
  auto r = store->put_release(release("2"), rename);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::internal);
  EXPECT_EQ(stats(*store).signatures, 1u);
  EXPECT_EQ(store->signature_infos()->front().vendor, "Acme");
}

TEST_P(StoreTest, FailedPutScanLeavesNoPartialRows) {
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

// Group commit (Store::begin_batch, used by server/shared_store.h): the writes of a batch
// become visible (durable) together at commit_batch, each stays all-or-nothing on its own
// (a write that fails in the batch leaves no trace, not even its new host), and an
// aborted batch leaves nothing.
TEST_F(SqliteStoreTest, ABatchCommitsItsWritesTogetherAndEachFailsAlone) {
  auto store = open();
  auto reader = open();  // another connection: sees committed data only
  ASSERT_TRUE(store && reader);
  ASSERT_TRUE(store->groups_commits());
  const ScanDocument doc = generated_scan(60);
  // Its last directory is in no other scan here: named without its data, it is unstored.
  const ScanDocument bigger = generated_scan(70);
  ScanDocument header_only = bigger;
  header_only.manifest = Manifest();
  std::vector<std::string> encoded;
  const std::size_t last = split_into_chunks(bigger.manifest).size() - 1;
  const auto unstored = upload_chunks(bigger.manifest, encoded, [&](std::size_t i) { return i != last; });

  ASSERT_TRUE(store->begin_batch());
  EXPECT_TRUE(store->batch_open());
  EXPECT_FALSE(store->begin_batch()) << "a second batch on one connection";
  auto a = store->put_scan("a", doc);
  ASSERT_TRUE(a) << a.error().message;
  auto ghost = store->put_scan("ghost", header_only, unstored);  // a chunk named, never stored
  ASSERT_FALSE(ghost);
  EXPECT_EQ(ghost.error().code, ErrorCode::not_found);
  auto b = store->put_scan("b", doc);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(stats(*reader).scans, 0u) << "a batch's writes are visible before its commit";
  ASSERT_TRUE(store->commit_batch());
  EXPECT_FALSE(store->batch_open());

  auto hosts = reader->list_hosts();
  ASSERT_TRUE(hosts) << hosts.error().message;
  std::vector<std::string> names;
  for (const HostListing& h : *hosts) names.push_back(h.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b"})) << "the failed write left its host behind";
  expect_same(*reader->get_scan(*a), doc);
  expect_same(*reader->get_scan(*b), doc);

  ASSERT_TRUE(store->begin_batch());
  ASSERT_TRUE(store->put_scan("c", doc));
  store->abort_batch();
  EXPECT_FALSE(store->batch_open());
  EXPECT_EQ(stats(*reader).scans, 2u) << "an aborted batch stored its write";
  auto c = store->put_scan("c", doc);  // outside a batch again: commits alone
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(stats(*reader).scans, 3u);
  EXPECT_FALSE(store->commit_batch()) << "a commit without a batch";
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

TEST_P(StoreTest, InjectionLookingNamesAndPathsAreStoredVerbatim) {
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


TEST_P(StoreTest, TokensAreStoredAsHashesAndEnrolmentHappensOnce) {
  auto store = open();
  auto admin = store->add_token("ops", TokenRole::admin, std::nullopt);
  ASSERT_TRUE(admin.has_value()) << admin.error().message;
  EXPECT_EQ(admin->rfind("tb_", 0), 0u);
  auto found = store->find_token(*admin);
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_EQ((*found)->name, "ops");
  EXPECT_EQ((*found)->role, TokenRole::admin);
  EXPECT_FALSE(store->add_token("ops", TokenRole::reader, std::nullopt).has_value());    // name taken
  EXPECT_FALSE(store->add_token("r", TokenRole::reader, std::string_view("h")).has_value());  // host on a reader

  auto first = store->enrol_host("web-01", varied_scan());
  ASSERT_TRUE(first.has_value()) << first.error().message;
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ((*first)->token_name, "enrolled:web-01");
  auto host_token = store->find_token((*first)->token);
  ASSERT_TRUE(host_token.has_value() && host_token->has_value());
  EXPECT_EQ((*host_token)->host, std::optional<std::string>("web-01"));
  expect_same(*store->get_scan((*first)->scan_id), varied_scan());
  const StoreStats before = stats(*store);
  auto second = store->enrol_host("web-01", generated_scan(10));
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_FALSE(second->has_value()) << "a host with a live token is not enrolled again";
  EXPECT_EQ(stats(*store).scans, before.scans);

  ASSERT_TRUE(store->revoke_token("enrolled:web-01").has_value());
  EXPECT_FALSE(store->find_token((*first)->token)->has_value());
  EXPECT_EQ(store->revoke_token("enrolled:web-01").error().code, ErrorCode::not_found);
  auto again = store->enrol_host("web-01", generated_scan(10));
  ASSERT_TRUE(again.has_value() && again->has_value());
  EXPECT_EQ((*again)->token_name, "enrolled:web-01#2");
}

TEST_P(StoreTest, HostKeysAndNoncesRefuseReplays) {
  auto store = open();
  EXPECT_EQ(store->claim_nonce("nobody", "n1", 100, 0).error().code, ErrorCode::not_found);
  const std::string key(32, '\x07');
  ASSERT_TRUE(store->set_host_key("h", key, "test:alice").has_value());
  EXPECT_EQ(*store->host_key("h"), std::optional<std::string>(key));
  EXPECT_EQ(*store->host_key("other"), std::nullopt);
  // Read with the signature generation in one go (a posted scan needs both).
  Signature sig;
  sig.info.ref = {"app", "1"};
  sig.manifest = *Manifest::from_records({test::file("/opt/app/bin")});
  ASSERT_TRUE(store->put_signature(sig));
  for (const char* host : {"h", "other"}) {
    auto context = store->scan_context(host);
    ASSERT_TRUE(context) << context.error().message;
    EXPECT_EQ(context->host_key, *store->host_key(host)) << host;
    EXPECT_EQ(context->signature_generation, *store->signature_generation()) << host;
    EXPECT_GT(context->signature_generation, 0);
  }
  EXPECT_FALSE(store->set_host_key("h", "short", "test:alice").has_value());
  EXPECT_TRUE(*store->claim_nonce("h", "n1", 100, 0));
  EXPECT_FALSE(*store->claim_nonce("h", "n1", 100, 0)) << "a replayed nonce";
  EXPECT_TRUE(*store->claim_nonce("h", "n2", 200, 150));  // forgets n1 on the way
  EXPECT_TRUE(*store->claim_nonce("h", "n1", 200, 150));
  auto log = store->audit_log(10);
  ASSERT_TRUE(log.has_value());
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ((*log)[0].action, "host.key");
}

// ---- PostgreSQL only ----------------------------------------------------------------

class PostgresStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = test::postgres_test_server();
    if (!server) GTEST_SKIP() << test::kPostgresSkipMessage;
    server_ = *server;
    pg_.emplace(*server);
    ASSERT_TRUE(pg_->ok());
  }
  std::unique_ptr<Store> open() {
    auto s = open_postgres_store(pg_->url());
    if (!s) ADD_FAILURE() << s.error().message;
    return s ? std::move(*s) : nullptr;
  }
  std::string server_;
  std::optional<test::PostgresTestSchema> pg_;
};

TEST_F(PostgresStoreTest, FutureSchemaVersionIsRefused) {
  ASSERT_NE(open(), nullptr);
  pg_->exec("INSERT INTO schema_migrations VALUES (99, 'from the future', 0)");
  auto s = open_postgres_store(pg_->url());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(s.error().message.find("schema version 99"), std::string::npos) << s.error().message;
}

TEST_F(PostgresStoreTest, WithoutCreateADatabaseWithoutAStoreIsNotFound) {
  auto s = open_store(pg_->url(), StoreOptions{.create = false});
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::not_found) << s.error().message;
  EXPECT_NE(s.error().message.find("no trustbase store"), std::string::npos) << s.error().message;
}

// The same tables and columns, in the same order, with the same migrations recorded: what
// lets `trustbase migrate` copy a store from one to the other column by column.
TEST_F(PostgresStoreTest, SchemaMirrorsTheSqliteStoreTableForTableAndColumnForColumn) {
  ASSERT_NE(open(), nullptr);
  std::string tmpl = (fs::temp_directory_path() / "tb-schema-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  const std::string path = tmpl + "/s.db";
  ASSERT_TRUE(open_sqlite_store(path).has_value());
  std::map<std::string, std::vector<std::string>> sqlite_tables, pg_tables;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p"
                               " WHERE m.type = 'table' ORDER BY m.name, p.cid",
                               -1, &stmt, nullptr),
            SQLITE_OK);
  while (sqlite3_step(stmt) == SQLITE_ROW)
    sqlite_tables[reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))].push_back(
        reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  fs::remove_all(tmpl);
  for (const auto& row : pg_->exec("SELECT table_name, column_name FROM information_schema.columns"
                                   " WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"))
    pg_tables[row[0].as<std::string>()].push_back(row[1].as<std::string>());
  EXPECT_EQ(pg_tables, sqlite_tables);
  EXPECT_EQ(pg_->exec("SELECT max(version) FROM schema_migrations")[0][0].as<int>(), sqlite_store_schema_version());
}

// The chunk look-ups each scan runs are planned as index look-ups on a new, empty store,
// on a small analysed one and on one grown since, with the plan PostgreSQL caches for a
// prepared statement (a generic plan, kept while the table grows until the next ANALYZE)
// and enable_seqscan off, as put_manifest runs them (after kIndexLookUpsOnly) and as the
// functions put_scan() and stored_chunks() are set to (ChunkedScansGoThroughThePutScanFunction).
// Before, `digest IN (SELECT ...)` was a hash join over all of chunks for every new host of
// a new store (9 ms of PostgreSQL CPU each at 10,000 hosts).
TEST_F(PostgresStoreTest, ChunkLookUpsAreIndexLookUpsOnANewStoreAsItGrows) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const auto explain = [](pqxx::work& tx, const std::string& statement) {
    std::string plan;
    for (const auto& row : tx.exec("EXPLAIN " + statement)) plan += row[0].as<std::string>() + "\n";
    return plan;
  };
  const auto prepared_plans = [&] {  // as put_manifest runs them
    pqxx::connection c(pg_->url());
    pqxx::work tx(c);
    tx.exec(pg::kIndexLookUpsOnly);
    tx.exec("SET LOCAL plan_cache_mode = force_generic_plan");
    tx.exec("PREPARE ids(text[]) AS " + pg::chunks_by_digest_sql("c.id"));
    tx.exec(std::string("PREPARE store_new(text[], bigint[], bigint[], text[]) AS ") + pg::kStoreNewChunks);
    return std::vector<std::string>{explain(tx, "EXECUTE ids('{00ff}')"),
                                    explain(tx, "EXECUTE store_new('{00ff}', '{1}', '{1}', '{00}')")};
  };
  for (const std::string& plan : prepared_plans()) {
    EXPECT_EQ(plan.find("Seq Scan on chunks"), std::string::npos) << plan;
    EXPECT_NE(plan.find("Index"), std::string::npos) << plan;
  }
  // Grown a little and analysed (the statistics of a small table, for which a scan is the
  // cheaper plan): prepared, still look-ups.
  for (int i = 0; i < 6; ++i) {
    const ScanDocument doc = generated_scan(100 + 40 * static_cast<std::size_t>(i));
    ASSERT_TRUE(store->put_scan("h" + std::to_string(i), doc));
  }
  pg_->exec("ANALYZE chunks");
  for (const std::string& plan : prepared_plans())
    EXPECT_EQ(plan.find("Seq Scan on chunks"), std::string::npos) << plan;
  // Then grown much more, not analysed again: still look-ups.
  pg_->exec(
      "INSERT INTO chunks(digest, records, bytes, data)"
      " SELECT sha256(('filler ' || i)::bytea), 1, 1, 'x' FROM generate_series(1, 20000) i");
  for (const std::string& plan : prepared_plans()) {
    EXPECT_EQ(plan.find("Seq Scan on chunks"), std::string::npos) << plan;
    EXPECT_NE(plan.find("Index"), std::string::npos) << plan;
  }

  // And they find what is stored, in the order asked.
  std::vector<Sha256Digest> digests;
  const auto listed = pg_->exec("SELECT encode(digest, 'hex') FROM chunks ORDER BY id LIMIT 3");
  ASSERT_EQ(listed.size(), 3u);
  for (const auto& row : listed) digests.push_back(*Sha256Digest::from_hex(row[0].as<std::string>()));
  digests.insert(digests.begin() + 1, Sha256::of("not stored"));
  auto held = store->has_chunks(digests);
  ASSERT_TRUE(held) << held.error().message;
  EXPECT_EQ(*held, (std::vector<bool>{true, false, true, true}));
  auto found = store->find_chunks(digests);
  ASSERT_TRUE(found) << found.error().message;
  ASSERT_EQ(found->size(), 4u);
  EXPECT_FALSE((*found)[1].has_value());
  for (std::size_t i : {0u, 2u, 3u}) {
    ASSERT_TRUE((*found)[i].has_value()) << i;
    EXPECT_EQ(Sha256::of(*(*found)[i]), digests[i]);
  }
}

// A chunked scan is stored by migration 13's put_scan() function, in one statement: it runs
// with index look-ups only and its own schema's names (whatever the caller's settings), and
// parameters that do not add up are refused with nothing written. Chunk contents are LZ4
// where the server has it.
TEST_F(PostgresStoreTest, ChunkedScansGoThroughThePutScanFunction) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  for (const char* function : {"put_scan", "stored_chunks"}) {
    const auto config = pg_->exec(std::string("SELECT array_to_string(proconfig, ' ') FROM pg_proc WHERE proname = '") +
                                  function + "' AND pronamespace = current_schema()::regnamespace");
    ASSERT_EQ(config.size(), 1u) << function;
    const std::string settings = config[0][0].as<std::string>();
    EXPECT_NE(settings.find("enable_seqscan=off"), std::string::npos) << function << ": " << settings;
    EXPECT_NE(settings.find("plan_cache_mode=force_generic_plan"), std::string::npos) << function << ": " << settings;
    EXPECT_NE(settings.find("search_path=" + pg_->name()), std::string::npos) << function << ": " << settings;
  }

  const ScanDocument doc = generated_scan(300);
  std::vector<std::string> encoded;
  const auto chunks = upload_chunks(doc.manifest, encoded, [](std::size_t) { return true; });
  auto id = store->put_scan("h1", doc, chunks);
  ASSERT_TRUE(id) << id.error().message;
  expect_same(*store->get_scan(*id), doc);
  if (pg_->exec("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")[0][0]
          .as<bool>()) {
    EXPECT_EQ(pg_->exec("SELECT attcompression FROM pg_attribute WHERE attrelid = 'chunks'::regclass"
                        " AND attname = 'data'")[0][0]
                  .as<std::string>(),
              "l");
  }

  // Inconsistent chunk parameters (a digest list of 31 bytes): refused, nothing written.
  const StoreStats before = stats(*store);
  try {
    pg_->exec("SELECT put_scan('h2', NULL, sha256('x'), 1, '\\x" + std::string(62, 'a') +
              "'::bytea, '', '{}', '{}', '', 1, 's', 'h2', '', '', '', '', '', '', '', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,"
              " 0, '')");
    ADD_FAILURE() << "put_scan() accepted a digest list of 31 bytes";
  } catch (const pqxx::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "22023") << e.what();
  }
  EXPECT_EQ(stats(*store).hosts, before.hosts);
  EXPECT_EQ(stats(*store).scans, before.scans);

  // Without the functions, a chunked scan cannot be stored nor chunks looked up: they are on the way.
  pg_->exec("DROP FUNCTION put_scan; DROP FUNCTION stored_chunks");
  auto without = store->put_scan("h3", doc, chunks);
  ASSERT_FALSE(without);
  EXPECT_NE(without.error().message.find("put_scan"), std::string::npos) << without.error().message;
  const std::vector<Sha256Digest> one{chunks[0].digest};
  auto held = store->has_chunks(one);
  ASSERT_FALSE(held);
  EXPECT_NE(held.error().message.find("stored_chunks"), std::string::npos) << held.error().message;
  auto found = store->find_chunks(one);
  ASSERT_FALSE(found);
  EXPECT_NE(found.error().message.find("stored_chunks"), std::string::npos) << found.error().message;
}

TEST_F(PostgresStoreTest, ConcurrentWritersOfTheSameContentStoreItOnce) {
  // Four connections store scans sharing most chunks at once, as chunked uploads and as
  // documents: none fails, nothing is duplicated.
  constexpr int kWriters = 4, kScans = 5;
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < kWriters; ++i) stores.push_back(open());
  const ScanDocument shared = generated_scan(2'000);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; ++w)
    threads.emplace_back([&, w] {
      for (int i = 0; i < kScans; ++i) {
        ScanDocument doc = shared;
        if (i % 2 == 1) doc = generated_scan(2'000 + static_cast<std::size_t>(i));  // same across writers
        // Every other writer uploads chunks (PostgreSQL's put_scan function), the others documents.
        std::vector<std::string> encoded;
        const auto chunks = w % 2 == 0 ? upload_chunks(doc.manifest, encoded, [](std::size_t) { return true; })
                                       : std::vector<ManifestChunkRef>();
        auto id = stores[static_cast<std::size_t>(w)]->put_scan(i == 0 ? "shared-host" : "host-" + std::to_string(w),
                                                                doc, chunks);
        if (!id) {
          ADD_FAILURE() << id.error().message;
          ++failures;
        }
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  auto store = open();
  const StoreStats s = stats(*store);
  EXPECT_EQ(s.scans, static_cast<std::uint64_t>(kWriters * kScans));
  EXPECT_EQ(s.hosts, static_cast<std::uint64_t>(kWriters + 1));
  EXPECT_EQ(s.manifests, 3u);  // 2,000, 2,001 and 2,003 files
  const StoreStats one = [&] {
    test::PostgresTestSchema alone(server_);
    auto single = open_postgres_store(alone.url());
    EXPECT_TRUE(single.has_value());
    for (std::size_t n : {2'000, 2'001, 2'003}) EXPECT_TRUE((*single)->put_scan("x", generated_scan(n)).has_value());
    return stats(**single);
  }();
  EXPECT_EQ(s.chunks, one.chunks);
  EXPECT_EQ(s.records_stored, one.records_stored);
  EXPECT_EQ(store->list_scans("shared-host")->size(), static_cast<std::size_t>(kWriters));
}

TEST_F(PostgresStoreTest, ConnectionErrorsNameTheServerButNeverThePassword) {
  std::string url = server_;
  const auto at = url.find('@');
  ASSERT_NE(at, std::string::npos) << "TB_TEST_POSTGRES_URL has no user:password@";
  const auto colon = url.find(':', url.find("://") + 3);
  url.replace(colon + 1, at - colon - 1, "wrong-secret-42");
  auto s = open_store(url);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::io) << s.error().message;
  EXPECT_EQ(s.error().message.find("wrong-secret-42"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("***"), std::string::npos) << s.error().message;
}

TEST(OpenStore, SpecificationsNameTheirBackendAndHidePasswords) {
  EXPECT_EQ(parse_store_spec("postgresql://u:p@h/db")->kind, StoreKind::postgres);
  EXPECT_EQ(parse_store_spec("postgres://h/db")->kind, StoreKind::postgres);
  EXPECT_EQ(parse_store_spec("sqlite:/var/lib/tb.db")->location, "/var/lib/tb.db");
  EXPECT_EQ(parse_store_spec("trustbase.db")->kind, StoreKind::sqlite);
  EXPECT_EQ(parse_store_spec("./dir/a://b.db")->kind, StoreKind::sqlite);  // a path, not a URL
  EXPECT_EQ(parse_store_spec("mysql://h/db").error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(parse_store_spec("").error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(parse_store_spec("sqlite:").error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(display_store_spec("postgresql://tb:s3cret@db.example:5432/tb?sslmode=require"),
            "postgresql://tb:***@db.example:5432/tb?sslmode=require");
  EXPECT_EQ(display_store_spec("postgresql://db.example/tb?user=tb&password=s3cret"),
            "postgresql://db.example/tb?user=tb&password=***");
  EXPECT_EQ(display_store_spec("postgresql://tb@db.example/tb"), "postgresql://tb@db.example/tb");
  EXPECT_EQ(display_store_spec("/var/lib/trustbase/trustbase.db"), "/var/lib/trustbase/trustbase.db");
}

}  // namespace
}  // namespace tb
