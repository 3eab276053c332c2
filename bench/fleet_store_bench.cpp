// Benchmarks of the fleet part of the SQLite store (issue 5 targets):
//  - BM_LatestResults: what a fleet report reads for 10,000 hosts x 200 patches — every
//    host's latest scan with its cached result (latest_results), plus the current stages
//    of 500 clusters x 200 patches and the signature list. Target: the whole fleet
//    report < 1 s, so this should be a small fraction of it.
//  - BM_StoreSizeNearIdenticalHosts: 10,000 scans of a 20,000-file manifest, each host
//    differing from the others in a few files; reports the database size (target < 2 GiB).
// Data is synthetic and deterministic. Run from a Release build:
//   build/release/bench/fleet_store_bench [--benchmark_filter=LatestResults]
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/manifest.h"
#include "core/sha256.h"
#include "store/sqlite_store.h"

namespace tb {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kHosts = 10'000;
constexpr std::size_t kPatches = 200;
constexpr std::size_t kClusters = 500;  // 20 members each
constexpr std::string_view kActor = "bench";

struct TempDb {
  fs::path dir;
  TempDb() {
    const char* base = std::getenv("TB_BENCH_DIR");
    std::string tmpl =
        ((base != nullptr ? fs::path(base) : fs::temp_directory_path()) / "tb-fleet-bench-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    dir = tmpl;
  }
  ~TempDb() { fs::remove_all(dir); }
  std::string path() const { return (dir / "bench.db").string(); }
  std::uint64_t bytes_on_disk() const {
    std::uint64_t total = 0;
    for (const auto& e : fs::directory_iterator(dir)) total += e.file_size();
    return total;
  }
};

std::unique_ptr<Store> open_or_die(const std::string& path) {
  SqliteStoreOptions options;
  options.durable_commits = false;  // bulk setup; the reads measured do not depend on it
  auto s = open_sqlite_store(path, options);
  if (!s) std::abort();
  return std::move(*s);
}

template <class T>
T must(Expected<T> r) {
  if (!r) {
    std::fprintf(stderr, "bench setup failed: %s\n", r.error().message.c_str());
    std::abort();
  }
  return std::move(*r);
}
void must(Expected<void> r) {
  if (!r) {
    std::fprintf(stderr, "bench setup failed: %s\n", r.error().message.c_str());
    std::abort();
  }
}

FileRecord record(std::string path, FileType type, std::string_view content) {
  FileRecord r;
  r.path = std::move(path);
  r.type = type;
  r.present = Attr::type | Attr::size | Attr::mode | Attr::uid | Attr::gid | Attr::mtime;
  if (type == FileType::file) r.present |= Attr::sha256, r.sha256 = Sha256::of(content);
  r.size = content.size();
  r.mode = type == FileType::file ? 0644 : 0755;
  r.mtime_ns = 1'704'067'200'000'000'000;
  return r;
}

// An installed system: `files` files, 20 per directory, in path order.
std::vector<FileRecord> system_records(std::size_t files) {
  std::vector<FileRecord> records;
  records.push_back(record("/", FileType::directory, ""));
  records.push_back(record("/usr", FileType::directory, ""));
  for (std::size_t d = 0; d * 20 < files; ++d) {
    const std::string dir = "/usr/pkg" + std::to_string(1'000'000 + d);  // fixed width: path order = d order
    records.push_back(record(dir, FileType::directory, ""));
    for (std::size_t f = 0; f < 20 && d * 20 + f < files; ++f)
      records.push_back(record(dir + "/lib" + std::to_string(10 + f) + ".so", FileType::file,
                               "content " + std::to_string(d * 20 + f)));
  }
  return records;
}

Signature patch_signature(std::size_t i) {
  Signature s;
  s.info.ref = SignatureRef{"patch-" + std::to_string(i), "1"};
  s.info.kind = SignatureKind::patch;
  s.info.patches = SignatureRef{"app", "1.0"};
  s.manifest = *Manifest::from_records({record("/opt/app/patch" + std::to_string(i), FileType::file, "p")});
  return s;
}

void BM_LatestResults(benchmark::State& state) {
  TempDb tmp;
  auto store = open_or_die(tmp.path());
  std::vector<std::int64_t> patch_ids;
  for (std::size_t i = 0; i < kPatches; ++i) patch_ids.push_back(must(store->put_signature(patch_signature(i))));
  const std::int64_t generation = must(store->signature_generation());
  ScanDocument scan;
  scan.header.roots = {"/"};
  scan.manifest = *Manifest::from_sorted(system_records(100));
  for (std::size_t c = 0; c < kClusters; ++c) {
    const std::string cluster = "cluster-" + std::to_string(c);
    must(store->add_cluster(cluster, "", kActor));
    must(store->publish_snapshot(cluster, "", 0, scan.manifest, kActor));
    for (std::size_t p = 0; p < kPatches; ++p)
      must(store->set_stage(cluster, SignatureRef{"patch-" + std::to_string(p), "1"}, static_cast<Stage>((c + p) % 3),
                            kActor));
  }
  for (std::size_t h = 0; h < kHosts; ++h) {
    const std::string host = "host-" + std::to_string(h);
    must(store->set_host(host, "cluster-" + std::to_string(h % kClusters), h % 2 == 0 ? "active" : "inactive", kActor));
    scan.header.started_ns = static_cast<std::int64_t>(h);
    const std::int64_t scan_id = must(store->put_scan(host, scan));
    ScanResult result;
    result.signature_generation = generation;
    result.snapshot_version = 1;
    for (std::size_t p = 0; p < kPatches; ++p)
      result.states.push_back({patch_ids[p], static_cast<SignatureState>((h + p) % 5)});
    result.deviations = {h % 3, 0, h % 7, 0};
    must(store->put_scan_result(scan_id, result));
  }

  std::size_t rows = 0, states = 0, stage_rows = 0;
  double results_s = 0, stages_s = 0, signatures_s = 0;
  using Clock = std::chrono::steady_clock;
  auto seconds = [](Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); };
  for (auto _ : state) {
    const auto t0 = Clock::now();
    auto results = store->latest_results();
    const auto t1 = Clock::now();
    auto stages = store->stages(std::nullopt);
    const auto t2 = Clock::now();
    auto signatures = store->list_signatures();
    const auto t3 = Clock::now();
    results_s += seconds(t0, t1);
    stages_s += seconds(t1, t2);
    signatures_s += seconds(t2, t3);
    if (!results || !stages || !signatures) state.SkipWithError("read failed");
    rows = results->size();
    states = 0;
    for (const HostResult& r : *results)
      if (r.is_current(generation)) states += r.result->states.size();
    stage_rows = stages->size();
    benchmark::DoNotOptimize(signatures->data());
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["latest_results_ms"] = 1000 * results_s / n;
  state.counters["stages_ms"] = 1000 * stages_s / n;
  state.counters["list_signatures_ms"] = 1000 * signatures_s / n;
  state.counters["hosts"] = static_cast<double>(rows);
  state.counters["current_states"] = static_cast<double>(states);
  state.counters["stage_rows"] = static_cast<double>(stage_rows);
  state.counters["db_bytes"] = static_cast<double>(must(store->stats()).database_bytes);
}
BENCHMARK(BM_LatestResults)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

// Only latest_results(): the part this store adds per host.
void BM_LatestResultsOnly(benchmark::State& state) {
  TempDb tmp;
  auto store = open_or_die(tmp.path());
  std::vector<std::int64_t> patch_ids;
  for (std::size_t i = 0; i < kPatches; ++i) patch_ids.push_back(must(store->put_signature(patch_signature(i))));
  const std::int64_t generation = must(store->signature_generation());
  ScanDocument scan;
  scan.manifest = *Manifest::from_sorted(system_records(20));
  for (std::size_t h = 0; h < kHosts; ++h) {
    scan.header.started_ns = static_cast<std::int64_t>(h);
    const std::int64_t scan_id = must(store->put_scan("host-" + std::to_string(h), scan));
    ScanResult result;
    result.signature_generation = generation;
    for (std::size_t p = 0; p < kPatches; ++p)
      result.states.push_back({patch_ids[p], static_cast<SignatureState>((h + p) % 5)});
    must(store->put_scan_result(scan_id, result));
  }
  for (auto _ : state) {
    auto results = store->latest_results();
    if (!results || results->size() != kHosts) state.SkipWithError("read failed");
    benchmark::DoNotOptimize(results->data());
  }
  state.counters["ns/host"] = benchmark::Counter(static_cast<double>(kHosts) * state.iterations(),
                                                 benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_LatestResultsOnly)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(2.0);

// Arg: hosts. Each host: the 20,000-file base with 3 files of its own content (one in a
// directory shared by all, two spread over the tree) and its own /etc/hostname.
void BM_StoreSizeNearIdenticalHosts(benchmark::State& state) {
  const auto hosts = static_cast<std::size_t>(state.range(0));
  constexpr std::size_t kFiles = 20'000;
  const std::vector<FileRecord> base = system_records(kFiles);
  for (auto _ : state) {
    TempDb tmp;
    auto store = open_or_die(tmp.path());
    for (std::size_t h = 0; h < hosts; ++h) {
      std::vector<FileRecord> records;
      records.reserve(base.size() + 2);
      records.push_back(base[0]);
      records.push_back(record("/etc", FileType::directory, ""));
      records.push_back(record("/etc/hostname", FileType::file, "host-" + std::to_string(h)));
      records.insert(records.end(), base.begin() + 1, base.end());
      for (std::size_t k : {std::size_t{10}, 1000 + (h * 7919) % (base.size() - 1000), 500 + (h * 104729) % 500}) {
        FileRecord& r = records[k + 2];
        if (r.type != FileType::file) continue;
        const std::string content = "host " + std::to_string(h) + " edit of " + r.path;
        r.sha256 = Sha256::of(content);
        r.size = content.size();
      }
      ScanDocument scan;
      scan.header.roots = {"/"};
      scan.header.started_ns = static_cast<std::int64_t>(h);
      auto manifest = Manifest::from_sorted(std::move(records));
      if (!manifest) {
        state.SkipWithError(manifest.error().message.c_str());
        return;
      }
      scan.manifest = std::move(*manifest);
      must(store->put_scan("host-" + std::to_string(h), scan));
    }
    const StoreStats stats = must(store->stats());
    store.reset();  // checkpoints the WAL into the database file
    state.counters["hosts"] = static_cast<double>(hosts);
    state.counters["manifests"] = static_cast<double>(stats.manifests);
    state.counters["chunks"] = static_cast<double>(stats.chunks);
    state.counters["db_MiB"] = static_cast<double>(stats.database_bytes) / (1 << 20);
    state.counters["disk_MiB"] = static_cast<double>(tmp.bytes_on_disk()) / (1 << 20);
    state.counters["bytes/host"] = static_cast<double>(stats.database_bytes) / static_cast<double>(hosts);
  }
}
BENCHMARK(BM_StoreSizeNearIdenticalHosts)->Arg(10'000)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

}  // namespace
}  // namespace tb

BENCHMARK_MAIN();
