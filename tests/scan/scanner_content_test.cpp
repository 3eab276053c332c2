// What the scanner records for ordinary trees: hashes equal to sha256sum's, metadata
// equal to lstat's, path order whatever the thread count, a > 4 GiB sparse file, and
// exact summary counters.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <thread>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/path.h"
#include "core/sha256.h"
#include "scan/scanner.h"
#include "scan_test_support.h"

namespace tb {
namespace {

using scantest::FaultySys;
using scantest::random_bytes;
using scantest::ScanFixture;

constexpr std::size_t kKiB = 1024, kMiB = 1024 * 1024;

// sha256sum of every regular file under `root`, keyed by absolute path. Names must be
// plain (sha256sum escapes others).
std::map<std::string, std::string> sha256sum_tree(const std::string& root) {
  std::map<std::string, std::string> out;
  const std::string cmd = "cd '" + root + "' && find . -type f -print0 | xargs -0 -r sha256sum";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    ADD_FAILURE() << "popen failed";
    return out;
  }
  char line[8192];
  while (std::fgets(line, sizeof line, p) != nullptr) {
    std::string s(line);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    // "<64 hex>  ./rel/path"
    if (s.size() < 68 || s.substr(64, 4) != "  ./") {
      ADD_FAILURE() << "unexpected sha256sum line: " << s;
      continue;
    }
    out[root + "/" + s.substr(68)] = s.substr(0, 64);
  }
  EXPECT_EQ(::pclose(p), 0) << "sha256sum failed";
  return out;
}

void expect_matches_lstat(const FileRecord& r) {
  struct stat st {};
  ASSERT_EQ(::lstat(r.path.c_str(), &st), 0) << r.path;
  EXPECT_EQ(r.mode, st.st_mode & 07777) << r.path;
  EXPECT_EQ(r.uid, st.st_uid) << r.path;
  EXPECT_EQ(r.gid, st.st_gid) << r.path;
  EXPECT_EQ(r.mtime_ns, static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec) << r.path;
  EXPECT_TRUE(r.has(Attr::mode) && r.has(Attr::uid) && r.has(Attr::gid) && r.has(Attr::mtime)) << r.path;
  if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
    EXPECT_TRUE(r.has(Attr::size)) << r.path;
    EXPECT_EQ(r.size, static_cast<std::uint64_t>(st.st_size)) << r.path;
  }
}

using ScannerContent = ScanFixture;

TEST_F(ScannerContent, HashesEqualSha256sumAndMetadataEqualsLstat) {
  // Sizes around the 256 KiB read buffer, empty and one-byte files, a few MiB, and a few
  // hundred small files of random sizes spread over nested directories.
  const std::vector<std::size_t> edge_sizes = {0, 1, 2, 4095, 4096, 65536, 256 * kKiB - 1, 256 * kKiB,
                                               256 * kKiB + 1, 512 * kKiB, 3 * kMiB + 7};
  for (std::size_t i = 0; i < edge_sizes.size(); ++i)
    tree.write("edge/size-" + std::to_string(edge_sizes[i]), random_bytes(edge_sizes[i], 1000 + i));
  std::mt19937 rng(42);
  for (int i = 0; i < 300; ++i) {
    const std::string dir = "d" + std::to_string(i % 7) + (i % 3 == 0 ? "/sub" + std::to_string(i % 5) : "");
    tree.write(dir + "/f" + std::to_string(i), random_bytes(rng() % 20000, static_cast<std::uint32_t>(i)));
  }
  // Modes, owners and nanosecond mtimes must come through unchanged.
  // (chown first: it clears the setuid bit.)
  const std::string odd = tree.write("meta/odd-mode", "x", 0640);
  if (::geteuid() == 0) {
    ASSERT_EQ(::lchown(odd.c_str(), 1234, 5678), 0);
  }
  ASSERT_EQ(::chmod(odd.c_str(), 04751), 0);
  const timespec times[2] = {{1'600'000'000, 123'456'789}, {1'600'000'001, 987'654'321}};
  ASSERT_EQ(::utimensat(AT_FDCWD, odd.c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
  const std::string sticky = tree.mkdir("meta/sticky", 01777);
  tree.symlink("meta/link", "odd-mode");

  ScanOptions o = options();
  o.jobs = 3;
  auto scan = scan_to_manifest(o);
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_TRUE(scan->outcome.errors.empty()) << scan->outcome.errors.front().path;

  const auto expected = sha256sum_tree(tree.root());
  ASSERT_EQ(expected.size(), edge_sizes.size() + 300 + 1);
  std::size_t files = 0;
  for (const FileRecord& r : scan->manifest) {
    expect_matches_lstat(r);
    if (r.type != FileType::file) {
      EXPECT_FALSE(r.has(Attr::sha256)) << r.path;
      continue;
    }
    ++files;
    ASSERT_TRUE(r.has(Attr::sha256)) << r.path;
    auto it = expected.find(r.path);
    ASSERT_NE(it, expected.end()) << "scanner listed a file sha256sum did not: " << r.path;
    EXPECT_EQ(r.sha256.hex(), it->second) << r.path;
  }
  EXPECT_EQ(files, expected.size());

  const FileRecord* m = find(*scan, odd);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->mode, 04751u);
  EXPECT_EQ(m->mtime_ns, 1'600'000'001'987'654'321);
  if (::geteuid() == 0) {
    EXPECT_EQ(m->uid, 1234u);
    EXPECT_EQ(m->gid, 5678u);
  }
  const FileRecord* s = find(*scan, sticky);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->type, FileType::directory);
  EXPECT_EQ(s->mode, 01777u);
  EXPECT_FALSE(s->has(Attr::size)) << "directory sizes differ between file systems; not recorded";
  const FileRecord* root = find(*scan, tree.root());
  ASSERT_NE(root, nullptr) << "the root itself is recorded";
  EXPECT_EQ(root->type, FileType::directory);
}

// Names that stress the manifest order: '/' sorts before every byte, bytes >= 0x80 after
// ASCII, a directory is followed by its whole subtree.
void make_order_tree(const scantest::TempTree& tree) {
  const std::vector<std::string> files = {
      "a/b",     "a/b.c",  "a/b/c",       "a-b",        "a.b",  "a0",        "A",    "_", "~",  "\x80",
      "\xff",    "a\xc3\xa9", "a b",      "a/\x7f",     "ab/x", "a.b.d/x/y", "0",    "z/\x01", "z/\xfe/q",
      "deep/1/2/3/4/5/f",  "deep/1/2/3/4/5g",  "deep/1-/x"};
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string& rel = files[i];
    struct stat st {};
    if (::lstat(tree.path(rel).c_str(), &st) == 0) continue;  // already made as a directory
    // Mix large and small files so that parallel hashing finishes out of order.
    const std::size_t size = (i % 4 == 0) ? 700 * kKiB + i : i * 13;
    tree.write(rel, random_bytes(size, static_cast<std::uint32_t>(i)));
  }
  tree.symlink("a/link", "../a-b");
  tree.fifo("a/fifo");
  for (int i = 0; i < 60; ++i) tree.write("many/" + std::to_string(i * 7919 % 1000), random_bytes(i % 2 ? 300 * kKiB : 5, i));
}

TEST_F(ScannerContent, PathOrderAndSerialEqualsParallel) {
  tree.mkdir("a/b");  // a directory, followed by its subtree, then by the file "a/b.c"
  make_order_tree(tree);

  ScanOptions serial = options();
  serial.jobs = 1;
  serial.window = 16;
  auto s1 = scan_to_manifest(serial);  // from_sorted inside: fails on any order violation
  ASSERT_TRUE(s1) << s1.error().message;

  // The walk visits exactly what a sort of all paths would give.
  std::vector<std::string> paths;
  for (const FileRecord& r : s1->manifest) paths.push_back(r.path);
  std::vector<std::string> sorted = paths;
  std::sort(sorted.begin(), sorted.end(), path_less);
  EXPECT_EQ(paths, sorted);
  // Spot checks of the order's corners.
  auto pos = [&](const std::string& rel) {
    return std::find(paths.begin(), paths.end(), tree.path(rel)) - paths.begin();
  };
  EXPECT_LT(pos("a/b/c"), pos("a/b.c"));
  EXPECT_LT(pos("a/link"), pos("a-b"));
  EXPECT_LT(pos("a-b"), pos("a.b"));
  EXPECT_LT(pos("a.b"), pos("a.b.d"));
  EXPECT_LT(pos("~"), pos("\x80"));
  EXPECT_LT(pos("\x80"), pos("\xff"));
  EXPECT_LT(pos("deep/1/2/3/4/5/f"), pos("deep/1/2/3/4/5g"));
  EXPECT_LT(pos("deep/1/2/3/4/5g"), pos("deep/1-"));
  EXPECT_EQ(static_cast<std::size_t>(pos("\xff")), paths.size() - 1) << "0xff sorts last";

  for (int round = 0; round < 3; ++round) {
    ScanOptions parallel = options();
    parallel.jobs = 4;
    parallel.window = 16;
    auto s4 = scan_to_manifest(parallel);
    ASSERT_TRUE(s4) << s4.error().message;
    EXPECT_EQ(s4->manifest.size(), s1->manifest.size());
    EXPECT_TRUE(s4->manifest == s1->manifest) << "round " << round;
    EXPECT_EQ(s4->outcome.summary.files, s1->outcome.summary.files);
  }
  ScanOptions wide = options();
  wide.jobs = 4;  // default window
  auto sw = scan_to_manifest(wide);
  ASSERT_TRUE(sw) << sw.error().message;
  EXPECT_TRUE(sw->manifest == s1->manifest);
}

TEST_F(ScannerContent, SparseFileLargerThanFourGiB) {
  constexpr std::uint64_t kSize = (4ull << 30) + 8 * kKiB;
  constexpr std::uint64_t kDataAt = (4ull << 30) + 5000;
  const std::string data = "end of a sparse file\n";
  // On a tmpfs of its own when permitted: holes read there ~5x faster than on ext4.
  const std::string dir = tree.mkdir("fs");
  std::string why;
  if (!try_mount("tmpfs", dir, "tmpfs", 0, &why)) std::fprintf(stderr, "(sparse file on the test's file system: %s)\n", why.c_str());
  const std::string p = dir + "/sparse";
  const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  if (::ftruncate(fd, static_cast<off_t>(kSize)) != 0) {
    const int err = errno;
    ::close(fd);
    GTEST_SKIP() << "this file system cannot hold a sparse 4 GiB file: " << scantest::errno_text(err);
  }
  ASSERT_EQ(::pwrite(fd, data.data(), data.size(), static_cast<off_t>(kDataAt)), static_cast<ssize_t>(data.size()));
  ::close(fd);

  // Reference: zeros, the data, zeros, streamed through the same SHA-256 unit; computed
  // on a second thread while the scanner hashes the file.
  Sha256Digest expected;
  std::thread reference([&] {
    Sha256 ref;
    const std::vector<std::byte> zeros(kMiB);
    std::uint64_t at = 0;
    while (at < kDataAt) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(zeros.size(), kDataAt - at));
      ref.update(std::span<const std::byte>(zeros.data(), n));
      at += n;
    }
    ref.update(data);
    ref.update(std::span<const std::byte>(zeros.data(), kSize - kDataAt - data.size()));
    expected = ref.finish();
  });

  ScanOptions o = options({p});
  o.jobs = 1;
  auto scan = scan_to_manifest(o);
  reference.join();
  ASSERT_TRUE(scan) << scan.error().message;
  ASSERT_EQ(scan->manifest.size(), 1u);
  const FileRecord& r = scan->manifest[0];
  EXPECT_EQ(r.path, p);
  EXPECT_EQ(r.size, kSize);
  ASSERT_TRUE(r.has(Attr::sha256)) << (scan->outcome.errors.empty() ? "" : scan->outcome.errors[0].message);
  EXPECT_EQ(r.sha256.hex(), expected.hex());
  EXPECT_EQ(scan->outcome.summary.bytes_hashed, kSize);
}

TEST_F(ScannerContent, SummaryCountersAreExact) {
  std::uint64_t bytes = 0;
  for (int i = 0; i < 25; ++i) {
    const std::string content = random_bytes(static_cast<std::size_t>(i) * 1000, i);
    bytes += content.size();
    tree.write("d" + std::to_string(i % 4) + "/f" + std::to_string(i), content);
  }
  tree.mkdir("empty");
  tree.symlink("l1", "d0");
  tree.symlink("d1/l2", "nowhere");
  tree.fifo("d2/pipe");
  // 25 files, 6 directories (root, d0..d3, empty), 2 symlinks, 1 other.
  ScanProgress progress;
  std::vector<FileRecord> seen;
  ScanOptions o = options();
  auto outcome = scan(o, [&](const FileRecord& r) -> Expected<void> {
    seen.push_back(r);
    return {};
  }, &progress);
  ASSERT_TRUE(outcome) << outcome.error().message;
  const ScanSummary& s = outcome->summary;
  EXPECT_EQ(s.files, 25u);
  EXPECT_EQ(s.directories, 6u);
  EXPECT_EQ(s.symlinks, 2u);
  EXPECT_EQ(s.others, 1u);
  EXPECT_EQ(s.bytes_hashed, bytes);
  EXPECT_EQ(s.errors, 0u);
  EXPECT_EQ(s.errors_dropped, 0u);
  EXPECT_EQ(seen.size(), 34u);
  EXPECT_EQ(progress.entries.load(), 34u);
  EXPECT_EQ(progress.bytes.load(), bytes);
  EXPECT_EQ(progress.errors.load(), 0u);
  ASSERT_EQ(outcome->roots.size(), 1u);
  EXPECT_EQ(outcome->roots[0], tree.root());
}

TEST_F(ScannerContent, ListedErrorsAreCappedButAllCounted) {
  FaultySys sys;
  for (int i = 0; i < 10; ++i) {
    const std::string name = "locked" + std::to_string(i);
    tree.write(name, "secret");
    sys.fail_open(name, -EACCES);
  }
  tree.write("open", "fine");
  ScanOptions o = options();
  o.sys = &sys;
  o.max_listed_errors = 3;
  ScanProgress progress;
  std::size_t records = 0;
  auto outcome = scan(o, [&](const FileRecord&) -> Expected<void> { ++records; return {}; }, &progress);
  ASSERT_TRUE(outcome) << outcome.error().message;
  ASSERT_EQ(outcome->errors.size(), 3u);
  for (int i = 0; i < 3; ++i) {  // the first three, in path order
    EXPECT_EQ(outcome->errors[i].path, tree.path("locked" + std::to_string(i)));
    EXPECT_EQ(outcome->errors[i].kind, ScanErrorKind::open);
    EXPECT_EQ(outcome->errors[i].sys_errno, EACCES);
  }
  EXPECT_EQ(outcome->summary.errors, 10u);
  EXPECT_EQ(outcome->summary.errors_dropped, 7u);
  EXPECT_EQ(outcome->summary.files, 11u) << "unreadable files are still listed";
  EXPECT_EQ(outcome->summary.bytes_hashed, 4u);
  EXPECT_EQ(records, 12u);
  EXPECT_EQ(progress.errors.load(), 10u);

  o.max_listed_errors = 0;
  auto none = scan(o, [](const FileRecord&) -> Expected<void> { return {}; });
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->errors.empty());
  EXPECT_EQ(none->summary.errors, 10u);
  EXPECT_EQ(none->summary.errors_dropped, 10u);
}

}  // namespace
}  // namespace tb
