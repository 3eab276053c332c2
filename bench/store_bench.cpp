// Benchmarks of the SQLite store: ingest of a 100,000-record scan into a fresh database,
// the same manifest for a second host (the dedup path), and the bytes each extra
// identical host costs. Data is synthetic and deterministic: an installed-system-like
// tree, 20 files per directory, package mtimes.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/manifest.h"
#include "core/sha256.h"
#include "store/sqlite_store.h"

namespace tb {
namespace {

namespace fs = std::filesystem;
constexpr std::size_t kRecords = 100'000;
constexpr std::size_t kPerDirectory = 20;

ScanDocument make_scan(std::size_t files) {
  std::vector<FileRecord> records;
  auto add = [&](std::string path, FileType type, std::string_view content) {
    FileRecord r;
    r.path = std::move(path);
    r.type = type;
    r.present = Attr::type | Attr::size | Attr::mode | Attr::uid | Attr::gid | Attr::mtime;
    if (type == FileType::file) r.present |= Attr::sha256, r.sha256 = Sha256::of(content);
    r.size = content.size();
    r.mode = type == FileType::file ? 0644 : 0755;
    r.mtime_ns = 1'704'067'200'000'000'000;
    records.push_back(std::move(r));
  };
  add("/", FileType::directory, "");
  add("/usr", FileType::directory, "");
  for (std::size_t i = 0; records.size() < files; ++i) {
    const std::string d = "/usr/pkg" + std::to_string(i / kPerDirectory);
    if (i % kPerDirectory == 0) add(d, FileType::directory, "");
    add(d + "/lib" + std::to_string(i) + ".so", FileType::file, "content " + std::to_string(i));
  }
  ScanDocument doc;
  doc.header.roots = {"/"};
  doc.manifest = *Manifest::from_records(std::move(records));
  return doc;
}

const ScanDocument& scan() {
  static const ScanDocument doc = make_scan(kRecords);
  return doc;
}

// A temporary database file, removed (with its WAL) on destruction.
struct TempDb {
  fs::path dir;
  TempDb() {
    std::string tmpl = (fs::temp_directory_path() / "tb-store-bench-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    dir = tmpl;
  }
  ~TempDb() { fs::remove_all(dir); }
  std::string path() const { return (dir / "bench.db").string(); }
};

std::unique_ptr<Store> open_or_die(const std::string& path, bool durable) {
  SqliteStoreOptions options;
  options.durable_commits = durable;
  auto s = open_sqlite_store(path, options);
  if (!s) std::abort();
  return std::move(*s);
}

// First host: every chunk and the manifest are new. Arg: 1 = synchronous FULL (default).
void BM_PutScanFresh(benchmark::State& state) {
  const ScanDocument& doc = scan();
  for (auto _ : state) {
    state.PauseTiming();
    TempDb tmp;
    auto store = open_or_die(tmp.path(), state.range(0) != 0);
    state.ResumeTiming();
    if (!store->put_scan("host-1", doc)) state.SkipWithError("put_scan failed");
    state.PauseTiming();
    store.reset();
    state.ResumeTiming();
  }
  state.counters["records/s"] = benchmark::Counter(static_cast<double>(doc.manifest.size()) * state.iterations(),
                                                   benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PutScanFresh)->Arg(1)->Arg(0)->Unit(benchmark::kMillisecond)->UseRealTime();

// Further hosts with the same manifest: digest + one lookup + one scans row.
void BM_PutScanIdenticalHost(benchmark::State& state) {
  const ScanDocument& doc = scan();
  TempDb tmp;
  auto store = open_or_die(tmp.path(), true);
  if (!store->put_scan("host-0", doc)) std::abort();
  const auto first = store->stats()->database_bytes;
  std::size_t n = 0;
  for (auto _ : state)
    if (!store->put_scan("host-" + std::to_string(++n), doc)) state.SkipWithError("put_scan failed");
  const auto last = store->stats()->database_bytes;
  state.counters["records/s"] = benchmark::Counter(static_cast<double>(doc.manifest.size()) * state.iterations(),
                                                   benchmark::Counter::kIsRate);
  state.counters["first_host_bytes"] = static_cast<double>(first);
  state.counters["bytes/extra_host"] = static_cast<double>(last - first) / static_cast<double>(n);
  state.counters["extra_host_%"] = 100.0 * static_cast<double>(last - first) / static_cast<double>(n) / first;
}
// 200 hosts: enough rows for the database to grow by whole pages, so bytes/extra_host is
// measured rather than lost in the free space of the first host's last page.
BENCHMARK(BM_PutScanIdenticalHost)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(200);

// Reading a 100k-record scan back (decode, sort, verify digests).
void BM_GetScan(benchmark::State& state) {
  TempDb tmp;
  auto store = open_or_die(tmp.path(), true);
  const auto id = store->put_scan("host-1", scan());
  if (!id) std::abort();
  for (auto _ : state) benchmark::DoNotOptimize(store->get_scan(*id));
  state.counters["records/s"] = benchmark::Counter(static_cast<double>(kRecords) * state.iterations(),
                                                   benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GetScan)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace tb

BENCHMARK_MAIN();
