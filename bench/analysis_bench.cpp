// Benchmarks of the analysis engine at fleet scale: a 500-signature index of 2,000 files
// each (1M records), a 1M-file scan judged against it, and a 1M-file member compared with
// its cluster snapshot (0.1 % differences). Target: snapshot comparison plus the index
// in < 1 s on a 2-core machine. Data is synthetic and deterministic (fixed seeds).
#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench_random.h"
#include "core/analysis.h"
#include "core/signature_index.h"

namespace tb {
namespace {

DriftOptions comparing(AttrSet attrs) {
  DriftOptions o;
  o.compare = attrs;
  return o;
}

using bench::Rng;

constexpr std::size_t kSignatures = 500;
constexpr std::size_t kFilesPerSignature = 2000;
constexpr std::size_t kPatchEvery = 10;  // every 10th signature patches the product before it
constexpr std::size_t kUnknownFiles = 50'000;
constexpr std::int64_t kMtime = 1'704'067'200'000'000'000;

using bench::random_digest;

FileRecord package_file(std::string path, Rng& rng) {
  FileRecord r;
  r.path = std::move(path);
  r.type = FileType::file;
  r.present = Attr::type | Attr::size | Attr::mode | Attr::sha256;
  r.size = rng() % (1u << 20);
  r.mode = 0644;
  r.sha256 = random_digest(rng);
  return r;
}

std::string product_path(std::size_t product, std::size_t file) {
  return "/opt/vendor/product_" + std::to_string(product) + "/lib/module_" + std::to_string(file / 100) + "/file_" +
         std::to_string(file % 100) + ".so";
}

// 450 products of 2,000 files; 50 patches, each replacing half of its product's files
// and adding 1,000 of its own.
std::vector<Signature> make_signatures() {
  Rng rng{42};
  std::vector<Signature> out;
  out.reserve(kSignatures);
  for (std::size_t s = 0; s < kSignatures; ++s) {
    Signature sig;
    std::vector<FileRecord> records;
    records.reserve(kFilesPerSignature);
    if (s % kPatchEvery == kPatchEvery - 1) {
      sig.info.ref = {"product_" + std::to_string(s - 1) + "-patch", "1"};
      sig.info.kind = SignatureKind::patch;
      sig.info.patches = out.back().info.ref;
      for (std::size_t f = 0; f < kFilesPerSignature / 2; ++f)
        records.push_back(package_file(product_path(s - 1, f * 2), rng));
      for (std::size_t f = 0; f < kFilesPerSignature / 2; ++f) {
        records.push_back(package_file(product_path(s - 1, kFilesPerSignature + f), rng));
      }
    } else {
      sig.info.ref = {"product_" + std::to_string(s), "1.0"};
      for (std::size_t f = 0; f < kFilesPerSignature; ++f) records.push_back(package_file(product_path(s, f), rng));
    }
    sig.manifest = *Manifest::from_records(std::move(records));
    out.push_back(std::move(sig));
  }
  return out;
}

FileRecord scanned(const FileRecord& r) {
  FileRecord out = r;
  out.present = AttrSet::from_bits(0x7F);
  out.mtime_ns = kMtime;
  return out;
}

struct Fixture {
  std::vector<Signature> signatures = make_signatures();
  SignatureIndex index;
  Manifest scan;      // every signature installed (patches applied), 50k unknown files, 0.1 % edited
  Manifest snapshot;  // the scan with 0.1 % differences (edits, additions, removals)

  Fixture() {
    std::vector<Signature> copy = signatures;
    index = *SignatureIndex::build(std::move(copy));
    std::vector<FileRecord> records;
    for (const Signature& s : signatures) {
      // A patch comes right after its product, so its records overwrite the product's.
      for (const FileRecord& r : s.manifest) records.push_back(scanned(r));
    }
    Rng rng{7};
    for (std::size_t i = 0; i < kUnknownFiles; ++i) {
      FileRecord r =
          scanned(package_file("/var/lib/data/d" + std::to_string(i / 1000) + "/f" + std::to_string(i), rng));
      records.push_back(std::move(r));
    }
    records = dedupe_last_wins(std::move(records));
    for (std::size_t i = 0; i < records.size() / 1000; ++i) records[rng() % records.size()].sha256 = random_digest(rng);
    scan = *Manifest::from_records(records);

    std::vector<FileRecord> snap;
    snap.reserve(records.size());
    for (FileRecord& r : records) {
      switch (rng() % 3000) {
        case 0:
          continue;  // removed from the snapshot
        case 1:
          r.sha256 = random_digest(rng);
          break;  // content differs
        case 2:
          snap.push_back(scanned(package_file(r.path + ".new", rng)));
          break;  // extra in snapshot
        default:
          break;
      }
      snap.push_back(std::move(r));
    }
    snapshot = *Manifest::from_records(std::move(snap));
  }

  static std::vector<FileRecord> dedupe_last_wins(std::vector<FileRecord> records) {
    std::stable_sort(records.begin(), records.end(),
                     [](const FileRecord& a, const FileRecord& b) { return a.path < b.path; });
    std::vector<FileRecord> out;
    out.reserve(records.size());
    for (FileRecord& r : records) {
      if (!out.empty() && out.back().path == r.path)
        out.back() = std::move(r);
      else
        out.push_back(std::move(r));
    }
    return out;
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

void BM_IndexBuild(benchmark::State& state) {
  const Fixture& f = fixture();
  std::size_t records = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<Signature> copy = f.signatures;
    state.ResumeTiming();
    auto index = SignatureIndex::build(std::move(copy));
    records = index->path_count();
    benchmark::DoNotOptimize(index);
    state.PauseTiming();
    { auto drop = std::move(index); }  // freeing 1M records is not the index's cost
    state.ResumeTiming();
  }
  state.counters["paths"] = static_cast<double>(records);
}
BENCHMARK(BM_IndexBuild)->Unit(benchmark::kMillisecond);

void BM_Analyze(benchmark::State& state) {
  const Fixture& f = fixture();
  std::size_t deviations = 0;
  for (auto _ : state) {
    const Analysis a = analyze(f.scan, f.index);
    deviations = a.deviations.size();
    benchmark::DoNotOptimize(a);
  }
  state.counters["scan"] = static_cast<double>(f.scan.size());
  state.counters["deviations"] = static_cast<double>(deviations);
}
BENCHMARK(BM_Analyze)->Unit(benchmark::kMillisecond);

// The same within the roots a scanner was given: which of the catalogue's 1M paths they
// cover is worked out on the first scan with those roots and kept with the index.
void BM_AnalyzeWithinRoots(benchmark::State& state) {
  const Fixture& f = fixture();
  AnalysisOptions options;
  options.roots = {"/etc", "/opt/vendor", "/usr"};
  for (auto _ : state) {
    const Analysis a = analyze(f.scan, f.index, options);
    benchmark::DoNotOptimize(a);
  }
  state.counters["scan"] = static_cast<double>(f.scan.size());
}
BENCHMARK(BM_AnalyzeWithinRoots)->Unit(benchmark::kMillisecond);

void BM_CompareWithSnapshot(benchmark::State& state) {
  const Fixture& f = fixture();
  std::size_t deviations = 0;
  for (auto _ : state) {
    const Drift d = compare_with_snapshot(f.scan, f.snapshot, f.index, comparing(kSignatureAttrs | Attr::mode));
    deviations = d.deviations.size();
    benchmark::DoNotOptimize(d);
  }
  state.counters["member"] = static_cast<double>(f.scan.size());
  state.counters["deviations"] = static_cast<double>(deviations);
}
BENCHMARK(BM_CompareWithSnapshot)->Unit(benchmark::kMillisecond);

// The target as one number: build the index, then compare member and snapshot.
void BM_IndexPlusCompare(benchmark::State& state) {
  const Fixture& f = fixture();
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<Signature> copy = f.signatures;
    state.ResumeTiming();
    auto index = SignatureIndex::build(std::move(copy));
    const Drift d = compare_with_snapshot(f.scan, f.snapshot, *index, comparing(kSignatureAttrs | Attr::mode));
    benchmark::DoNotOptimize(d);
    state.PauseTiming();
    { auto drop = std::move(index); }
    state.ResumeTiming();
  }
}
BENCHMARK(BM_IndexPlusCompare)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tb

BENCHMARK_MAIN();
