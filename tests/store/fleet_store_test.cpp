// The fleet part of the store: clusters, memberships, versioned snapshots, stage history,
// the scan result cache (staleness), the audit log, and the upgrade of an SQLite store
// created before the fleet tables existed. On both backends: real SQLite in a temporary
// directory, and real PostgreSQL in a fresh schema (skipped without TB_TEST_POSTGRES_URL).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/test_records.h"
#include "store/chunk_codec.h"
#include "store/open_store.h"
#include "store/pg_test_db.h"
#include "store/sqlite_db.h"
#include "store/sqlite_schema.h"
#include "store/sqlite_store.h"
#include "format/manifest_chunks.h"

namespace tb {
namespace {

namespace fs = std::filesystem;
using test::dir;
using test::file;

constexpr std::string_view kActor = "test:alice";

using test::Backend;

class FleetStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::postgres) {
      auto server = test::postgres_test_server();
      if (!server) GTEST_SKIP() << test::kPostgresSkipMessage;
      pg_.emplace(*server);
      ASSERT_TRUE(pg_->ok());
    } else {
      std::string tmpl = (fs::temp_directory_path() / "tb-fleet-XXXXXX").string();
      ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
      dir_ = tmpl;
      path_ = (dir_ / "trustbase.db").string();
    }
    store_ = open();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    pg_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  std::unique_ptr<Store> open() {
    auto s = open_store(pg_ ? pg_->url() : path_);
    if (!s) ADD_FAILURE() << s.error().message;
    return s ? std::move(*s) : nullptr;
  }

  // A host's scan: a small tree whose one file says `version`.
  static ScanDocument scan(std::string_view version, std::int64_t started_ns) {
    ScanDocument doc;
    doc.header.host.hostname = "h";
    doc.header.roots = {"/"};
    doc.header.started_ns = started_ns;
    doc.manifest = test::manifest({dir("/"), dir("/opt"), file("/opt/app", version), file("/opt/lib.so", "lib")});
    return doc;
  }

  std::int64_t put_scan(std::string_view host, std::string_view version, std::int64_t started_ns) {
    auto id = store_->put_scan(host, scan(version, started_ns));
    EXPECT_TRUE(id.has_value()) << id.error().message;
    return id ? *id : 0;
  }

  static Signature signature(std::string name, std::string version, SignatureKind kind) {
    Signature s;
    s.info.ref = SignatureRef{std::move(name), std::move(version)};
    s.info.kind = kind;
    if (kind == SignatureKind::patch) s.info.patches = SignatureRef{"app", "1.0"};
    s.manifest = test::manifest({file("/opt/" + s.info.ref.id(), "content of " + s.info.ref.id())});
    return s;
  }

  std::int64_t put_signature(std::string name, std::string version, SignatureKind kind) {
    auto id = store_->put_signature(signature(std::move(name), std::move(version), kind));
    EXPECT_TRUE(id.has_value()) << id.error().message;
    return id ? *id : 0;
  }

  void add_cluster(std::string_view name) {
    auto r = store_->add_cluster(name, "", kActor);
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }
  void set_host(std::string_view host, std::string_view cluster, std::string_view role) {
    auto r = store_->set_host(host, cluster, role, kActor);
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }

  std::vector<HostResult> latest() {
    auto r = store_->latest_results();
    EXPECT_TRUE(r.has_value()) << r.error().message;
    return r ? *r : std::vector<HostResult>{};
  }
  const HostResult& row(const std::vector<HostResult>& rows, std::string_view host) {
    for (const HostResult& r : rows)
      if (r.host == host) return r;
    ADD_FAILURE() << "no row for " << host;
    static const HostResult none;
    return none;
  }

  fs::path dir_;
  std::string path_;
  std::optional<test::PostgresTestSchema> pg_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, FleetStoreTest, ::testing::Values(Backend::sqlite, Backend::postgres),
                         test::backend_name);

template <class T>
void expect_error(const Expected<T>& r, ErrorCode code, std::string_view text) {
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, code) << r.error().message;
  EXPECT_NE(r.error().message.find(text), std::string::npos) << r.error().message;
}

// ---- clusters and hosts ----------------------------------------------------------

TEST_P(FleetStoreTest, ClustersAreListedByNameAndNamesAreChecked) {
  ASSERT_TRUE(store_->add_cluster("prod-b", "", kActor).has_value());
  ASSERT_TRUE(store_->add_cluster("prod-a", "Trading, site A", kActor).has_value());
  expect_error(store_->add_cluster("prod-a", "again", kActor), ErrorCode::invalid_argument, "exists already");
  expect_error(store_->add_cluster("", "", kActor), ErrorCode::invalid_argument, "cluster name is empty");
  expect_error(store_->add_cluster("bad\nname", "", kActor), ErrorCode::invalid_argument, "not plain text");
  expect_error(store_->add_cluster(std::string(256, 'x'), "", kActor), ErrorCode::invalid_argument, "longer than 255");
  expect_error(store_->add_cluster("c", std::string(1025, 'd'), kActor), ErrorCode::invalid_argument, "longer than 1024");
  expect_error(store_->add_cluster("c", "", ""), ErrorCode::invalid_argument, "actor is empty");
  auto clusters = store_->list_clusters();
  ASSERT_TRUE(clusters.has_value()) << clusters.error().message;
  EXPECT_EQ(*clusters, (std::vector<ClusterListing>{{"prod-a", "Trading, site A", 0, 0}, {"prod-b", "", 0, 0}}));
}

TEST_P(FleetStoreTest, SetHostCreatesOrMovesAHostAndNeedsAnExistingCluster) {
  add_cluster("prod-a");
  add_cluster("prod-b");
  expect_error(store_->set_host("a1", "nowhere", "active", kActor), ErrorCode::not_found, "no cluster named 'nowhere'");
  expect_error(store_->set_host("a1", "prod-a", "", kActor), ErrorCode::invalid_argument, "role is empty");
  expect_error(store_->set_host("", "prod-a", "active", kActor), ErrorCode::invalid_argument, "host name is empty");

  set_host("a1", "prod-a", "active");  // new host, no scan yet
  put_scan("a2", "v1", 100);            // registered by its scan
  set_host("a2", "prod-a", "inactive");
  put_scan("a2", "v1", 200);            // later scans keep the membership
  auto hosts = store_->list_hosts();
  ASSERT_TRUE(hosts.has_value()) << hosts.error().message;
  ASSERT_EQ(hosts->size(), 2u);
  EXPECT_EQ((*hosts)[0], (HostListing{"a1", "prod-a", "active", 0, 0, 0}));
  EXPECT_EQ((*hosts)[1].cluster, "prod-a");
  EXPECT_EQ((*hosts)[1].role, "inactive");
  EXPECT_EQ((*hosts)[1].scans, 2u);

  set_host("a2", "prod-b", "dr");  // moved, with a free role label
  auto clusters = store_->list_clusters();
  ASSERT_TRUE(clusters.has_value());
  EXPECT_EQ((*clusters)[0].members, 1u);
  EXPECT_EQ((*clusters)[1].members, 1u);
  EXPECT_EQ((*store_->list_hosts())[1].role, "dr");
}

// ---- snapshots ---------------------------------------------------------------------

TEST_P(FleetStoreTest, SnapshotsAreVersionedPerClusterAndOldOnesKept) {
  add_cluster("prod-a");
  add_cluster("prod-b");
  expect_error(store_->get_snapshot("prod-a", std::nullopt), ErrorCode::not_found, "has no snapshot yet");
  const std::int64_t scan1 = put_scan("a1", "v1", 100);
  const ScanDocument second = scan("v2", 200);
  auto v1 = store_->publish_snapshot("prod-a", "a1", scan1, scan("v1", 100).manifest, kActor);
  ASSERT_TRUE(v1.has_value()) << v1.error().message;
  auto v2 = store_->publish_snapshot("prod-a", "a1.xml", 0, second.manifest, kActor);
  ASSERT_TRUE(v2.has_value()) << v2.error().message;
  auto other = store_->publish_snapshot("prod-b", "b1", 0, second.manifest, kActor);
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(*v1, 1);
  EXPECT_EQ(*v2, 2);
  EXPECT_EQ(*other, 1);  // versions count per cluster

  auto latest = store_->get_snapshot("prod-a", std::nullopt);
  ASSERT_TRUE(latest.has_value()) << latest.error().message;
  EXPECT_EQ(latest->info.version, 2);
  EXPECT_EQ(latest->info.source_host, "a1.xml");
  EXPECT_EQ(latest->info.source_scan_id, 0);
  EXPECT_EQ(latest->info.actor, kActor);
  EXPECT_EQ(latest->manifest, second.manifest);
  auto first = store_->get_snapshot("prod-a", 1);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->manifest, scan("v1", 100).manifest);
  EXPECT_EQ(first->info.source_scan_id, scan1);
  expect_error(store_->get_snapshot("prod-a", 3), ErrorCode::not_found, "has no snapshot version 3");
  expect_error(store_->get_snapshot("nowhere", std::nullopt), ErrorCode::not_found, "no cluster named");

  auto list = store_->list_snapshots("prod-a");
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0], first->info);
  EXPECT_EQ((*list)[1], latest->info);
  EXPECT_EQ((*list)[1].manifest_digest, manifest_digest(second.manifest));
  EXPECT_EQ((*list)[1].records, second.manifest.size());
  EXPECT_LE((*list)[0].published_ns, (*list)[1].published_ns);
  expect_error(store_->list_snapshots("nowhere"), ErrorCode::not_found, "no cluster named 'nowhere'");
  EXPECT_EQ((*store_->list_clusters())[0].snapshot_version, 2);
}

TEST_P(FleetStoreTest, SnapshotEqualToAStoredScanAddsNoManifestOrChunk) {
  add_cluster("prod-a");
  const std::int64_t id = put_scan("a1", "v1", 100);
  const StoreStats before = *store_->stats();
  ASSERT_TRUE(store_->publish_snapshot("prod-a", "a1", id, scan("v1", 100).manifest, kActor).has_value());
  const StoreStats after = *store_->stats();
  EXPECT_EQ(after.manifests, before.manifests);
  EXPECT_EQ(after.chunks, before.chunks);
}

TEST_P(FleetStoreTest, PublishingFromAnUnknownScanWritesNothing) {
  add_cluster("prod-a");
  const StoreStats before = *store_->stats();
  const auto audit_before = store_->audit_log(100)->size();
  expect_error(store_->publish_snapshot("prod-a", "a1", 42, scan("v1", 1).manifest, kActor), ErrorCode::not_found,
               "no scan 42");
  expect_error(store_->publish_snapshot("nowhere", "a1", 0, scan("v1", 1).manifest, kActor), ErrorCode::not_found,
               "no cluster named");
  EXPECT_EQ(store_->stats()->manifests, before.manifests);
  EXPECT_TRUE(store_->list_snapshots("prod-a")->empty());
  EXPECT_EQ(store_->audit_log(100)->size(), audit_before);
}

// ---- stages ------------------------------------------------------------------------

TEST_P(FleetStoreTest, StagesKeepTheCurrentValueAndTheWholeHistory) {
  add_cluster("prod-a");
  add_cluster("prod-b");
  put_signature("app", "1.0", SignatureKind::product);
  put_signature("app-p1", "1", SignatureKind::patch);
  put_signature("app-p2", "1", SignatureKind::patch);
  const SignatureRef p1{"app-p1", "1"}, p2{"app-p2", "1"};
  for (Stage s : {Stage::tested, Stage::inactive, Stage::active})
    ASSERT_TRUE(store_->set_stage("prod-a", p1, s, kActor).has_value());
  ASSERT_TRUE(store_->set_stage("prod-a", p2, Stage::tested, "test:bob").has_value());
  ASSERT_TRUE(store_->set_stage("prod-b", p1, Stage::inactive, kActor).has_value());

  auto all = store_->stages(std::nullopt);
  ASSERT_TRUE(all.has_value()) << all.error().message;
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].cluster, "prod-a");
  EXPECT_EQ((*all)[0].patch, p1);
  EXPECT_EQ((*all)[0].stage, Stage::active);
  EXPECT_EQ((*all)[1].patch, p2);
  EXPECT_EQ((*all)[1].stage, Stage::tested);
  EXPECT_EQ((*all)[1].actor, "test:bob");
  EXPECT_EQ((*all)[2].cluster, "prod-b");
  EXPECT_EQ((*all)[2].stage, Stage::inactive);

  auto b = store_->stages(std::string_view("prod-b"));
  ASSERT_TRUE(b.has_value());
  ASSERT_EQ(b->size(), 1u);
  EXPECT_EQ((*b)[0], (*all)[2]);
  expect_error(store_->stages(std::string_view("nowhere")), ErrorCode::not_found, "no cluster named");

  auto history = store_->stage_history("prod-a", p1);
  ASSERT_TRUE(history.has_value()) << history.error().message;
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].stage, Stage::tested);
  EXPECT_EQ((*history)[1].stage, Stage::inactive);
  EXPECT_EQ((*history)[2].stage, Stage::active);
  EXPECT_EQ((*history)[2], (*all)[0]);  // the current value is the last change
  EXPECT_TRUE(store_->stage_history("prod-b", p2)->empty());
}

TEST_P(FleetStoreTest, OnlyStoredPatchesOfKnownClustersGetStages) {
  add_cluster("prod-a");
  put_signature("app", "1.0", SignatureKind::product);
  expect_error(store_->set_stage("prod-a", SignatureRef{"app", "1.0"}, Stage::active, kActor),
               ErrorCode::invalid_argument, "app@1.0 is a product, not a patch");
  expect_error(store_->set_stage("prod-a", SignatureRef{"app-p9", "1"}, Stage::active, kActor), ErrorCode::not_found,
               "no signature app-p9@1");
  expect_error(store_->set_stage("nowhere", SignatureRef{"app", "1.0"}, Stage::active, kActor), ErrorCode::not_found,
               "no cluster named");
  expect_error(store_->stage_history("prod-a", SignatureRef{"app-p9", "1"}), ErrorCode::not_found, "no signature");
  EXPECT_TRUE(store_->stages(std::nullopt)->empty());
}

// ---- scan result cache -------------------------------------------------------------

ScanResult result_at(std::int64_t generation, std::vector<std::int64_t> ids) {
  ScanResult r;
  r.signature_generation = generation;
  SignatureState s = SignatureState::complete;
  for (std::int64_t id : ids) {
    r.states.push_back({id, s});
    s = s == SignatureState::tampered ? SignatureState::complete
                                      : static_cast<SignatureState>(static_cast<int>(s) + 1);
  }
  r.deviations = {1, 2, 3, 0};
  r.drift = {4, 5, 6, 0};
  return r;
}

TEST_P(FleetStoreTest, LatestResultsGiveEveryHostItsLatestScanAndCachedResult) {
  add_cluster("prod-a");
  const std::int64_t product = put_signature("app", "1.0", SignatureKind::product);
  const std::int64_t patch = put_signature("app-p1", "1", SignatureKind::patch);
  auto generation = store_->signature_generation();
  ASSERT_TRUE(generation.has_value());
  EXPECT_EQ(*generation, patch);

  const std::int64_t old_scan = put_scan("a1", "v1", 100);
  const std::int64_t new_scan = put_scan("a1", "v2", 200);
  put_scan("a2", "v1", 150);  // a scan with no cached result
  set_host("a0", "prod-a", "active");  // a member that never scanned
  set_host("a1", "prod-a", "inactive");

  const ScanResult old_result = result_at(*generation, {product});
  const ScanResult new_result = result_at(*generation, {product, patch});
  ASSERT_TRUE(store_->put_scan_result(old_scan, old_result).has_value());
  auto put = store_->put_scan_result(new_scan, new_result);
  ASSERT_TRUE(put.has_value()) << put.error().message;

  const auto rows = latest();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].host, "a0");
  EXPECT_EQ(rows[0].cluster, "prod-a");
  EXPECT_EQ(rows[0].scan_id, 0);
  EXPECT_FALSE(rows[0].result.has_value());
  EXPECT_EQ(rows[1].host, "a1");
  EXPECT_EQ(rows[1].role, "inactive");
  EXPECT_EQ(rows[1].scan_id, new_scan);
  EXPECT_EQ(rows[1].scan_started_ns, 200);
  ASSERT_TRUE(rows[1].result.has_value());
  EXPECT_EQ(*rows[1].result, new_result);
  EXPECT_TRUE(rows[1].is_current(*generation));
  EXPECT_EQ(rows[2].host, "a2");
  EXPECT_EQ(rows[2].cluster, "");
  EXPECT_FALSE(rows[2].result.has_value());
  EXPECT_FALSE(rows[2].is_current(*generation));

  auto back = store_->get_scan_result(old_scan);
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(*back, old_result);
  EXPECT_EQ(*store_->get_scan_result(put_scan("a3", "v1", 1)), std::nullopt);
  expect_error(store_->get_scan_result(999), ErrorCode::not_found, "no scan 999");

  // Putting again replaces the cached result.
  ScanResult replaced = new_result;
  replaced.deviations.added = 42;
  ASSERT_TRUE(store_->put_scan_result(new_scan, replaced).has_value());
  EXPECT_EQ(*row(latest(), "a1").result, replaced);
}

TEST_P(FleetStoreTest, ResultsBecomeStaleWithNewSignaturesSnapshotsOrCluster) {
  add_cluster("prod-a");
  add_cluster("prod-b");
  const std::int64_t product = put_signature("app", "1.0", SignatureKind::product);
  set_host("a1", "prod-a", "active");
  const std::int64_t id = put_scan("a1", "v1", 100);
  ASSERT_TRUE(store_->publish_snapshot("prod-a", "a1", id, scan("v1", 100).manifest, kActor).has_value());
  ScanResult r = result_at(product, {product});
  r.snapshot_version = 1;
  ASSERT_TRUE(store_->put_scan_result(id, r).has_value());
  std::int64_t generation = *store_->signature_generation();
  EXPECT_TRUE(row(latest(), "a1").is_current(generation));
  EXPECT_EQ(row(latest(), "a1").result->snapshot_version, 1);

  // A new signature: the result was computed without it.
  put_signature("app-p1", "1", SignatureKind::patch);
  generation = *store_->signature_generation();
  EXPECT_EQ(generation, product + 1);
  EXPECT_FALSE(row(latest(), "a1").is_current(generation));
  r = result_at(generation, {product, generation});
  r.snapshot_version = 1;
  ASSERT_TRUE(store_->put_scan_result(id, r).has_value());
  EXPECT_TRUE(row(latest(), "a1").is_current(generation));

  // A new snapshot of the cluster: the drift counts are against the old one.
  ASSERT_TRUE(store_->publish_snapshot("prod-a", "a1", id, scan("v1", 100).manifest, kActor).has_value());
  EXPECT_FALSE(row(latest(), "a1").snapshot_current);
  EXPECT_FALSE(row(latest(), "a1").is_current(generation));
  r.snapshot_version = 2;
  ASSERT_TRUE(store_->put_scan_result(id, r).has_value());
  EXPECT_TRUE(row(latest(), "a1").is_current(generation));

  // Moved to a cluster without a snapshot: the comparison no longer applies.
  set_host("a1", "prod-b", "active");
  EXPECT_FALSE(row(latest(), "a1").is_current(generation));
  r.snapshot_version = 0;
  ASSERT_TRUE(store_->put_scan_result(id, r).has_value());
  EXPECT_TRUE(row(latest(), "a1").is_current(generation));
  // And a first snapshot of that cluster makes "compared with none" stale.
  ASSERT_TRUE(store_->publish_snapshot("prod-b", "a1", id, scan("v1", 100).manifest, kActor).has_value());
  EXPECT_FALSE(row(latest(), "a1").is_current(generation));
}

TEST_P(FleetStoreTest, BadScanResultsAreRefusedWithoutWriting) {
  add_cluster("prod-a");
  const std::int64_t s1 = put_signature("app", "1.0", SignatureKind::product);
  const std::int64_t s2 = put_signature("app-p1", "1", SignatureKind::patch);
  const std::int64_t id = put_scan("a1", "v1", 100);
  expect_error(store_->put_scan_result(999, result_at(s2, {s1})), ErrorCode::not_found, "no scan 999");
  expect_error(store_->put_scan_result(id, result_at(s2, {s2, s1})), ErrorCode::invalid_argument, "ascending");
  expect_error(store_->put_scan_result(id, result_at(s2, {s1, s1})), ErrorCode::invalid_argument, "ascending");
  expect_error(store_->put_scan_result(id, result_at(s2, {s1, s2 + 5})), ErrorCode::invalid_argument,
               "signature id " + std::to_string(s2 + 5));
  expect_error(store_->put_scan_result(id, result_at(s1, {s1, s2})), ErrorCode::invalid_argument,
               "not stored at generation");
  expect_error(store_->put_scan_result(id, result_at(s2 + 1, {s1})), ErrorCode::invalid_argument,
               "the store is at generation " + std::to_string(s2));
  ScanResult bad_state = result_at(s2, {s1});
  bad_state.states[0].state = static_cast<SignatureState>(77);
  expect_error(store_->put_scan_result(id, bad_state), ErrorCode::invalid_argument, "unknown signature state");
  ScanResult no_cluster = result_at(s2, {s1});
  no_cluster.snapshot_version = 1;
  expect_error(store_->put_scan_result(id, no_cluster), ErrorCode::invalid_argument, "in no cluster");
  set_host("a1", "prod-a", "active");
  expect_error(store_->put_scan_result(id, no_cluster), ErrorCode::invalid_argument, "no snapshot version 1");
  EXPECT_EQ(*store_->get_scan_result(id), std::nullopt);
}

TEST_P(FleetStoreTest, ListSignaturesMatchesTheOrderOfSignatures) {
  const std::int64_t a = put_signature("app", "1.0", SignatureKind::product);
  const std::int64_t b = put_signature("app-p1", "1", SignatureKind::patch);
  auto list = store_->list_signatures();
  ASSERT_TRUE(list.has_value()) << list.error().message;
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0], (SignatureListing{a, SignatureRef{"app", "1.0"}, SignatureKind::product, 1}));
  EXPECT_EQ((*list)[1], (SignatureListing{b, SignatureRef{"app-p1", "1"}, SignatureKind::patch, 1}));
  auto all = store_->signatures();
  ASSERT_TRUE(all.has_value());
  for (std::size_t i = 0; i < all->size(); ++i) EXPECT_EQ((*all)[i].info.ref, (*list)[i].ref);
}

TEST(ScanResultCodec, RoundTripsAndRefusesMalformedBlobs) {
  ScanResult r = result_at(9, {1, 2, 300, 1'000'000'000'000});
  r.deviations = {1, 2, UINT64_MAX, 7};
  const std::string data = store::encode_scan_result(r);
  EXPECT_LT(data.size(), 40u);
  ScanResult back;
  ASSERT_TRUE(store::decode_scan_result(data, back).has_value());
  back.signature_generation = 9;  // a column of its own, not in the blob
  EXPECT_EQ(back, r);

  auto refused = [](std::string blob) {
    ScanResult out;
    auto d = store::decode_scan_result(blob, out);
    EXPECT_FALSE(d.has_value()) << "accepted a malformed blob of " << blob.size() << " bytes";
    if (!d) {
      EXPECT_EQ(d.error().code, ErrorCode::parse);
    }
  };
  refused("");
  refused(std::string("\x02", 1) + data.substr(1));           // unknown version
  refused(data.substr(0, data.size() - 1));                   // truncated
  refused(data + "x");                                        // trailing bytes
  std::string zero_delta = store::encode_scan_result(result_at(9, {1}));
  zero_delta[zero_delta.size() - 2] = '\0';                   // id delta 0
  refused(zero_delta);
  std::string bad_state = store::encode_scan_result(result_at(9, {1}));
  bad_state.back() = '\x09';
  refused(bad_state);
  std::string huge_count(1, '\x01');
  huge_count.append(8, '\0');
  huge_count.append("\xff\xff\xff\xff\x0f");                  // 4G entries in a few bytes
  refused(huge_count);
}

// ---- audit log ---------------------------------------------------------------------

TEST_P(FleetStoreTest, EveryFleetWriteIsAuditedNewestFirst) {
  add_cluster("prod-a");
  set_host("a1", "prod-a", "active");
  set_host("a1", "prod-a", "inactive");
  put_signature("app-p1", "1", SignatureKind::patch);
  ASSERT_TRUE(store_->publish_snapshot("prod-a", "a1", 0, scan("v1", 1).manifest, "test:bob").has_value());
  ASSERT_TRUE(store_->set_stage("prod-a", SignatureRef{"app-p1", "1"}, Stage::inactive, kActor).has_value());
  ASSERT_TRUE(store_->set_stage("prod-a", SignatureRef{"app-p1", "1"}, Stage::active, kActor).has_value());
  expect_error(store_->add_cluster("prod-a", "", kActor), ErrorCode::invalid_argument, "exists");  // not logged

  auto log = store_->audit_log(100);
  ASSERT_TRUE(log.has_value()) << log.error().message;
  ASSERT_EQ(log->size(), 6u);
  auto entry = [&](std::size_t newest_first) {
    const AuditEntry& e = (*log)[newest_first];
    return e.action + " " + e.object + " | " + e.detail + " | " + e.actor;
  };
  EXPECT_EQ(entry(5), "cluster.add prod-a |  | test:alice");
  EXPECT_EQ(entry(4), "host.set a1 | new host: cluster prod-a, role active | test:alice");
  EXPECT_EQ(entry(3), "host.set a1 | cluster prod-a, role active -> cluster prod-a, role inactive | test:alice");
  EXPECT_EQ(entry(2), "snapshot.publish prod-a | version 1 from host a1, 4 records | test:bob");
  EXPECT_EQ(entry(1), "stage.set prod-a:app-p1@1 | (unset) -> inactive | test:alice");
  EXPECT_EQ(entry(0), "stage.set prod-a:app-p1@1 | inactive -> active | test:alice");
  for (std::size_t i = 1; i < log->size(); ++i) {
    EXPECT_GT((*log)[i - 1].id, (*log)[i].id);
    EXPECT_GE((*log)[i - 1].at_ns, (*log)[i].at_ns);
  }
  auto two = store_->audit_log(2);
  ASSERT_TRUE(two.has_value());
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0], (*log)[0]);
  EXPECT_TRUE(store_->audit_log(0)->empty());
}

// ---- upgrade -----------------------------------------------------------------------

TEST_P(FleetStoreTest, AStoreWithTheFirstTwoMigrationsUpgradesCleanly) {
  if (GetParam() != Backend::sqlite) GTEST_SKIP() << "an SQLite file as an older release left it";
  store_.reset();
  fs::remove(path_);
  {
    // The store as the release before the fleet tables left it: migrations 1 and 2, a
    // host whose free-text cluster column someone filled by hand, and one without.
    auto db = sqlite::Db::open(path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    ASSERT_TRUE(db.has_value()) << db.error().message;
    ASSERT_TRUE(sqlite::migrate(*db, path_, 2).has_value());
    ASSERT_TRUE(db->exec("INSERT INTO hosts(name, cluster, role) VALUES ('old-1', 'legacy', 'active'),"
                         " ('old-2', NULL, NULL)")
                    .has_value());
  }
  store_ = open();
  ASSERT_NE(store_, nullptr);
  auto hosts = store_->list_hosts();
  ASSERT_TRUE(hosts.has_value()) << hosts.error().message;
  EXPECT_EQ(*hosts, (std::vector<HostListing>{{"old-1", "legacy", "active", 0, 0, 0}, {"old-2", "", "", 0, 0, 0}}));
  auto clusters = store_->list_clusters();
  ASSERT_TRUE(clusters.has_value());
  EXPECT_EQ(*clusters, (std::vector<ClusterListing>{{"legacy", "", 1, 0}}));
  // Everything works on the upgraded store.
  set_host("old-2", "legacy", "inactive");
  const std::int64_t id = put_scan("old-2", "v1", 5);
  ASSERT_TRUE(store_->publish_snapshot("legacy", "old-2", id, scan("v1", 5).manifest, kActor).has_value());
  EXPECT_EQ(row(latest(), "old-2").cluster, "legacy");

  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &raw), SQLITE_OK);
  auto single_int = [&](const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(raw, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(raw);
    const int rc = sqlite3_step(stmt);
    const std::int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
    sqlite3_finalize(stmt);
    return v;
  };
  EXPECT_EQ(single_int("SELECT max(version) FROM schema_migrations"), sqlite_store_schema_version());
  EXPECT_EQ(single_int("SELECT count(*) FROM pragma_table_info('hosts') WHERE name = 'cluster'"), 0);
  EXPECT_EQ(single_int("SELECT count(*) FROM pragma_foreign_key_check"), 0);
  EXPECT_EQ(single_int("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'"), 0);
  sqlite3_close(raw);
}

TEST_P(FleetStoreTest, ReopeningKeepsTheFleet) {
  add_cluster("prod-a");
  set_host("a1", "prod-a", "active");
  put_signature("app-p1", "1", SignatureKind::patch);
  ASSERT_TRUE(store_->set_stage("prod-a", SignatureRef{"app-p1", "1"}, Stage::active, kActor).has_value());
  ASSERT_TRUE(store_->publish_snapshot("prod-a", "a1", 0, scan("v1", 1).manifest, kActor).has_value());
  const auto stages = *store_->stages(std::nullopt);
  const auto snapshots = *store_->list_snapshots("prod-a");
  store_ = open();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(*store_->stages(std::nullopt), stages);
  EXPECT_EQ(*store_->list_snapshots("prod-a"), snapshots);
  EXPECT_EQ(store_->audit_log(10)->size(), 4u);
}

}  // namespace
}  // namespace tb
