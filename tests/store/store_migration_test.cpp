// `trustbase migrate` (store/store_migration.h): a varied store copied SQLite -> SQLite
// always, SQLite -> PostgreSQL -> SQLite with TB_TEST_POSTGRES_URL, answering identically
// through the Store interface afterwards, new rows getting fresh ids; a destination that
// holds data refused; a failure midway leaving the destination empty.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/test_records.h"
#include "store/open_store.h"
#include "store/pg_test_db.h"
#include "store/store_migration.h"

namespace tb {
namespace {

namespace fs = std::filesystem;
using migration::MigrationReport;
using test::dir;
using test::file;

constexpr std::string_view kActor = "test:alice";

template <class T>
T ok(Expected<T> e) {
  EXPECT_TRUE(e.has_value()) << e.error().message;
  if (!e) throw std::runtime_error(e.error().message);
  return std::move(*e);
}
void ok(Expected<void> e) {
  EXPECT_TRUE(e.has_value()) << e.error().message;
  if (!e) throw std::runtime_error(e.error().message);
}

ScanDocument scan(std::string hostname, std::string_view version, std::int64_t started_ns) {
  ScanDocument doc;
  doc.header.scanner = "trustbase-scan 0.1.0";
  doc.header.host = HostFacts{std::move(hostname), "debian", "12", "Debian GNU/Linux 12", "6.1.0", "x86_64"};
  doc.header.roots = {"/", "/opt"};
  doc.header.excludes = {"*.log"};
  doc.header.started_ns = started_ns;
  doc.manifest = test::manifest({dir("/"), dir("/opt"), file("/opt/app", version), file("/opt/\xff\xfe-latin1-\xe9", "b"),
                                 file("/opt/lib.so", "lib")});
  doc.errors = {{"/root", ScanErrorKind::open, 13, "Permission denied"}};
  doc.summary = ScanSummary{started_ns + 5, 3, 2, 0, 0, 12, 1, 0};
  if (version == "1") {
    PackageInventory inv;
    inv.packages.push_back(InstalledPackage{"app", "1", "amd64", PackageManager::dpkg});
    doc.header.inventory = inv;
  }
  return doc;
}

Signature signature(std::string name, std::string version, SignatureKind kind) {
  Signature s;
  s.info.ref = SignatureRef{std::move(name), std::move(version)};
  s.info.kind = kind;
  s.info.vendor = "ACME";
  if (kind == SignatureKind::patch) s.info.patches = SignatureRef{"app", "1.0"};
  s.info.config_paths = {"/opt/app.conf"};
  s.info.architecture = "amd64";
  s.info.source_sha256 = Sha256::of(s.info.ref.id());
  s.info.provenance.method = ProvenanceMethod::deb_release;
  s.info.provenance.signer_fingerprint = "ABCDEF";
  s.info.provenance.signer_key_id = "0123456789ABCDEF";
  s.info.provenance.origin = "Debian";
  s.manifest = test::manifest({file("/opt/" + s.info.ref.id(), "content of " + s.info.ref.id())});
  return s;
}

// What the test needs back from the store it built: the secrets only shown once.
struct Built {
  std::string admin_token, host_token;
};

// Every table gets rows: hosts with non-ASCII names, scans, signatures with provenance and
// configuration paths, clusters, snapshots, stages with history, scan results, tokens,
// an enrolment, host keys, nonces, audit entries.
Built build(Store& s) {
  Built b;
  ok(s.put_scan("web-01", scan("web-01", "1", 1000)));
  ok(s.put_scan("web-01", scan("web-01", "2", 2000)));
  ok(s.put_scan("hôst-ü", scan("hôst-ü", "1", 1500)));
  ok(s.put_scan("db-01", scan("db-01", "3", 1200)));
  ok(s.put_signature(signature("app", "1.0", SignatureKind::product)));
  ok(s.put_signature(signature("app-p1", "1", SignatureKind::patch)));
  ok(s.add_cluster("prod", "Trading, site A", kActor));
  ok(s.set_host("web-01", "prod", "active", kActor));
  ok(s.set_host("db-01", "prod", "inactive", kActor));
  ok(s.publish_snapshot("prod", "web-01", 1, ok(s.get_scan(1)).manifest, kActor));
  ok(s.publish_snapshot("prod", "web-01", 0, scan("x", "9", 1).manifest, kActor));
  ok(s.set_stage("prod", SignatureRef{"app-p1", "1"}, Stage::tested, kActor));
  ok(s.set_stage("prod", SignatureRef{"app-p1", "1"}, Stage::active, kActor));
  ScanResult r;
  r.signature_generation = ok(s.signature_generation());
  r.states = {{1, SignatureState::complete}, {2, SignatureState::partial}};
  r.deviations = {1, 2, 3, 1};
  r.snapshot_version = 2;
  ok(s.put_scan_result(2, r));
  b.admin_token = ok(s.add_token("ops", TokenRole::admin, std::nullopt));
  ok(s.add_token("reader", TokenRole::reader, std::nullopt));
  ok(s.revoke_token("reader"));
  auto enrolled = ok(s.enrol_host("new-host", scan("new-host", "1", 3000)));
  b.host_token = enrolled->token;
  ok(s.set_host_key("web-01", std::string(32, '\x07'), kActor));
  EXPECT_TRUE(ok(s.claim_nonce("web-01", "n1", 100, 0)));
  return b;
}

// The same answers through the Store interface.
void expect_same(Store& a, Store& b, const Built& built) {
  const auto hosts = ok(a.list_hosts());
  EXPECT_EQ(hosts, ok(b.list_hosts()));
  ASSERT_EQ(hosts.size(), 4u);
  for (const HostListing& h : hosts) {
    const auto scans = ok(a.list_scans(h.name));
    EXPECT_EQ(scans, ok(b.list_scans(h.name))) << h.name;
    for (const ScanListing& l : scans) {
      const ScanDocument x = ok(a.get_scan(l.id)), y = ok(b.get_scan(l.id));
      EXPECT_EQ(x.header, y.header);
      EXPECT_EQ(x.manifest, y.manifest);
      EXPECT_EQ(x.errors, y.errors);
      EXPECT_EQ(x.summary, y.summary);
      EXPECT_EQ(ok(a.get_scan_result(l.id)), ok(b.get_scan_result(l.id)));
    }
    EXPECT_EQ(ok(a.host_key(h.name)), ok(b.host_key(h.name)));
  }
  const auto sa = ok(a.signatures()), sb = ok(b.signatures());
  ASSERT_EQ(sa.size(), sb.size());
  for (std::size_t i = 0; i < sa.size(); ++i) {
    EXPECT_EQ(sa[i].info, sb[i].info);
    EXPECT_EQ(sa[i].manifest, sb[i].manifest);
  }
  EXPECT_EQ(ok(a.list_signatures()), ok(b.list_signatures()));
  EXPECT_EQ(ok(a.list_clusters()), ok(b.list_clusters()));
  EXPECT_EQ(ok(a.list_snapshots("prod")), ok(b.list_snapshots("prod")));
  for (std::int64_t v : {1, 2}) EXPECT_EQ(ok(a.get_snapshot("prod", v)).manifest, ok(b.get_snapshot("prod", v)).manifest);
  EXPECT_EQ(ok(a.stages(std::nullopt)), ok(b.stages(std::nullopt)));
  EXPECT_EQ(ok(a.stage_history("prod", SignatureRef{"app-p1", "1"})),
            ok(b.stage_history("prod", SignatureRef{"app-p1", "1"})));
  EXPECT_EQ(ok(a.latest_results()), ok(b.latest_results()));
  EXPECT_EQ(ok(a.audit_log(100)), ok(b.audit_log(100)));
  EXPECT_EQ(ok(a.fleet_version()), ok(b.fleet_version()));
  for (const std::string& t : {built.admin_token, built.host_token}) {
    auto found = ok(b.find_token(t));
    ASSERT_TRUE(found.has_value()) << "a token still authenticates";
    EXPECT_EQ(found, ok(a.find_token(t)));
  }
  const StoreStats x = ok(a.stats()), y = ok(b.stats());
  EXPECT_EQ(std::tie(x.hosts, x.scans, x.signatures, x.manifests, x.chunks, x.records_stored, x.chunk_bytes),
            std::tie(y.hosts, y.scans, y.signatures, y.manifests, y.chunks, y.records_stored, y.chunk_bytes));
}

// After a migration, new rows get ids above the copied ones (PostgreSQL: sequences reset).
void expect_fresh_ids(Store& s) {
  const auto before = ok(s.fleet_version());
  const std::int64_t id = ok(s.put_scan("brand-new", scan("brand-new", "7", 9000)));
  EXPECT_GT(id, before.scans);
  EXPECT_GT(ok(s.put_signature(signature("other", "2", SignatureKind::product))), before.signatures);
  ok(s.add_cluster("staging", "", kActor));
  EXPECT_GT(ok(s.audit_log(1))[0].id, before.audit);
  auto token = ok(s.add_token("later", TokenRole::reader, std::nullopt));
  EXPECT_GT(ok(s.find_token(token))->id, 2);
  EXPECT_EQ(ok(s.publish_snapshot("prod", "web-01", id, ok(s.get_scan(id)).manifest, kActor)), 3);
}

class StoreMigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "tb-migrate-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(std::string_view name) const { return (dir_ / name).string(); }
  static std::unique_ptr<Store> open(const std::string& spec) { return ok(open_store(spec)); }
  // Fresh PostgreSQL schema, or nullopt (skipped) without a server.
  bool postgres() {
    auto server = test::postgres_test_server();
    if (!server) return false;
    pg_.emplace(*server);
    return pg_->ok();
  }
  std::int64_t pg_rows() const {
    std::int64_t n = 0;
    for (const auto& t : pg_->exec("SELECT table_name FROM information_schema.tables WHERE table_schema ="
                                   " current_schema() AND table_name <> 'schema_migrations'"))
      n += pg_->exec("SELECT count(*) FROM " + t[0].as<std::string>())[0][0].as<std::int64_t>();
    return n;
  }

  fs::path dir_;
  std::optional<test::PostgresTestSchema> pg_;
};

TEST_F(StoreMigrationTest, SqliteToSqliteAnswersIdenticallyAndNewRowsGetFreshIds) {
  Built built;
  {
    auto a = open(path("a.db"));
    built = build(*a);
  }
  std::vector<std::string> progress;
  migration::MigrationOptions options;
  options.progress = [&](const migration::TableReport& t) { progress.push_back(t.name); };
  const MigrationReport report = ok(migration::migrate_store("sqlite:" + path("a.db"), path("b.db"), options));
  EXPECT_EQ(report.tables.size(), 17u);
  EXPECT_EQ(progress.size(), report.tables.size());
  EXPECT_GT(report.rows, 40u);
  for (const auto& t : report.tables) EXPECT_GT(t.rows, 0u) << t.name << ": the test should fill every table";
  auto a = open(path("a.db"));
  auto b = open(path("b.db"));
  expect_same(*a, *b, built);
  expect_fresh_ids(*b);
}

TEST_F(StoreMigrationTest, SqliteToPostgresAndBackAnswersIdentically) {
  if (!postgres()) GTEST_SKIP() << test::kPostgresSkipMessage;
  Built built;
  {
    auto a = open(path("a.db"));
    built = build(*a);
  }
  const MigrationReport there = ok(migration::migrate_store(path("a.db"), pg_->url()));
  const MigrationReport back = ok(migration::migrate_store(pg_->url(), "sqlite:" + path("c.db")));
  EXPECT_EQ(there.digest, back.digest) << "the same content on all three stores";
  EXPECT_EQ(there.rows, back.rows);
  auto a = open(path("a.db"));
  auto p = open(pg_->url());
  auto c = open(path("c.db"));
  expect_same(*a, *p, built);
  expect_same(*a, *c, built);
  expect_fresh_ids(*p);
}

TEST_F(StoreMigrationTest, ADestinationHoldingDataIsRefusedAndKept) {
  {
    auto a = open(path("a.db"));
    build(*a);
    auto b = open(path("b.db"));
    ok(b->put_scan("keep-me", scan("keep-me", "1", 1)));
  }
  auto r = migration::migrate_store(path("a.db"), path("b.db"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(r.error().message.find("holds data"), std::string::npos) << r.error().message;
  auto b = open(path("b.db"));
  EXPECT_EQ(ok(b->list_hosts()).size(), 1u);
  EXPECT_EQ(migration::migrate_store(path("a.db"), "sqlite:" + path("a.db")).error().code,
            ErrorCode::invalid_argument);
  if (!postgres()) return;
  ok(open(pg_->url())->put_scan("keep-me", scan("keep-me", "1", 1)));
  auto p = migration::migrate_store(path("a.db"), pg_->url());
  ASSERT_FALSE(p.has_value());
  EXPECT_NE(p.error().message.find("holds data"), std::string::npos) << p.error().message;
  EXPECT_EQ(ok(open(pg_->url())->list_hosts()).size(), 1u);
}

// A source wrapper that fails when it reaches one table: the copy stops midway.
class FailingSource final : public migration::MigrationSource {
 public:
  FailingSource(migration::MigrationSource& inner, std::string table) : inner_(inner), table_(std::move(table)) {}
  Expected<int> schema_version() override { return inner_.schema_version(); }
  Expected<std::vector<migration::TableInfo>> tables() override { return inner_.tables(); }
  Expected<std::uint64_t> row_count(const migration::TableInfo& t) override { return inner_.row_count(t); }
  Expected<void> read(const migration::TableInfo& t, const migration::RowVisitor& visit) override {
    if (t.name == table_) return fail(ErrorCode::io, "disk gone while reading " + t.name);
    return inner_.read(t, visit);
  }

 private:
  migration::MigrationSource& inner_;
  std::string table_;
};

TEST_F(StoreMigrationTest, AFailureMidwayCommitsNothing) {
  {
    auto a = open(path("a.db"));
    build(*a);
  }
  {
    auto from = ok(migration::open_migration_source(path("a.db")));
    auto to = ok(migration::open_migration_destination(path("b.db")));
    FailingSource failing(*from, "scans");
    auto r = migration::copy_store(failing, *to);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message.find("disk gone while reading scans"), std::string::npos) << r.error().message;
  }
  auto b = open(path("b.db"));
  EXPECT_EQ(ok(b->stats()).chunks, 0u) << "chunks were copied before scans, and rolled back";
  EXPECT_TRUE(ok(b->list_hosts()).empty());
  // Then a clean migration into the same (still empty) store succeeds.
  b.reset();
  ok(migration::migrate_store(path("a.db"), path("b.db")));
}

TEST_F(StoreMigrationTest, TextPostgresCannotHoldFailsClearlyAndCommitsNothing) {
  if (!postgres()) GTEST_SKIP() << test::kPostgresSkipMessage;
  {
    auto a = open(path("a.db"));
    build(*a);
    // SQLite keeps any bytes; PostgreSQL text must be UTF-8. The scans table comes after
    // chunks, manifests and hosts: the failure is midway.
    ok(a->put_scan("web-01", scan("latin1-\xe9", "4", 4000)));
  }
  auto r = migration::migrate_store(path("a.db"), pg_->url());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(r.error().message.find("table scans"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("column hostname"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("latin1-\\xe9"), std::string::npos) << r.error().message;
  EXPECT_EQ(pg_rows(), 0);
}

TEST_F(StoreMigrationTest, ErrorsNeverShowAPassword) {
  {
    auto a = open(path("a.db"));
    build(*a);
  }
  auto r = migration::migrate_store(path("a.db"), "postgresql://tb:s3cret-pw@127.0.0.1:1/none?connect_timeout=2");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message.find("s3cret-pw"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("***"), std::string::npos) << r.error().message;
}

migration::TableInfo table(std::string name, std::vector<std::string> refs) {
  return migration::TableInfo{std::move(name), {{"id", migration::ColumnKind::integer}}, {"id"}, std::move(refs)};
}

std::vector<std::string> names(const std::vector<migration::TableInfo>& tables) {
  std::vector<std::string> out;
  for (const auto& t : tables) out.push_back(t.name);
  return out;
}

TEST(CopyOrder, PutsReferencedTablesFirstKeepingTheOrderOtherwise) {
  auto order = migration::copy_order({table("scans", {"hosts", "manifests"}), table("hosts", {"clusters"}),
                                      table("manifests", {}), table("clusters", {}), table("tree", {"tree"})});
  ASSERT_TRUE(order.has_value()) << order.error().message;
  EXPECT_EQ(names(*order), (std::vector<std::string>{"manifests", "clusters", "hosts", "scans", "tree"}));
  auto cycle = migration::copy_order({table("a", {"b"}), table("b", {"a"}), table("c", {})});
  ASSERT_FALSE(cycle.has_value());
  EXPECT_NE(cycle.error().message.find("cycle: a, b"), std::string::npos) << cycle.error().message;
  auto unknown = migration::copy_order({table("a", {"zz"})});
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message.find("unknown table zz"), std::string::npos);
}

}  // namespace
}  // namespace tb
