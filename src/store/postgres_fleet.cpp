// The fleet tables of the PostgreSQL store: clusters, memberships, snapshots, stages,
// the scan result cache, the audit log, host keys and nonces (semantics: store/store.h,
// as store/sqlite_fleet.cpp implements them).
#include <algorithm>
#include <chrono>
#include <limits>
#include <string>

#include "core/path.h"
#include "core/scan_signature.h"
#include "store/chunk_codec.h"
#include "store/pg_store.h"

namespace tb::pg {
namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string str(std::string_view s) { return std::string(s); }
std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

void check_text(std::string_view what, std::string_view value, std::size_t max_bytes, bool may_be_empty) {
  if (value.empty() && !may_be_empty) raise(ErrorCode::invalid_argument, str(what) + " is empty");
  if (value.size() > max_bytes)
    raise(ErrorCode::invalid_argument, str(what) + " is longer than " + std::to_string(max_bytes) + " bytes");
  if (!is_plain_text(value))
    raise(ErrorCode::invalid_argument, str(what) + " is not plain text (UTF-8 without control characters)");
}
void check_name(std::string_view what, std::string_view value) { check_text(what, value, kMaxFleetName, false); }
void check_host_name(std::string_view name) {
  if (name.empty()) raise(ErrorCode::invalid_argument, "host name is empty");
  if (name.size() > kMaxFleetName)
    raise(ErrorCode::invalid_argument, "host name is longer than " + std::to_string(kMaxFleetName) + " bytes");
}

Stage stage_from(const std::string& text) {
  auto stage = stage_from_string(text);
  if (!stage) raise(ErrorCode::parse, "corrupt stage in the store: " + quoted(text));
  return *stage;
}

// Columns: version, source_host, source_scan_id, published_ns, actor, digest, records, manifest_id.
const std::string kSnapshotColumns =
    "SELECT s.version, s.source_host, COALESCE(s.source_scan_id, 0), s.published_ns, s.actor, m.digest, m.records,"
    " s.manifest_id FROM snapshots s JOIN manifests m ON m.id = s.manifest_id";

SnapshotListing snapshot_listing(std::string_view cluster, const pqxx::row& q) {
  return SnapshotListing{str(cluster), integer(q[0]), text(q[1]), integer(q[2]), integer(q[3]),
                         text(q[4]),   digest(q[5]),  uinteger(q[6])};
}

std::string describe_host(std::string_view cluster, std::string_view role) {
  return "cluster " + (cluster.empty() ? std::string("(none)") : str(cluster)) + ", role " +
         (role.empty() ? std::string("(none)") : str(role));
}

ScanResult decode_result(const pqxx::field& data) {
  ScanResult result;
  if (auto r = store::decode_scan_result(bytes(data), result); !r) throw Failure{r.error()};
  return result;
}

}  // namespace

std::int64_t PostgresStore::cluster_id(pqxx::transaction_base& tx, std::string_view name) {
  auto r = exec(tx, "SELECT id FROM clusters WHERE name = $1", str(name));
  if (r.empty()) raise(ErrorCode::not_found, "no cluster named " + quoted(name));
  return integer(r[0][0]);
}

void PostgresStore::audit(pqxx::transaction_base& tx, std::string_view actor, std::string_view action,
                          std::string_view object, std::string_view detail) {
  exec(tx, "INSERT INTO audit_log(at_ns, actor, action, object, detail) VALUES ($1, $2, $3, $4, $5)", now_ns(),
       str(actor), str(action), str(object), str(detail));
}

Expected<void> PostgresStore::add_cluster(std::string_view name, std::string_view description,
                                          std::string_view actor) {
  return guarded("cannot add cluster " + quoted(name), [&] {
    check_name("cluster name", name);
    check_text("cluster description", description, kMaxFleetDescription, true);
    check_name("actor", actor);
    pqxx::work tx(conn());
    exec(tx, "SELECT pg_advisory_xact_lock($1)", kFleetLock);
    if (!exec(tx, "SELECT id FROM clusters WHERE name = $1", str(name)).empty())
      raise(ErrorCode::invalid_argument, "a cluster named " + quoted(name) + " exists already");
    exec(tx, "INSERT INTO clusters(name, description, created_ns) VALUES ($1, $2, $3)", str(name), str(description),
         now_ns());
    audit(tx, actor, "cluster.add", name, description.empty() ? "" : "description: " + str(description));
    tx.commit();
  });
}

Expected<std::vector<ClusterListing>> PostgresStore::list_clusters() {
  return guarded("cannot list the clusters", [&] {
    pqxx::read_transaction tx(conn());
    std::vector<ClusterListing> out;
    for (const auto& q : exec(tx,
                              "SELECT c.name, c.description, (SELECT count(*) FROM hosts h WHERE h.cluster_id = c.id),"
                              " COALESCE((SELECT max(s.version) FROM snapshots s WHERE s.cluster_id = c.id), 0)"
                              " FROM clusters c ORDER BY c.name"))
      out.push_back(ClusterListing{text(q[0]), text(q[1]), uinteger(q[2]), integer(q[3])});
    return out;
  });
}

Expected<void> PostgresStore::set_host(std::string_view name, std::string_view cluster, std::string_view role,
                                       std::string_view actor) {
  return guarded("cannot set host " + quoted(name), [&] {
    check_host_name(name);
    check_name("cluster name", cluster);
    check_name("role", role);
    check_name("actor", actor);
    pqxx::work tx(conn());
    exec(tx, "SELECT pg_advisory_xact_lock($1)", kFleetLock);
    const std::int64_t cid = cluster_id(tx, cluster);
    auto old = exec(tx,
                    "SELECT h.id, COALESCE(c.name, ''), COALESCE(h.role, '') FROM hosts h LEFT JOIN clusters c"
                    " ON c.id = h.cluster_id WHERE h.name = $1 FOR UPDATE OF h",
                    str(name));
    std::string detail;
    if (old.empty()) {
      detail = "new host: " + describe_host(cluster, role);
      // A put_scan on another replica may create the host meanwhile: then this updates it.
      exec(tx,
           "INSERT INTO hosts(name, cluster_id, role) VALUES ($1, $2, $3)"
           " ON CONFLICT (name) DO UPDATE SET cluster_id = excluded.cluster_id, role = excluded.role",
           str(name), cid, str(role));
    } else {
      detail = describe_host(text(old[0][1]), text(old[0][2])) + " -> " + describe_host(cluster, role);
      exec(tx, "UPDATE hosts SET cluster_id = $1, role = $2 WHERE id = $3", cid, str(role), integer(old[0][0]));
    }
    audit(tx, actor, "host.set", name, detail);
    tx.commit();
  });
}

Expected<std::int64_t> PostgresStore::publish_snapshot(std::string_view cluster, std::string_view source_host,
                                                       std::int64_t source_scan_id, const Manifest& manifest,
                                                       std::string_view actor) {
  return guarded("cannot publish a snapshot of cluster " + quoted(cluster), [&] {
    check_name("cluster name", cluster);
    check_name("actor", actor);
    if (source_host.size() > kMaxFleetName) raise(ErrorCode::invalid_argument, "source host name is too long");
    if (source_scan_id < 0) raise(ErrorCode::invalid_argument, "negative source scan id");
    pqxx::work tx(conn());
    exec(tx, "SELECT pg_advisory_xact_lock($1)", kFleetLock);  // versions are max + 1
    const std::int64_t cid = cluster_id(tx, cluster);
    if (source_scan_id != 0 && exec(tx, "SELECT id FROM scans WHERE id = $1", source_scan_id).empty())
      raise(ErrorCode::not_found, "no scan " + std::to_string(source_scan_id) + " in the store");
    const std::int64_t manifest_id = put_manifest(tx, manifest);
    const std::int64_t version =
        integer(exec(tx, "SELECT COALESCE(max(version), 0) FROM snapshots WHERE cluster_id = $1", cid)[0][0]) + 1;
    exec(tx,
         "INSERT INTO snapshots(cluster_id, version, manifest_id, source_host, source_scan_id, published_ns, actor)"
         " VALUES ($1, $2, $3, $4, NULLIF($5, 0), $6, $7)",
         cid, version, manifest_id, str(source_host), source_scan_id, now_ns(), str(actor));
    std::string detail = "version " + std::to_string(version) + " from host " + str(source_host);
    if (source_scan_id != 0) detail += " (scan " + std::to_string(source_scan_id) + ")";
    detail += ", " + std::to_string(manifest.size()) + " records";
    audit(tx, actor, "snapshot.publish", cluster, detail);
    tx.commit();
    return version;
  });
}

Expected<Snapshot> PostgresStore::get_snapshot(std::string_view cluster, std::optional<std::int64_t> version) {
  return guarded("cannot read a snapshot of cluster " + quoted(cluster), [&] {
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn());
    const std::int64_t cid = cluster_id(tx, cluster);
    auto r = exec(tx,
                  kSnapshotColumns +
                      " WHERE s.cluster_id = $1 AND ($2 = 0 OR s.version = $2) ORDER BY s.version DESC LIMIT 1",
                  cid, version.value_or(0));
    if (r.empty()) {
      if (version)
        raise(ErrorCode::not_found, "cluster " + quoted(cluster) + " has no snapshot version " + std::to_string(*version));
      raise(ErrorCode::not_found, "cluster " + quoted(cluster) + " has no snapshot yet");
    }
    SnapshotListing info = snapshot_listing(cluster, r[0]);
    return Snapshot{std::move(info), get_manifest(tx, integer(r[0][7]))};
  });
}

Expected<std::vector<SnapshotListing>> PostgresStore::list_snapshots(std::string_view cluster) {
  return guarded("cannot list the snapshots of cluster " + quoted(cluster), [&] {
    pqxx::read_transaction tx(conn());
    const std::int64_t cid = cluster_id(tx, cluster);
    std::vector<SnapshotListing> out;
    for (const auto& q : exec(tx, kSnapshotColumns + " WHERE s.cluster_id = $1 ORDER BY s.version", cid))
      out.push_back(snapshot_listing(cluster, q));
    return out;
  });
}

Expected<void> PostgresStore::set_stage(std::string_view cluster, const SignatureRef& patch, Stage stage,
                                        std::string_view actor) {
  return guarded("cannot set the stage of " + patch.id() + " in cluster " + quoted(cluster), [&] {
    check_name("cluster name", cluster);
    check_name("actor", actor);
    pqxx::work tx(conn());
    exec(tx, "SELECT pg_advisory_xact_lock($1)", kFleetLock);
    const std::int64_t cid = cluster_id(tx, cluster);
    auto sig = exec(tx, "SELECT id, kind FROM signatures WHERE name = $1 AND version = $2", patch.name, patch.version);
    if (sig.empty()) raise(ErrorCode::not_found, "no signature " + patch.id() + " in the store");
    const std::int64_t signature = integer(sig[0][0]);
    const std::string kind = text(sig[0][1]);
    if (kind != to_string(SignatureKind::patch))
      raise(ErrorCode::invalid_argument, patch.id() + " is a " + kind + ", not a patch: only patches have stages");
    auto prev = exec(tx, "SELECT stage FROM stages WHERE cluster_id = $1 AND signature_id = $2", cid, signature);
    const std::int64_t now = now_ns();
    const std::string stage_text = str(to_string(stage));
    exec(tx,
         "INSERT INTO stages(cluster_id, signature_id, stage, set_ns, actor) VALUES ($1, $2, $3, $4, $5)"
         " ON CONFLICT (cluster_id, signature_id) DO UPDATE SET stage = excluded.stage, set_ns = excluded.set_ns,"
         " actor = excluded.actor",
         cid, signature, stage_text, now, str(actor));
    exec(tx, "INSERT INTO stage_history(cluster_id, signature_id, stage, set_ns, actor) VALUES ($1, $2, $3, $4, $5)",
         cid, signature, stage_text, now, str(actor));
    const std::string detail = (prev.empty() ? std::string("(unset) -> ") : text(prev[0][0]) + " -> ") + stage_text;
    audit(tx, actor, "stage.set", str(cluster) + ":" + patch.id(), detail);
    tx.commit();
  });
}

Expected<std::vector<StageRecord>> PostgresStore::stages(std::optional<std::string_view> cluster) {
  return guarded("cannot read the stages", [&] {
    pqxx::read_transaction tx(conn());
    const std::int64_t cid = cluster ? cluster_id(tx, *cluster) : 0;  // 0: every cluster
    std::vector<StageRecord> out;
    const auto rows = exec(tx,
                           "SELECT c.name, g.name, g.version, st.stage, st.set_ns, st.actor FROM clusters c"
                           " JOIN stages st ON st.cluster_id = c.id JOIN signatures g ON g.id = st.signature_id"
                           " WHERE $1 = 0 OR c.id = $1 ORDER BY c.name, st.signature_id",
                           cid);
    out.reserve(rows.size());
    for (const auto& q : rows)
      out.push_back(StageRecord{text(q[0]), SignatureRef{text(q[1]), text(q[2])}, stage_from(text(q[3])),
                                integer(q[4]), text(q[5])});
    return out;
  });
}

Expected<std::vector<StageRecord>> PostgresStore::stage_history(std::string_view cluster, const SignatureRef& patch) {
  return guarded("cannot read the stage history of " + patch.id(), [&] {
    pqxx::read_transaction tx(conn());
    const std::int64_t cid = cluster_id(tx, cluster);
    auto sig = exec(tx, "SELECT id FROM signatures WHERE name = $1 AND version = $2", patch.name, patch.version);
    if (sig.empty()) raise(ErrorCode::not_found, "no signature " + patch.id() + " in the store");
    std::vector<StageRecord> out;
    for (const auto& q : exec(tx,
                              "SELECT stage, set_ns, actor FROM stage_history WHERE cluster_id = $1 AND"
                              " signature_id = $2 ORDER BY id",
                              cid, integer(sig[0][0])))
      out.push_back(StageRecord{str(cluster), patch, stage_from(text(q[0])), integer(q[1]), text(q[2])});
    return out;
  });
}

Expected<std::vector<SignatureListing>> PostgresStore::list_signatures() {
  return guarded("cannot list the signatures", [&] {
    pqxx::read_transaction tx(conn());
    std::vector<SignatureListing> out;
    for (const auto& q : exec(tx,
                              "SELECT s.id, s.name, s.version, s.kind, m.records FROM signatures s"
                              " JOIN manifests m ON m.id = s.manifest_id ORDER BY s.id")) {
      auto kind = signature_kind_from_string(text(q[3]));
      if (!kind) raise(ErrorCode::parse, "corrupt signature kind in the store");
      out.push_back(SignatureListing{integer(q[0]), SignatureRef{text(q[1]), text(q[2])}, *kind, uinteger(q[4])});
    }
    return out;
  });
}

Expected<std::int64_t> PostgresStore::signature_generation() {
  return guarded("cannot read the signature generation", [&] {
    pqxx::nontransaction tx(conn());  // one statement, on every scan posted (find_token: why)
    return integer(exec(tx, "SELECT COALESCE(max(id), 0) FROM signatures")[0][0]);
  });
}

Expected<void> PostgresStore::put_scan_result(std::int64_t scan_id, const ScanResult& result) {
  return guarded("cannot store the result of scan " + std::to_string(scan_id), [&] {
    if (result.snapshot_version < 0) raise(ErrorCode::invalid_argument, "negative snapshot version");
    pqxx::work tx(conn());
    auto scan = exec(tx, "SELECT h.cluster_id FROM scans s JOIN hosts h ON h.id = s.host_id WHERE s.id = $1", scan_id);
    if (scan.empty()) raise(ErrorCode::not_found, "no scan " + std::to_string(scan_id) + " in the store");
    // 0: the host is in no cluster (ids start at 1). Not an optional: GCC 12 -O3 warns
    // that an optional's payload passed to libpqxx may be uninitialised.
    const std::int64_t host_cluster = scan[0][0].is_null() ? 0 : integer(scan[0][0]);

    const std::int64_t generation = integer(exec(tx, "SELECT COALESCE(max(id), 0) FROM signatures")[0][0]);
    if (result.signature_generation < 0 || result.signature_generation > generation)
      raise(ErrorCode::invalid_argument, "scan result of signature generation " +
                                             std::to_string(result.signature_generation) +
                                             ", but the store is at generation " + std::to_string(generation));
    std::vector<std::int64_t> ids;
    for (const auto& row : exec(tx, "SELECT id FROM signatures WHERE id <= $1 ORDER BY id", result.signature_generation))
      ids.push_back(integer(row[0]));
    std::int64_t previous = 0;
    for (const SignatureStateEntry& e : result.states) {
      if (e.signature_id <= previous)
        raise(ErrorCode::invalid_argument, "scan result states are not in ascending signature id order");
      if (!std::binary_search(ids.begin(), ids.end(), e.signature_id))
        raise(ErrorCode::invalid_argument, "scan result names signature id " + std::to_string(e.signature_id) +
                                               ", which is not stored at generation " +
                                               std::to_string(result.signature_generation));
      if (static_cast<std::uint8_t>(e.state) > static_cast<std::uint8_t>(kLastSignatureState))
        raise(ErrorCode::invalid_argument, "scan result holds an unknown signature state");
      previous = e.signature_id;
    }
    std::int64_t snapshot = 0;
    if (result.snapshot_version != 0) {
      if (host_cluster == 0)
        raise(ErrorCode::invalid_argument, "scan " + std::to_string(scan_id) +
                                               " is of a host in no cluster: it has no snapshot to compare with");
      auto id = exec(tx, "SELECT id FROM snapshots WHERE cluster_id = $1 AND version = $2", host_cluster,
                     result.snapshot_version);
      if (id.empty())
        raise(ErrorCode::invalid_argument, "the cluster of scan " + std::to_string(scan_id) +
                                               "'s host has no snapshot version " +
                                               std::to_string(result.snapshot_version));
      snapshot = integer(id[0][0]);
    }
    exec(tx,
         "INSERT INTO scan_results(scan_id, signature_generation, snapshot_id, computed_ns, data,"
         " inventory_mismatches) VALUES ($1, $2, NULLIF($3, 0), $4, $5, $6) ON CONFLICT (scan_id) DO UPDATE SET"
         " signature_generation = excluded.signature_generation, snapshot_id = excluded.snapshot_id,"
         " computed_ns = excluded.computed_ns, data = excluded.data,"
         " inventory_mismatches = excluded.inventory_mismatches",
         scan_id, result.signature_generation, snapshot, now_ns(), bin(store::encode_scan_result(result)),
         static_cast<std::int64_t>(result.inventory_mismatches));
    tx.commit();
  });
}

Expected<std::optional<ScanResult>> PostgresStore::get_scan_result(std::int64_t scan_id) {
  return guarded("cannot read the result of scan " + std::to_string(scan_id), [&] {
    pqxx::read_transaction tx(conn());
    if (exec(tx, "SELECT id FROM scans WHERE id = $1", scan_id).empty())
      raise(ErrorCode::not_found, "no scan " + std::to_string(scan_id) + " in the store");
    auto r = exec(tx,
                  "SELECT r.signature_generation, COALESCE(sn.version, 0), r.data, r.inventory_mismatches"
                  " FROM scan_results r LEFT JOIN snapshots sn ON sn.id = r.snapshot_id WHERE r.scan_id = $1",
                  scan_id);
    if (r.empty()) return std::optional<ScanResult>();
    ScanResult result = decode_result(r[0][2]);
    result.signature_generation = integer(r[0][0]);
    result.snapshot_version = integer(r[0][1]);
    result.inventory_mismatches = uinteger(r[0][3]);
    return std::optional<ScanResult>(std::move(result));
  });
}

Expected<std::vector<HostResult>> PostgresStore::latest_results() {
  return guarded("cannot read the latest results", [&] {
    pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn());
    const auto rows = exec(
        tx,
        "SELECT h.name, COALESCE(c.name, ''), COALESCE(h.role, ''), COALESCE(ls.id, 0), COALESCE(ls.started_ns, 0),"
        " r.scan_id IS NOT NULL, r.signature_generation, COALESCE(sn.version, 0), r.data,"
        " r.snapshot_id IS NOT DISTINCT FROM (SELECT x.id FROM snapshots x WHERE x.cluster_id = h.cluster_id"
        "                                     ORDER BY x.version DESC LIMIT 1), r.inventory_mismatches"
        " FROM hosts h"
        " LEFT JOIN clusters c ON c.id = h.cluster_id"
        " LEFT JOIN LATERAL (SELECT s.id, s.started_ns FROM scans s WHERE s.host_id = h.id"
        "                    ORDER BY s.started_ns DESC, s.id DESC LIMIT 1) ls ON true"
        " LEFT JOIN scan_results r ON r.scan_id = ls.id"
        " LEFT JOIN snapshots sn ON sn.id = r.snapshot_id"
        " ORDER BY h.name");
    std::vector<HostResult> out;
    out.reserve(rows.size());
    for (const auto& q : rows) {
      HostResult& row = out.emplace_back();
      row.host = text(q[0]);
      row.cluster = text(q[1]);
      row.role = text(q[2]);
      row.scan_id = integer(q[3]);
      row.scan_started_ns = integer(q[4]);
      if (q[5].as<bool>()) {
        ScanResult& result = row.result.emplace(decode_result(q[8]));
        result.signature_generation = integer(q[6]);
        result.snapshot_version = integer(q[7]);
        row.snapshot_current = q[9].as<bool>();
        result.inventory_mismatches = uinteger(q[10]);
      }
    }
    return out;
  });
}

Expected<std::vector<AuditEntry>> PostgresStore::audit_log(std::size_t limit) {
  return guarded("cannot read the audit log", [&] {
    const auto bounded = static_cast<std::int64_t>(
        std::min<std::size_t>(limit, static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())));
    pqxx::read_transaction tx(conn());
    std::vector<AuditEntry> out;
    for (const auto& q :
         exec(tx, "SELECT id, at_ns, actor, action, object, detail FROM audit_log ORDER BY id DESC LIMIT $1", bounded))
      out.push_back(AuditEntry{integer(q[0]), integer(q[1]), text(q[2]), text(q[3]), text(q[4]), text(q[5])});
    return out;
  });
}

Expected<Store::FleetVersion> PostgresStore::fleet_version() {
  return guarded("cannot read the fleet version", [&] {
    pqxx::read_transaction tx(conn());
    auto q = exec(tx,
                  "SELECT (SELECT COALESCE(max(id), 0) FROM signatures), (SELECT COALESCE(max(id), 0) FROM scans),"
                  " (SELECT COALESCE(max(id), 0) FROM audit_log)")[0];
    return FleetVersion{integer(q[0]), integer(q[1]), integer(q[2])};
  });
}

Expected<void> PostgresStore::set_host_key(std::string_view host_name, std::string_view public_key,
                                           std::string_view actor) {
  return guarded("cannot set the key of host " + quoted(host_name), [&] {
    check_host_name(host_name);
    check_name("actor", actor);
    if (public_key.size() != 32) raise(ErrorCode::invalid_argument, "a host key is 32 bytes of Ed25519");
    pqxx::work tx(conn());
    const std::int64_t host = host_id(tx, str(host_name));
    auto had = exec(tx,
                    "INSERT INTO host_keys(host_id, public_key, set_ns) VALUES ($1, $2, $3)"
                    " ON CONFLICT (host_id) DO UPDATE SET public_key = excluded.public_key, set_ns = excluded.set_ns"
                    " RETURNING (xmax <> 0)",  // true when an existing row was updated
                    host, bin(public_key), now_ns());
    const bool replaced = had[0][0].as<bool>();
    audit(tx, actor, "host.key", host_name,
          std::string(replaced ? "replaced" : "set") + " Ed25519 key " + encode_public_key(public_key));
    tx.commit();
  });
}

Expected<std::optional<std::string>> PostgresStore::host_key(std::string_view host_name) {
  return guarded("cannot read the key of host " + quoted(host_name), [&] {
    pqxx::nontransaction tx(conn());  // one statement, on every scan posted (find_token: why)
    auto r = exec(tx, "SELECT k.public_key FROM host_keys k JOIN hosts h ON h.id = k.host_id WHERE h.name = $1",
                  str(host_name));
    return r.empty() ? std::optional<std::string>() : std::optional<std::string>(bytes(r[0][0]));
  });
}

Expected<Store::ScanContext> PostgresStore::scan_context(std::string_view host_name) {
  return guarded("cannot read the key of host " + quoted(host_name), [&] {
    pqxx::nontransaction tx(conn());  // one statement, on every scan posted (find_token: why)
    auto r = exec(tx,
                  "SELECT (SELECT k.public_key FROM host_keys k JOIN hosts h ON h.id = k.host_id WHERE h.name = $1),"
                  " (SELECT COALESCE(max(id), 0) FROM signatures)",
                  str(host_name));
    ScanContext out;
    if (!r[0][0].is_null()) out.host_key = bytes(r[0][0]);
    out.signature_generation = integer(r[0][1]);
    return out;
  });
}

Expected<bool> PostgresStore::claim_nonce(std::string_view host_name, std::string_view nonce, std::int64_t time,
                                          std::int64_t forget_before) {
  return guarded("cannot record a nonce of host " + quoted(host_name), [&] {
    pqxx::work tx(conn());
    auto host = exec(tx, "SELECT id FROM hosts WHERE name = $1", str(host_name));
    if (host.empty()) raise(ErrorCode::not_found, "no host " + quoted(host_name));
    exec(tx, "DELETE FROM scan_nonces WHERE time_s < $1", forget_before);
    // Two replicas claiming one nonce: the second waits for the first's commit, then
    // conflicts and inserts nothing.
    auto claimed = exec(tx,
                        "INSERT INTO scan_nonces(host_id, nonce, time_s) VALUES ($1, $2, $3)"
                        " ON CONFLICT (host_id, nonce) DO NOTHING",
                        integer(host[0][0]), str(nonce), time);
    tx.commit();
    return claimed.affected_rows() == 1;
  });
}

}  // namespace tb::pg
