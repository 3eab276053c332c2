// Benchmark of the package importers (issue 4's targets), in one run on the same files:
//
//  1. throughput: 200 .deb of ~1 MiB each (built with dpkg-deb, xz and gzip sets). The
//     baseline is raw libarchive — the ar container, the data.tar member decompressed and
//     every file SHA-256'd — on one core; the importer is read_deb() (limits, path checks,
//     records, the package file's own SHA-256, the manifest) and then read_deb() plus
//     put_signature() into a fresh SQLite store. Target: importer >= 80 % of the raw speed.
//  2. bulk import: 1,000 small .deb imported by the real `trustbase import` command into a
//     fresh SQLite store (one transaction per package). Target: < 10 s.
//
// Runs are interleaved (raw, importer, raw, importer...) and the medians compared, so load
// from other processes falls on both sides. Usage: import_bench [--quick] [--dir DIR]
// [--keep] [--runs N] [--big N] [--small N] [--trustbase PATH].
#include <archive.h>
#include <archive_entry.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "core/sha256.h"
#include "sources/deb_source.h"
#include "store/sqlite_store.h"

#ifndef TB_TRUSTBASE_BINARY
#define TB_TRUSTBASE_BINARY "trustbase"
#endif

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int sh(const std::string& command) {
  const int raw = std::system(command.c_str());
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
}

// A deterministic generator of text-like content: words from a small vocabulary, so the
// data compresses like real package content (about 3:1 with xz) rather than not at all.
struct Words {
  std::uint64_t state;
  std::uint32_t next() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::uint32_t>(state >> 33);
  }
  std::string make(std::size_t bytes) {
    static const char* const kVocabulary[] = {"static", "const", "return", "void", "int", "struct", "if", "else",
                                              "for", "while", "namespace", "include", "error", "value", "size",
                                              "buffer", "config", "server", "client", "request", "0x", "\n", "{",
                                              "}", ";", "(", ")", "=", "->", "::"};
    std::string out;
    out.reserve(bytes + 16);
    while (out.size() < bytes) {
      const std::uint32_t r = next();
      if (r % 7 == 0) {
        out += fmt::format("{:08x}", next());  // identifiers, addresses: the less compressible part
      } else {
        out += kVocabulary[r % std::size(kVocabulary)];
      }
      out += ' ';
    }
    out.resize(bytes);
    return out;
  }
};

void write_file(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
}

// Builds `count` packages in `dir` (skipped when `dir` already holds them: --keep).
void build_debs(const fs::path& dir, const std::string& prefix, std::size_t count, std::size_t files,
                std::size_t bytes_per_file, const std::string& compression, std::uint64_t seed) {
  fs::create_directories(dir);
  std::size_t present = 0;
  for (const auto& e : fs::directory_iterator(dir)) present += e.path().extension() == ".deb";
  if (present == count) return;
  const fs::path work = dir / ".build";
  Words words{seed};
  std::string batch;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string name = fmt::format("{}{:04}", prefix, i);
    const fs::path root = work / name;
    fs::remove_all(root);
    write_file(root / "DEBIAN/control", fmt::format("Package: {}\nVersion: 1.0-1\nArchitecture: amd64\n"
                                                    "Maintainer: Bench <bench@example.org>\nDescription: bench\n",
                                                    name));
    write_file(root / "DEBIAN/conffiles", fmt::format("/etc/{}/{}.conf\n", name, name));
    write_file(root / "etc" / name / (name + ".conf"), "setting = 1\n");
    for (std::size_t f = 0; f < files; ++f)
      write_file(root / "usr/lib" / name / fmt::format("part{}.dat", f), words.make(bytes_per_file));
    write_file(root / "usr/share/doc" / name / "copyright", "Bench data, public domain\n");
    batch += fmt::format("dpkg-deb --root-owner-group -Z{} --build {} {}/{}_1.0-1_amd64.deb >/dev/null && rm -rf {}\n",
                         compression, root.string(), dir.string(), name, root.string());
  }
  // Two dpkg-deb at a time (the machine's two cores).
  const fs::path script = work / "build.sh";
  write_file(script, batch);
  if (sh("xargs -P2 -d '\\n' -n1 sh -c < " + script.string()) != 0) {
    fmt::print(stderr, "import_bench: dpkg-deb failed\n");
    std::exit(2);
  }
  fs::remove_all(work);
}

std::vector<fs::path> debs_in(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".deb") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// --- the raw baseline: libarchive and SHA-256, nothing else ------------------------------

struct Nested {
  archive* outer;
};

la_ssize_t nested_read(archive*, void* client, const void** buffer) {
  auto* n = static_cast<Nested*>(client);
  std::size_t size = 0;
  la_int64_t offset = 0;
  const int r = archive_read_data_block(n->outer, buffer, &size, &offset);
  if (r == ARCHIVE_EOF) return 0;
  if (r != ARCHIVE_OK) return -1;
  return static_cast<la_ssize_t>(size);
}

// Decompresses data.tar.* of a .deb and hashes every file; returns the bytes hashed.
std::uint64_t raw_decompress_and_hash(const fs::path& deb) {
  std::uint64_t bytes = 0;
  archive* outer = archive_read_new();
  archive_read_support_format_ar(outer);
  if (archive_read_open_filename(outer, deb.c_str(), 256 * 1024) != ARCHIVE_OK) std::abort();
  archive_entry* e = nullptr;
  tb::Sha256 hasher;
  while (archive_read_next_header(outer, &e) == ARCHIVE_OK) {
    if (std::string_view(archive_entry_pathname(e)).substr(0, 8) != "data.tar") continue;
    archive* inner = archive_read_new();
    archive_read_support_filter_gzip(inner);
    archive_read_support_filter_xz(inner);
    archive_read_support_filter_zstd(inner);
    archive_read_support_format_tar(inner);
    Nested nested{outer};
    if (archive_read_open(inner, &nested, nullptr, nested_read, nullptr) != ARCHIVE_OK) std::abort();
    archive_entry* f = nullptr;
    while (archive_read_next_header(inner, &f) == ARCHIVE_OK) {
      if (archive_entry_filetype(f) != AE_IFREG) continue;
      const void* block = nullptr;
      std::size_t size = 0;
      la_int64_t offset = 0;
      while (archive_read_data_block(inner, &block, &size, &offset) == ARCHIVE_OK) {
        hasher.update(std::span<const std::byte>(static_cast<const std::byte*>(block), size));
        bytes += size;
      }
      [[maybe_unused]] const auto digest = hasher.finish();
    }
    archive_read_free(inner);
  }
  archive_read_free(outer);
  return bytes;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

struct Throughput {
  double raw_s, read_s, import_s;
  std::uint64_t bytes;
};

Throughput measure_throughput(const std::vector<fs::path>& debs, const fs::path& scratch, int runs) {
  // Warm the page cache, and check that the importer accepts every package.
  std::uint64_t bytes = 0;
  for (const fs::path& d : debs) {
    bytes += raw_decompress_and_hash(d);
    if (auto pkg = tb::read_deb(d.string()); !pkg) {
      fmt::print(stderr, "import_bench: {}\n", pkg.error().message);
      std::exit(2);
    }
  }
  std::vector<double> raw, read, import;
  for (int run = 0; run < runs; ++run) {
    auto start = Clock::now();
    for (const fs::path& d : debs) raw_decompress_and_hash(d);
    raw.push_back(seconds_since(start));

    start = Clock::now();
    for (const fs::path& d : debs) {
      auto pkg = tb::read_deb(d.string());
      if (!pkg) std::abort();
    }
    read.push_back(seconds_since(start));

    const fs::path db = scratch / fmt::format("throughput-{}.db", run);
    fs::remove(db);
    tb::SqliteStoreOptions options;
    options.durable_commits = false;  // as `trustbase import` opens it for bulk imports
    auto store = tb::open_sqlite_store(db.string(), options);
    if (!store) std::abort();
    start = Clock::now();
    for (const fs::path& d : debs) {
      auto pkg = tb::read_deb(d.string());
      if (!pkg || !(*store)->put_signature(pkg->signature)) std::abort();
    }
    store->reset();  // the closing checkpoint (synced) is part of the import
    import.push_back(seconds_since(start));
    fs::remove(db);
    fs::remove(db.string() + "-wal");
    fs::remove(db.string() + "-shm");
  }
  return Throughput{median(raw), median(read), median(import), bytes};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"import_bench: package importer throughput and bulk import time"};
  std::string dir_arg, trustbase = TB_TRUSTBASE_BINARY;
  bool keep = false, quick = false;
  int runs = 5;
  std::size_t big = 200, small = 1000;
  app.add_option("--dir", dir_arg, "Where to build the packages (default: a new directory under /var/tmp)");
  app.add_flag("--keep", keep, "Keep the packages (a later run with the same --dir reuses them)");
  app.add_flag("--quick", quick, "Smoke test: 20 big and 100 small packages, 3 runs");
  app.add_option("--runs", runs, "Timed runs per side (median reported)");
  app.add_option("--big", big, "Packages of ~1 MiB per set");
  app.add_option("--small", small, "Small packages for the bulk import");
  app.add_option("--trustbase", trustbase, "The trustbase binary for the bulk import");
  CLI11_PARSE(app, argc, argv);
  if (quick) big = 20, small = 100, runs = 3;

  fs::path dir = dir_arg;
  if (dir.empty()) {
    std::string tmpl = "/var/tmp/tb-import-bench-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) return 2;
    dir = tmpl;
  }
  fmt::print("import_bench: packages in {}; load average {}\n", dir.string(), load_average());

  auto t = Clock::now();
  // ~1 MiB installed per package: 8 files of 128 KiB.
  build_debs(dir / "big-xz", "bigx", big, 8, 128 * 1024, "xz", 1);
  build_debs(dir / "big-gzip", "bigg", big, 8, 128 * 1024, "gzip", 1);
  // Small packages: a few KiB each, like most of a distribution's library and data packages.
  build_debs(dir / "small", "small", small, 3, 2048, "xz", 2);
  fmt::print("built packages in {:.1f} s\n\n", seconds_since(t));

  int failed = 0;
  fmt::print("throughput on one core, {} packages per set, median of {} runs:\n", big, runs);
  fmt::print("  {:<5} {:>7} {:>9} {:>14} {:>6} {:>12} {:>6} {:>7}\n", "set", "MiB", "raw MB/s", "read_deb MB/s",
             "ratio", "import MB/s", "ratio", "target");
  for (const std::string set : {"xz", "gzip"}) {
    const auto debs = debs_in(dir / ("big-" + set));
    const Throughput r = measure_throughput(debs, dir, runs);
    const double mb = static_cast<double>(r.bytes) / 1e6;
    const double read_ratio = r.raw_s / r.read_s, import_ratio = r.raw_s / r.import_s;
    const bool pass = import_ratio >= 0.8;
    failed += !pass;
    fmt::print("  {:<5} {:>7.1f} {:>9.1f} {:>14.1f} {:>5.0f}% {:>12.1f} {:>5.0f}% {:>7}\n", set,
               static_cast<double>(r.bytes) / (1 << 20), mb / r.raw_s, mb / r.read_s, 100 * read_ratio,
               mb / r.import_s, 100 * import_ratio, pass ? "PASS" : "FAIL");
  }

  fmt::print("\nbulk import: {} small .deb with `trustbase import` into a fresh SQLite store:\n", small);
  std::vector<double> times;
  for (int run = 0; run < std::max(1, runs / 2); ++run) {
    const fs::path db = dir / "bulk.db";
    fs::remove(db);
    fs::remove(db.string() + "-wal");
    fs::remove(db.string() + "-shm");
    t = Clock::now();
    const int rc = sh(trustbase + " --db " + db.string() + " import -q " + (dir / "small").string() + " >" +
                      (dir / "bulk.out").string() + " 2>&1");
    times.push_back(seconds_since(t));
    if (rc != 0) {
      fmt::print(stderr, "import_bench: trustbase import failed ({}), see {}\n", rc, (dir / "bulk.out").string());
      return 2;
    }
  }
  const double bulk = median(times);
  const bool bulk_pass = bulk < 10.0 * static_cast<double>(small) / 1000.0;
  failed += !bulk_pass;
  std::ifstream summary(dir / "bulk.out");
  std::string line;
  std::getline(summary, line);
  fmt::print("  {:.2f} s ({:.0f} packages/s; {})  target < {:.0f} s: {}\n", bulk, static_cast<double>(small) / bulk,
             line, 10.0 * static_cast<double>(small) / 1000.0, bulk_pass ? "PASS" : "FAIL");
  fmt::print("load average at the end {}\n", load_average());

  if (!keep && dir_arg.empty()) fs::remove_all(dir);
  return failed == 0 ? 0 : 1;
}
