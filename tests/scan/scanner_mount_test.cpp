// Mounts inside the scanned tree: a bind-mount loop, --one-file-system with a tmpfs,
// and pseudo file systems (proc). Each test mounts with mount(2) and skips when this
// machine does not permit it; the fixture unmounts (MNT_DETACH) in teardown.
#include <sys/mount.h>

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/path.h"
#include "core/sha256.h"
#include "scan/scanner.h"
#include "scan_test_support.h"

namespace tb {
namespace {

using namespace std::chrono_literals;
using scantest::FaultySys;
using scantest::ScanFixture;
using scantest::Watchdog;

using ScannerMounts = ScanFixture;

TEST_F(ScannerMounts, BindMountLoopIsReportedAndTheScanTerminates) {
  tree.write("a", "a");
  tree.mkdir("sub/loop");
  tree.write("sub/z", "z");
  std::string why;
  if (!try_mount(tree.root(), tree.path("sub/loop"), nullptr, MS_BIND, &why)) GTEST_SKIP() << why;

  Watchdog dog(60s, "bind-mount loop scan");
  auto scan = scan_to_manifest(options());
  ASSERT_TRUE(scan) << scan.error().message;
  const std::string loop = tree.path("sub/loop");
  const FileRecord* r = find(*scan, loop);
  ASSERT_NE(r, nullptr) << "the loop's mount point is recorded";
  EXPECT_EQ(r->type, FileType::directory);
  EXPECT_EQ(count_under(*scan, loop), 0u) << "descended into the loop";
  ASSERT_EQ(scan->outcome.errors.size(), 1u);
  EXPECT_EQ(scan->outcome.errors[0].path, loop);
  EXPECT_EQ(scan->outcome.errors[0].kind, ScanErrorKind::loop);
  EXPECT_EQ(scan->outcome.errors[0].sys_errno, ELOOP);
  EXPECT_EQ(scan->manifest.size(), 5u);  // root, a, sub, sub/loop, sub/z
}

TEST_F(ScannerMounts, BindMountOfASiblingIsNotALoop) {
  tree.write("src/f", "f");
  tree.mkdir("dst/mnt");
  std::string why;
  if (!try_mount(tree.path("src"), tree.path("dst/mnt"), nullptr, MS_BIND, &why)) GTEST_SKIP() << why;
  auto scan = scan_to_manifest(options());
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_TRUE(scan->outcome.errors.empty());
  const FileRecord* a = find(*scan, tree.path("src/f"));
  const FileRecord* b = find(*scan, tree.path("dst/mnt/f"));
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr) << "the same content seen twice is not a loop";
  EXPECT_EQ(a->sha256, b->sha256);
}

TEST_F(ScannerMounts, OneFileSystemStopsAtMountPoints) {
  tree.write("outside.txt", "outside");
  tree.mkdir("mnt");
  tree.write("zz", "after the mount");
  std::string why;
  if (!try_mount("tmpfs", tree.path("mnt"), "tmpfs", 0, &why)) GTEST_SKIP() << why;
  tree.write("mnt/inside.txt", "inside");
  tree.write("mnt/dir/deeper", "deeper");

  ScanOptions o = options();
  o.one_file_system = true;
  auto stay = scan_to_manifest(o);
  ASSERT_TRUE(stay) << stay.error().message;
  EXPECT_TRUE(stay->outcome.errors.empty()) << "staying on one file system is not an error";
  const FileRecord* mp = find(*stay, tree.path("mnt"));
  ASSERT_NE(mp, nullptr) << "the mount point itself is recorded";
  EXPECT_EQ(mp->type, FileType::directory);
  EXPECT_EQ(count_under(*stay, tree.path("mnt")), 0u);
  EXPECT_NE(find(*stay, tree.path("outside.txt")), nullptr);
  EXPECT_NE(find(*stay, tree.path("zz")), nullptr);

  o.one_file_system = false;
  auto cross = scan_to_manifest(o);
  ASSERT_TRUE(cross) << cross.error().message;
  const FileRecord* inside = find(*cross, tree.path("mnt/inside.txt"));
  ASSERT_NE(inside, nullptr);
  EXPECT_EQ(inside->sha256, Sha256::of("inside"));
  EXPECT_NE(find(*cross, tree.path("mnt/dir/deeper")), nullptr);
  EXPECT_EQ(cross->manifest.size(), stay->manifest.size() + 3);

  // A root on the other file system is walked whole, even with one_file_system.
  ScanOptions inner = options({tree.path("mnt")});
  inner.one_file_system = true;
  auto on_tmpfs = scan_to_manifest(inner);
  ASSERT_TRUE(on_tmpfs) << on_tmpfs.error().message;
  EXPECT_EQ(on_tmpfs->manifest.size(), 4u);
}

TEST_F(ScannerMounts, PseudoFileSystemsAreNotDescended) {
  tree.mkdir("proc");
  tree.write("z", "z");
  std::string why;
  if (!try_mount("proc", tree.path("proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, &why)) GTEST_SKIP() << why;

  // When the scanner does descend, it sees only "self" (hashing the whole of /proc would
  // take minutes and prove nothing more).
  FaultySys sys;
  std::atomic<bool> had_self{false};
  sys.on_list_dir("proc", [&](int fd, std::vector<DirEntry>& out) {
    std::vector<DirEntry> all;
    const int rc = sys.real_list_dir(fd, all);
    for (DirEntry& e : all) {
      if (e.name != "self") continue;
      had_self = true;
      out.push_back(std::move(e));
    }
    return rc;
  });
  ScanOptions o = options();
  o.sys = &sys;
  o.skip_pseudo_fs = true;
  auto skipped = scan_to_manifest(o);
  ASSERT_TRUE(skipped) << skipped.error().message;
  const FileRecord* mp = find(*skipped, tree.path("proc"));
  ASSERT_NE(mp, nullptr) << "the mount point is recorded";
  EXPECT_EQ(mp->type, FileType::directory);
  EXPECT_EQ(count_under(*skipped, tree.path("proc")), 0u);
  for (const std::string& name : sys.listed()) EXPECT_NE(name, "proc") << "proc was listed";
  EXPECT_NE(find(*skipped, tree.path("z")), nullptr);

  o.skip_pseudo_fs = false;
  auto descended = scan_to_manifest(o);
  ASSERT_TRUE(descended) << descended.error().message;
  EXPECT_TRUE(had_self.load());
  const FileRecord* self = find(*descended, tree.path("proc/self"));
  ASSERT_NE(self, nullptr) << "skip_pseudo_fs=false must descend into proc";
  EXPECT_EQ(self->type, FileType::symlink);
  EXPECT_FALSE(self->link_target.empty());
}

}  // namespace
}  // namespace tb
