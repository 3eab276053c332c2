// The fleet view: every host's analysed state per patch, judged against the promotion
// stage of that patch in the host's cluster (hosts × patches matrix), per-cluster
// identity against the reference snapshot, and the `verify` deployment gate.
//
// Pure: no I/O, no store. The caller (CLI, server) loads each host's cached analysis
// results into HostStatus values; everything here is computed from those values.
// Cost: one hash lookup per column and per stage assignment, one string comparison per
// observed signature (against the previous host's list), string-free work per cell, and
// one sort of the hosts: 10,000 hosts × 200 patches build in well under 100 ms
// (bench/fleet_report_bench.cpp).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/analysis.h"
#include "core/signature.h"
#include "core/stage.h"

namespace tb {

// ---- inputs ---------------------------------------------------------------------------

// The scan a host's state was judged from.
struct ScanRef {
  std::int64_t id = 0;
  std::int64_t started_ns = 0;
  bool operator==(const ScanRef&) const = default;
};

// One signature's state in a host's analysis.
struct ObservedSignature {
  SignatureRef ref;
  SignatureState state = SignatureState::absent;
  bool operator==(const ObservedSignature&) const = default;
};

// A member's scan against its cluster's reference snapshot (patch files left out).
struct SnapshotDrift {
  std::int64_t snapshot_version = 0;
  std::size_t added = 0, removed = 0, modified = 0;
  std::size_t total() const { return added + removed + modified; }
  bool operator==(const SnapshotDrift&) const = default;
};

// How a host's deviating files divide between the signatures they concern and nothing:
// a deviation is attributed when a signature lists its path or holds the content found.
struct DeviationAttribution {
  std::size_t unexplained = 0;           // no signature lists the path or has the content
  std::size_t attributed = 0;            // attributed to one signature or more
  std::vector<SignatureRef> signatures;  // those of the attributed files: sorted, each once
  std::size_t total() const { return unexplained + attributed; }
  bool operator==(const DeviationAttribution&) const = default;
};
DeviationAttribution attribute_deviations(std::span<const FileDeviation> deviations);

struct HostStatus {
  std::string name;
  std::string cluster;          // "" for hosts not assigned to a cluster yet (shown as their own group)
  std::string role;             // kRoleActive, kRoleInactive or a free label
  std::optional<ScanRef> scan;  // nullopt: never scanned (every cell unscanned)
  // The analysed signatures, in any order (of a ref listed twice, the later entry counts).
  // Hosts that list the same signatures in the same order (analyses against one signature
  // set) are mapped to columns fastest. A signature not listed has no result for this
  // scan (cell unscanned): e.g. imported after the scan was analysed.
  std::vector<ObservedSignature> observed;
  // Against the cluster's reference snapshot; nullopt when the cluster has none or the
  // comparison has not been made.
  std::optional<SnapshotDrift> drift;
  std::size_t deviations = 0;  // the analysis' deviating files (outside or against every signature)
  // The same files divided by attribution; nullopt when not worked out (the cached results
  // hold counts by change only: fleet::verify analyses a failing host's scan for it).
  std::optional<DeviationAttribution> attribution;
  // Packages the host's package manager lists at a version its files do not show
  // (analysis InventoryCheck::issues, `unverified` ones included); 0 when the scan had no
  // inventory.
  std::size_t inventory_mismatches = 0;
  // Of those, the packages listed at a version the store has no signature of
  // (InventoryIssueKind::unverified: a warning unless signatures are required), as their
  // issue messages. nullopt when not worked out (the cached results hold the total only:
  // fleet::verify analyses the host's scan for it); verify then counts every issue as
  // a mismatch.
  std::optional<std::vector<std::string>> unverified_packages;
  // Set when the latest scan exists but could not be judged (unreadable, analysis failed):
  // every cell is unscanned and verify fails with this text.
  std::optional<std::string> error;
};

// The stage a patch is promoted to in a cluster (`trustbase promote`). At most one per
// (cluster, patch); when the input repeats a pair, the last one wins.
struct StageAssignment {
  std::string cluster;
  SignatureRef patch;
  Stage stage = Stage::tested;
  bool operator==(const StageAssignment&) const = default;
};

// A column of the matrix: a patch (or a product release, when the caller asks for one).
struct FleetColumn {
  SignatureRef ref;
  SignatureKind kind = SignatureKind::patch;
  bool operator==(const FleetColumn&) const = default;
};

// The columns for `signatures`, in their order: every patch, plus products when asked.
std::vector<FleetColumn> fleet_columns(std::span<const SignatureInfo> signatures, bool include_products = false);

// ---- cells ----------------------------------------------------------------------------

enum class FleetCellState : std::uint8_t {
  complete,    // installed, every file matches (expected, or no stage set)
  partial,     // expected (or no stage) but only partly installed / partly modified
  absent,      // not installed and not expected (or no stage set)
  superseded,  // replaced by a complete later patch
  tampered,    // every file present, some modified
  unexpected,  // installed (complete, partial or tampered) where the stage does not expect it yet
  missing,     // expected by the stage on this member, but absent
  unscanned,   // no scan, no result for this signature, or the scan could not be judged
  unverified,  // the package manager lists a version of the package the store cannot check
};
inline constexpr std::size_t kFleetCellStateCount = 9;
std::string_view to_string(FleetCellState state) noexcept;
std::optional<FleetCellState> fleet_cell_state_from_string(std::string_view name) noexcept;

// The states that need someone's attention (partial, tampered, unexpected, missing).
// Unscanned is reported per host instead.
constexpr bool is_problem(FleetCellState state) noexcept {
  return state == FleetCellState::partial || state == FleetCellState::tampered || state == FleetCellState::unexpected ||
         state == FleetCellState::missing;
}

// A set of cell states (a bit per state).
class FleetStateSet {
 public:
  constexpr FleetStateSet() = default;
  constexpr FleetStateSet(std::initializer_list<FleetCellState> states) {
    for (FleetCellState s : states) add(s);
  }
  static constexpr FleetStateSet problems() {
    return {FleetCellState::partial, FleetCellState::tampered, FleetCellState::unexpected, FleetCellState::missing};
  }
  constexpr void add(FleetCellState s) { bits_ |= static_cast<std::uint16_t>(1u << static_cast<unsigned>(s)); }
  constexpr bool has(FleetCellState s) const { return (bits_ >> static_cast<unsigned>(s)) & 1u; }
  constexpr bool empty() const { return bits_ == 0; }
  bool operator==(const FleetStateSet&) const = default;

 private:
  std::uint16_t bits_ = 0;
};

// The judgement of one signature on one host, packed in 2 bytes (10,000 hosts × 200
// patches = 4 MB; the names live in the row and the column).
struct FleetCell {
  FleetCellState state = FleetCellState::unscanned;

  static constexpr FleetCell make(FleetCellState state, std::optional<SignatureState> observed,
                                  std::optional<Stage> stage, std::optional<bool> expected) noexcept {
    FleetCell c;
    c.state = state;
    c.bits_ = static_cast<std::uint8_t>((observed ? static_cast<unsigned>(*observed) + 1 : 0u) |
                                        (stage ? static_cast<unsigned>(*stage) + 1 : 0u) << 3 |
                                        (expected ? (*expected ? 2u : 1u) : 0u) << 5);
    return c;
  }
  // The analysed state; nullopt when unscanned.
  constexpr std::optional<SignatureState> observed() const noexcept {
    const unsigned v = bits_ & 7u;
    return v == 0 ? std::nullopt : std::optional<SignatureState>(static_cast<SignatureState>(v - 1));
  }
  // The (cluster, patch) stage; nullopt when none is set.
  constexpr std::optional<Stage> stage() const noexcept {
    const unsigned v = (bits_ >> 3) & 3u;
    return v == 0 ? std::nullopt : std::optional<Stage>(static_cast<Stage>(v - 1));
  }
  // expected_on(role, stage); nullopt when no stage is set.
  constexpr std::optional<bool> expected() const noexcept {
    const unsigned v = (bits_ >> 5) & 3u;
    return v == 0 ? std::nullopt : std::optional<bool>(v == 2);
  }
  bool operator==(const FleetCell&) const = default;

 private:
  std::uint8_t bits_ = 0;  // bits 0-2 observed + 1, 3-4 stage + 1, 5-6 expected (1 no, 2 yes); 0 = none
};
static_assert(sizeof(FleetCell) == 2);

// The cell for one observation: the whole state table of the fleet view.
// - no observation                          -> unscanned
// - no stage                                -> the observed state as is
// - installed (complete/partial/tampered) but not expected -> unexpected
// - absent but expected                     -> missing
// - otherwise                               -> the observed state
FleetCell judge_cell(std::optional<SignatureState> observed, std::optional<Stage> stage, std::string_view role);

// Cells counted per state.
struct FleetStateCounts {
  std::array<std::size_t, kFleetCellStateCount> by_state{};
  std::size_t operator[](FleetCellState s) const { return by_state[static_cast<std::size_t>(s)]; }
  std::size_t& operator[](FleetCellState s) { return by_state[static_cast<std::size_t>(s)]; }
  std::size_t problems() const;
  bool operator==(const FleetStateCounts&) const = default;
};

// ---- the matrix -----------------------------------------------------------------------

struct FleetRow {
  std::string host;
  std::string cluster;
  std::string role;
  std::optional<ScanRef> scan;
  std::optional<SnapshotDrift> drift;
  std::size_t deviations = 0;
  std::optional<std::string> error;
  std::size_t cluster_index = 0;  // into FleetMatrix::clusters
};

struct FleetClusterSummary {
  std::string name;
  std::size_t members = 0;  // hosts of the cluster (all of them, whatever the filter shows)
  std::size_t scanned = 0;  // members with a scan that could be judged
  // The newest snapshot version any member was compared with; nullopt when none was.
  std::optional<std::int64_t> snapshot_version;
  // There is a snapshot, at least one member is scanned, and every scanned member was
  // compared with that snapshot version and differs in nothing.
  bool identical = false;
  std::vector<std::string> drifting;         // scanned members that differ from the snapshot (by name)
  std::vector<std::string> unverified;       // scanned members with no comparison to the current snapshot
  std::vector<std::optional<Stage>> stages;  // per matrix column: the stage set in this cluster
  FleetStateCounts cells;                    // over every member and every shown column (state filter not applied)
  std::size_t first_row = 0, row_count = 0;  // the cluster's rows in FleetMatrix::rows
};

// Which product release columns a matrix keeps; patch columns are always kept.
enum class ProductColumns : std::uint8_t {
  all,       // every product column given
  problems,  // a product column only where a host of the selection (cluster filter) has a
             // problem cell in it (is_problem): a tampered or partial package shows, the
             // hundreds of complete ones of a real host do not widen the matrix
  none,      // patches only
};

struct FleetFilter {
  std::optional<std::string> cluster;  // only this cluster's hosts
  std::optional<SignatureRef> patch;   // only this column (no column when it is not one),
                                       // whatever its kind and `products`
  ProductColumns products = ProductColumns::all;
  // When not empty: only hosts with at least one cell in these states, and only columns
  // with at least one such cell among those hosts (applied after `products`). Cluster
  // summaries still count every member; clusters left with no row are dropped.
  FleetStateSet states;
};

struct FleetMatrix {
  std::vector<FleetColumn> columns;
  // By cluster name, then role (active, inactive, other labels), then host name.
  std::vector<FleetRow> rows;
  std::vector<FleetCell> cells;               // row-major: rows.size() × columns.size()
  std::vector<FleetClusterSummary> clusters;  // by name; each one's rows are contiguous
  FleetStateCounts totals;                    // over the cells shown

  std::span<const FleetCell> row_cells(std::size_t row) const {
    return std::span<const FleetCell>(cells).subspan(row * columns.size(), columns.size());
  }
  const FleetCell& cell(std::size_t row, std::size_t column) const { return cells[row * columns.size() + column]; }
};

// Builds the matrix. `columns` keep their order (a repeated ref is dropped); assignments
// for clusters or signatures not in view are ignored.
FleetMatrix build_fleet_matrix(std::span<const HostStatus> hosts, std::span<const StageAssignment> stages,
                               std::span<const FleetColumn> columns, const FleetFilter& filter = {});

// Sort rank of a role: active 0, inactive 1, any other label 2.
int role_rank(std::string_view role) noexcept;

// ---- verify: the deployment gate --------------------------------------------------------

enum class VerifyProblem : std::uint8_t {
  not_scanned,   // the host has no scan
  scan_error,    // the latest scan could not be judged (HostStatus::error)
  no_result,     // a signature to check has no result in the analysis
  partial,       // a signature partly installed (ref, stage when set)
  tampered,      // a signature's files modified
  unexpected,    // installed ahead of its stage
  missing,       // absent although its stage expects it
  not_complete,  // an --expect-patch signature is not complete (observed given)
  deviations,    // files that no signature explains (count)
  no_snapshot,   // identity asked but the host was not compared with a snapshot
  drift,         // the host differs from its cluster's snapshot (drift given)
  inventory,     // packages whose files are not the version the package manager lists (count)
  unverified,    // packages listed at a version no stored signature checks (count, details)
};
std::string_view to_string(VerifyProblem problem) noexcept;

struct VerifyReason {
  VerifyProblem problem = VerifyProblem::not_scanned;
  std::optional<SignatureRef> ref;
  std::optional<SignatureState> observed;
  std::optional<Stage> stage;
  std::optional<SnapshotDrift> drift;
  std::size_t count = 0;  // deviations, inventory, unverified
  std::optional<DeviationAttribution> attribution;  // deviations, when the host's status has it
  std::string detail;     // scan_error: the error text
  std::vector<std::string> details;  // unverified: one message per package
  bool operator==(const VerifyReason&) const = default;
};

struct VerifyRequest {
  // Signatures that must be complete (or superseded by a complete later patch).
  std::vector<SignatureRef> expect_complete;
  // The host must have been compared with its cluster's snapshot and match it.
  bool cluster_identical = false;
  // Accept deviating files outside every signature, and packages whose files are another
  // version than the package manager lists (default: both fail the gate).
  bool allow_deviations = false;
  // Packages the package manager lists at a version the store has no signature of
  // (unverified) fail the gate (`--require-signatures`); default: a warning.
  bool require_signatures = false;
};

struct HostVerdict {
  bool ok = false;
  std::vector<VerifyReason> reasons;  // empty when ok; scan problems, then per signature, then the rest
  std::vector<VerifyReason> warnings;  // what does not fail the gate but is said: unverified packages
};

// Whether `host` is in its expected state: every analysed signature judged with the
// stage of its cluster (`stages` may hold other clusters' assignments: they are ignored),
// no problem cell, every staged patch expected on this member has a result, plus the
// request's extra conditions.
HostVerdict verify_host(const HostStatus& host, std::span<const StageAssignment> stages,
                        const VerifyRequest& request = {});

}  // namespace tb
