// A real Debian host's shape, synthetic and deterministic: 1,500 package signatures of
// ~100 files (750 packages in two releases, the newer a patch of the older, as the deb
// importer links them), a 166k-file scan of which 75k files belong to installed releases
// (a third of the packages at a version the store lacks: unverified) and 91k to nothing,
// with a dpkg inventory. Issue 20's limits: analysis <= 1 s, the text report <= 0.3 s,
// snapshot drift of a member <= 0.3 s; each benchmark reports its time as `of_limit`.
#include <chrono>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench_random.h"
#include "core/analysis.h"
#include "format/analysis_report.h"
#include "format/byte_sink.h"

namespace tb {
namespace {

using bench::Rng;

constexpr std::size_t kPackages = 750;  // x 2 releases = 1,500 signatures
constexpr std::size_t kFilesPerPackage = 100;
constexpr std::size_t kUnknownFiles = 91'000;

Sha256Digest digest_of(std::uint64_t seed) {
  Rng rng{seed};
  return bench::random_digest(rng);
}

std::string pkg_path(std::size_t p, std::size_t f) {
  return "/usr/share/pkg" + std::to_string(p) + "/d" + std::to_string(f / 10) + "/f" + std::to_string(f % 10);
}

FileRecord file(std::string path, std::uint64_t content) {
  FileRecord r;
  r.path = std::move(path);
  r.type = FileType::file;
  r.present = Attr::type | Attr::size | Attr::sha256;
  r.size = content % 100'000;
  r.sha256 = digest_of(content);
  return r;
}

// Release 1 of package p, or release 2 (changes every 10th file).
std::uint64_t content(std::size_t p, std::size_t f, int release) {
  return p * 1'000'003 + f * 7 + (release == 2 && f % 10 == 0 ? 5 : 0);
}

std::string version(int release) {
  return release == 1 ? "1.0-1+deb12u5" : "1.0-1+deb12u15";
}

struct Fixture {
  SignatureIndex index;
  ScanDocument scan;
  Manifest snapshot;
};

const Fixture& fixture() {
  static const Fixture f = [] {
    std::vector<Signature> sigs;
    for (std::size_t p = 0; p < kPackages; ++p) {
      for (int release : {1, 2}) {
        Signature s;
        s.info.ref = {"pkg" + std::to_string(p), version(release)};
        s.info.kind = release == 1 ? SignatureKind::product : SignatureKind::patch;
        if (release == 2) s.info.patches = SignatureRef{s.info.ref.name, version(1)};
        s.info.source = s.info.ref.name + "_" + s.info.ref.version + "_amd64.deb";
        s.info.architecture = "amd64";
        std::vector<FileRecord> records;
        for (std::size_t f = 0; f < kFilesPerPackage; ++f)
          records.push_back(file(pkg_path(p, f), content(p, f, release)));
        s.manifest = *Manifest::from_records(std::move(records));
        sigs.push_back(std::move(s));
      }
    }
    Fixture out{*SignatureIndex::build(std::move(sigs)), {}, {}};
    // Installed: packages 0..499 at release 2 (the patch), 500..749 at an unstored release
    // (dpkg lists 1.0-1+deb12u14; its files differ in every 10th file).
    std::vector<FileRecord> records;
    PackageInventory inventory;
    for (std::size_t p = 0; p < kPackages; ++p) {
      const bool unstored = p >= 500;
      inventory.packages.push_back(InstalledPackage{"pkg" + std::to_string(p), unstored ? "1.0-1+deb12u14" : version(2),
                                                    "amd64", PackageManager::dpkg});
      for (std::size_t f = 0; f < kFilesPerPackage; ++f)
        records.push_back(file(pkg_path(p, f), content(p, f, 2) + (unstored && f % 10 == 0 ? 1 : 0)));
    }
    for (std::size_t u = 0; u < kUnknownFiles; ++u)
      records.push_back(
          file("/usr/lib/unowned" + std::to_string(u / 500) + "/lib" + std::to_string(u) + ".so", 99 + u));
    out.snapshot = *Manifest::from_records(records);
    records[123].sha256 = digest_of(1);  // one edited file on the member
    out.scan.manifest = *Manifest::from_records(std::move(records));
    out.scan.header.roots = {"/"};
    out.scan.header.inventory = std::move(inventory);
    return out;
  }();
  return f;
}

void of_limit(benchmark::State& state, double limit_s, double seconds) {
  state.counters["of_limit"] = seconds / static_cast<double>(state.iterations()) / limit_s;
}

void BM_AnalyzeRealHostShape(benchmark::State& state) {
  const Fixture& f = fixture();
  double seconds = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    Analysis a = analyze(f.scan, f.index);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    benchmark::DoNotOptimize(a);
  }
  of_limit(state, 1.0, seconds);
  state.counters["scan"] = static_cast<double>(f.scan.manifest.size());
  state.counters["signatures"] = static_cast<double>(f.index.size());
}
BENCHMARK(BM_AnalyzeRealHostShape)->Unit(benchmark::kMillisecond);

void BM_TextReportRealHostShape(benchmark::State& state) {
  const Fixture& f = fixture();
  const Analysis a = analyze(f.scan, f.index);
  const AnalysisContext context{&f.scan.header, "host", false, false};
  double seconds = 0;
  std::size_t bytes = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    std::string out;
    StringSink sink(out);
    (void)write_analysis_report(ReportFormat::text, context, a, sink);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  of_limit(state, 0.3, seconds);
  state.counters["bytes"] = static_cast<double>(bytes);
  state.counters["deviations"] = static_cast<double>(a.deviations.size());
}
BENCHMARK(BM_TextReportRealHostShape)->Unit(benchmark::kMillisecond);

void BM_SnapshotDriftRealHostShape(benchmark::State& state) {
  const Fixture& f = fixture();
  double seconds = 0;
  std::size_t deviations = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const Drift d = compare_with_snapshot(f.scan.manifest, f.snapshot, f.index);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    deviations = d.deviations.size();
    benchmark::DoNotOptimize(d);
  }
  of_limit(state, 0.3, seconds);
  state.counters["deviations"] = static_cast<double>(deviations);
}
BENCHMARK(BM_SnapshotDriftRealHostShape)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tb

BENCHMARK_MAIN();
