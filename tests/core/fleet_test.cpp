// The fleet view: the cell state table (stage × role × observed state), the matrix
// (order, stages per cluster, filters, cluster identity, unscanned hosts) and the
// `verify` gate's reasons, plus a seeded check that the matrix and verify agree.
#include "core/fleet.h"

#include <algorithm>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

namespace tb {

void PrintTo(const FleetCellState& s, std::ostream* os) {
  *os << to_string(s);
}
void PrintTo(const VerifyReason& r, std::ostream* os) {
  *os << to_string(r.problem);
  if (r.ref) *os << ' ' << r.ref->id();
  if (r.observed) *os << " observed " << to_string(*r.observed);
  if (r.stage) *os << " stage " << to_string(*r.stage);
}

namespace {

using S = SignatureState;
using F = FleetCellState;

SignatureRef sig(std::string_view id) {
  return *SignatureRef::parse(id);
}

HostStatus host(std::string name, std::string cluster, std::string role,
                std::vector<std::pair<std::string, S>> observed = {},
                std::optional<SnapshotDrift> drift = std::nullopt) {
  HostStatus h;
  h.name = std::move(name);
  h.cluster = std::move(cluster);
  h.role = std::move(role);
  h.scan = ScanRef{42, 1'700'000'000'000'000'000};
  for (auto& [id, state] : observed) h.observed.push_back({sig(id), state});
  std::sort(h.observed.begin(), h.observed.end(),
            [](const ObservedSignature& a, const ObservedSignature& b) { return a.ref < b.ref; });
  h.drift = drift;
  return h;
}

HostStatus unscanned(std::string name, std::string cluster, std::string role) {
  HostStatus h = host(std::move(name), std::move(cluster), std::move(role));
  h.scan.reset();
  return h;
}

std::vector<FleetColumn> patches(std::initializer_list<std::string_view> ids) {
  std::vector<FleetColumn> out;
  for (std::string_view id : ids) out.push_back({sig(id), SignatureKind::patch});
  return out;
}

StageAssignment stage(std::string cluster, std::string_view patch, Stage s) {
  return {std::move(cluster), sig(patch), s};
}

std::vector<std::string> row_names(const FleetMatrix& m) {
  std::vector<std::string> out;
  for (const FleetRow& r : m.rows) out.push_back(r.host);
  return out;
}

std::vector<F> row_states(const FleetMatrix& m, std::size_t row) {
  std::vector<F> out;
  for (const FleetCell& c : m.row_cells(row)) out.push_back(c.state);
  return out;
}

std::size_t row_of(const FleetMatrix& m, std::string_view name) {
  for (std::size_t r = 0; r < m.rows.size(); ++r)
    if (m.rows[r].host == name) return r;
  ADD_FAILURE() << "no row " << name;
  return 0;
}

// --- the cell state table ---------------------------------------------------------------

TEST(FleetCell, WithoutStageTheObservedStateIsShownAsIs) {
  const std::vector<std::pair<S, F>> table = {{S::complete, F::complete},
                                              {S::partial, F::partial},
                                              {S::absent, F::absent},
                                              {S::superseded, F::superseded},
                                              {S::tampered, F::tampered}};
  for (std::string_view role : {"active", "inactive", "dr"})
    for (auto [observed, state] : table) {
      const FleetCell c = judge_cell(observed, std::nullopt, role);
      EXPECT_EQ(c.state, state) << role << ' ' << to_string(observed);
      EXPECT_EQ(c.observed(), observed);
      EXPECT_EQ(c.stage(), std::nullopt);
      EXPECT_EQ(c.expected(), std::nullopt);
    }
}

TEST(FleetCell, NoObservationIsUnscannedButKeepsTheExpectation) {
  EXPECT_EQ(judge_cell(std::nullopt, std::nullopt, "active").state, F::unscanned);
  const FleetCell c = judge_cell(std::nullopt, Stage::active, "active");
  EXPECT_EQ(c.state, F::unscanned);
  EXPECT_EQ(c.observed(), std::nullopt);
  EXPECT_EQ(c.stage(), Stage::active);
  EXPECT_EQ(c.expected(), true);
  EXPECT_EQ(judge_cell(std::nullopt, Stage::tested, "inactive").expected(), false);
}

// Every (stage, role, observed) combination against the rule written out by hand.
TEST(FleetCell, StageRoleObservedTable) {
  struct Row {
    Stage stage;
    std::string_view role;
    S observed;
    F state;
    bool expected;
  };
  const std::vector<Row> table = {
      // tested: expected nowhere; anything installed is ahead of its stage.
      {Stage::tested, "active", S::complete, F::unexpected, false},
      {Stage::tested, "active", S::partial, F::unexpected, false},
      {Stage::tested, "active", S::tampered, F::unexpected, false},
      {Stage::tested, "active", S::absent, F::absent, false},
      {Stage::tested, "active", S::superseded, F::superseded, false},
      {Stage::tested, "inactive", S::complete, F::unexpected, false},
      {Stage::tested, "inactive", S::absent, F::absent, false},
      {Stage::tested, "dr", S::partial, F::unexpected, false},
      // inactive: expected on inactive members only.
      {Stage::inactive, "inactive", S::complete, F::complete, true},
      {Stage::inactive, "inactive", S::partial, F::partial, true},
      {Stage::inactive, "inactive", S::tampered, F::tampered, true},
      {Stage::inactive, "inactive", S::absent, F::missing, true},
      {Stage::inactive, "inactive", S::superseded, F::superseded, true},
      {Stage::inactive, "active", S::complete, F::unexpected, false},
      {Stage::inactive, "active", S::partial, F::unexpected, false},
      {Stage::inactive, "active", S::tampered, F::unexpected, false},
      {Stage::inactive, "active", S::absent, F::absent, false},
      {Stage::inactive, "active", S::superseded, F::superseded, false},
      {Stage::inactive, "dr", S::complete, F::unexpected, false},
      {Stage::inactive, "dr", S::absent, F::absent, false},
      // active: expected on every member, whatever its role label.
      {Stage::active, "active", S::complete, F::complete, true},
      {Stage::active, "active", S::partial, F::partial, true},
      {Stage::active, "active", S::tampered, F::tampered, true},
      {Stage::active, "active", S::absent, F::missing, true},
      {Stage::active, "active", S::superseded, F::superseded, true},
      {Stage::active, "inactive", S::absent, F::missing, true},
      {Stage::active, "inactive", S::complete, F::complete, true},
      {Stage::active, "dr", S::absent, F::missing, true},
      {Stage::active, "", S::complete, F::complete, true},
  };
  for (const Row& r : table) {
    const FleetCell c = judge_cell(r.observed, r.stage, r.role);
    EXPECT_EQ(c.state, r.state) << to_string(r.stage) << ' ' << r.role << ' ' << to_string(r.observed);
    EXPECT_EQ(c.expected(), r.expected) << to_string(r.stage) << ' ' << r.role << ' ' << to_string(r.observed);
    EXPECT_EQ(c.observed(), r.observed);
    EXPECT_EQ(c.stage(), r.stage);
  }
}

// A patch promoted tested -> inactive -> active, as the pair's members install it.
TEST(FleetCell, PromotionTransitionsOfAnActiveInactivePair) {
  struct Step {
    Stage stage;
    S on_active, on_inactive;
    F active_cell, inactive_cell;
  };
  const std::vector<Step> steps = {
      {Stage::tested, S::absent, S::absent, F::absent, F::absent},                  // nothing deployed yet
      {Stage::tested, S::absent, S::complete, F::absent, F::unexpected},            // deployed too early
      {Stage::inactive, S::absent, S::absent, F::absent, F::missing},               // promoted, not deployed
      {Stage::inactive, S::absent, S::partial, F::absent, F::partial},              // deployment half done
      {Stage::inactive, S::absent, S::complete, F::absent, F::complete},            // inactive member done
      {Stage::inactive, S::complete, S::complete, F::unexpected, F::complete},      // active one too early
      {Stage::active, S::absent, S::complete, F::missing, F::complete},             // promoted to all
      {Stage::active, S::complete, S::complete, F::complete, F::complete},          // done
      {Stage::active, S::superseded, S::superseded, F::superseded, F::superseded},  // a later patch took over
  };
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const Step& s = steps[i];
    EXPECT_EQ(judge_cell(s.on_active, s.stage, "active").state, s.active_cell) << "step " << i;
    EXPECT_EQ(judge_cell(s.on_inactive, s.stage, "inactive").state, s.inactive_cell) << "step " << i;
  }
}

TEST(FleetCell, StateNamesRoundTripAndProblemsAreTheFourAttentionStates) {
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < kFleetCellStateCount; ++i) {
    const auto s = static_cast<F>(i);
    names.insert(to_string(s));
    EXPECT_EQ(fleet_cell_state_from_string(to_string(s)), s);
  }
  EXPECT_EQ(names.size(), kFleetCellStateCount);
  EXPECT_EQ(fleet_cell_state_from_string("Complete"), std::nullopt);
  EXPECT_EQ(fleet_cell_state_from_string(""), std::nullopt);
  for (F s : {F::partial, F::tampered, F::unexpected, F::missing}) EXPECT_TRUE(is_problem(s));
  for (F s : {F::complete, F::absent, F::superseded, F::unscanned}) EXPECT_FALSE(is_problem(s));
  const FleetStateSet problems = FleetStateSet::problems();
  for (std::size_t i = 0; i < kFleetCellStateCount; ++i)
    EXPECT_EQ(problems.has(static_cast<F>(i)), is_problem(static_cast<F>(i)));
}

// --- the matrix -------------------------------------------------------------------------

TEST(FleetMatrix, RowsByClusterThenRoleThenName) {
  const std::vector<HostStatus> hosts = {
      host("b-2", "beta", "inactive"),  host("a-9", "alpha", "dr"),     host("a-1", "alpha", "inactive"),
      host("b-1", "beta", "active"),    host("a-5", "alpha", "active"), host("a-3", "alpha", "backup"),
      host("a-0", "alpha", "inactive"), host("x", "", "active"),
  };
  const FleetMatrix m = build_fleet_matrix(hosts, {}, patches({"fix@1"}));
  EXPECT_EQ(row_names(m), (std::vector<std::string>{"x", "a-5", "a-0", "a-1", "a-3", "a-9", "b-1", "b-2"}));
  ASSERT_EQ(m.clusters.size(), 3u);
  EXPECT_EQ(m.clusters[0].name, "");
  EXPECT_EQ(m.clusters[1].name, "alpha");
  EXPECT_EQ(m.clusters[1].first_row, 1u);
  EXPECT_EQ(m.clusters[1].row_count, 5u);
  EXPECT_EQ(m.clusters[1].members, 5u);
  EXPECT_EQ(m.clusters[2].first_row, 6u);
  for (std::size_t r = 0; r < m.rows.size(); ++r)
    EXPECT_EQ(m.clusters[m.rows[r].cluster_index].name, m.rows[r].cluster);
  EXPECT_EQ(role_rank("active"), 0);
  EXPECT_EQ(role_rank("inactive"), 1);
  EXPECT_EQ(role_rank("Active"), 2);
}

TEST(FleetMatrix, CellsFollowEachClustersStages) {
  const std::vector<HostStatus> hosts = {
      host("a-act", "alpha", "active", {{"fix@1", S::complete}, {"fix@2", S::absent}, {"mw@3", S::complete}}),
      host("a-ina", "alpha", "inactive", {{"fix@1", S::complete}, {"fix@2", S::complete}, {"mw@3", S::absent}}),
      host("b-act", "beta", "active", {{"fix@1", S::complete}, {"fix@2", S::absent}, {"mw@3", S::partial}}),
  };
  const std::vector<StageAssignment> stages = {
      stage("alpha", "fix@1", Stage::active),  stage("alpha", "fix@2", Stage::inactive),
      stage("alpha", "mw@3", Stage::tested),   stage("beta", "fix@2", Stage::tested),
      stage("gamma", "fix@1", Stage::tested),   // no such cluster in view: ignored
      stage("alpha", "nope@1", Stage::active),  // no such column: ignored
  };
  const FleetMatrix m = build_fleet_matrix(hosts, stages, patches({"fix@1", "fix@2", "mw@3"}));
  ASSERT_EQ(m.columns.size(), 3u);
  EXPECT_EQ(row_states(m, row_of(m, "a-act")), (std::vector<F>{F::complete, F::absent, F::unexpected}));
  EXPECT_EQ(row_states(m, row_of(m, "a-ina")), (std::vector<F>{F::complete, F::complete, F::absent}));
  // beta has no stage for fix@1 and mw@3: shown as observed (partial included).
  EXPECT_EQ(row_states(m, row_of(m, "b-act")), (std::vector<F>{F::complete, F::absent, F::partial}));

  const FleetCell& c = m.cell(row_of(m, "a-ina"), 1);
  EXPECT_EQ(c.stage(), Stage::inactive);
  EXPECT_EQ(c.expected(), true);
  EXPECT_EQ(m.cell(row_of(m, "a-act"), 1).expected(), false);
  EXPECT_EQ(m.cell(row_of(m, "b-act"), 0).expected(), std::nullopt);

  ASSERT_EQ(m.clusters.size(), 2u);
  EXPECT_EQ(m.clusters[0].stages, (std::vector<std::optional<Stage>>{Stage::active, Stage::inactive, Stage::tested}));
  EXPECT_EQ(m.clusters[1].stages, (std::vector<std::optional<Stage>>{std::nullopt, Stage::tested, std::nullopt}));
  EXPECT_EQ(m.clusters[0].cells[F::complete], 3u);
  EXPECT_EQ(m.clusters[0].cells[F::absent], 2u);
  EXPECT_EQ(m.clusters[0].cells[F::unexpected], 1u);
  EXPECT_EQ(m.clusters[0].cells.problems(), 1u);
  EXPECT_EQ(m.totals[F::complete], 4u);
  EXPECT_EQ(m.totals[F::partial], 1u);
  EXPECT_EQ(m.totals.problems(), 2u);
}

TEST(FleetMatrix, LaterAssignmentOfTheSamePatchWins) {
  const std::vector<HostStatus> hosts = {host("a", "c", "active", {{"fix@1", S::absent}})};
  const std::vector<StageAssignment> stages = {stage("c", "fix@1", Stage::active), stage("c", "fix@1", Stage::tested)};
  const FleetMatrix m = build_fleet_matrix(hosts, stages, patches({"fix@1"}));
  EXPECT_EQ(m.cell(0, 0).stage(), Stage::tested);
  EXPECT_EQ(m.cell(0, 0).state, F::absent);
  const HostVerdict v = verify_host(hosts[0], stages);
  EXPECT_TRUE(v.ok);
}

TEST(FleetMatrix, ColumnsKeepTheirOrderAndDropRepeats) {
  auto columns = patches({"zz@1", "aa@2", "zz@1", "mm@1"});
  columns.push_back({sig("prod@1"), SignatureKind::product});
  const std::vector<HostStatus> hosts = {host(
      "h", "c", "active", {{"aa@2", S::complete}, {"mm@1", S::partial}, {"prod@1", S::complete}, {"zz@1", S::absent}})};
  const FleetMatrix m = build_fleet_matrix(hosts, {}, columns);
  ASSERT_EQ(m.columns.size(), 4u);
  EXPECT_EQ(m.columns[0].ref.id(), "zz@1");
  EXPECT_EQ(m.columns[1].ref.id(), "aa@2");
  EXPECT_EQ(m.columns[2].ref.id(), "mm@1");
  EXPECT_EQ(m.columns[3].kind, SignatureKind::product);
  EXPECT_EQ(row_states(m, 0), (std::vector<F>{F::absent, F::complete, F::partial, F::complete}));
}

TEST(FleetMatrix, ColumnsFromSignatureInfosArePatchesUnlessProductsAsked) {
  std::vector<SignatureInfo> infos(3);
  infos[0].ref = sig("app@1");
  infos[1].ref = sig("app-fix@1.1");
  infos[1].kind = SignatureKind::patch;
  infos[2].ref = sig("mw@2");
  EXPECT_EQ(fleet_columns(infos), (std::vector<FleetColumn>{{sig("app-fix@1.1"), SignatureKind::patch}}));
  EXPECT_EQ(fleet_columns(infos, true).size(), 3u);
  EXPECT_EQ(fleet_columns(infos, true)[0], (FleetColumn{sig("app@1"), SignatureKind::product}));
}

TEST(FleetMatrix, UnsortedAndRepeatedObservationsGiveTheSameCells) {
  HostStatus sorted = host("h", "c", "active", {{"a@1", S::complete}, {"b@1", S::partial}, {"c@1", S::absent}});
  HostStatus shuffled = sorted;
  std::reverse(shuffled.observed.begin(), shuffled.observed.end());
  const auto columns = patches({"c@1", "b@1", "a@1", "d@1"});
  const std::vector<HostStatus> a = {sorted}, b = {shuffled};
  EXPECT_EQ(build_fleet_matrix(a, {}, columns).cells, build_fleet_matrix(b, {}, columns).cells);
  EXPECT_EQ(row_states(build_fleet_matrix(a, {}, columns), 0),
            (std::vector<F>{F::absent, F::partial, F::complete, F::unscanned}));

  // A ref listed twice: the later entry counts, in the matrix and in verify alike.
  HostStatus twice = host("h", "c", "active");
  twice.observed = {{sig("a@1"), S::partial}, {sig("a@1"), S::complete}};
  const std::vector<HostStatus> t = {twice};
  EXPECT_EQ(build_fleet_matrix(t, {}, patches({"a@1"})).cell(0, 0).state, F::complete);
  twice.observed = {{sig("b@1"), S::absent}, {sig("a@1"), S::partial}, {sig("a@1"), S::complete}};  // unsorted
  const std::vector<HostStatus> t2 = {twice};
  EXPECT_EQ(build_fleet_matrix(t2, {}, patches({"a@1"})).cell(0, 0).state, F::complete);
  EXPECT_TRUE(verify_host(twice, {}).ok);
}

// Consecutive hosts listing the same signatures in the same order reuse the previous
// host's column mapping; different orders, lengths and names must still map exactly.
TEST(FleetMatrix, HostsWithDifferentSignatureListsInOneMatrix) {
  HostStatus h1 = host("h1", "c", "active");
  h1.observed = {{sig("a@1"), S::complete}, {sig("b@1"), S::partial}, {sig("c@1"), S::absent}};
  HostStatus h2 = host("h2", "c", "active");
  h2.observed = {{sig("a@1"), S::absent}, {sig("b@1"), S::complete}, {sig("c@1"), S::tampered}};
  HostStatus h3 = host("h3", "c", "active");
  h3.observed = {
      {sig("c@1"), S::complete}, {sig("b@1"), S::absent}, {sig("a@1"), S::superseded}, {sig("x@1"), S::complete}};
  HostStatus h4 = host("h4", "c", "active");
  h4.observed = {{sig("c@1"), S::partial}, {sig("b@2"), S::complete}};  // b@1 replaced by another version
  HostStatus h5 = host("h5", "c", "active");
  h5.observed = {{sig("c@1"), S::absent},
                 {sig("b@1"), S::tampered},
                 {sig("a@1"), S::complete},
                 {sig("x@1"), S::partial},
                 {sig("b@1"), S::complete}};  // b@1 twice: the later entry counts
  const std::vector<HostStatus> hosts = {h1, h2, h3, h4, h5};
  const FleetMatrix m = build_fleet_matrix(hosts, {}, patches({"a@1", "b@1", "c@1"}));
  EXPECT_EQ(row_states(m, 0), (std::vector<F>{F::complete, F::partial, F::absent}));
  EXPECT_EQ(row_states(m, 1), (std::vector<F>{F::absent, F::complete, F::tampered}));
  EXPECT_EQ(row_states(m, 2), (std::vector<F>{F::superseded, F::absent, F::complete}));
  EXPECT_EQ(row_states(m, 3), (std::vector<F>{F::unscanned, F::unscanned, F::partial}));
  EXPECT_EQ(row_states(m, 4), (std::vector<F>{F::complete, F::complete, F::absent}));
}

TEST(FleetMatrix, UnscannedHostsAndMissingResults) {
  HostStatus failed = host("c-err", "c", "active", {{"fix@1", S::complete}});
  failed.error = "scan 7: manifest unreadable";
  const std::vector<HostStatus> hosts = {
      unscanned("c-new", "c", "inactive"), failed,
      host("c-ok", "c", "active", {{"fix@1", S::complete}}),  // no result for fix@2 (imported later)
  };
  const std::vector<StageAssignment> stages = {stage("c", "fix@2", Stage::active)};
  const FleetMatrix m = build_fleet_matrix(hosts, stages, patches({"fix@1", "fix@2"}));
  EXPECT_EQ(row_states(m, row_of(m, "c-new")), (std::vector<F>{F::unscanned, F::unscanned}));
  EXPECT_EQ(row_states(m, row_of(m, "c-err")), (std::vector<F>{F::unscanned, F::unscanned}));
  EXPECT_EQ(row_states(m, row_of(m, "c-ok")), (std::vector<F>{F::complete, F::unscanned}));
  EXPECT_EQ(m.cell(row_of(m, "c-new"), 1).expected(), true);  // still says what is expected
  EXPECT_EQ(m.rows[row_of(m, "c-err")].error, "scan 7: manifest unreadable");
  EXPECT_FALSE(m.rows[row_of(m, "c-new")].scan.has_value());
  ASSERT_EQ(m.clusters.size(), 1u);
  EXPECT_EQ(m.clusters[0].members, 3u);
  EXPECT_EQ(m.clusters[0].scanned, 1u);
  EXPECT_EQ(m.clusters[0].cells[F::unscanned], 5u);
}

TEST(FleetMatrix, NoHostsOrNoColumns) {
  const FleetMatrix empty = build_fleet_matrix({}, {}, patches({"a@1"}));
  EXPECT_TRUE(empty.rows.empty());
  EXPECT_TRUE(empty.clusters.empty());
  EXPECT_EQ(empty.columns.size(), 1u);
  const std::vector<HostStatus> hosts = {host("h", "c", "active", {{"a@1", S::partial}})};
  const FleetMatrix none = build_fleet_matrix(hosts, {}, {});
  ASSERT_EQ(none.rows.size(), 1u);
  EXPECT_TRUE(none.row_cells(0).empty());
  EXPECT_TRUE(none.cells.empty());
}

// --- filters ----------------------------------------------------------------------------

std::vector<HostStatus> small_fleet() {
  return {
      host("a-1", "alpha", "active", {{"fix@1", S::complete}, {"fix@2", S::absent}, {"fix@3", S::absent}}),
      host("a-2", "alpha", "inactive", {{"fix@1", S::complete}, {"fix@2", S::partial}, {"fix@3", S::absent}}),
      host("b-1", "beta", "active", {{"fix@1", S::complete}, {"fix@2", S::absent}, {"fix@3", S::absent}}),
      host("b-2", "beta", "inactive", {{"fix@1", S::complete}, {"fix@2", S::absent}, {"fix@3", S::complete}}),
      host("c-1", "gamma", "active", {{"fix@1", S::complete}, {"fix@2", S::complete}, {"fix@3", S::absent}}),
  };
}

std::vector<StageAssignment> small_stages() {
  return {stage("alpha", "fix@2", Stage::inactive), stage("beta", "fix@3", Stage::tested),
          stage("gamma", "fix@1", Stage::active)};
}

TEST(FleetFilter, ByCluster) {
  const auto hosts = small_fleet();
  FleetFilter f;
  f.cluster = "beta";
  const FleetMatrix m = build_fleet_matrix(hosts, small_stages(), patches({"fix@1", "fix@2", "fix@3"}), f);
  EXPECT_EQ(row_names(m), (std::vector<std::string>{"b-1", "b-2"}));
  ASSERT_EQ(m.clusters.size(), 1u);
  EXPECT_EQ(m.clusters[0].name, "beta");
  EXPECT_EQ(m.clusters[0].first_row, 0u);
  EXPECT_EQ(row_states(m, 1), (std::vector<F>{F::complete, F::absent, F::unexpected}));
  f.cluster = "nope";
  EXPECT_TRUE(build_fleet_matrix(hosts, small_stages(), patches({"fix@1"}), f).rows.empty());
}

TEST(FleetFilter, ByPatch) {
  const auto hosts = small_fleet();
  FleetFilter f;
  f.patch = sig("fix@2");
  const FleetMatrix m = build_fleet_matrix(hosts, small_stages(), patches({"fix@1", "fix@2", "fix@3"}), f);
  ASSERT_EQ(m.columns.size(), 1u);
  EXPECT_EQ(m.columns[0].ref.id(), "fix@2");
  EXPECT_EQ(m.rows.size(), 5u);
  EXPECT_EQ(m.cell(row_of(m, "a-2"), 0).state, F::partial);
  EXPECT_EQ(m.cell(row_of(m, "a-1"), 0).state, F::absent);
  EXPECT_EQ(m.clusters[0].stages, (std::vector<std::optional<Stage>>{Stage::inactive}));
  EXPECT_EQ(m.totals[F::partial], 1u);
  EXPECT_EQ(m.totals[F::complete], 1u);
  f.patch = sig("fix@9");
  const FleetMatrix none = build_fleet_matrix(hosts, small_stages(), patches({"fix@1", "fix@2"}), f);
  EXPECT_TRUE(none.columns.empty());
  EXPECT_EQ(none.rows.size(), 5u);
}

TEST(FleetFilter, ByStateKeepsRowsAndColumnsWithSuchACell) {
  const auto hosts = small_fleet();
  FleetFilter f;
  f.states = FleetStateSet::problems();
  const FleetMatrix m = build_fleet_matrix(hosts, small_stages(), patches({"fix@1", "fix@2", "fix@3"}), f);
  // a-2: fix@2 partial (expected at inactive); b-2: fix@3 unexpected (tested only).
  EXPECT_EQ(row_names(m), (std::vector<std::string>{"a-2", "b-2"}));
  ASSERT_EQ(m.columns.size(), 2u);
  EXPECT_EQ(m.columns[0].ref.id(), "fix@2");
  EXPECT_EQ(m.columns[1].ref.id(), "fix@3");
  EXPECT_EQ(row_states(m, 0), (std::vector<F>{F::partial, F::absent}));
  EXPECT_EQ(row_states(m, 1), (std::vector<F>{F::absent, F::unexpected}));
  // Clusters with rows left only; their summaries still count every member and column.
  ASSERT_EQ(m.clusters.size(), 2u);
  EXPECT_EQ(m.clusters[0].name, "alpha");
  EXPECT_EQ(m.clusters[0].members, 2u);
  EXPECT_EQ(m.clusters[0].first_row, 0u);
  EXPECT_EQ(m.clusters[0].row_count, 1u);
  EXPECT_EQ(m.clusters[0].cells[F::complete], 2u);
  EXPECT_EQ(m.clusters[0].stages, (std::vector<std::optional<Stage>>{Stage::inactive, std::nullopt}));
  EXPECT_EQ(m.clusters[1].name, "beta");
  EXPECT_EQ(m.clusters[1].first_row, 1u);
  EXPECT_EQ(m.clusters[1].stages, (std::vector<std::optional<Stage>>{std::nullopt, Stage::tested}));
  EXPECT_EQ(m.rows[1].cluster_index, 1u);
  EXPECT_EQ(m.totals[F::partial] + m.totals[F::unexpected] + m.totals[F::absent], 4u);

  FleetFilter only_missing;
  only_missing.states.add(F::missing);
  EXPECT_TRUE(
      build_fleet_matrix(hosts, small_stages(), patches({"fix@1", "fix@2", "fix@3"}), only_missing).rows.empty());
  FleetFilter complete;
  complete.states = {F::complete};
  complete.cluster = "gamma";
  const FleetMatrix g = build_fleet_matrix(hosts, small_stages(), patches({"fix@1", "fix@2", "fix@3"}), complete);
  EXPECT_EQ(row_names(g), (std::vector<std::string>{"c-1"}));
  EXPECT_EQ(g.columns.size(), 2u);
}

// Product releases are columns where a host of the selection has a problem with them (a
// tampered curl, a partial tzdata), all of them when asked, none for patches only; the
// cluster counts leave out the cells of dropped columns; a column asked for stays.
TEST(FleetFilter, ProductColumnsOnlyWhereSomeHostHasAProblem) {
  std::vector<FleetColumn> columns = patches({"fix@1"});
  for (const char* id : {"curl@1", "tzdata@2", "bash@5"}) columns.push_back({sig(id), SignatureKind::product});
  const std::vector<HostStatus> hosts = {
      host("a-1", "alpha", "active",
           {{"fix@1", S::complete}, {"curl@1", S::tampered}, {"tzdata@2", S::complete}, {"bash@5", S::complete}}),
      host("a-2", "alpha", "inactive",
           {{"fix@1", S::absent}, {"curl@1", S::complete}, {"tzdata@2", S::complete}, {"bash@5", S::complete}}),
      host("b-1", "beta", "active",
           {{"fix@1", S::complete}, {"curl@1", S::complete}, {"tzdata@2", S::partial}, {"bash@5", S::absent}})};
  auto ids = [](const FleetMatrix& m) {
    std::vector<std::string> out;
    for (const FleetColumn& c : m.columns) out.push_back(c.ref.id());
    return out;
  };

  FleetFilter f;
  f.products = ProductColumns::problems;
  FleetMatrix m = build_fleet_matrix(hosts, {}, columns, f);
  EXPECT_EQ(ids(m), (std::vector<std::string>{"fix@1", "curl@1", "tzdata@2"}));
  EXPECT_EQ(row_states(m, row_of(m, "a-1")), (std::vector<F>{F::complete, F::tampered, F::complete}));
  EXPECT_EQ(row_states(m, row_of(m, "b-1")), (std::vector<F>{F::complete, F::complete, F::partial}));
  EXPECT_EQ(m.totals.problems(), 2u);
  EXPECT_EQ(m.totals[F::complete] + m.totals[F::absent], 7u);  // bash's cells are gone
  ASSERT_EQ(m.clusters.size(), 2u);
  EXPECT_EQ(m.clusters[0].cells[F::complete], 4u);  // fix@1 once, curl once, tzdata twice
  EXPECT_EQ(m.clusters[0].stages.size(), 3u);
  EXPECT_EQ(m.clusters[1].cells[F::absent], 0u);  // bash@5's absent cell left with its column

  // Within one cluster: only that cluster's problems count.
  f.cluster = "alpha";
  EXPECT_EQ(ids(build_fleet_matrix(hosts, {}, columns, f)), (std::vector<std::string>{"fix@1", "curl@1"}));
  f.cluster.reset();

  // Together with a state filter: the product rule first, then the states.
  f.states = {F::complete};
  EXPECT_EQ(ids(build_fleet_matrix(hosts, {}, columns, f)), (std::vector<std::string>{"fix@1", "curl@1", "tzdata@2"}));
  f.states = {};

  f.products = ProductColumns::all;
  EXPECT_EQ(build_fleet_matrix(hosts, {}, columns, f).columns.size(), 4u);
  f.products = ProductColumns::none;
  m = build_fleet_matrix(hosts, {}, columns, f);
  EXPECT_EQ(ids(m), (std::vector<std::string>{"fix@1"}));
  EXPECT_EQ(m.totals.problems(), 0u);

  // A column asked for by name is shown, whatever its kind and state.
  for (ProductColumns p : {ProductColumns::none, ProductColumns::problems}) {
    FleetFilter one;
    one.products = p;
    one.patch = sig("bash@5");
    EXPECT_EQ(ids(build_fleet_matrix(hosts, {}, columns, one)), (std::vector<std::string>{"bash@5"}));
  }
}

// --- cluster identity -------------------------------------------------------------------

TEST(FleetCluster, IdentityNeedsASnapshotAndZeroDriftOnEveryScannedMember) {
  const SnapshotDrift same{3, 0, 0, 0};
  const SnapshotDrift edited{3, 0, 0, 2};
  const SnapshotDrift old_snapshot{2, 0, 0, 0};
  const std::vector<HostStatus> hosts = {
      host("none-1", "none", "active"),
      host("none-2", "none", "inactive"),  // no snapshot at all
      host("ok-1", "ok", "active", {}, same),
      host("ok-2", "ok", "inactive", {}, same),
      unscanned("ok-3", "ok", "dr"),  // not scanned: not counted against identity
      host("dr-1", "drifty", "active", {}, same),
      host("dr-2", "drifty", "inactive", {}, edited),
      host("st-1", "stale", "active", {}, same),
      host("st-2", "stale", "inactive", {}, old_snapshot),
      host("st-3", "stale", "dr"),  // never compared
      unscanned("un-1", "unscanned", "active"),
  };
  const FleetMatrix m = build_fleet_matrix(hosts, {}, patches({"fix@1"}));
  ASSERT_EQ(m.clusters.size(), 5u);
  const auto& drifty = m.clusters[0];
  const auto& none = m.clusters[1];
  const auto& ok = m.clusters[2];
  const auto& stale = m.clusters[3];
  const auto& uns = m.clusters[4];
  EXPECT_EQ(none.name, "none");
  EXPECT_FALSE(none.identical);
  EXPECT_EQ(none.snapshot_version, std::nullopt);
  EXPECT_TRUE(none.unverified.empty());
  EXPECT_TRUE(none.drifting.empty());

  EXPECT_TRUE(ok.identical);
  EXPECT_EQ(ok.snapshot_version, 3);
  EXPECT_EQ(ok.members, 3u);
  EXPECT_EQ(ok.scanned, 2u);

  EXPECT_FALSE(drifty.identical);
  EXPECT_EQ(drifty.drifting, (std::vector<std::string>{"dr-2"}));
  EXPECT_TRUE(drifty.unverified.empty());

  EXPECT_FALSE(stale.identical);
  EXPECT_EQ(stale.snapshot_version, 3);
  EXPECT_EQ(stale.unverified, (std::vector<std::string>{"st-2", "st-3"}));  // row order: inactive, then dr
  EXPECT_TRUE(stale.drifting.empty());

  EXPECT_FALSE(uns.identical);
  EXPECT_EQ(uns.scanned, 0u);
}

TEST(FleetCluster, ErroredMemberIsNeitherScannedNorUnverified) {
  HostStatus bad = host("x-2", "x", "inactive", {}, SnapshotDrift{1, 5, 0, 0});
  bad.error = "unreadable";
  const std::vector<HostStatus> hosts = {host("x-1", "x", "active", {}, SnapshotDrift{1, 0, 0, 0}), bad};
  const FleetMatrix m = build_fleet_matrix(hosts, {}, {});
  ASSERT_EQ(m.clusters.size(), 1u);
  EXPECT_EQ(m.clusters[0].scanned, 1u);
  EXPECT_TRUE(m.clusters[0].identical);
}

// --- verify -----------------------------------------------------------------------------

std::vector<std::tuple<VerifyProblem, std::string>> reasons(const HostVerdict& v) {
  std::vector<std::tuple<VerifyProblem, std::string>> out;
  for (const VerifyReason& r : v.reasons) out.emplace_back(r.problem, r.ref ? r.ref->id() : "");
  return out;
}

TEST(Verify, HostInItsExpectedStatePasses) {
  const HostStatus h =
      host("a", "c", "inactive",
           {{"app@1", S::complete}, {"fix@1", S::superseded}, {"fix@2", S::complete}, {"fix@3", S::absent}},
           SnapshotDrift{1, 0, 0, 0});
  const std::vector<StageAssignment> stages = {stage("c", "fix@2", Stage::inactive),
                                               stage("c", "fix@3", Stage::tested)};
  VerifyRequest req;
  req.expect_complete = {sig("fix@2"), sig("fix@1")};  // superseded counts as done
  req.cluster_identical = true;
  const HostVerdict v = verify_host(h, stages, req);
  EXPECT_TRUE(v.ok);
  EXPECT_TRUE(v.reasons.empty());
}

TEST(Verify, NoScanOrUnjudgedScanFailsWithOneReason) {
  const HostVerdict v = verify_host(unscanned("a", "c", "active"), {});
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(reasons(v), (std::vector<std::tuple<VerifyProblem, std::string>>{{VerifyProblem::not_scanned, ""}}));
  HostStatus bad = host("a", "c", "active", {{"x@1", S::partial}});
  bad.error = "analysis failed";
  const HostVerdict e = verify_host(bad, {});
  EXPECT_FALSE(e.ok);
  ASSERT_EQ(e.reasons.size(), 1u);
  EXPECT_EQ(e.reasons[0].problem, VerifyProblem::scan_error);
  EXPECT_EQ(e.reasons[0].detail, "analysis failed");
}

TEST(Verify, EveryProblemCellBecomesAReasonInRefOrder) {
  const HostStatus h = host("a", "c", "active",
                            {{"app@1", S::tampered},  // product, no stage: tampered
                             {"fix@1", S::partial},   // no stage: partial
                             {"fix@2", S::absent},    // active stage: missing
                             {"fix@3", S::complete},  // inactive stage on an active member: unexpected
                             {"fix@4", S::complete},  // fine
                             {"fix@5", S::absent}});  // tested: fine
  const std::vector<StageAssignment> stages = {
      stage("c", "fix@2", Stage::active),     stage("c", "fix@3", Stage::inactive), stage("c", "fix@4", Stage::active),
      stage("c", "fix@5", Stage::tested),     stage("c", "fix@6", Stage::active),  // staged, no result: no_result
      stage("c", "fix@7", Stage::inactive),                                        // not expected here: nothing
      stage("other", "fix@4", Stage::tested),                                      // another cluster: ignored
  };
  const HostVerdict v = verify_host(h, stages);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(reasons(v), (std::vector<std::tuple<VerifyProblem, std::string>>{
                            {VerifyProblem::tampered, "app@1"},
                            {VerifyProblem::partial, "fix@1"},
                            {VerifyProblem::missing, "fix@2"},
                            {VerifyProblem::unexpected, "fix@3"},
                            {VerifyProblem::no_result, "fix@6"},
                        }));
  EXPECT_EQ(v.reasons[2].stage, Stage::active);
  EXPECT_EQ(v.reasons[2].observed, S::absent);
  EXPECT_EQ(v.reasons[3].observed, S::complete);
  EXPECT_EQ(v.reasons[3].stage, Stage::inactive);
  EXPECT_EQ(v.reasons[4].observed, std::nullopt);
}

TEST(Verify, ExpectedPatchesMustBeComplete) {
  const HostStatus h = host(
      "a", "c", "active", {{"fix@1", S::absent}, {"fix@2", S::partial}, {"fix@3", S::complete}, {"fix@4", S::absent}});
  const std::vector<StageAssignment> stages = {stage("c", "fix@4", Stage::active)};
  VerifyRequest req;
  req.expect_complete = {sig("fix@9"), sig("fix@1"), sig("fix@2"), sig("fix@3"), sig("fix@4")};
  const HostVerdict v = verify_host(h, stages, req);
  // fix@2 is reported once (partial), fix@4 once (missing), fix@9 has no result.
  EXPECT_EQ(reasons(v), (std::vector<std::tuple<VerifyProblem, std::string>>{
                            {VerifyProblem::not_complete, "fix@1"},
                            {VerifyProblem::partial, "fix@2"},
                            {VerifyProblem::missing, "fix@4"},
                            {VerifyProblem::no_result, "fix@9"},
                        }));
  EXPECT_EQ(v.reasons[0].observed, S::absent);
}

TEST(Verify, DeviationsFailUnlessAllowed) {
  HostStatus h = host("a", "c", "active", {{"fix@1", S::complete}});
  h.deviations = 3;
  const HostVerdict v = verify_host(h, {});
  ASSERT_EQ(v.reasons.size(), 1u);
  EXPECT_EQ(v.reasons[0].problem, VerifyProblem::deviations);
  EXPECT_EQ(v.reasons[0].count, 3u);
  VerifyRequest req;
  req.allow_deviations = true;
  EXPECT_TRUE(verify_host(h, {}, req).ok);
}

// A deviation is attributed when a signature lists its path or has the content found;
// the reason carries the host's division of its count.
TEST(Verify, DeviationsAreDividedByAttribution) {
  std::vector<FileDeviation> devs(5);
  devs[0].change = Change::added;  // nothing
  devs[1].owners = {sig("b@1")};   // modified file of b@1
  devs[2].change = Change::removed;
  devs[2].owners = {sig("a@1"), sig("b@1")};
  devs[3].change = Change::added;
  devs[3].content_owners = {sig("a@1")};  // a copy of a@1's file
  devs[4].change = Change::added;         // nothing
  const DeviationAttribution a = attribute_deviations(devs);
  EXPECT_EQ(a, (DeviationAttribution{2, 3, {sig("a@1"), sig("b@1")}}));
  EXPECT_EQ(a.total(), 5u);

  HostStatus h = host("a", "c", "active", {{"fix@1", S::complete}});
  h.deviations = 5;
  h.attribution = a;
  const HostVerdict v = verify_host(h, {});
  ASSERT_EQ(v.reasons.size(), 1u);
  EXPECT_EQ(v.reasons[0].count, 5u);
  EXPECT_EQ(v.reasons[0].attribution, a);
}

// A package listed at a version the store has no signature of is a warning with its
// message, and fails the gate only when signatures are required; the other inventory
// issues are counted without it.
TEST(Verify, UnverifiedPackagesWarnUnlessSignaturesAreRequired) {
  HostStatus h = host("a", "c", "active", {{"curl@7.88.1-10+deb12u15", S::unverified}});
  h.inventory_mismatches = 3;
  h.unverified_packages = std::vector<std::string>{
      "dpkg: curl 7.88.1-10+deb12u14 installed; no signature of that version; stored: 7.88.1-10+deb12u15"};
  HostVerdict v = verify_host(h, {});
  ASSERT_EQ(v.reasons.size(), 1u);  // the two other issues fail
  EXPECT_EQ(v.reasons[0].problem, VerifyProblem::inventory);
  EXPECT_EQ(v.reasons[0].count, 2u);
  ASSERT_EQ(v.warnings.size(), 1u);
  EXPECT_EQ(v.warnings[0].problem, VerifyProblem::unverified);
  EXPECT_EQ(v.warnings[0].count, 1u);
  EXPECT_EQ(v.warnings[0].details, *h.unverified_packages);

  h.inventory_mismatches = 1;  // the unverified package only
  v = verify_host(h, {});
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.warnings.size(), 1u);
  VerifyRequest allow;
  allow.allow_deviations = true;
  EXPECT_TRUE(verify_host(h, {}, allow).ok);

  VerifyRequest strict;
  strict.require_signatures = true;
  v = verify_host(h, {}, strict);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(reasons(v), (std::vector<std::tuple<VerifyProblem, std::string>>{{VerifyProblem::unverified, ""}}));
  EXPECT_EQ(v.reasons[0].details, *h.unverified_packages);
  EXPECT_TRUE(v.warnings.empty());
  strict.allow_deviations = true;  // deviations allowed do not make signatures optional
  EXPECT_FALSE(verify_host(h, {}, strict).ok);

  // Not divided (the cached count alone): every issue is a mismatch, as before.
  h.unverified_packages.reset();
  v = verify_host(h, {});
  ASSERT_EQ(v.reasons.size(), 1u);
  EXPECT_EQ(v.reasons[0].problem, VerifyProblem::inventory);
  EXPECT_TRUE(v.warnings.empty());
}

TEST(Verify, ClusterIdentityOnlyWhenAsked) {
  HostStatus h = host("a", "c", "active", {});
  VerifyRequest req;
  req.cluster_identical = true;
  EXPECT_TRUE(verify_host(h, {}).ok);  // not asked: no snapshot is fine
  HostVerdict v = verify_host(h, {}, req);
  EXPECT_EQ(reasons(v), (std::vector<std::tuple<VerifyProblem, std::string>>{{VerifyProblem::no_snapshot, ""}}));
  h.drift = SnapshotDrift{4, 1, 2, 3};
  EXPECT_TRUE(verify_host(h, {}).ok);
  v = verify_host(h, {}, req);
  ASSERT_EQ(v.reasons.size(), 1u);
  EXPECT_EQ(v.reasons[0].problem, VerifyProblem::drift);
  EXPECT_EQ(v.reasons[0].drift, (SnapshotDrift{4, 1, 2, 3}));
  h.drift = SnapshotDrift{4, 0, 0, 0};
  EXPECT_TRUE(verify_host(h, {}, req).ok);
}

TEST(Verify, ProblemNamesAreDistinct) {
  std::set<std::string_view> names;
  for (int p = 0; p <= static_cast<int>(VerifyProblem::unverified); ++p)
    names.insert(to_string(static_cast<VerifyProblem>(p)));
  EXPECT_EQ(names.size(), static_cast<std::size_t>(VerifyProblem::unverified) + 1);
  EXPECT_EQ(names.count("?"), 0u);
}

// --- matrix and verify agree ------------------------------------------------------------

// For random fleets, the problem cells of a host's row are exactly verify's per-signature
// reasons (when every analysed signature is a column), and a host passes verify (with
// deviations allowed) iff its row has no problem and no unscanned cell for a staged patch.
TEST(FleetConsistency, MatrixProblemsMatchVerifyReasons) {
  std::mt19937 rng(20261126);
  const std::vector<std::string> roles = {"active", "inactive", "dr"};
  std::vector<FleetColumn> columns;
  for (int p = 0; p < 12; ++p) columns.push_back({sig("p" + std::to_string(p) + "@1"), SignatureKind::patch});
  std::vector<HostStatus> hosts;
  std::vector<StageAssignment> stages;
  for (int c = 0; c < 20; ++c) {
    const std::string cluster = "c" + std::to_string(c);
    for (const FleetColumn& col : columns)
      if (rng() % 2) stages.push_back({cluster, col.ref, static_cast<Stage>(rng() % 3)});
    for (int h = 0; h < 3; ++h) {
      HostStatus hs = host(cluster + "-" + std::to_string(h), cluster, roles[rng() % 3]);
      for (const FleetColumn& col : columns)
        if (rng() % 8 != 0) hs.observed.push_back({col.ref, static_cast<S>(rng() % 5)});
      hosts.push_back(std::move(hs));
    }
  }
  const FleetMatrix m = build_fleet_matrix(hosts, stages, columns);
  ASSERT_EQ(m.rows.size(), hosts.size());
  for (std::size_t r = 0; r < m.rows.size(); ++r) {
    const HostStatus& hs =
        *std::find_if(hosts.begin(), hosts.end(), [&](const HostStatus& x) { return x.name == m.rows[r].host; });
    std::vector<std::tuple<VerifyProblem, std::string>> from_matrix;
    for (std::size_t c = 0; c < m.columns.size(); ++c) {
      const FleetCell& cell = m.cell(r, c);
      std::optional<VerifyProblem> p;
      if (cell.state == F::partial) p = VerifyProblem::partial;
      if (cell.state == F::tampered) p = VerifyProblem::tampered;
      if (cell.state == F::unexpected) p = VerifyProblem::unexpected;
      if (cell.state == F::missing) p = VerifyProblem::missing;
      if (cell.state == F::unscanned && cell.expected() == true) p = VerifyProblem::no_result;
      if (p) from_matrix.emplace_back(*p, m.columns[c].ref.id());
    }
    std::sort(from_matrix.begin(), from_matrix.end(),
              [](const auto& a, const auto& b) { return sig(std::get<1>(a)) < sig(std::get<1>(b)); });
    const HostVerdict v = verify_host(hs, stages);
    EXPECT_EQ(reasons(v), from_matrix) << hs.name;
    EXPECT_EQ(v.ok, from_matrix.empty()) << hs.name;
  }
}

}  // namespace
}  // namespace tb
