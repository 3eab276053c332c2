// The fleet view over a store: keeps every host's cached analysis current, and builds
// the hosts × patches matrix, a cluster's member drift and the verify gate from it.
// Adapter between the store (I/O) and the pure fleet core (core/fleet.h,
// core/analysis.h); the CLI and the server both call it.
//
// Cost model: reports read cached results only (one store query for the whole fleet).
// refresh() re-analyses just the hosts whose latest scan has no result at the current
// signature generation and cluster snapshot: after an import every host once, after a
// snapshot publish that cluster's members, otherwise nobody.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/analysis.h"
#include "core/error.h"
#include "core/fleet.h"
#include "core/signature_index.h"
#include "store/store.h"

namespace tb::fleet {

// The signatures as the fleet view needs them: indexed for analysis, and with the store
// ids that cached results refer to (aligned with the index's Ids).
struct SignatureSet {
  SignatureIndex index;
  std::vector<std::int64_t> store_ids;  // store id of index Id i
  std::int64_t generation = 0;          // Store::signature_generation() when loaded
};
Expected<SignatureSet> load_signatures(Store& store);

// The result to cache for `scan` of a host in `cluster` (snapshot: that cluster's latest,
// nullptr when none).
ScanResult judge_scan(const ScanDocument& scan, const SignatureSet& signatures, const Snapshot* snapshot);

struct RefreshStats {
  std::size_t hosts = 0;            // hosts with a scan
  std::size_t reanalysed = 0;       // results computed and stored now
  std::vector<std::string> failed;  // "host: reason" for scans that could not be judged
};

// Brings the cached result of every host's latest scan up to date (see above).
Expected<RefreshStats> refresh(Store& store, const SignatureSet& signatures);

// Every host as the pure fleet core sees it, from the cached results (refresh first).
Expected<std::vector<HostStatus>> host_statuses(Store& store, const SignatureSet& signatures);

// The promotion stages in the core's terms.
Expected<std::vector<tb::StageAssignment>> stage_assignments(Store& store);

// What the CLI's `report fleet|cluster|patch` and the API's /api/v1/fleet ask for: one
// rule for both. Patches are columns; product releases are columns where some host of
// the selection has a problem with them (filter.products: ProductColumns::problems),
// unless every product (`all`: --products, ?products=1) or none (`none`: --patches-only,
// ?products=0) is asked for.
struct MatrixRequest {
  MatrixRequest() { filter.products = ProductColumns::problems; }
  FleetFilter filter;
};
Expected<FleetMatrix> fleet_matrix(Store& store, const SignatureSet& signatures, const MatrixRequest& request);

// Everything the matrix is built from, loaded (and refreshed) once for a store version:
// a server keeps one and builds each request's filtered page from it without the store.
struct FleetState {
  Store::FleetVersion version;
  std::vector<HostStatus> hosts;
  std::vector<tb::StageAssignment> stages;
  std::vector<FleetColumn> columns;  // every signature, products included (the filter picks)
};
// Refreshes stale results, then reads the state; `version` is what the caller read first.
Expected<FleetState> load_fleet_state(Store& store, const SignatureSet& signatures, Store::FleetVersion version);
// The matrix of a loaded state (pure: no store).
FleetMatrix fleet_matrix(const FleetState& state, const MatrixRequest& request);

// Explains, in the analysis of a scan of `host`, the files no signature lists that the
// latest reference snapshot of the host's cluster holds alike (explain_by_snapshot): what
// the fleet view does, for the host reports of the CLI and the server. A host without a
// cluster, or a cluster without a snapshot: unchanged.
Expected<void> explain_by_cluster_snapshot(Store& store, std::string_view host, const Manifest& scan,
                                           Analysis& analysis);

// One member against its cluster's latest snapshot, file by file.
struct MemberDrift {
  std::string host;
  std::string role;
  std::int64_t scan_id = 0;           // 0: never scanned (drift empty)
  std::int64_t snapshot_version = 0;  // 0: the cluster has no snapshot (drift empty)
  Drift drift;
};
Expected<std::vector<MemberDrift>> cluster_drift(Store& store, const SignatureSet& signatures,
                                                 std::string_view cluster);

// The deployment gate for one host (refresh first). not_found for an unknown host. The
// host's scan is analysed again when the cached counts do not tell enough: to divide
// deviations by attribution, and inventory issues into mismatches and unverified packages.
struct Verification {
  HostStatus host;
  HostVerdict verdict;
};
Expected<Verification> verify(Store& store, const SignatureSet& signatures, std::string_view host,
                              const VerifyRequest& request);

}  // namespace tb::fleet
