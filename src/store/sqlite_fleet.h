// The fleet part of the SQLite store: clusters, host memberships, reference snapshots,
// promotion stages, the per-scan result cache and the audit log (tables of schema
// migration 4). Internal to the store: SqliteStore owns one and forwards the fleet
// methods of tb::Store to it (contracts in store/store.h).
//
// Thread-safety: none; it shares the store's connection and follows its rules.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <optional>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/manifest.h"
#include "store/sqlite_db.h"
#include "store/store.h"

namespace tb::sqlite {

class FleetTables {
 public:
  // How snapshots reach the content-addressed manifests of the store. `put` runs inside
  // the caller's transaction and returns the manifest id (existing or new); `get` reads
  // one back, verified.
  struct ManifestAccess {
    std::function<Expected<std::int64_t>(const Manifest&)> put;
    std::function<Expected<Manifest>(std::int64_t)> get;
  };

  // `db` must outlive this object.
  FleetTables(Db& db, ManifestAccess manifests) : db_(db), manifests_(std::move(manifests)) {}
  FleetTables(const FleetTables&) = delete;
  FleetTables& operator=(const FleetTables&) = delete;

  Expected<void> add_cluster(std::string_view name, std::string_view description, std::string_view actor);
  Expected<std::vector<ClusterListing>> list_clusters();
  Expected<void> set_host(std::string_view name, std::string_view cluster, std::string_view role,
                          std::string_view actor);

  Expected<std::int64_t> publish_snapshot(std::string_view cluster, std::string_view source_host,
                                          std::int64_t source_scan_id, const Manifest& manifest,
                                          std::string_view actor);
  Expected<Snapshot> get_snapshot(std::string_view cluster, std::optional<std::int64_t> version);
  Expected<std::vector<SnapshotListing>> list_snapshots(std::string_view cluster);

  Expected<void> set_stage(std::string_view cluster, const SignatureRef& patch, Stage stage, std::string_view actor);
  Expected<std::vector<StageRecord>> stages(std::optional<std::string_view> cluster);
  Expected<std::vector<StageRecord>> stage_history(std::string_view cluster, const SignatureRef& patch);

  Expected<std::vector<SignatureListing>> list_signatures();
  Expected<std::int64_t> signature_generation();
  Expected<void> put_scan_result(std::int64_t scan_id, const ScanResult& result);
  Expected<std::optional<ScanResult>> get_scan_result(std::int64_t scan_id);
  Expected<std::vector<HostResult>> latest_results();

  Expected<std::vector<AuditEntry>> audit_log(std::size_t limit);

  Expected<Store::FleetVersion> fleet_version();
  Expected<void> set_host_key(std::string_view host, std::string_view public_key, std::string_view actor);
  Expected<std::optional<std::string>> host_key(std::string_view host);
  Expected<bool> claim_nonce(std::string_view host, std::string_view nonce, std::int64_t time,
                             std::int64_t forget_before);

  // Adds an audit_log entry (in the caller's transaction, when one is open).
  Expected<void> audit(std::string_view actor, std::string_view action, std::string_view object,
                       std::string_view detail);

 private:
  Expected<std::int64_t> cluster_id(std::string_view name);  // not_found when unknown
  // The ids of every stored signature, ascending; reloaded when the generation moves.
  Expected<const std::vector<std::int64_t>*> signature_ids(std::int64_t generation);

  Db& db_;
  ManifestAccess manifests_;
  std::int64_t ids_generation_ = -1;
  std::vector<std::int64_t> ids_;
};

}  // namespace tb::sqlite
