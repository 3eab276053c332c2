#include "store/sqlite_fleet.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <string>
#include <utility>

#include "core/path.h"
#include "core/scan_signature.h"
#include "store/chunk_codec.h"

namespace tb::sqlite {
namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

// Labels (cluster names, roles, actors) show up in text tables and JSON: plain text,
// bounded, and (except descriptions) never empty.
Expected<void> check_text(std::string_view what, std::string_view value, std::size_t max_bytes, bool may_be_empty) {
  if (value.empty() && !may_be_empty) return fail(ErrorCode::invalid_argument, std::string(what) + " is empty");
  if (value.size() > max_bytes)
    return fail(ErrorCode::invalid_argument,
                std::string(what) + " is longer than " + std::to_string(max_bytes) + " bytes");
  if (!is_plain_text(value))
    return fail(ErrorCode::invalid_argument,
                std::string(what) + " is not plain text (UTF-8 without control characters)");
  return {};
}

Expected<void> check_name(std::string_view what, std::string_view value) {
  return check_text(what, value, kMaxFleetName, false);
}

// Host names are stored verbatim like put_scan() stores them (any bytes), only bounded.
Expected<void> check_host_name(std::string_view name) {
  if (name.empty()) return fail(ErrorCode::invalid_argument, "host name is empty");
  if (name.size() > kMaxFleetName)
    return fail(ErrorCode::invalid_argument, "host name is longer than " + std::to_string(kMaxFleetName) + " bytes");
  return {};
}

Error no_cluster(std::string_view name) { return Error{ErrorCode::not_found, "no cluster named " + quoted(name)}; }

template <class Bind>
Expected<std::optional<std::int64_t>> find_int(Db& db, const char* sql, Bind bind) {
  auto stmt = db.cached(sql);
  if (!stmt) return tl::unexpected(stmt.error());
  Use q(**stmt);
  bind(*q);
  auto row = q->step();
  if (!row) return tl::unexpected(row.error());
  if (!*row) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(q->column_int(0));
}

template <class Bind>
Expected<void> execute(Db& db, const char* sql, Bind bind) {
  auto stmt = db.cached(sql);
  if (!stmt) return tl::unexpected(stmt.error());
  Use q(**stmt);
  bind(*q);
  return q->run();
}

// Calls `row(stmt)` for every row; stops at the first error `row` returns.
template <class Bind, class Row>
Expected<void> each_row(Db& db, const char* sql, Bind bind, Row row) {
  auto stmt = db.cached(sql);
  if (!stmt) return tl::unexpected(stmt.error());
  Use q(**stmt);
  bind(*q);
  for (;;) {
    auto more = q->step();
    if (!more) return tl::unexpected(more.error());
    if (!*more) return {};
    if (auto r = row(*q); !r) return r;
  }
}

constexpr auto no_binds = [](Stmt&) {};

Expected<Sha256Digest> digest_from(std::string_view blob) {
  Sha256Digest d;
  if (blob.size() != d.bytes.size()) return fail(ErrorCode::parse, "corrupt digest in the store");
  std::copy(blob.begin(), blob.end(), reinterpret_cast<char*>(d.bytes.data()));
  return d;
}

Expected<Stage> stage_from(std::string_view text) {
  auto stage = stage_from_string(text);
  if (!stage) return fail(ErrorCode::parse, "corrupt stage in the store: " + quoted(text));
  return *stage;
}

// Columns: version, source_host, source_scan_id, published_ns, actor, digest, records, manifest_id.
constexpr const char* kSnapshotColumns =
    "SELECT s.version, s.source_host, COALESCE(s.source_scan_id, 0), s.published_ns, s.actor, m.digest, m.records,"
    " s.manifest_id FROM snapshots s JOIN manifests m ON m.id = s.manifest_id";

Expected<SnapshotListing> snapshot_listing(std::string_view cluster, const Stmt& q) {
  auto digest = digest_from(q.column_blob(5));
  if (!digest) return tl::unexpected(digest.error());
  return SnapshotListing{std::string(cluster), q.column_int(0), q.column_text(1), q.column_int(2),
                         q.column_int(3),      q.column_text(4), *digest,         q.column_uint(6)};
}

std::string describe_host(std::string_view cluster, std::string_view role) {
  return "cluster " + (cluster.empty() ? std::string("(none)") : std::string(cluster)) + ", role " +
         (role.empty() ? std::string("(none)") : std::string(role));
}

}  // namespace

Expected<std::int64_t> FleetTables::cluster_id(std::string_view name) {
  auto id = find_int(db_, "SELECT id FROM clusters WHERE name = ?", [&](Stmt& q) { q.bind_text(1, name); });
  if (!id) return tl::unexpected(id.error());
  if (!*id) return tl::unexpected(no_cluster(name));
  return **id;
}

Expected<void> FleetTables::audit(std::string_view actor, std::string_view action, std::string_view object,
                                  std::string_view detail) {
  return execute(db_, "INSERT INTO audit_log(at_ns, actor, action, object, detail) VALUES (?, ?, ?, ?, ?)",
                 [&](Stmt& q) {
                   q.bind(1, now_ns()).bind_text(2, actor).bind_text(3, action).bind_text(4, object);
                   q.bind_text(5, detail);
                 });
}

Expected<void> FleetTables::add_cluster(std::string_view name, std::string_view description,
                                        std::string_view actor) {
  if (auto r = check_name("cluster name", name); !r) return r;
  if (auto r = check_text("cluster description", description, kMaxFleetDescription, true); !r) return r;
  if (auto r = check_name("actor", actor); !r) return r;
  auto tx = Transaction::begin(db_);
  if (!tx) return tl::unexpected(tx.error());
  auto taken = find_int(db_, "SELECT id FROM clusters WHERE name = ?", [&](Stmt& q) { q.bind_text(1, name); });
  if (!taken) return tl::unexpected(taken.error());
  if (*taken) return fail(ErrorCode::invalid_argument, "a cluster named " + quoted(name) + " exists already");
  if (auto r = execute(db_, "INSERT INTO clusters(name, description, created_ns) VALUES (?, ?, ?)",
                       [&](Stmt& q) { q.bind_text(1, name).bind_text(2, description).bind(3, now_ns()); });
      !r)
    return fail(r.error().code, "cannot add cluster " + quoted(name) + ": " + r.error().message);
  if (auto r = audit(actor, "cluster.add", name, description.empty() ? "" : "description: " + std::string(description));
      !r)
    return r;
  return tx->commit();
}

Expected<std::vector<ClusterListing>> FleetTables::list_clusters() {
  std::vector<ClusterListing> out;
  auto r = each_row(
      db_,
      "SELECT c.name, c.description, (SELECT count(*) FROM hosts h WHERE h.cluster_id = c.id),"
      " COALESCE((SELECT max(s.version) FROM snapshots s WHERE s.cluster_id = c.id), 0)"
      " FROM clusters c ORDER BY c.name",
      no_binds, [&](Stmt& q) -> Expected<void> {
        out.push_back(ClusterListing{q.column_text(0), q.column_text(1), q.column_uint(2), q.column_int(3)});
        return {};
      });
  if (!r) return tl::unexpected(r.error());
  return out;
}

Expected<void> FleetTables::set_host(std::string_view name, std::string_view cluster, std::string_view role,
                                     std::string_view actor) {
  if (auto r = check_host_name(name); !r) return r;
  if (auto r = check_name("cluster name", cluster); !r) return r;
  if (auto r = check_name("role", role); !r) return r;
  if (auto r = check_name("actor", actor); !r) return r;
  auto tx = Transaction::begin(db_);
  if (!tx) return tl::unexpected(tx.error());
  auto cid = cluster_id(cluster);
  if (!cid) return tl::unexpected(cid.error());

  std::optional<std::int64_t> host;
  std::string old_cluster, old_role;
  auto found = each_row(
      db_,
      "SELECT h.id, COALESCE(c.name, ''), COALESCE(h.role, '') FROM hosts h LEFT JOIN clusters c"
      " ON c.id = h.cluster_id WHERE h.name = ?",
      [&](Stmt& q) { q.bind_text(1, name); },
      [&](Stmt& q) -> Expected<void> {
        host = q.column_int(0);
        old_cluster = q.column_text(1);
        old_role = q.column_text(2);
        return {};
      });
  if (!found) return found;

  std::string detail;
  Expected<void> written;
  if (!host) {
    detail = "new host: " + describe_host(cluster, role);
    written = execute(db_, "INSERT INTO hosts(name, cluster_id, role) VALUES (?, ?, ?)",
                      [&](Stmt& q) { q.bind_text(1, name).bind(2, *cid).bind_text(3, role); });
  } else {
    detail = describe_host(old_cluster, old_role) + " -> " + describe_host(cluster, role);
    written = execute(db_, "UPDATE hosts SET cluster_id = ?, role = ? WHERE id = ?",
                      [&](Stmt& q) { q.bind(1, *cid).bind_text(2, role).bind(3, *host); });
  }
  if (!written) return fail(written.error().code, "cannot set host " + quoted(name) + ": " + written.error().message);
  if (auto r = audit(actor, "host.set", name, detail); !r) return r;
  return tx->commit();
}

Expected<std::int64_t> FleetTables::publish_snapshot(std::string_view cluster, std::string_view source_host,
                                                     std::int64_t source_scan_id, const Manifest& manifest,
                                                     std::string_view actor) {
  if (auto r = check_name("cluster name", cluster); !r) return tl::unexpected(r.error());
  if (auto r = check_name("actor", actor); !r) return tl::unexpected(r.error());
  if (source_host.size() > kMaxFleetName) return fail(ErrorCode::invalid_argument, "source host name is too long");
  if (source_scan_id < 0) return fail(ErrorCode::invalid_argument, "negative source scan id");
  auto tx = Transaction::begin(db_);
  if (!tx) return tl::unexpected(tx.error());
  auto cid = cluster_id(cluster);
  if (!cid) return tl::unexpected(cid.error());
  if (source_scan_id != 0) {
    auto scan = find_int(db_, "SELECT id FROM scans WHERE id = ?", [&](Stmt& q) { q.bind(1, source_scan_id); });
    if (!scan) return tl::unexpected(scan.error());
    if (!*scan) return fail(ErrorCode::not_found, "no scan " + std::to_string(source_scan_id) + " in the store");
  }
  auto manifest_id = manifests_.put(manifest);
  if (!manifest_id) return manifest_id;
  auto last = find_int(db_, "SELECT COALESCE(max(version), 0) FROM snapshots WHERE cluster_id = ?",
                       [&](Stmt& q) { q.bind(1, *cid); });
  if (!last) return tl::unexpected(last.error());
  const std::int64_t version = last->value_or(0) + 1;
  const std::int64_t now = now_ns();
  if (auto r = execute(db_,
                       "INSERT INTO snapshots(cluster_id, version, manifest_id, source_host, source_scan_id,"
                       " published_ns, actor) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [&](Stmt& q) {
                         q.bind(1, *cid).bind(2, version).bind(3, *manifest_id).bind_text(4, source_host);
                         if (source_scan_id != 0) q.bind(5, source_scan_id); else q.bind_null(5);
                         q.bind(6, now).bind_text(7, actor);
                       });
      !r)
    return fail(r.error().code, "cannot publish a snapshot of cluster " + quoted(cluster) + ": " + r.error().message);
  std::string detail = "version " + std::to_string(version) + " from host " + std::string(source_host);
  if (source_scan_id != 0) detail += " (scan " + std::to_string(source_scan_id) + ")";
  detail += ", " + std::to_string(manifest.size()) + " records";
  if (auto r = audit(actor, "snapshot.publish", cluster, detail); !r) return tl::unexpected(r.error());
  if (auto r = tx->commit(); !r) return tl::unexpected(r.error());
  return version;
}

Expected<Snapshot> FleetTables::get_snapshot(std::string_view cluster, std::optional<std::int64_t> version) {
  auto cid = cluster_id(cluster);
  if (!cid) return tl::unexpected(cid.error());
  std::optional<SnapshotListing> info;
  std::int64_t manifest_id = 0;
  static const std::string sql = std::string(kSnapshotColumns) +
                                 " WHERE s.cluster_id = ?1 AND (?2 = 0 OR s.version = ?2)"
                                 " ORDER BY s.version DESC LIMIT 1";
  auto r = each_row(
      db_, sql.c_str(), [&](Stmt& q) { q.bind(1, *cid).bind(2, version.value_or(0)); },
      [&](Stmt& q) -> Expected<void> {
        auto listing = snapshot_listing(cluster, q);
        if (!listing) return tl::unexpected(listing.error());
        info = std::move(*listing);
        manifest_id = q.column_int(7);
        return {};
      });
  if (!r) return tl::unexpected(r.error());
  if (!info) {
    if (version)
      return fail(ErrorCode::not_found,
                  "cluster " + quoted(cluster) + " has no snapshot version " + std::to_string(*version));
    return fail(ErrorCode::not_found, "cluster " + quoted(cluster) + " has no snapshot yet");
  }
  auto manifest = manifests_.get(manifest_id);
  if (!manifest) return tl::unexpected(manifest.error());
  return Snapshot{std::move(*info), std::move(*manifest)};
}

Expected<std::vector<SnapshotListing>> FleetTables::list_snapshots(std::string_view cluster) {
  auto cid = cluster_id(cluster);
  if (!cid) return tl::unexpected(cid.error());
  std::vector<SnapshotListing> out;
  static const std::string sql = std::string(kSnapshotColumns) + " WHERE s.cluster_id = ? ORDER BY s.version";
  auto r = each_row(
      db_, sql.c_str(), [&](Stmt& q) { q.bind(1, *cid); },
      [&](Stmt& q) -> Expected<void> {
        auto listing = snapshot_listing(cluster, q);
        if (!listing) return tl::unexpected(listing.error());
        out.push_back(std::move(*listing));
        return {};
      });
  if (!r) return tl::unexpected(r.error());
  return out;
}

Expected<void> FleetTables::set_stage(std::string_view cluster, const SignatureRef& patch, Stage stage,
                                      std::string_view actor) {
  if (auto r = check_name("cluster name", cluster); !r) return r;
  if (auto r = check_name("actor", actor); !r) return r;
  auto tx = Transaction::begin(db_);
  if (!tx) return tl::unexpected(tx.error());
  auto cid = cluster_id(cluster);
  if (!cid) return tl::unexpected(cid.error());
  std::optional<std::int64_t> signature;
  std::string kind;
  auto found = each_row(
      db_, "SELECT id, kind FROM signatures WHERE name = ? AND version = ?",
      [&](Stmt& q) { q.bind_text(1, patch.name).bind_text(2, patch.version); },
      [&](Stmt& q) -> Expected<void> {
        signature = q.column_int(0);
        kind = q.column_text(1);
        return {};
      });
  if (!found) return found;
  if (!signature) return fail(ErrorCode::not_found, "no signature " + patch.id() + " in the store");
  if (kind != to_string(SignatureKind::patch))
    return fail(ErrorCode::invalid_argument, patch.id() + " is a " + kind + ", not a patch: only patches have stages");

  std::optional<std::string> previous;
  auto prev = each_row(
      db_, "SELECT stage FROM stages WHERE cluster_id = ? AND signature_id = ?",
      [&](Stmt& q) { q.bind(1, *cid).bind(2, *signature); },
      [&](Stmt& q) -> Expected<void> {
        previous = q.column_text(0);
        return {};
      });
  if (!prev) return prev;
  const std::int64_t now = now_ns();
  const auto bind_row = [&](Stmt& q) {
    q.bind(1, *cid).bind(2, *signature).bind_text(3, to_string(stage)).bind(4, now).bind_text(5, actor);
  };
  if (auto r = execute(db_,
                       "INSERT INTO stages(cluster_id, signature_id, stage, set_ns, actor) VALUES (?, ?, ?, ?, ?)"
                       " ON CONFLICT(cluster_id, signature_id) DO UPDATE SET stage = excluded.stage,"
                       " set_ns = excluded.set_ns, actor = excluded.actor",
                       bind_row);
      !r)
    return r;
  if (auto r = execute(db_,
                       "INSERT INTO stage_history(cluster_id, signature_id, stage, set_ns, actor)"
                       " VALUES (?, ?, ?, ?, ?)",
                       bind_row);
      !r)
    return r;
  const std::string detail = (previous ? *previous + " -> " : std::string("(unset) -> ")) + std::string(to_string(stage));
  if (auto r = audit(actor, "stage.set", std::string(cluster) + ":" + patch.id(), detail); !r) return r;
  return tx->commit();
}

Expected<std::vector<StageRecord>> FleetTables::stages(std::optional<std::string_view> cluster) {
  std::optional<std::int64_t> cid;
  if (cluster) {
    auto id = cluster_id(*cluster);
    if (!id) return tl::unexpected(id.error());
    cid = *id;
  }
  // Reserved up front: growing a vector of 100,000 assignments moves each several times.
  auto count = find_int(db_, "SELECT count(*) FROM stages WHERE ?1 IS NULL OR cluster_id = ?1", [&](Stmt& q) {
    if (cid) q.bind(1, *cid); else q.bind_null(1);
  });
  if (!count) return tl::unexpected(count.error());
  std::vector<StageRecord> out;
  out.reserve(static_cast<std::size_t>(count->value_or(0)));
  auto r = each_row(
      db_,
      // CROSS JOIN fixes the loop order (clusters by their name index, then each one's
      // stages by primary key), so 100,000 rows come out without a sort.
      "SELECT c.name, g.name, g.version, st.stage, st.set_ns, st.actor FROM clusters c"
      " CROSS JOIN stages st ON st.cluster_id = c.id CROSS JOIN signatures g ON g.id = st.signature_id"
      " WHERE ?1 IS NULL OR c.id = ?1 ORDER BY c.name, st.signature_id",
      [&](Stmt& q) {
        if (cid) q.bind(1, *cid); else q.bind_null(1);
      },
      [&](Stmt& q) -> Expected<void> {
        auto stage = stage_from(q.column_text(3));
        if (!stage) return tl::unexpected(stage.error());
        out.push_back(StageRecord{q.column_text(0), SignatureRef{q.column_text(1), q.column_text(2)}, *stage,
                                      q.column_int(4), q.column_text(5)});
        return {};
      });
  if (!r) return tl::unexpected(r.error());
  return out;
}

Expected<std::vector<StageRecord>> FleetTables::stage_history(std::string_view cluster,
                                                                  const SignatureRef& patch) {
  auto cid = cluster_id(cluster);
  if (!cid) return tl::unexpected(cid.error());
  auto signature = find_int(db_, "SELECT id FROM signatures WHERE name = ? AND version = ?",
                            [&](Stmt& q) { q.bind_text(1, patch.name).bind_text(2, patch.version); });
  if (!signature) return tl::unexpected(signature.error());
  if (!*signature) return fail(ErrorCode::not_found, "no signature " + patch.id() + " in the store");
  std::vector<StageRecord> out;
  auto r = each_row(
      db_,
      "SELECT stage, set_ns, actor FROM stage_history WHERE cluster_id = ? AND signature_id = ? ORDER BY id",
      [&](Stmt& q) { q.bind(1, *cid).bind(2, **signature); },
      [&](Stmt& q) -> Expected<void> {
        auto stage = stage_from(q.column_text(0));
        if (!stage) return tl::unexpected(stage.error());
        out.push_back(StageRecord{std::string(cluster), patch, *stage, q.column_int(1), q.column_text(2)});
        return {};
      });
  if (!r) return tl::unexpected(r.error());
  return out;
}

Expected<std::vector<SignatureListing>> FleetTables::list_signatures() {
  std::vector<SignatureListing> out;
  auto r = each_row(
      db_,
      "SELECT s.id, s.name, s.version, s.kind, m.records FROM signatures s JOIN manifests m ON m.id = s.manifest_id"
      " ORDER BY s.id",
      no_binds, [&](Stmt& q) -> Expected<void> {
        auto kind = signature_kind_from_string(q.column_text(3));
        if (!kind) return fail(ErrorCode::parse, "corrupt signature kind in the store");
        out.push_back(SignatureListing{q.column_int(0), SignatureRef{q.column_text(1), q.column_text(2)}, *kind,
                                       q.column_uint(4)});
        return {};
      });
  if (!r) return tl::unexpected(r.error());
  return out;
}

Expected<std::int64_t> FleetTables::signature_generation() {
  auto max = find_int(db_, "SELECT COALESCE(max(id), 0) FROM signatures", no_binds);
  if (!max) return tl::unexpected(max.error());
  return max->value_or(0);
}

Expected<const std::vector<std::int64_t>*> FleetTables::signature_ids(std::int64_t generation) {
  if (generation == ids_generation_) return &ids_;
  ids_.clear();
  ids_generation_ = -1;
  auto r = each_row(db_, "SELECT id FROM signatures ORDER BY id", no_binds, [&](Stmt& q) -> Expected<void> {
    ids_.push_back(q.column_int(0));
    return {};
  });
  if (!r) return tl::unexpected(r.error());
  ids_generation_ = generation;
  return &ids_;
}

Expected<void> FleetTables::put_scan_result(std::int64_t scan_id, const ScanResult& result) {
  if (result.snapshot_version < 0) return fail(ErrorCode::invalid_argument, "negative snapshot version");
  auto tx = Transaction::begin(db_);
  if (!tx) return tl::unexpected(tx.error());

  bool scan_found = false;
  std::optional<std::int64_t> host_cluster;
  auto found = each_row(
      db_, "SELECT h.cluster_id FROM scans s JOIN hosts h ON h.id = s.host_id WHERE s.id = ?",
      [&](Stmt& q) { q.bind(1, scan_id); },
      [&](Stmt& q) -> Expected<void> {
        scan_found = true;
        if (!q.column_is_null(0)) host_cluster = q.column_int(0);
        return {};
      });
  if (!found) return found;
  if (!scan_found) return fail(ErrorCode::not_found, "no scan " + std::to_string(scan_id) + " in the store");

  auto generation = signature_generation();
  if (!generation) return tl::unexpected(generation.error());
  if (result.signature_generation < 0 || result.signature_generation > *generation)
    return fail(ErrorCode::invalid_argument, "scan result of signature generation " +
                                                 std::to_string(result.signature_generation) +
                                                 ", but the store is at generation " + std::to_string(*generation));
  auto ids = signature_ids(*generation);
  if (!ids) return tl::unexpected(ids.error());
  std::int64_t previous = 0;
  for (const SignatureStateEntry& e : result.states) {
    if (e.signature_id <= previous)
      return fail(ErrorCode::invalid_argument, "scan result states are not in ascending signature id order");
    if (e.signature_id > result.signature_generation || !std::binary_search((*ids)->begin(), (*ids)->end(), e.signature_id))
      return fail(ErrorCode::invalid_argument,
                  "scan result names signature id " + std::to_string(e.signature_id) +
                      ", which is not stored at generation " + std::to_string(result.signature_generation));
    if (static_cast<std::uint8_t>(e.state) > static_cast<std::uint8_t>(kLastSignatureState))
      return fail(ErrorCode::invalid_argument, "scan result holds an unknown signature state");
    previous = e.signature_id;
  }

  std::optional<std::int64_t> snapshot;
  if (result.snapshot_version != 0) {
    if (!host_cluster)
      return fail(ErrorCode::invalid_argument, "scan " + std::to_string(scan_id) +
                                                   " is of a host in no cluster: it has no snapshot to compare with");
    auto id = find_int(db_, "SELECT id FROM snapshots WHERE cluster_id = ? AND version = ?",
                       [&](Stmt& q) { q.bind(1, *host_cluster).bind(2, result.snapshot_version); });
    if (!id) return tl::unexpected(id.error());
    if (!*id)
      return fail(ErrorCode::invalid_argument, "the cluster of scan " + std::to_string(scan_id) + "'s host has no snapshot version " +
                                                   std::to_string(result.snapshot_version));
    snapshot = **id;
  }

  const std::string data = store::encode_scan_result(result);
  if (auto r = execute(db_,
                       "INSERT INTO scan_results(scan_id, signature_generation, snapshot_id, computed_ns, data,"
                       " inventory_mismatches) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(scan_id) DO UPDATE SET"
                       " signature_generation = excluded.signature_generation, snapshot_id = excluded.snapshot_id,"
                       " computed_ns = excluded.computed_ns, data = excluded.data,"
                       " inventory_mismatches = excluded.inventory_mismatches",
                       [&](Stmt& q) {
                         q.bind(1, scan_id).bind(2, result.signature_generation);
                         if (snapshot) q.bind(3, *snapshot); else q.bind_null(3);
                         q.bind(4, now_ns()).bind_blob_static(5, data).bind(6, result.inventory_mismatches);
                       });
      !r)
    return fail(r.error().code, "cannot store the result of scan " + std::to_string(scan_id) + ": " + r.error().message);
  return tx->commit();
}

Expected<std::optional<ScanResult>> FleetTables::get_scan_result(std::int64_t scan_id) {
  auto scan = find_int(db_, "SELECT id FROM scans WHERE id = ?", [&](Stmt& q) { q.bind(1, scan_id); });
  if (!scan) return tl::unexpected(scan.error());
  if (!*scan) return fail(ErrorCode::not_found, "no scan " + std::to_string(scan_id) + " in the store");
  std::optional<ScanResult> out;
  auto r = each_row(
      db_,
      "SELECT r.signature_generation, COALESCE(sn.version, 0), r.data, r.inventory_mismatches FROM scan_results r"
      " LEFT JOIN snapshots sn ON sn.id = r.snapshot_id WHERE r.scan_id = ?",
      [&](Stmt& q) { q.bind(1, scan_id); },
      [&](Stmt& q) -> Expected<void> {
        ScanResult result;
        if (auto d = store::decode_scan_result(q.column_blob(2), result); !d) return d;
        result.signature_generation = q.column_int(0);
        result.snapshot_version = q.column_int(1);
        result.inventory_mismatches = q.column_uint(3);
        out = std::move(result);
        return {};
      });
  if (!r) return tl::unexpected(r.error());
  return out;
}

Expected<std::vector<HostResult>> FleetTables::latest_results() {
  // One pass over the hosts: the latest scan of each by the order of latest_scan()
  // (an index probe on scans_by_host), its cached result by primary key, and whether
  // that result's snapshot is the latest of the host's current cluster.
  auto hosts = find_int(db_, "SELECT count(*) FROM hosts", no_binds);
  if (!hosts) return tl::unexpected(hosts.error());
  std::vector<HostResult> out;
  out.reserve(static_cast<std::size_t>(hosts->value_or(0)));
  auto r = each_row(
      db_,
      "SELECT h.name, COALESCE(c.name, ''), COALESCE(h.role, ''), COALESCE(ls.id, 0), COALESCE(ls.started_ns, 0),"
      " r.scan_id IS NOT NULL, r.signature_generation, COALESCE(sn.version, 0), r.data,"
      " r.snapshot_id IS (SELECT x.id FROM snapshots x WHERE x.cluster_id = h.cluster_id"
      "                   ORDER BY x.version DESC LIMIT 1), r.inventory_mismatches"
      " FROM hosts h"
      " LEFT JOIN clusters c ON c.id = h.cluster_id"
      " LEFT JOIN scans ls ON ls.id = (SELECT s.id FROM scans s WHERE s.host_id = h.id"
      "                                ORDER BY s.started_ns DESC, s.id DESC LIMIT 1)"
      " LEFT JOIN scan_results r ON r.scan_id = ls.id"
      " LEFT JOIN snapshots sn ON sn.id = r.snapshot_id"
      " ORDER BY h.name",
      no_binds, [&](Stmt& q) -> Expected<void> {
        HostResult& row = out.emplace_back();
        row.host = q.column_text(0);
        row.cluster = q.column_text(1);
        row.role = q.column_text(2);
        row.scan_id = q.column_int(3);
        row.scan_started_ns = q.column_int(4);
        if (q.column_int(5) != 0) {
          ScanResult& result = row.result.emplace();
          if (auto d = store::decode_scan_result(q.column_blob(8), result); !d) return d;
          result.signature_generation = q.column_int(6);
          result.snapshot_version = q.column_int(7);
          row.snapshot_current = q.column_int(9) != 0;
          result.inventory_mismatches = q.column_uint(10);
        }
        return {};
      });
  if (!r) return tl::unexpected(r.error());
  return out;
}

Expected<std::vector<AuditEntry>> FleetTables::audit_log(std::size_t limit) {
  const auto bounded = static_cast<std::int64_t>(
      std::min<std::size_t>(limit, static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())));
  std::vector<AuditEntry> out;
  auto r = each_row(
      db_, "SELECT id, at_ns, actor, action, object, detail FROM audit_log ORDER BY id DESC LIMIT ?",
      [&](Stmt& q) { q.bind(1, bounded); },
      [&](Stmt& q) -> Expected<void> {
        out.push_back(AuditEntry{q.column_int(0), q.column_int(1), q.column_text(2), q.column_text(3),
                                 q.column_text(4), q.column_text(5)});
        return {};
      });
  if (!r) return tl::unexpected(r.error());
  return out;
}

}  // namespace tb::sqlite

namespace tb::sqlite {

Expected<void> FleetTables::set_host_key(std::string_view host, std::string_view public_key, std::string_view actor) {
  if (auto r = check_host_name(host); !r) return r;
  if (auto r = check_name("actor", actor); !r) return r;
  if (public_key.size() != 32) return fail(ErrorCode::invalid_argument, "a host key is 32 bytes of Ed25519");
  auto tx = Transaction::begin(db_);
  if (!tx) return tl::unexpected(tx.error());
  if (auto r = execute(db_, "INSERT OR IGNORE INTO hosts(name) VALUES (?)", [&](Stmt& q) { q.bind_text(1, host); });
      !r)
    return r;
  auto id = find_int(db_, "SELECT id FROM hosts WHERE name = ?", [&](Stmt& q) { q.bind_text(1, host); });
  if (!id) return tl::unexpected(id.error());
  if (!*id) return fail(ErrorCode::internal, "host " + quoted(host) + " vanished");
  auto had = find_int(db_, "SELECT 1 FROM host_keys WHERE host_id = ?", [&](Stmt& q) { q.bind(1, **id); });
  if (!had) return tl::unexpected(had.error());
  if (auto r = execute(db_,
                       "INSERT INTO host_keys(host_id, public_key, set_ns) VALUES (?, ?, ?)"
                       " ON CONFLICT(host_id) DO UPDATE SET public_key = excluded.public_key, set_ns = excluded.set_ns",
                       [&](Stmt& q) { q.bind(1, **id).bind_blob(2, public_key).bind(3, now_ns()); });
      !r)
    return r;
  const std::string detail = std::string(*had ? "replaced" : "set") + " Ed25519 key " + encode_public_key(public_key);
  if (auto r = audit(actor, "host.key", host, detail); !r) return r;
  return tx->commit();
}

Expected<std::optional<std::string>> FleetTables::host_key(std::string_view host) {
  std::optional<std::string> key;
  auto r = each_row(
      db_, "SELECT k.public_key FROM host_keys k JOIN hosts h ON h.id = k.host_id WHERE h.name = ?",
      [&](Stmt& q) { q.bind_text(1, host); },
      [&](Stmt& q) -> Expected<void> {
        key = std::string(q.column_blob(0));
        return {};
      });
  if (!r) return tl::unexpected(r.error());
  return key;
}

Expected<bool> FleetTables::claim_nonce(std::string_view host, std::string_view nonce, std::int64_t time,
                                        std::int64_t forget_before) {
  auto tx = Transaction::begin(db_);
  if (!tx) return tl::unexpected(tx.error());
  auto id = find_int(db_, "SELECT id FROM hosts WHERE name = ?", [&](Stmt& q) { q.bind_text(1, host); });
  if (!id) return tl::unexpected(id.error());
  if (!*id) return fail(ErrorCode::not_found, "no host " + quoted(host));
  if (auto r = execute(db_, "DELETE FROM scan_nonces WHERE time_s < ?", [&](Stmt& q) { q.bind(1, forget_before); });
      !r)
    return tl::unexpected(r.error());
  auto seen = find_int(db_, "SELECT 1 FROM scan_nonces WHERE host_id = ? AND nonce = ?",
                       [&](Stmt& q) { q.bind(1, **id).bind_text(2, nonce); });
  if (!seen) return tl::unexpected(seen.error());
  if (*seen) return false;
  if (auto r = execute(db_, "INSERT INTO scan_nonces(host_id, nonce, time_s) VALUES (?, ?, ?)",
                       [&](Stmt& q) { q.bind(1, **id).bind_text(2, nonce).bind(3, time); });
      !r)
    return tl::unexpected(r.error());
  if (auto r = tx->commit(); !r) return tl::unexpected(r.error());
  return true;
}

}  // namespace tb::sqlite

namespace tb::sqlite {

Expected<Store::FleetVersion> FleetTables::fleet_version() {
  Store::FleetVersion v;
  // max(id) of an INTEGER PRIMARY KEY is one b-tree descent each.
  auto r = each_row(
      db_,
      "SELECT (SELECT COALESCE(max(id), 0) FROM signatures), (SELECT COALESCE(max(id), 0) FROM scans),"
      " (SELECT COALESCE(max(id), 0) FROM audit_log)",
      no_binds, [&](Stmt& q) -> Expected<void> {
        v.signatures = q.column_int(0);
        v.scans = q.column_int(1);
        v.audit = q.column_int(2);
        return {};
      });
  if (!r) return tl::unexpected(r.error());
  return v;
}

}  // namespace tb::sqlite
