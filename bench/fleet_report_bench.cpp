// Benchmarks of the fleet view at the scale: 10,000 hosts (5,000 clusters of an
// active/inactive pair) × 200 patch columns, each host with 220 analysed signatures (the
// 200 patches and 20 products), 50 staged patches per cluster. Measures building the
// matrix, rendering it as text, JSON and HTML, the whole report (build + text), and one
// `verify`. Target: fleet report in < 1 s on a 2-core machine. Data is synthetic and
// deterministic (fixed seed).
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench_random.h"
#include "core/fleet.h"
#include "format/fleet_report.h"

namespace tb {
namespace {

using bench::Rng;

constexpr std::size_t kClusters = 5000;
constexpr std::size_t kPatches = 200;
constexpr std::size_t kProducts = 20;
constexpr std::size_t kStagedPerCluster = 50;

struct Fleet {
  std::vector<HostStatus> hosts;
  std::vector<StageAssignment> stages;
  std::vector<FleetColumn> columns;
};

std::string number(std::size_t n, int width) {
  std::string s = std::to_string(n);
  return std::string(static_cast<std::size_t>(width) - std::min<std::size_t>(s.size(), width), '0') + s;
}

// Mostly healthy: 90 % of cells as the stage wants, the rest random, 1 % of hosts not
// scanned, 2 % drifting from their snapshot.
Fleet make_fleet() {
  Rng rng{20261126};
  Fleet f;
  std::vector<SignatureRef> patches, products;
  for (std::size_t p = 0; p < kPatches; ++p) {
    patches.push_back({"tradeapp-fix-" + number(p, 3), "4.2." + std::to_string(p)});
    f.columns.push_back({patches.back(), SignatureKind::patch});
  }
  for (std::size_t p = 0; p < kProducts; ++p) products.push_back({"middleware-" + number(p, 2), "7.1"});

  std::vector<ObservedSignature> base;  // sorted by ref, like a cached analysis
  for (const SignatureRef& r : patches) base.push_back({r, SignatureState::absent});
  for (const SignatureRef& r : products) base.push_back({r, SignatureState::complete});
  std::sort(base.begin(), base.end(),
            [](const ObservedSignature& a, const ObservedSignature& b) { return a.ref < b.ref; });

  for (std::size_t c = 0; c < kClusters; ++c) {
    const std::string cluster = "cl-" + number(c, 4);
    std::vector<std::optional<Stage>> stage_of(kPatches);
    for (std::size_t k = 0; k < kStagedPerCluster; ++k) {
      const std::size_t p = rng() % kPatches;
      stage_of[p] = static_cast<Stage>(rng() % 3);
      f.stages.push_back({cluster, patches[p], *stage_of[p]});
    }
    for (const char* role : {"active", "inactive"}) {
      HostStatus h;
      h.name = cluster + (role[0] == 'a' ? "-a.trading.example" : "-b.trading.example");
      h.cluster = cluster;
      h.role = role;
      if (rng() % 100 != 0) h.scan = ScanRef{static_cast<std::int64_t>(f.hosts.size() + 1), 1'795'672'509'000'000'000};
      h.observed = base;
      for (ObservedSignature& o : h.observed) {
        if (o.ref.name.starts_with("middleware")) continue;
        const std::size_t p = static_cast<std::size_t>(std::stoul(o.ref.name.substr(13)));
        const bool wanted = stage_of[p] && expected_on(role, *stage_of[p]);
        o.state = wanted ? SignatureState::complete : SignatureState::absent;
        if (rng() % 10 == 0) o.state = static_cast<SignatureState>(rng() % 5);
      }
      h.drift = SnapshotDrift{1, 0, 0, rng() % 50 == 0 ? 3u : 0u};
      h.deviations = rng() % 20 == 0 ? 1 : 0;
      f.hosts.push_back(std::move(h));
    }
  }
  return f;
}

const Fleet& fleet() {
  static const Fleet f = make_fleet();
  return f;
}

const FleetMatrix& matrix() {
  static const FleetMatrix m = build_fleet_matrix(fleet().hosts, fleet().stages, fleet().columns);
  return m;
}

void BM_FleetMatrixBuild(benchmark::State& state) {
  const Fleet& f = fleet();
  for (auto _ : state) {
    FleetMatrix m = build_fleet_matrix(f.hosts, f.stages, f.columns);
    benchmark::DoNotOptimize(m.cells.data());
  }
  state.counters["hosts"] = static_cast<double>(f.hosts.size());
  state.counters["cells"] = static_cast<double>(f.hosts.size() * f.columns.size());
}
BENCHMARK(BM_FleetMatrixBuild)->Unit(benchmark::kMillisecond);

// Only the problem hosts and columns (`trustbase report fleet --problems`).
void BM_FleetMatrixBuildProblemsOnly(benchmark::State& state) {
  const Fleet& f = fleet();
  FleetFilter filter;
  filter.states = FleetStateSet::problems();
  std::size_t rows = 0;
  for (auto _ : state) {
    FleetMatrix m = build_fleet_matrix(f.hosts, f.stages, f.columns, filter);
    rows = m.rows.size();
    benchmark::DoNotOptimize(m.cells.data());
  }
  state.counters["rows"] = static_cast<double>(rows);
}
BENCHMARK(BM_FleetMatrixBuildProblemsOnly)->Unit(benchmark::kMillisecond);

// Where a CLI's report goes (stdout): bytes counted and dropped, so the figures are the
// rendering alone, in 64 KiB blocks as write_fleet_report hands them over.
class CountingSink final : public ByteSink {
 public:
  Expected<void> write(std::string_view bytes) override {
    bytes_ += bytes.size();
    benchmark::DoNotOptimize(bytes.data());
    return {};
  }
  std::size_t bytes_ = 0;
};

template <FleetReportFormat Format>
void BM_FleetRender(benchmark::State& state) {
  const FleetMatrix& m = matrix();
  std::size_t bytes = 0;
  for (auto _ : state) {
    CountingSink sink;
    if (!write_fleet_report(Format, {}, m, sink)) state.SkipWithError("write failed");
    bytes = sink.bytes_;
  }
  state.counters["MB"] = static_cast<double>(bytes) / 1e6;
}
BENCHMARK(BM_FleetRender<FleetReportFormat::text>)->Name("BM_FleetRenderText")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FleetRender<FleetReportFormat::json>)->Name("BM_FleetRenderJson")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FleetRender<FleetReportFormat::html>)->Name("BM_FleetRenderHtml")->Unit(benchmark::kMillisecond);

// The same into one std::string (what the server would send as a body).
void BM_FleetRenderJsonString(benchmark::State& state) {
  const FleetMatrix& m = matrix();
  for (auto _ : state) {
    const std::string out = fleet_report_json({}, m);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_FleetRenderJsonString)->Unit(benchmark::kMillisecond);

// The figure: the whole fleet report from loaded host states (< 1 s).
template <FleetReportFormat Format>
void BM_FleetReportEndToEnd(benchmark::State& state) {
  const Fleet& f = fleet();
  for (auto _ : state) {
    const FleetMatrix m = build_fleet_matrix(f.hosts, f.stages, f.columns);
    CountingSink sink;
    if (!write_fleet_report(Format, {}, m, sink)) state.SkipWithError("write failed");
  }
}
BENCHMARK(BM_FleetReportEndToEnd<FleetReportFormat::text>)
    ->Name("BM_FleetReportTextEndToEnd")
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FleetReportEndToEnd<FleetReportFormat::json>)
    ->Name("BM_FleetReportJsonEndToEnd")
    ->Unit(benchmark::kMillisecond);

// One deployment gate: a host with 220 analysed signatures and its cluster's 50 stages.
void BM_VerifyHost(benchmark::State& state) {
  const Fleet& f = fleet();
  const HostStatus& host = f.hosts[1];
  std::vector<StageAssignment> own;
  for (const StageAssignment& a : f.stages)
    if (a.cluster == host.cluster) own.push_back(a);
  VerifyRequest request;
  request.cluster_identical = true;
  request.expect_complete = {f.columns[0].ref, f.columns[1].ref};
  for (auto _ : state) {
    HostVerdict v = verify_host(host, own, request);
    benchmark::DoNotOptimize(v.reasons.data());
  }
}
BENCHMARK(BM_VerifyHost)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace tb

BENCHMARK_MAIN();
