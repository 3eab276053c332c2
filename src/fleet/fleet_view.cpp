#include "fleet/fleet_view.h"

#include <algorithm>
#include <map>
#include <memory>
#include <unordered_map>
#include <utility>

namespace tb::fleet {
namespace {

// Cluster snapshots, loaded once per refresh or report: a cluster's members share one.
class SnapshotCache {
 public:
  explicit SnapshotCache(Store& store) : store_(store) {}

  // The cluster's latest snapshot; nullptr when it has none (or no cluster is given).
  Expected<const Snapshot*> latest(const std::string& cluster) {
    if (cluster.empty()) return nullptr;
    auto it = cache_.find(cluster);
    if (it == cache_.end()) {
      auto snap = store_.get_snapshot(cluster, std::nullopt);
      std::unique_ptr<Snapshot> held;
      if (snap)
        held = std::make_unique<Snapshot>(std::move(*snap));
      else if (snap.error().code != ErrorCode::not_found)
        return tl::unexpected(snap.error());
      it = cache_.emplace(cluster, std::move(held)).first;
    }
    return it->second.get();
  }

 private:
  Store& store_;
  std::map<std::string, std::unique_ptr<Snapshot>> cache_;
};

DeviationCounts count_deviations(const std::vector<FileDeviation>& deviations) {
  DeviationCounts c;
  for (const FileDeviation& d : deviations) {
    switch (d.change) {
      case Change::added:
        ++c.added;
        break;
      case Change::removed:
        ++c.removed;
        break;
      case Change::modified:
        ++c.modified;
        break;
    }
  }
  return c;
}

// The analysis whose deviations a scan's cached result counts (judge_scan); verify divides
// the same deviations by attribution. `snapshot`: the host's cluster's latest, or nullptr.
Analysis judged_analysis(const ScanDocument& scan, const SignatureSet& signatures, const Snapshot* snapshot) {
  Analysis analysis = analyze(scan, signatures.index);
  if (snapshot != nullptr) explain_by_snapshot(analysis, scan.manifest, snapshot->manifest);
  return analysis;
}

std::size_t config_changes(const Analysis& analysis) {
  std::size_t n = 0;
  for (const SignatureVerdict& v : analysis.verdicts) n += v.counts.config_changed;
  return n;
}

}  // namespace

Expected<SignatureSet> load_signatures(Store& store) {
  auto generation = store.signature_generation();
  if (!generation) return tl::unexpected(generation.error());
  auto listings = store.list_signatures();
  if (!listings) return tl::unexpected(listings.error());
  auto signatures = store.signatures();
  if (!signatures) return tl::unexpected(signatures.error());
  if (signatures->size() != listings->size())
    return fail(ErrorCode::internal, "signatures changed while loading them; try again");
  SignatureSet set;
  set.generation = *generation;
  for (std::size_t i = 0; i < listings->size(); ++i) {
    if ((*listings)[i].ref != (*signatures)[i].info.ref)
      return fail(ErrorCode::internal, "signature listing and signatures disagree; try again");
    set.store_ids.push_back((*listings)[i].id);
  }
  auto index = SignatureIndex::build(std::move(*signatures));
  if (!index) return tl::unexpected(index.error());
  set.index = std::move(*index);
  return set;
}

ScanResult judge_scan(const ScanDocument& scan, const SignatureSet& signatures, const Snapshot* snapshot) {
  const Analysis analysis = judged_analysis(scan, signatures, snapshot);
  ScanResult result;
  result.signature_generation = signatures.generation;
  result.states.reserve(analysis.verdicts.size());
  for (std::size_t i = 0; i < analysis.verdicts.size(); ++i)
    result.states.push_back({signatures.store_ids[i], analysis.verdicts[i].state});
  // Store ids ascend in store order, which is the index order; sort anyway: the store
  // requires ascending ids and the cost is nothing next to the analysis.
  std::sort(result.states.begin(), result.states.end(),
            [](const SignatureStateEntry& a, const SignatureStateEntry& b) { return a.signature_id < b.signature_id; });
  result.deviations = count_deviations(analysis.deviations);
  result.deviations.config = config_changes(analysis);
  if (analysis.inventory) result.inventory_mismatches = analysis.inventory->issues.size();
  if (snapshot != nullptr) {
    const Drift drift = compare_with_snapshot(scan.manifest, snapshot->manifest, signatures.index,
                                              DriftOptions{.roots = scan.header.roots});
    result.snapshot_version = snapshot->info.version;
    result.drift = count_deviations(drift.deviations);
  }
  return result;
}

Expected<RefreshStats> refresh(Store& store, const SignatureSet& signatures) {
  auto hosts = store.latest_results();
  if (!hosts) return tl::unexpected(hosts.error());
  SnapshotCache snapshots(store);
  RefreshStats stats;
  for (const HostResult& h : *hosts) {
    if (h.scan_id == 0) continue;
    ++stats.hosts;
    if (h.is_current(signatures.generation)) continue;
    auto scan = store.get_scan(h.scan_id);
    if (!scan) {
      stats.failed.push_back(h.host + ": " + scan.error().message);
      continue;
    }
    auto snapshot = snapshots.latest(h.cluster);
    if (!snapshot) return tl::unexpected(snapshot.error());
    const ScanResult result = judge_scan(*scan, signatures, *snapshot);
    if (auto r = store.put_scan_result(h.scan_id, result); !r) {
      stats.failed.push_back(h.host + ": " + r.error().message);
      continue;
    }
    ++stats.reanalysed;
  }
  return stats;
}

Expected<std::vector<HostStatus>> host_statuses(Store& store, const SignatureSet& signatures) {
  auto hosts = store.latest_results();
  if (!hosts) return tl::unexpected(hosts.error());
  std::unordered_map<std::int64_t, std::size_t> by_store_id;  // store id -> index Id
  by_store_id.reserve(signatures.store_ids.size());
  for (std::size_t i = 0; i < signatures.store_ids.size(); ++i) by_store_id[signatures.store_ids[i]] = i;
  std::vector<HostStatus> out;
  out.reserve(hosts->size());
  for (HostResult& h : *hosts) {
    HostStatus s;
    s.name = std::move(h.host);
    s.cluster = std::move(h.cluster);
    s.role = std::move(h.role);
    if (h.scan_id != 0) s.scan = ScanRef{h.scan_id, h.scan_started_ns};
    if (h.scan_id != 0 && !h.is_current(signatures.generation)) {
      s.error = h.result ? "the cached analysis is stale (run a report again once the store is refreshed)"
                         : "the latest scan has not been analysed";
    }
    if (h.result && h.is_current(signatures.generation)) {
      s.observed.reserve(h.result->states.size());
      for (const SignatureStateEntry& e : h.result->states) {
        auto it = by_store_id.find(e.signature_id);
        if (it == by_store_id.end()) continue;  // a signature stored after `signatures` was loaded
        s.observed.push_back({signatures.index.ref(static_cast<SignatureIndex::Id>(it->second)), e.state});
      }
      std::sort(s.observed.begin(), s.observed.end(),
                [](const ObservedSignature& a, const ObservedSignature& b) { return a.ref < b.ref; });
      if (h.result->snapshot_version != 0) {
        const DeviationCounts& d = h.result->drift;
        s.drift = SnapshotDrift{h.result->snapshot_version, d.added, d.removed, d.modified};
      }
      const DeviationCounts& d = h.result->deviations;
      s.deviations = d.added + d.removed + d.modified;
      s.inventory_mismatches = static_cast<std::size_t>(h.result->inventory_mismatches);
    }
    out.push_back(std::move(s));
  }
  return out;
}

Expected<std::vector<tb::StageAssignment>> stage_assignments(Store& store) {
  auto stored = store.stages(std::nullopt);
  if (!stored) return tl::unexpected(stored.error());
  std::vector<tb::StageAssignment> out;
  out.reserve(stored->size());
  for (const StageRecord& s : *stored) out.push_back({s.cluster, s.patch, s.stage});
  return out;
}

Expected<FleetMatrix> fleet_matrix(Store& store, const SignatureSet& signatures, const MatrixRequest& request) {
  auto hosts = host_statuses(store, signatures);
  if (!hosts) return tl::unexpected(hosts.error());
  auto stages = stage_assignments(store);
  if (!stages) return tl::unexpected(stages.error());
  std::vector<SignatureInfo> infos;
  infos.reserve(signatures.index.size());
  for (const Signature& s : signatures.index.signatures()) infos.push_back(s.info);
  const std::vector<FleetColumn> columns = fleet_columns(infos, true);
  return build_fleet_matrix(*hosts, *stages, columns, request.filter);
}

Expected<FleetState> load_fleet_state(Store& store, const SignatureSet& signatures, Store::FleetVersion version) {
  if (auto refreshed = refresh(store, signatures); !refreshed) return tl::unexpected(refreshed.error());
  FleetState state;
  state.version = version;
  auto hosts = host_statuses(store, signatures);
  if (!hosts) return tl::unexpected(hosts.error());
  state.hosts = std::move(*hosts);
  auto stages = stage_assignments(store);
  if (!stages) return tl::unexpected(stages.error());
  state.stages = std::move(*stages);
  std::vector<SignatureInfo> infos;
  infos.reserve(signatures.index.size());
  for (const Signature& s : signatures.index.signatures()) infos.push_back(s.info);
  state.columns = fleet_columns(infos, true);
  return state;
}

FleetMatrix fleet_matrix(const FleetState& state, const MatrixRequest& request) {
  return build_fleet_matrix(state.hosts, state.stages, state.columns, request.filter);
}

Expected<void> explain_by_cluster_snapshot(Store& store, std::string_view host, const Manifest& scan,
                                           Analysis& analysis) {
  auto hosts = store.list_hosts();
  if (!hosts) return tl::unexpected(hosts.error());
  const auto it = std::find_if(hosts->begin(), hosts->end(), [&](const HostListing& h) { return h.name == host; });
  if (it == hosts->end() || it->cluster.empty()) return {};
  auto snapshot = store.get_snapshot(it->cluster, std::nullopt);
  if (!snapshot)
    return snapshot.error().code == ErrorCode::not_found ? Expected<void>{} : tl::unexpected(snapshot.error());
  explain_by_snapshot(analysis, scan, snapshot->manifest);
  return {};
}

Expected<std::vector<MemberDrift>> cluster_drift(Store& store, const SignatureSet& signatures,
                                                 std::string_view cluster) {
  auto hosts = store.list_hosts();
  if (!hosts) return tl::unexpected(hosts.error());
  SnapshotCache snapshots(store);
  auto snapshot = snapshots.latest(std::string(cluster));
  if (!snapshot) return tl::unexpected(snapshot.error());
  std::vector<MemberDrift> out;
  for (const HostListing& h : *hosts) {
    if (h.cluster != cluster) continue;
    MemberDrift m;
    m.host = h.name;
    m.role = h.role;
    m.scan_id = h.latest_scan_id;
    if (m.scan_id != 0 && *snapshot != nullptr) {
      auto scan = store.get_scan(m.scan_id);
      if (!scan) return tl::unexpected(scan.error());
      m.snapshot_version = (*snapshot)->info.version;
      m.drift = compare_with_snapshot(scan->manifest, (*snapshot)->manifest, signatures.index,
                                      DriftOptions{.roots = scan->header.roots});
    }
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const MemberDrift& a, const MemberDrift& b) {
    return std::pair(role_rank(a.role), a.host) < std::pair(role_rank(b.role), b.host);
  });
  return out;
}

Expected<Verification> verify(Store& store, const SignatureSet& signatures, std::string_view host,
                              const VerifyRequest& request) {
  auto hosts = host_statuses(store, signatures);
  if (!hosts) return tl::unexpected(hosts.error());
  auto it = std::find_if(hosts->begin(), hosts->end(), [&](const HostStatus& h) { return h.name == host; });
  if (it == hosts->end()) return fail(ErrorCode::not_found, "unknown host '" + std::string(host) + "'");
  auto stages = stage_assignments(store);
  if (!stages) return tl::unexpected(stages.error());
  Verification v{std::move(*it), {}};
  // The cached result counts deviations by change and inventory issues as one number;
  // what the gate says of them names which a signature explains, and which packages are
  // only unverified (a warning unless signatures are required), so the scan is analysed
  // again for that.
  const bool divide_deviations = v.host.deviations > 0 && !request.allow_deviations;
  const bool divide_inventory = v.host.inventory_mismatches > 0;
  if ((divide_deviations || divide_inventory) && v.host.scan && !v.host.error) {
    auto scan = store.get_scan(v.host.scan->id);
    if (!scan) return tl::unexpected(scan.error());
    SnapshotCache snapshots(store);
    auto snapshot = snapshots.latest(v.host.cluster);
    if (!snapshot) return tl::unexpected(snapshot.error());
    const Analysis analysis = judged_analysis(*scan, signatures, *snapshot);
    if (divide_deviations) v.host.attribution = attribute_deviations(analysis.deviations);
    if (divide_inventory && analysis.inventory) {
      std::vector<std::string> unverified;
      for (const InventoryIssue& issue : analysis.inventory->issues)
        if (issue.kind == InventoryIssueKind::unverified) unverified.push_back(issue.message);
      // The same analysis as the cached one: its issues are the cached count, divided.
      v.host.inventory_mismatches = analysis.inventory->issues.size();
      v.host.unverified_packages = std::move(unverified);
    }
  }
  v.verdict = verify_host(v.host, *stages, request);
  return v;
}

}  // namespace tb::fleet
