// Benchmarks of the store: ingest of a 100,000-record scan into a fresh database, the
// same manifest for a second host (the dedup path), and the bytes each extra identical
// host costs (SQLite); and put_scan of new 5,000- and 100,000-record scans on SQLite and
// PostgreSQL side by side (BM_PutScanBackend; PostgreSQL from $TB_BENCH_POSTGRES_URL or
// $TB_TEST_POSTGRES_URL, in a schema of its own dropped afterwards). Data is synthetic and deterministic: an
// installed-system-like tree, 20 files per directory, package mtimes.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <pqxx/pqxx>

#include "core/manifest.h"
#include "core/sha256.h"
#include "store/open_store.h"
#include "store/sqlite_store.h"

namespace tb {
namespace {

namespace fs = std::filesystem;
constexpr std::size_t kRecords = 100'000;
constexpr std::size_t kPerDirectory = 20;

ScanDocument make_scan(std::size_t files, std::string_view salt = "") {
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
    add(d + "/lib" + std::to_string(i) + ".so", FileType::file, std::string(salt) + "content " + std::to_string(i));
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
  state.counters["records/s"] =
      benchmark::Counter(static_cast<double>(doc.manifest.size()) * state.iterations(), benchmark::Counter::kIsRate);
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
  state.counters["records/s"] =
      benchmark::Counter(static_cast<double>(doc.manifest.size()) * state.iterations(), benchmark::Counter::kIsRate);
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
  state.counters["records/s"] =
      benchmark::Counter(static_cast<double>(kRecords) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GetScan)->Unit(benchmark::kMillisecond)->UseRealTime();

// A PostgreSQL schema for one benchmark, dropped at the end; url() empty when no server.
struct TempSchema {
  std::string server, name = "tb_bench_" + std::to_string(::getpid());
  TempSchema() {
    for (const char* var : {"TB_BENCH_POSTGRES_URL", "TB_TEST_POSTGRES_URL"})
      if (const char* v = std::getenv(var); v != nullptr && *v != '\0' && server.empty()) server = v;
    if (server.empty()) return;
    pqxx::connection c(server);
    pqxx::work tx(c);
    tx.exec("DROP SCHEMA IF EXISTS " + name + " CASCADE; CREATE SCHEMA " + name);
    tx.commit();
  }
  ~TempSchema() {
    if (server.empty()) return;
    pqxx::connection c(server);
    pqxx::work tx(c);
    tx.exec("DROP SCHEMA " + name + " CASCADE");
    tx.commit();
  }
  std::string url() const {
    return server.empty()
               ? ""
               : server + (server.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + name;
  }
};

// put_scan of a scan whose every chunk is new (another host's software), durable commits,
// on SQLite (arg 1 = 0) or PostgreSQL (1); arg 0: records. Scans are made before timing.
void BM_PutScanBackend(benchmark::State& state) {
  const auto records = static_cast<std::size_t>(state.range(0));
  const bool postgres = state.range(1) != 0;
  TempDb tmp;
  std::optional<TempSchema> schema;
  if (postgres) {
    schema.emplace();
    if (schema->url().empty()) {
      state.SkipWithError("no PostgreSQL: set TB_BENCH_POSTGRES_URL or TB_TEST_POSTGRES_URL");
      return;
    }
  }
  auto opened = open_store(postgres ? schema->url() : tmp.path());
  if (!opened) {
    state.SkipWithError(opened.error().message.c_str());
    return;
  }
  auto& store = *opened;
  std::size_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const ScanDocument doc = make_scan(records, "host " + std::to_string(n) + " ");
    state.ResumeTiming();
    if (!store->put_scan("host-" + std::to_string(n++), doc)) state.SkipWithError("put_scan failed");
  }
  state.SetLabel(postgres ? "PostgreSQL" : "SQLite");
  state.counters["records/s"] =
      benchmark::Counter(static_cast<double>(records) * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PutScanBackend)
    ->ArgsProduct({{5'000, 100'000}, {0, 1}})
    ->ArgNames({"records", "postgres"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace tb

BENCHMARK_MAIN();
