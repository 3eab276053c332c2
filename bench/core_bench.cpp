// Benchmarks of the pure core: building manifests, digesting and diffing them, SHA-256.
// Data is synthetic and deterministic (fixed seeds, own PRNG and shuffle), laid out like an
// installed product: /opt/app/lib/module_<m>/file_<f>.so, ~100 entries per directory.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench_random.h"
#include "core/diff.h"
#include "core/file_record.h"
#include "core/manifest.h"
#include "core/path.h"
#include "core/sha256.h"
#include "format/manifest_chunks.h"

namespace tb {
namespace {

using bench::Rng;

template <class T>
void shuffle(std::vector<T>& v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng() % i]);
}

constexpr std::int64_t kEpoch2024Ns = 1'704'067'200'000'000'000;
constexpr std::size_t kPerDirectory = 100;

void fill_digest(Sha256Digest& d, Rng& rng) {
  for (std::size_t i = 0; i < d.bytes.size(); i += 8) {
    const std::uint64_t v = rng();
    for (std::size_t k = 0; k < 8; ++k) d.bytes[i + k] = static_cast<std::uint8_t>(v >> (8 * k));
  }
}

FileRecord make_file(std::string path, Rng& rng) {
  FileRecord r;
  r.path = std::move(path);
  r.type = FileType::file;
  r.present = AttrSet::from_bits(0x7F);  // everything but a link target
  r.size = rng() % (4u << 20);
  r.mode = rng() % 4 == 0 ? 0755 : 0644;
  r.mtime_ns = kEpoch2024Ns + static_cast<std::int64_t>(rng() % 31'536'000'000'000'000);
  fill_digest(r.sha256, rng);
  return r;
}

// `n` records in path order: per module a directory, a symlink and files.
std::vector<FileRecord> make_sorted_records(std::size_t n, std::uint64_t seed) {
  Rng rng{seed};
  std::vector<FileRecord> out;
  out.reserve(n);
  for (std::size_t m = 0; out.size() < n; ++m) {
    const std::string dir = "/opt/app/lib/module_" + std::to_string(m);
    FileRecord d;
    d.path = dir;
    d.type = FileType::directory;
    d.present = Attr::type | Attr::size | Attr::mode | Attr::uid | Attr::gid | Attr::mtime;
    d.size = 4096;
    d.mode = 0755;
    d.mtime_ns = kEpoch2024Ns;
    out.push_back(std::move(d));
    for (std::size_t f = 0; f + 1 < kPerDirectory && out.size() < n; ++f) {
      if (f == 0) {
        FileRecord l;
        l.path = dir + "/current.so";
        l.type = FileType::symlink;
        l.present = Attr::type | Attr::size | Attr::link_target;
        l.link_target = "file_0.so";
        l.size = l.link_target.size();
        out.push_back(std::move(l));
        continue;
      }
      out.push_back(make_file(dir + "/file_" + std::to_string(f) + ".so", rng));
    }
  }
  // Names were generated in numeric order ("module_10" before "module_2"): put them in path order.
  std::sort(out.begin(), out.end(), [](const FileRecord& a, const FileRecord& b) { return path_less(a.path, b.path); });
  return out;
}

// Cached per size so that every benchmark on the same N shares one generated set.
const std::vector<FileRecord>& sorted_records(std::size_t n) {
  static std::map<std::size_t, std::vector<FileRecord>> cache;
  auto it = cache.find(n);
  if (it == cache.end()) it = cache.emplace(n, make_sorted_records(n, 0x7b5eed + n)).first;
  return it->second;
}

const std::vector<FileRecord>& shuffled_records(std::size_t n) {
  static std::map<std::size_t, std::vector<FileRecord>> cache;
  auto it = cache.find(n);
  if (it == cache.end()) {
    std::vector<FileRecord> v = sorted_records(n);
    Rng rng{0x5u + n};
    shuffle(v, rng);
    it = cache.emplace(n, std::move(v)).first;
  }
  return it->second;
}

const Manifest& manifest_of(std::size_t n) {
  static std::map<std::size_t, Manifest> cache;
  auto it = cache.find(n);
  if (it == cache.end()) it = cache.emplace(n, *Manifest::from_sorted(sorted_records(n))).first;
  return it->second;
}

// The manifest of size n changed in 0.1% of its records: 40% content, 10% mode,
// 25% removed, 25% added (new files next to existing ones).
const Manifest& changed_manifest_of(std::size_t n) {
  static std::map<std::size_t, Manifest> cache;
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  std::vector<FileRecord> records = sorted_records(n);
  Rng rng{0xd1ffu + n};
  const std::size_t changes = n / 1000;
  std::vector<bool> removed(records.size(), false);
  std::vector<FileRecord> added;
  for (std::size_t c = 0; c < changes; ++c) {
    const std::size_t i = rng() % records.size();
    FileRecord& r = records[i];
    const std::uint64_t kind = rng() % 20;
    if (kind < 8)
      fill_digest(r.sha256, rng);
    else if (kind < 10)
      r.mode ^= 0022;
    else if (kind < 15)
      removed[i] = true;
    else
      added.push_back(make_file(r.path + ".new" + std::to_string(c), rng));
  }
  std::vector<FileRecord> out;
  out.reserve(records.size() + added.size());
  for (std::size_t i = 0; i < records.size(); ++i)
    if (!removed[i]) out.push_back(std::move(records[i]));
  for (FileRecord& r : added) out.push_back(std::move(r));
  it = cache.emplace(n, *Manifest::from_records(std::move(out))).first;
  return it->second;
}

// ---------------------------------------------------------------- benchmarks

// Sorting and validating records that arrive in no particular order.
void BM_ManifestFromRecords(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::vector<FileRecord>& input = shuffled_records(n);
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<FileRecord> copy = input;
    state.ResumeTiming();
    auto m = Manifest::from_records(std::move(copy));
    benchmark::DoNotOptimize(m);
    state.PauseTiming();
    m = Manifest();  // free outside the timed region
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_ManifestFromRecords)->Arg(10'000)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

// Validation only: what the scanner and document readers pay (they emit path order).
void BM_ManifestFromSorted(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::vector<FileRecord>& input = sorted_records(n);
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<FileRecord> copy = input;
    state.ResumeTiming();
    auto m = Manifest::from_sorted(std::move(copy));
    benchmark::DoNotOptimize(m);
    state.PauseTiming();
    m = Manifest();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_ManifestFromSorted)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

void BM_Diff(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const Manifest& a = manifest_of(n);
  const Manifest& b = changed_manifest_of(n);
  std::size_t differences = 0;
  for (auto _ : state) {
    auto d = diff(a, b);
    differences = d.size();
    benchmark::DoNotOptimize(d.data());
  }
  state.counters["differences"] = static_cast<double>(differences);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * (a.size() + b.size())));
}
BENCHMARK(BM_Diff)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

// Cluster-member comparison: mtime and owner left out.
void BM_DiffNoMtimeNoOwner(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const Manifest& a = manifest_of(n);
  const Manifest& b = changed_manifest_of(n);
  const AttrSet compare = Attr::size | Attr::mode | Attr::sha256 | Attr::link_target;
  for (auto _ : state) {
    auto d = diff(a, b, compare);
    benchmark::DoNotOptimize(d.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * (a.size() + b.size())));
}
BENCHMARK(BM_DiffNoMtimeNoOwner)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

void BM_ManifestDigest(benchmark::State& state) {
  const Manifest& m = manifest_of(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto d = manifest_digest(m);
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * m.size()));
}
BENCHMARK(BM_ManifestDigest)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

void BM_ManifestFind(benchmark::State& state) {
  const Manifest& m = manifest_of(static_cast<std::size_t>(state.range(0)));
  Rng rng{42};
  std::vector<std::string> keys;
  for (int i = 0; i < 4096; ++i) keys.push_back(m[rng() % m.size()].path);
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(m.find(keys[i++ & 4095]));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_ManifestFind)->Arg(1'000'000);

void BM_Sha256(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::string data(n, '\0');
  Rng rng{1};
  for (char& c : data) c = static_cast<char>(rng());
  Sha256 h;
  for (auto _ : state) {
    h.update(data);
    auto d = h.finish();
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}
BENCHMARK(BM_Sha256)->Arg(4 << 10)->Arg(1 << 20);

}  // namespace
}  // namespace tb

BENCHMARK_MAIN();
