#include "core/fleet.h"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace tb {

namespace {

constexpr std::array<std::string_view, kFleetCellStateCount> kCellStateNames = {
    "complete", "partial", "absent", "superseded", "tampered", "unexpected", "missing", "unscanned", "unverified"};

bool installed(SignatureState s) {
  return s == SignatureState::complete || s == SignatureState::partial || s == SignatureState::tampered;
}

FleetCellState as_cell_state(SignatureState s) {
  switch (s) {
    case SignatureState::complete:
      return FleetCellState::complete;
    case SignatureState::partial:
      return FleetCellState::partial;
    case SignatureState::absent:
      return FleetCellState::absent;
    case SignatureState::superseded:
      return FleetCellState::superseded;
    case SignatureState::tampered:
      return FleetCellState::tampered;
    case SignatureState::unverified:
      return FleetCellState::unverified;
  }
  return FleetCellState::unscanned;
}

// expected_on(role, stage) for each stage, computed once per host so the per-cell work
// compares no strings.
struct RoleExpectations {
  std::array<bool, 3> by_stage{};
  explicit RoleExpectations(std::string_view role) {
    for (Stage s : {Stage::tested, Stage::inactive, Stage::active})
      by_stage[static_cast<std::size_t>(s)] = expected_on(role, s);
  }
  bool operator()(Stage s) const { return by_stage[static_cast<std::size_t>(s)]; }
};

FleetCell judge(std::optional<SignatureState> observed, std::optional<Stage> stage, const RoleExpectations& role) {
  const std::optional<bool> expected = stage ? std::optional<bool>(role(*stage)) : std::nullopt;
  FleetCellState state = FleetCellState::unscanned;
  if (!observed) {
    state = FleetCellState::unscanned;
  } else if (!stage) {
    state = as_cell_state(*observed);
  } else if (!*expected && installed(*observed)) {
    state = FleetCellState::unexpected;
  } else if (*expected && *observed == SignatureState::absent) {
    state = FleetCellState::missing;
  } else {
    state = as_cell_state(*observed);
  }
  return FleetCell::make(state, observed, stage, expected);
}

// Observations in ref order (stable: of a ref listed twice, the later entry comes last).
std::vector<const ObservedSignature*> sorted_observations(std::span<const ObservedSignature> observed) {
  std::vector<const ObservedSignature*> out;
  out.reserve(observed.size());
  for (const ObservedSignature& o : observed) out.push_back(&o);
  std::stable_sort(out.begin(), out.end(),
                   [](const ObservedSignature* a, const ObservedSignature* b) { return a->ref < b->ref; });
  return out;
}

// A signature ref as a hash key, without copying its strings.
struct RefKey {
  std::string_view name, version;
  bool operator==(const RefKey&) const = default;
};
struct RefKeyHash {
  std::size_t operator()(const RefKey& k) const noexcept {
    const std::size_t h = std::hash<std::string_view>{}(k.name);
    return h ^ (std::hash<std::string_view>{}(k.version) + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));
  }
};
RefKey key(const SignatureRef& ref) {
  return {ref.name, ref.version};
}
using ColumnIndex = std::unordered_map<RefKey, std::uint32_t, RefKeyHash>;

constexpr std::uint32_t kNoColumn = UINT32_MAX;

std::uint32_t find_column(const ColumnIndex& index, const SignatureRef& ref) {
  const auto it = index.find(key(ref));
  return it == index.end() ? kNoColumn : it->second;
}

// Maps hosts' observations to columns. Hosts analysed against the same signatures list
// them in the same order, so an entry equal to the previous host's entry at the same
// position reuses its column: one string comparison instead of a hash lookup. Any
// order is correct, only slower; of a ref listed twice the later entry wins.
class ObservationMapper {
 public:
  explicit ObservationMapper(const ColumnIndex& index) : index_(index) {}

  // Fills `states[c]` with the host's observed state of column c (nullopt when none).
  void map(const std::vector<ObservedSignature>& observed, std::vector<std::optional<SignatureState>>& states) {
    std::fill(states.begin(), states.end(), std::nullopt);
    current_.resize(observed.size());
    for (std::size_t i = 0; i < observed.size(); ++i) {
      const ObservedSignature& o = observed[i];
      const bool same = previous_ != nullptr && i < previous_->size() && (*previous_)[i].ref == o.ref;
      const std::uint32_t column = same ? previous_columns_[i] : find_column(index_, o.ref);
      current_[i] = column;
      if (column != kNoColumn) states[column] = o.state;
    }
    previous_ = &observed;
    std::swap(previous_columns_, current_);
  }

 private:
  const ColumnIndex& index_;
  const std::vector<ObservedSignature>* previous_ = nullptr;  // the last host mapped (outlives the build)
  std::vector<std::uint32_t> previous_columns_, current_;
};

}  // namespace

std::string_view to_string(FleetCellState state) noexcept {
  const auto i = static_cast<std::size_t>(state);
  return i < kCellStateNames.size() ? kCellStateNames[i] : "?";
}

std::optional<FleetCellState> fleet_cell_state_from_string(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kCellStateNames.size(); ++i)
    if (kCellStateNames[i] == name) return static_cast<FleetCellState>(i);
  return std::nullopt;
}

std::size_t FleetStateCounts::problems() const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < kFleetCellStateCount; ++i)
    if (is_problem(static_cast<FleetCellState>(i))) n += by_state[i];
  return n;
}

std::vector<FleetColumn> fleet_columns(std::span<const SignatureInfo> signatures, bool include_products) {
  std::vector<FleetColumn> out;
  for (const SignatureInfo& s : signatures)
    if (include_products || s.kind == SignatureKind::patch) out.push_back({s.ref, s.kind});
  return out;
}

FleetCell judge_cell(std::optional<SignatureState> observed, std::optional<Stage> stage, std::string_view role) {
  return judge(observed, stage, RoleExpectations(role));
}

int role_rank(std::string_view role) noexcept {
  if (role == kRoleActive) return 0;
  if (role == kRoleInactive) return 1;
  return 2;
}

FleetMatrix build_fleet_matrix(std::span<const HostStatus> hosts, std::span<const StageAssignment> stages,
                               std::span<const FleetColumn> columns_in, const FleetFilter& filter) {
  FleetMatrix m;

  // Columns: input order, first of a repeated ref kept, narrowed by the patch filter.
  ColumnIndex column_index;
  column_index.reserve(columns_in.size());
  const bool product_rule = !filter.patch.has_value();  // a column asked for shows whatever its kind
  for (const FleetColumn& c : columns_in) {
    if (filter.patch && c.ref != *filter.patch) continue;
    if (product_rule && filter.products == ProductColumns::none && c.kind == SignatureKind::product) continue;
    if (column_index.emplace(key(c.ref), 0).second) m.columns.push_back(c);
  }
  for (std::size_t c = 0; c < m.columns.size(); ++c)
    column_index[key(m.columns[c].ref)] = static_cast<std::uint32_t>(c);
  std::size_t ncols = m.columns.size();

  // Hosts in report order.
  std::vector<std::uint32_t> host_order;
  host_order.reserve(hosts.size());
  for (std::size_t h = 0; h < hosts.size(); ++h)
    if (!filter.cluster || hosts[h].cluster == *filter.cluster) host_order.push_back(static_cast<std::uint32_t>(h));
  std::vector<int> rank(hosts.size());
  for (std::uint32_t h : host_order) rank[h] = role_rank(hosts[h].role);
  std::sort(host_order.begin(), host_order.end(), [&](std::uint32_t a, std::uint32_t b) {
    const HostStatus& x = hosts[a];
    const HostStatus& y = hosts[b];
    if (const int c = x.cluster.compare(y.cluster); c != 0) return c < 0;
    if (rank[a] != rank[b]) return rank[a] < rank[b];
    if (const int c = x.name.compare(y.name); c != 0) return c < 0;
    if (const int c = x.role.compare(y.role); c != 0) return c < 0;
    return a < b;
  });

  // The clusters in view (rows [begin, end) each), then every cluster's stage per column:
  // one hash lookup per assignment; in input order, so a later one overrides.
  std::vector<std::pair<std::size_t, std::size_t>> groups;
  for (std::size_t r = 0; r < host_order.size();) {
    std::size_t end = r + 1;
    while (end < host_order.size() && hosts[host_order[end]].cluster == hosts[host_order[r]].cluster) ++end;
    groups.emplace_back(r, end);
    r = end;
  }
  std::unordered_map<std::string_view, std::size_t> group_of;
  group_of.reserve(groups.size());
  for (std::size_t g = 0; g < groups.size(); ++g) group_of.emplace(hosts[host_order[groups[g].first]].cluster, g);
  std::vector<std::optional<Stage>> group_stages(groups.size() * ncols);
  for (const StageAssignment& a : stages) {
    const auto g = group_of.find(a.cluster);
    if (g == group_of.end()) continue;
    if (const std::uint32_t c = find_column(column_index, a.patch); c != kNoColumn)
      group_stages[g->second * ncols + c] = a.stage;
  }

  // Every cell of every selected host; the state filter compacts afterwards.
  std::vector<FleetCell> cells(host_order.size() * ncols);
  std::vector<std::optional<SignatureState>> observed(ncols);
  std::vector<FleetRow> rows;
  rows.reserve(host_order.size());
  std::vector<FleetClusterSummary> clusters;

  ObservationMapper mapper(column_index);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const auto [r, end] = groups[g];
    FleetClusterSummary summary;
    summary.name = hosts[host_order[r]].cluster;
    summary.members = end - r;
    summary.stages.assign(group_stages.begin() + static_cast<std::ptrdiff_t>(g * ncols),
                          group_stages.begin() + static_cast<std::ptrdiff_t>((g + 1) * ncols));

    for (std::size_t k = r; k < end; ++k) {
      const HostStatus& host = hosts[host_order[k]];
      const bool judged = host.scan.has_value() && !host.error.has_value();
      if (judged) {
        ++summary.scanned;
        mapper.map(host.observed, observed);
      } else {
        std::fill(observed.begin(), observed.end(), std::nullopt);
      }
      const RoleExpectations role(host.role);
      FleetCell* row_cells = cells.data() + k * ncols;
      for (std::size_t c = 0; c < ncols; ++c) {
        row_cells[c] = judge(observed[c], summary.stages[c], role);
        ++summary.cells[row_cells[c].state];
      }
      if (host.drift && (!summary.snapshot_version || host.drift->snapshot_version > *summary.snapshot_version))
        summary.snapshot_version = host.drift->snapshot_version;

      FleetRow row;
      row.host = host.name;
      row.cluster = host.cluster;
      row.role = host.role;
      row.scan = host.scan;
      row.drift = host.drift;
      row.deviations = host.deviations;
      row.error = host.error;
      row.cluster_index = clusters.size();
      rows.push_back(std::move(row));
    }

    // Identity: every judged member compared with the newest snapshot and equal to it.
    for (std::size_t k = r; k < end && summary.snapshot_version; ++k) {
      const HostStatus& host = hosts[host_order[k]];
      if (!host.scan || host.error) continue;
      if (!host.drift || host.drift->snapshot_version != summary.snapshot_version)
        summary.unverified.push_back(host.name);
      else if (host.drift->total() != 0)
        summary.drifting.push_back(host.name);
    }
    summary.identical =
        summary.snapshot_version && summary.scanned > 0 && summary.drifting.empty() && summary.unverified.empty();
    summary.first_row = r;
    summary.row_count = end - r;
    clusters.push_back(std::move(summary));
  }

  // Product columns with no problem cell among the selected hosts leave, and their cells
  // leave the cluster counts with them.
  if (product_rule && filter.products == ProductColumns::problems) {
    std::vector<bool> shown(ncols, true);
    bool any_dropped = false;
    for (std::size_t c = 0; c < ncols; ++c) {
      if (m.columns[c].kind != SignatureKind::product) continue;
      bool problem = false;
      for (std::size_t r = 0; r < rows.size() && !problem; ++r) problem = is_problem(cells[r * ncols + c].state);
      shown[c] = problem;
      any_dropped = any_dropped || !problem;
    }
    if (any_dropped) {
      std::vector<FleetColumn> columns;
      for (std::size_t c = 0; c < ncols; ++c)
        if (shown[c]) columns.push_back(std::move(m.columns[c]));
      const std::size_t kept = columns.size();
      std::size_t out = 0;
      for (std::size_t r = 0; r < rows.size(); ++r) {
        FleetClusterSummary& summary = clusters[rows[r].cluster_index];
        for (std::size_t c = 0; c < ncols; ++c) {
          const FleetCell cell = cells[r * ncols + c];
          if (shown[c])
            cells[out++] = cell;
          else
            --summary.cells[cell.state];
        }
      }
      cells.resize(out);
      for (FleetClusterSummary& summary : clusters) {
        std::vector<std::optional<Stage>> narrowed;
        narrowed.reserve(kept);
        for (std::size_t c = 0; c < ncols; ++c)
          if (shown[c]) narrowed.push_back(summary.stages[c]);
        summary.stages = std::move(narrowed);
      }
      m.columns = std::move(columns);
      ncols = kept;
    }
  }

  if (filter.states.empty()) {
    m.rows = std::move(rows);
    m.cells = std::move(cells);
    m.clusters = std::move(clusters);
  } else {
    // Rows with a cell in the asked states, then the columns holding such a cell.
    std::vector<bool> row_kept(rows.size(), false), col_kept(ncols, false);
    for (std::size_t r = 0; r < rows.size(); ++r)
      for (std::size_t c = 0; c < ncols; ++c)
        if (filter.states.has(cells[r * ncols + c].state)) {
          row_kept[r] = true;
          col_kept[c] = true;
        }
    std::vector<std::size_t> kept_cols;
    for (std::size_t c = 0; c < ncols; ++c)
      if (col_kept[c]) kept_cols.push_back(c);

    std::vector<FleetColumn> columns;
    for (std::size_t c : kept_cols) columns.push_back(m.columns[c]);
    m.columns = std::move(columns);
    const auto kept_rows = static_cast<std::size_t>(std::count(row_kept.begin(), row_kept.end(), true));
    m.rows.reserve(kept_rows);
    m.cells.reserve(kept_rows * kept_cols.size());
    std::vector<std::size_t> new_cluster_index(clusters.size(), SIZE_MAX);
    for (std::size_t r = 0; r < rows.size(); ++r) {
      if (!row_kept[r]) continue;
      const std::size_t old_cluster = rows[r].cluster_index;
      if (new_cluster_index[old_cluster] == SIZE_MAX) {
        new_cluster_index[old_cluster] = m.clusters.size();
        FleetClusterSummary summary = std::move(clusters[old_cluster]);
        std::vector<std::optional<Stage>> narrowed;
        narrowed.reserve(kept_cols.size());
        for (std::size_t c : kept_cols) narrowed.push_back(summary.stages[c]);
        summary.stages = std::move(narrowed);
        summary.first_row = m.rows.size();
        summary.row_count = 0;
        m.clusters.push_back(std::move(summary));
      }
      ++m.clusters.back().row_count;
      if (kept_cols.size() == ncols) {
        m.cells.insert(m.cells.end(), cells.begin() + static_cast<std::ptrdiff_t>(r * ncols),
                       cells.begin() + static_cast<std::ptrdiff_t>((r + 1) * ncols));
      } else {
        for (std::size_t c : kept_cols) m.cells.push_back(cells[r * ncols + c]);
      }
      rows[r].cluster_index = new_cluster_index[old_cluster];
      m.rows.push_back(std::move(rows[r]));
    }
  }
  for (const FleetCell& cell : m.cells) ++m.totals[cell.state];
  return m;
}

// ---- verify -----------------------------------------------------------------------------

DeviationAttribution attribute_deviations(std::span<const FileDeviation> deviations) {
  DeviationAttribution a;
  for (const FileDeviation& d : deviations) {
    if (d.owners.empty() && d.content_owners.empty()) {
      ++a.unexplained;
      continue;
    }
    ++a.attributed;
    a.signatures.insert(a.signatures.end(), d.owners.begin(), d.owners.end());
    a.signatures.insert(a.signatures.end(), d.content_owners.begin(), d.content_owners.end());
  }
  std::sort(a.signatures.begin(), a.signatures.end());
  a.signatures.erase(std::unique(a.signatures.begin(), a.signatures.end()), a.signatures.end());
  return a;
}

namespace {

VerifyReason make_reason(VerifyProblem problem, std::optional<SignatureRef> ref = std::nullopt,
                         std::optional<SignatureState> observed = std::nullopt,
                         std::optional<Stage> stage = std::nullopt) {
  VerifyReason r;
  r.problem = problem;
  r.ref = std::move(ref);
  r.observed = observed;
  r.stage = stage;
  return r;
}

}  // namespace

std::string_view to_string(VerifyProblem problem) noexcept {
  switch (problem) {
    case VerifyProblem::not_scanned:
      return "not_scanned";
    case VerifyProblem::scan_error:
      return "scan_error";
    case VerifyProblem::no_result:
      return "no_result";
    case VerifyProblem::partial:
      return "partial";
    case VerifyProblem::tampered:
      return "tampered";
    case VerifyProblem::unexpected:
      return "unexpected";
    case VerifyProblem::missing:
      return "missing";
    case VerifyProblem::not_complete:
      return "not_complete";
    case VerifyProblem::deviations:
      return "deviations";
    case VerifyProblem::no_snapshot:
      return "no_snapshot";
    case VerifyProblem::drift:
      return "drift";
    case VerifyProblem::inventory:
      return "inventory";
    case VerifyProblem::unverified:
      return "unverified";
  }
  return "?";
}

HostVerdict verify_host(const HostStatus& host, std::span<const StageAssignment> stages, const VerifyRequest& request) {
  HostVerdict verdict;
  auto& reasons = verdict.reasons;
  if (!host.scan) {
    reasons.push_back(make_reason(VerifyProblem::not_scanned));
    return verdict;
  }
  if (host.error) {
    reasons.push_back(make_reason(VerifyProblem::scan_error));
    reasons.back().detail = *host.error;
    return verdict;
  }

  // This cluster's stages by patch, the last assignment of a patch winning.
  std::vector<const StageAssignment*> own;
  for (const StageAssignment& a : stages)
    if (a.cluster == host.cluster) own.push_back(&a);
  std::stable_sort(own.begin(), own.end(),
                   [](const StageAssignment* a, const StageAssignment* b) { return a->patch < b->patch; });
  {
    std::vector<const StageAssignment*> last;
    for (std::size_t k = 0; k < own.size(); ++k)
      if (k + 1 == own.size() || own[k + 1]->patch != own[k]->patch) last.push_back(own[k]);
    own = std::move(last);
  }
  auto stage_of = [&](const SignatureRef& ref) -> std::optional<Stage> {
    const auto it = std::lower_bound(own.begin(), own.end(), ref,
                                     [](const StageAssignment* a, const SignatureRef& r) { return a->patch < r; });
    if (it == own.end() || (*it)->patch != ref) return std::nullopt;
    return (*it)->stage;
  };

  const auto observed = sorted_observations(host.observed);
  auto find_observed = [&](const SignatureRef& ref) -> const ObservedSignature* {
    // upper_bound - 1: a ref listed twice counts with its last entry, as in the matrix.
    const auto it = std::upper_bound(observed.begin(), observed.end(), ref,
                                     [](const SignatureRef& r, const ObservedSignature* o) { return r < o->ref; });
    if (it == observed.begin() || (*(it - 1))->ref != ref) return nullptr;
    return *(it - 1);
  };

  // Per signature, in ref order: problem cells, then staged patches with no result.
  std::vector<VerifyReason> per_signature;
  const RoleExpectations role(host.role);
  for (std::size_t k = 0; k < observed.size(); ++k) {
    if (k + 1 < observed.size() && observed[k + 1]->ref == observed[k]->ref) continue;  // the last one counts
    const ObservedSignature& o = *observed[k];
    const FleetCell cell = judge(o.state, stage_of(o.ref), role);
    if (!is_problem(cell.state)) continue;
    VerifyProblem problem = VerifyProblem::partial;
    switch (cell.state) {
      case FleetCellState::tampered:
        problem = VerifyProblem::tampered;
        break;
      case FleetCellState::unexpected:
        problem = VerifyProblem::unexpected;
        break;
      case FleetCellState::missing:
        problem = VerifyProblem::missing;
        break;
      default:
        break;
    }
    per_signature.push_back(make_reason(problem, o.ref, o.state, cell.stage()));
  }
  for (const StageAssignment* a : own)
    if (role(a->stage) && find_observed(a->patch) == nullptr)
      per_signature.push_back(make_reason(VerifyProblem::no_result, a->patch, std::nullopt, a->stage));
  for (const SignatureRef& ref : request.expect_complete) {
    const bool reported =
        std::any_of(per_signature.begin(), per_signature.end(), [&](const VerifyReason& r) { return r.ref == ref; });
    if (reported) continue;
    const ObservedSignature* o = find_observed(ref);
    if (o == nullptr)
      per_signature.push_back(make_reason(VerifyProblem::no_result, ref, std::nullopt, stage_of(ref)));
    else if (o->state != SignatureState::complete && o->state != SignatureState::superseded)
      per_signature.push_back(make_reason(VerifyProblem::not_complete, ref, o->state, stage_of(ref)));
  }
  std::stable_sort(per_signature.begin(), per_signature.end(),
                   [](const VerifyReason& a, const VerifyReason& b) { return *a.ref < *b.ref; });
  reasons = std::move(per_signature);

  if (!request.allow_deviations && host.deviations > 0) {
    reasons.push_back(make_reason(VerifyProblem::deviations));
    reasons.back().count = host.deviations;
    reasons.back().attribution = host.attribution;
  }
  // Unverified packages fail only when signatures are required; otherwise they are said.
  const std::size_t unverified = host.unverified_packages ? host.unverified_packages->size() : 0;
  const std::size_t mismatches = host.inventory_mismatches > unverified ? host.inventory_mismatches - unverified : 0;
  if (!request.allow_deviations && mismatches > 0) {
    reasons.push_back(make_reason(VerifyProblem::inventory));
    reasons.back().count = mismatches;
  }
  if (unverified > 0) {
    VerifyReason r = make_reason(VerifyProblem::unverified);
    r.count = unverified;
    r.details = *host.unverified_packages;
    (request.require_signatures ? reasons : verdict.warnings).push_back(std::move(r));
  }
  if (request.cluster_identical) {
    if (!host.drift) {
      reasons.push_back(make_reason(VerifyProblem::no_snapshot));
    } else if (host.drift->total() != 0) {
      reasons.push_back(make_reason(VerifyProblem::drift));
      reasons.back().drift = host.drift;
    }
  }
  verdict.ok = reasons.empty();
  return verdict;
}

}  // namespace tb
